"""Segment kinematics: keyframe channels → orientation and sensor-site position of each segment.

Frames. World: z up (heading is arbitrary; nothing here depends on it). Body: rotated from world by
the heading ψ about z; +x forward, +y left, +z up. A segment's orientation is

    q_seg = Rz(ψ) ⊗ Ry(θ₀ + θ) ⊗ Rx(φ) ⊗ Rz(τ)

with θ₀ the segment's neutral tilt, θ its sagittal inclination relative to standing (forward
flexion is a positive rotation about the body's left axis, tipping the segment's up axis toward
+x), φ a small lateral lean/sway and τ a small axial twist. Because Rx and Rz act after Ry, the
segment's up axis projected onto the body's sagittal (x-z) plane makes exactly the angle θ₀ + θ
with vertical, whatever φ and τ are: the sagittal truth is exact, not a small-angle approximation.

Segments: ``sacrum`` (pelvis, inclination = pelvis channel) and ``upper`` (T12/L1, inclination =
pelvis + lumbar flexion). Both share a whole-body postural sway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from liftguard.sim.athlete import AthleteParams
from liftguard.sim.quat import Quat4, Vec3, quat_mul_soa
from liftguard.sim.tracks import QuinticTrack, SineSum, TrackBundle

__all__ = ["PLACEMENTS", "BodyMotion", "check_placement"]

FloatArray = npt.NDArray[np.float64]

#: Segments the simulator knows, in a fixed order (also the order of per-sensor rng streams).
PLACEMENTS: tuple[str, ...] = ("sacrum", "upper")

# Columns of BodyMotion.sway.
_SWAY_SAGITTAL, _SWAY_LATERAL, _SWAY_TWIST_SACRUM, _SWAY_TWIST_UPPER = 0, 1, 2, 3


def check_placement(placement: str) -> None:
    """Raise ``ValueError`` unless ``placement`` is one of :data:`PLACEMENTS`."""
    if placement not in PLACEMENTS:
        raise ValueError(f"unknown placement {placement!r}; expected one of {PLACEMENTS}")


@dataclass(frozen=True, eq=False)
class BodyMotion:
    """The whole body's motion as tracks. Angles in radians, lengths in metres, time in seconds.

    ``pelvis``: sagittal inclination of the pelvis relative to standing (forward +).
    ``lumbar``: lumbar flexion = upper inclination − pelvis inclination (flexion +).
    ``heading``: ψ about world z. ``shift_x/y/z``: sacrum-site displacement from its standing
    position in the body frame. ``lean``: lateral lean φ (weight shift).
    ``sway``: ``(N, 4)`` zero-mean postural sway — sagittal (added to both inclinations as an
    ankle-strategy inverted pendulum), lateral, sacrum twist, upper twist.
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
    _bundle: TrackBundle = field(init=False, repr=False)
    _sacrum_tilt: float = field(init=False, repr=False)
    _upper_tilt: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        channels = [self.pelvis, self.lumbar, self.heading]
        channels += [self.shift_x, self.shift_y, self.shift_z, self.lean]
        object.__setattr__(self, "_bundle", TrackBundle(channels))
        object.__setattr__(self, "_sacrum_tilt", np.radians(self.params.sacrum_tilt_deg))
        object.__setattr__(self, "_upper_tilt", np.radians(self.params.upper_tilt_deg))

    def lumbar_flexion(self, t: npt.ArrayLike) -> FloatArray:
        """True lumbar flexion, radians ``(N,)`` at ``t`` ``(N,)`` seconds (+ = flexion)."""
        return self.lumbar(np.asarray(t, dtype=np.float64).reshape(-1))

    def inclination(self, placement: str, t: npt.ArrayLike) -> FloatArray:
        """Sagittal forward inclination ``(N,)`` rad of a segment relative to standing.

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
        check_placement(placement)
        p = self.params
        pelvis, lumbar, psi, shift_x, shift_y, shift_z, lean = self._bundle(t)
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

        if placement == "sacrum":
            theta, twist = theta_s, sway[:, _SWAY_TWIST_SACRUM]
        else:
            theta = self._upper_tilt + pelvis + lumbar + sway_sag
            twist = sway[:, _SWAY_TWIST_UPPER]
            # The upper site hangs off the sacrum site on the lumbar curve. For a curve of constant
            # curvature the chord is inclined at the mean of its end tangents, so the chord turns
            # with the segment chain and the upper site's linear acceleration follows.
            chord = 0.5 * (theta_s + theta)
            length = p.lumbar_length_m
            reach = length * np.cos(phi)
            bx = bx + reach * np.sin(chord)
            by = by - length * np.sin(phi)
            bz = bz + reach * np.cos(chord)

        # Rz(ψ) ⊗ Ry(θ) and Rx(φ) ⊗ Rz(τ) in closed form (half angles), then one full product.
        cz, sz = np.cos(0.5 * psi), np.sin(0.5 * psi)
        cy, sy = np.cos(0.5 * theta), np.sin(0.5 * theta)
        cx, sx = np.cos(0.5 * phi), np.sin(0.5 * phi)
        ct, st = np.cos(0.5 * twist), np.sin(0.5 * twist)
        heading_tilt = (cz * cy, -sz * sy, cz * sy, sz * cy)
        lean_twist = (cx * ct, sx * ct, -sx * st, cx * st)
        q = quat_mul_soa(heading_tilt, lean_twist)
        c, s = np.cos(psi), np.sin(psi)
        return q, (c * bx - s * by, s * bx + c * by, bz)
