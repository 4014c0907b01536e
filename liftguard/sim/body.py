"""Segment kinematics: keyframe channels → orientation and sensor-site position of each segment.

Frames. World: z up (heading is arbitrary; nothing here depends on it). Body: rotated from world by
the heading ψ about z; +x forward, +y left, +z up. A back segment's orientation is

    q_seg = Rz(ψ) ⊗ Ry(θ₀ + θ) ⊗ Rx(φ) ⊗ Rz(τ)

with θ₀ the segment's neutral tilt, θ its sagittal inclination relative to standing (forward
flexion is a positive rotation about the body's left axis, tipping the segment's up axis toward
+x), φ a lateral lean/bend and τ an axial twist. Because Rx and Rz act after Ry, the segment's up
axis projected onto the body's sagittal (x-z) plane makes exactly the angle θ₀ + θ with vertical,
whatever φ and τ are: the sagittal truth is exact, not a small-angle approximation.

Segments: ``sacrum`` (pelvis, inclination = pelvis channel) and ``upper`` (T12/L1, inclination =
pelvis + lumbar flexion, lean + lumbar lateral bend, pelvis twist + lumbar axial twist). Both share
a whole-body postural sway. An optional ``wrist`` segment hangs off the shoulder (the T12 site
plus a thoracic lever along the trunk) by a scripted arm offset; its orientation is the heading
and a forearm pitch ``Rz(ψ) ⊗ Ry(pitch)`` (pitch 0 = forearm hanging down, π = pointing up).

Positions. The sacrum site is its standing height plus a body-frame displacement (hinge, squat,
walking bounce), plus a world-frame walking translation (:class:`IntegratedTrack`, so the body
cruises), plus a vertical landing displacement (:class:`~liftguard.sim.landing.ImpactTrack`) per
site. Channels a script does not use are absent and cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from liftguard.sim.athlete import AthleteParams
from liftguard.sim.landing import ImpactTrack
from liftguard.sim.quat import Quat4, Vec3, quat_mul_soa
from liftguard.sim.tracks import IntegratedTrack, QuinticTrack, SineSum, TrackBundle

__all__ = ["ALL_PLACEMENTS", "PLACEMENTS", "BodyMotion", "check_placement"]

FloatArray = npt.NDArray[np.float64]

#: Back segments every simulated body has, in a fixed order (also the order of per-sensor rng
#: streams in :func:`~liftguard.sim.deadlift.build_deadlift_athlete`).
PLACEMENTS: tuple[str, ...] = ("sacrum", "upper")
#: Every segment the simulator knows; ``wrist`` only on bodies scripted with arms.
ALL_PLACEMENTS: tuple[str, ...] = ("sacrum", "upper", "wrist")

# Columns of BodyMotion.sway.
_SWAY_SAGITTAL, _SWAY_LATERAL, _SWAY_TWIST_SACRUM, _SWAY_TWIST_UPPER = 0, 1, 2, 3
_OPTIONAL = ("bend", "twist", "pelvis_twist", "arm_x", "arm_y", "arm_z", "wrist_pitch")


def check_placement(placement: str, known: tuple[str, ...] = PLACEMENTS) -> None:
    """Raise ``ValueError`` unless ``placement`` is one of ``known``."""
    if placement not in known:
        raise ValueError(f"unknown placement {placement!r}; expected one of {known}")


@dataclass(frozen=True, eq=False)
class BodyMotion:
    """The whole body's motion as tracks. Angles in radians, lengths in metres, time in seconds.

    ``pelvis``: sagittal inclination of the pelvis relative to standing (forward +).
    ``lumbar``: lumbar flexion = upper inclination − pelvis inclination (flexion +).
    ``heading``: ψ about world z. ``shift_x/y/z``: sacrum-site displacement from its standing
    position in the body frame. ``lean``: lateral lean φ of both segments (weight shift).
    ``sway``: ``(N, 4)`` zero-mean postural sway — sagittal (added to both inclinations as an
    ankle-strategy inverted pendulum), lateral, sacrum twist, upper twist.

    Optional (``None`` = always 0): ``bend`` lumbar lateral bend (upper only, + = toward +y),
    ``twist`` lumbar axial twist (upper only), ``pelvis_twist`` axial rotation of the pelvis
    (both), ``walk_x``/``walk_y`` world-frame translation, ``impact_sacrum``/``impact_upper``
    vertical landing displacement per site, and the wrist: ``arm_x/y/z`` wrist offset from the
    shoulder (body frame), ``wrist_pitch`` forearm pitch.
    """

    params: AthleteParams
    pelvis: QuinticTrack
    lumbar: QuinticTrack
    heading: QuinticTrack
    shift_x: QuinticTrack
    shift_y: QuinticTrack
    shift_z: QuinticTrack
    lean: QuinticTrack
    sway: SineSum
    bend: QuinticTrack | None = None
    twist: QuinticTrack | None = None
    pelvis_twist: QuinticTrack | None = None
    walk_x: IntegratedTrack | None = None
    walk_y: IntegratedTrack | None = None
    impact_sacrum: ImpactTrack | None = None
    impact_upper: ImpactTrack | None = None
    arm_x: QuinticTrack | None = None
    arm_y: QuinticTrack | None = None
    arm_z: QuinticTrack | None = None
    wrist_pitch: QuinticTrack | None = None
    _bundle: TrackBundle = field(init=False, repr=False)
    _slots: dict[str, int] = field(init=False, repr=False)
    _walk_shared: bool = field(init=False, repr=False)
    _sacrum_tilt: float = field(init=False, repr=False)
    _upper_tilt: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        channels = [self.pelvis, self.lumbar, self.heading]
        channels += [self.shift_x, self.shift_y, self.shift_z, self.lean]
        slots: dict[str, int] = {}
        for name in _OPTIONAL:
            track = getattr(self, name)
            if track is not None:
                slots[name] = len(channels)
                channels.append(track)
        arms = [self.arm_x, self.arm_y, self.arm_z, self.wrist_pitch]
        if any(a is not None for a in arms) and not all(a is not None for a in arms):
            raise ValueError("the wrist needs all of arm_x, arm_y, arm_z and wrist_pitch")
        if (self.walk_x is None) != (self.walk_y is None):
            raise ValueError("walk_x and walk_y come together")
        object.__setattr__(self, "_bundle", TrackBundle(channels))
        shared = self.walk_x is not None and self.walk_y is not None
        object.__setattr__(
            self,
            "_walk_shared",
            shared and self.walk_x.shares_knots(self.walk_y),  # type: ignore[union-attr,arg-type]
        )
        object.__setattr__(self, "_slots", slots)
        object.__setattr__(self, "_sacrum_tilt", np.radians(self.params.sacrum_tilt_deg))
        object.__setattr__(self, "_upper_tilt", np.radians(self.params.upper_tilt_deg))

    @property
    def placements(self) -> tuple[str, ...]:
        """Segments this body has (``wrist`` only when it was scripted with arms)."""
        return ALL_PLACEMENTS if self.arm_x is not None else PLACEMENTS

    def lumbar_flexion(self, t: npt.ArrayLike) -> FloatArray:
        """True lumbar flexion, radians ``(N,)`` at ``t`` ``(N,)`` seconds (+ = flexion)."""
        return self.lumbar(np.asarray(t, dtype=np.float64).reshape(-1))

    def lumbar_angles(self, t: npt.ArrayLike) -> FloatArray:
        """``(N, 3)`` radians: lumbar flexion, lateral bend (+ toward the left, +y) and axial
        twist (+ counter-clockwise seen from above) of the upper segment relative to the pelvis.

        Bend and twist are this model's coordinates (the φ and τ differences of the two
        segments, including postural sway); for the few degrees scripted they equal the Cardan
        angles of the relative rotation to well under a tenth of a degree.
        """
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        out = np.zeros((tt.size, 3))
        out[:, 0] = self.lumbar(tt)
        if self.bend is not None:
            out[:, 1] = self.bend(tt)
        sway = self.sway(tt)
        out[:, 2] = sway[:, _SWAY_TWIST_UPPER] - sway[:, _SWAY_TWIST_SACRUM]
        if self.twist is not None:
            out[:, 2] += self.twist(tt)
        return out

    def inclination(self, placement: str, t: npt.ArrayLike) -> FloatArray:
        """Sagittal forward inclination ``(N,)`` rad of a back segment relative to standing.

        ``t``: ``(N,)`` seconds. Includes postural sway; upper − sacrum = lumbar flexion.
        """
        check_placement(placement)
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        theta = self.pelvis(tt) + self.sway(tt)[:, _SWAY_SAGITTAL]
        if placement == "upper":
            theta = theta + self.lumbar(tt)
        return theta

    def segment_quat(self, placement: str, t: npt.ArrayLike) -> FloatArray:
        """Segment-to-world orientation ``(N, 4)`` ``[w, x, y, z]`` at ``t`` ``(N,)`` seconds."""
        return self.pose(placement, t)[0]

    def pose(self, placement: str, t: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Segment orientation and its sensor site's position at ``t`` ``(N,)`` seconds.

        Returns ``(quat (N, 4) segment-to-world [w, x, y, z], position (N, 3) metres, world)``.
        """
        q, p = self.pose_soa(placement, np.asarray(t, dtype=np.float64).reshape(-1))
        return np.stack(q, axis=-1), np.stack(p, axis=-1)

    def pose_soa(self, placement: str, t: FloatArray) -> tuple[Quat4, Vec3]:
        """:meth:`pose` as component arrays ``((w, x, y, z), (px, py, pz))``, each ``(N,)``.

        ``t``: ``(N,)`` float64 seconds. One evaluation of all channels; this is the IMU hot path.
        """
        check_placement(placement, self.placements)
        p = self.params
        ch = self._bundle(t)
        pelvis, lumbar, psi, shift_x, shift_y, shift_z, lean = ch[:7]
        slots = self._slots
        sway = self.sway(t)
        sway_sag = sway[:, _SWAY_SAGITTAL]
        sway_lat = sway[:, _SWAY_LATERAL]
        phi = lean + sway_lat
        theta_s = self._sacrum_tilt + pelvis + sway_sag

        # Sacrum site in the body frame: scripted displacement plus the ankle-strategy sway of a
        # body pivoting at the feet (the site moves with the sway angle at its own height).
        h = p.sacrum_height_m
        bx = shift_x + h * np.sin(sway_sag)
        by = shift_y - h * np.sin(sway_lat)
        bz = h + shift_z
        impact = self.impact_sacrum

        if placement == "sacrum":
            theta, twist = theta_s, sway[:, _SWAY_TWIST_SACRUM]
            if "pelvis_twist" in slots:
                twist = twist + ch[slots["pelvis_twist"]]
        else:
            impact = self.impact_upper
            theta = self._upper_tilt + pelvis + lumbar + sway_sag
            twist = sway[:, _SWAY_TWIST_UPPER]
            if "pelvis_twist" in slots:
                twist = twist + ch[slots["pelvis_twist"]]
            if "twist" in slots:
                twist = twist + ch[slots["twist"]]
            # The upper site hangs off the sacrum site on the lumbar curve. For a curve of constant
            # curvature the chord is inclined at the mean of its end tangents, so the chord turns
            # with the segment chain and the upper site's linear acceleration follows.
            chord = 0.5 * (theta_s + theta)
            side = phi
            if "bend" in slots:
                bend = ch[slots["bend"]]
                side = phi + 0.5 * bend  # the chord leans by half the bend, like the sagittal one
                phi = phi + bend
            length = p.lumbar_length_m
            reach = length * np.cos(side)
            bx = bx + reach * np.sin(chord)
            by = by - length * np.sin(side)
            bz = bz + reach * np.cos(chord)
            if placement == "wrist":
                # Shoulder: a thoracic lever along the trunk's inclination (relative to vertical,
                # not the T12 skin tilt) plus the shoulder joint's offset in front of the back.
                trunk = pelvis + lumbar + sway_sag
                ct, st = np.cos(trunk), np.sin(trunk)
                lever, ahead = p.shoulder_above_upper_m, p.shoulder_forward_m
                bx = bx + lever * st + ahead * ct + ch[slots["arm_x"]]
                by = by - lever * np.sin(phi) + ch[slots["arm_y"]]
                bz = bz + lever * ct - ahead * st + ch[slots["arm_z"]]
                theta = ch[slots["wrist_pitch"]]
                phi = np.zeros_like(theta)
                twist = phi

        # Rz(ψ) ⊗ Ry(θ) and Rx(φ) ⊗ Rz(τ) in closed form (half angles), then one full product.
        cz, sz = np.cos(0.5 * psi), np.sin(0.5 * psi)
        cy, sy = np.cos(0.5 * theta), np.sin(0.5 * theta)
        cx, sx = np.cos(0.5 * phi), np.sin(0.5 * phi)
        ct2, st2 = np.cos(0.5 * twist), np.sin(0.5 * twist)
        heading_tilt = (cz * cy, -sz * sy, cz * sy, sz * cy)
        lean_twist = (cx * ct2, sx * ct2, -sx * st2, cx * st2)
        q = quat_mul_soa(heading_tilt, lean_twist)
        c, s = np.cos(psi), np.sin(psi)
        px, py = c * bx - s * by, s * bx + c * by
        if self.walk_x is not None and self.walk_y is not None:
            if self._walk_shared:
                wx, wy = IntegratedTrack.positions([self.walk_x, self.walk_y], t)
            else:
                wx, wy = self.walk_x(t), self.walk_y(t)
            px = px + wx
            py = py + wy
        if impact:
            bz = bz + impact.evaluate(t)
        return q, (px, py, bz)
