"""Writing a whole session as keyframes: the everyday movements between and around the lifts.

A :class:`SessionScript` holds one keyframe builder per body channel and a time cursor. Movement
helpers (calibration, standing, turning, walking, sitting, bending to pick something up,
adjusting plates) append keyframes and *tile* the timeline with phases, so every instant of a
session belongs to exactly one phase. The lifts themselves are in :mod:`liftguard.sim.exercises`.

Conventions: angles are given in degrees (as the sources state them) and stored in radians;
``z`` is the sacrum's height change from standing, whatever landings have already moved it.

Lumbar angular speed. Every scripted lumbar move is slow enough for the minimum-jerk peak speed
``1.875 × Δ/T`` to stay under :data:`LUMBAR_VOLUNTARY_DPS` (83 °/s, maximal bending at 51–75 y,
Consmüller et al. 2012, P); flexion that gives way under a load or an impact may reach
:data:`LUMBAR_GIVING_WAY_DPS` (100 °/s, A: the 36–50-year-olds' voluntary maximum in the same
study — no number exists for involuntary flexion under load), and moves into extension beyond 5°
stay under :data:`LUMBAR_EXTENSION_DPS` (47 °/s, same study, P).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from liftguard.sim.athlete import AthleteParams
from liftguard.sim.body import BodyMotion
from liftguard.sim.landing import ImpactTrack, LandingProfile
from liftguard.sim.session import ScriptInput, TruthPhase
from liftguard.sim.tracks import IntegratedTrack, SineSum, TrackBuilder

__all__ = [
    "LUMBAR_EXTENSION_DPS",
    "LUMBAR_GIVING_WAY_DPS",
    "LUMBAR_VOLUNTARY_DPS",
    "RepRecord",
    "SessionScript",
    "Station",
]

#: Peak lumbar flexion speed of voluntary movement, °/s — Consmüller et al. 2012 (51–75 y), P.
LUMBAR_VOLUNTARY_DPS = 83.0
#: Peak lumbar flexion speed when the spine gives way under a bar or an impact, °/s — A.
LUMBAR_GIVING_WAY_DPS = 100.0
#: Peak lumbar speed of a move into extension, °/s — Consmüller et al. 2012 (51–75 y), P.
LUMBAR_EXTENSION_DPS = 47.0
#: Peak speed of a minimum-jerk move per mean speed.
MIN_JERK_PEAK = 1.875

_ANGLE_CHANNELS = ("pelvis", "lumbar", "heading", "lean", "bend", "twist", "pelvis_twist")
_LENGTH_CHANNELS = ("shift_x", "shift_y", "shift_z")
_ARM_CHANNELS = ("arm_x", "arm_y", "arm_z", "wrist_pitch")

# --- Calibration, as in the deadlift demo (phase durations, s) ---------------------------------
CALIBRATE_STILL_S = 3.5  # the pipeline needs 3 s still; 0.5 s margin
BEND_S = (1.8, 2.2)
BEND_HOLD_S = 0.5
STAND_AFTER_CALIBRATION_S = (1.8, 2.2)

# --- Everyday movements (A unless stated) -------------------------------------------------------
ARM_SIDE_M = 0.19  # wrist sensor (left wrist) beside the body midline, hanging arm
ARM_HANG = 0.97  # a hanging arm's wrist is this fraction of the arm length below the shoulder
TURN_BASE_S = 0.8  # a turn takes 0.8 s + 1 s per 120° (peak yaw rate < 150 °/s)
TURN_PER_DEG_S = 1.0 / 120.0
WEIGHT_SHIFT_M = (0.02, 0.04)
WEIGHT_SHIFT_LEAN_DEG = (0.5, 1.5)
SEAT_SACRUM_HEIGHT_M = 0.55  # bench 0.45 m + the S1/S2 site ≈ 0.10 m above it
SIT_DOWN_S = (1.5, 2.5)
STAND_UP_S = (1.2, 2.0)
PICK_UP_LUMBAR = (0.6, 0.95)  # fraction of max flexion: a deep bend (false-alarm material)
PICK_UP_PELVIS = (0.5, 0.9)  # fraction of the max pelvis inclination
PICK_UP_DOWN_S = (1.0, 2.0)
PICK_UP_HOLD_S = (0.5, 1.5)
PLATES_DROP_M = (0.25, 0.40)
PLATES_PELVIS_DEG = (25.0, 45.0)
PLATES_LUMBAR = (0.35, 0.65)  # fraction of max flexion
PLATES_HOLD_S = (2.0, 6.0)

# --- Postural sway (A): quiet standing sway is slow (< 1 Hz) and well under 1° -------------
SWAY_AMPLITUDE_DEG = (0.05, 0.15)
SWAY_FREQUENCY_HZ = (0.1, 0.6)
SWAY_TERMS = 3
SWAY_CHANNELS = 4


def lumbar_move_s(delta_deg: float, cap_dps: float) -> float:
    """Shortest minimum-jerk move (s) of ``delta_deg`` whose peak speed stays under ``cap_dps``."""
    return MIN_JERK_PEAK * abs(delta_deg) / cap_dps


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


@dataclass(frozen=True)
class Station:
    """Where an exercise happens: world position (m) and the heading (rad) to face it."""

    x: float
    y: float
    facing: float


@dataclass
class RepRecord:
    """A rep being written; turned into :class:`~liftguard.sim.session.TruthRep` at the end."""

    exercise: str
    set: int
    rep: int
    t_start: float
    t_end: float
    warmup: bool = False
    load: float = 0.0
    first_phase: int = 0
    last_phase: int = 0


class SessionScript:
    """Keyframes, phases, inputs and truth records of one athlete's session, in time order.

    ``t`` is the cursor: the end of the last phase. Movement helpers start at the cursor,
    write keyframes, and advance it.
    """

    def __init__(self, params: AthleteParams, rng: np.random.Generator) -> None:
        self.p = params
        self.rng = rng
        self.tracks: dict[str, TrackBuilder] = {
            name: TrackBuilder(0.0) for name in _ANGLE_CHANNELS + _LENGTH_CHANNELS
        }
        self.tracks["heading"] = TrackBuilder(float(rng.uniform(0.0, 2.0 * math.pi)))
        hang = -ARM_HANG * params.arm_length_m
        self.tracks["arm_x"] = TrackBuilder(0.0)
        self.tracks["arm_y"] = TrackBuilder(ARM_SIDE_M)
        self.tracks["arm_z"] = TrackBuilder(hang)
        self.tracks["wrist_pitch"] = TrackBuilder(0.0)
        self.vel_x = TrackBuilder(0.0)
        self.vel_y = TrackBuilder(0.0)
        amplitude = np.radians(rng.uniform(*SWAY_AMPLITUDE_DEG, size=(SWAY_CHANNELS, SWAY_TERMS)))
        frequency = rng.uniform(*SWAY_FREQUENCY_HZ, size=(SWAY_CHANNELS, SWAY_TERMS))
        phase = rng.uniform(0.0, 2.0 * math.pi, size=(SWAY_CHANNELS, SWAY_TERMS))
        self.sway = SineSum(amplitude, frequency, phase)
        self.pos = (0.0, 0.0)
        self.z_offset = 0.0  # net vertical displacement of the landings so far, m
        self.landings: list[tuple[float, LandingProfile, LandingProfile]] = []
        self.t = 0.0
        self.motion_end = 0.0
        self.current: tuple[int, str] = (0, "")  # the set phases belong to
        self.inputs: list[ScriptInput] = []
        self.phases: list[TruthPhase] = []
        self.activities: list[tuple[str, float, float]] = []
        self.reps: list[RepRecord] = []
        self.landing_reps: list[tuple[int, int]] = []  # (set, rep) of each landing

    # --- basics ------------------------------------------------------------------------------
    def dur(self, bounds: tuple[float, float]) -> float:
        """A duration inside ``bounds`` near this athlete's tempo."""
        lo, hi = bounds
        frac = float(np.clip(self.p.tempo + self.rng.normal(0.0, 0.2), 0.0, 1.0))
        return lo + (hi - lo) * frac

    def uniform(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def value(self, channel: str) -> float:
        """Where ``channel`` rests now (degrees for angles, metres for lengths; ``z`` as the
        height change from standing)."""
        v = self.tracks[channel].value
        if channel in _ANGLE_CHANNELS or channel == "wrist_pitch":
            return math.degrees(v)
        if channel == "shift_z":
            return v + self.z_offset
        return v

    def phase(self, kind: str, t_end: float, rep_no: int = 0) -> None:
        """Close a phase from the cursor to ``t_end`` and move the cursor there. It belongs to
        the set in :attr:`current` (set number, exercise; ``(0, "")`` outside sets)."""
        if t_end < self.t - 1e-9:
            raise ValueError(f"phase {kind} would end at {t_end} before the cursor {self.t}")
        if t_end > self.t:
            set_no, exercise = self.current
            self.phases.append(TruthPhase(kind, self.t, t_end, set_no, rep_no, exercise))
            self.t = t_end

    def move(self, t0: float, t1: float, **targets: float) -> None:
        """Move channels from rest at ``t0`` to rest at ``t1``. Angles in degrees; ``x``/``y``/
        ``z`` are the sacrum shift (``z`` from standing); arm values in metres/degrees."""
        for name, value in targets.items():
            channel = {"x": "shift_x", "y": "shift_y", "z": "shift_z"}.get(name, name)
            if channel in _ANGLE_CHANNELS or channel == "wrist_pitch":
                v = math.radians(value)
            elif channel == "shift_z":
                v = value - self.z_offset
            else:
                v = value
            self.tracks[channel].move(t0, t1, v)
        self.motion_end = max(self.motion_end, t1)

    def hold_all(self, t: float) -> None:
        """Make every channel rest until ``t`` (nothing may start moving before it)."""
        for track in (*self.tracks.values(), self.vel_x, self.vel_y):
            if track.end < t:
                track.hold(t)

    def arms_hanging(self) -> dict[str, float]:
        """Arm targets of a relaxed, hanging arm."""
        return {
            "arm_x": 0.0,
            "arm_y": ARM_SIDE_M,
            "arm_z": -ARM_HANG * self.p.arm_length_m,
            "wrist_pitch": 0.0,
        }

    # --- calibration ---------------------------------------------------------------------------
    def calibration(self, t_cal: float) -> None:
        """Stand until ``t_cal`` (s), calibrate: still 3.5 s, bend fully, hold, return, stand."""
        p = self.p
        self.inputs.append(ScriptInput(t_cal, "calibrate"))
        self.phase("stand", t_cal)
        t_bend = t_cal + CALIBRATE_STILL_S
        self.phase("calibrate_still", t_bend)
        d_down = max(self.dur(BEND_S), lumbar_move_s(p.max_flexion_deg, LUMBAR_VOLUNTARY_DPS))
        t_down = t_bend + d_down
        self.move(
            t_bend,
            t_down,
            pelvis=p.max_pelvis_deg,
            lumbar=p.max_flexion_deg,
            x=-p.bend_back_m,
            z=-p.bend_drop_m,
        )
        self.phase("bend", t_down)
        t_up = t_down + BEND_HOLD_S
        self.phase("bend_hold", t_up)
        d_back = max(self.dur(BEND_S), lumbar_move_s(p.max_flexion_deg, LUMBAR_VOLUNTARY_DPS))
        t_back = t_up + d_back
        self.move(t_up, t_back, pelvis=0.0, lumbar=0.0, x=0.0, z=0.0)
        self.phase("bend_return", t_back)
        self.activities.append(("calibration_bend", t_bend, t_back))
        self.phase("stand", t_back + self.dur(STAND_AFTER_CALIBRATION_S))

    # --- standing, turning, walking ------------------------------------------------------------
    @staticmethod
    def turn_s(delta_rad: float) -> float:
        """How long a turn by ``delta_rad`` takes, s."""
        return TURN_BASE_S + abs(math.degrees(delta_rad)) * TURN_PER_DEG_S

    def turn_to(self, heading: float, kind: str = "turn") -> None:
        """Turn on the spot to face world ``heading`` (rad), the short way round."""
        psi = self.tracks["heading"].value
        delta = _wrap(heading - psi)
        if abs(delta) < math.radians(2.0):
            return
        t1 = self.t + self.turn_s(delta)
        self.tracks["heading"].move(self.t, t1, psi + delta)
        self.motion_end = max(self.motion_end, t1)
        self.activities.append(("turn", self.t, t1))
        self.phase(kind, t1)

    def stand(self, duration: float, kind: str = "stand") -> None:
        """Stand for ``duration`` s; longer stands include a weight shift to one leg and back."""
        t0, t1 = self.t, self.t + duration
        if duration > 5.0:
            side = float(self.rng.choice([-1.0, 1.0]))
            shift = side * self.uniform(*WEIGHT_SHIFT_M)
            lean = -side * self.uniform(*WEIGHT_SHIFT_LEAN_DEG)
            a = t0 + self.uniform(0.5, 1.5)
            b = a + 1.0
            c = max(b + 0.5, t1 - 2.5)
            y0, lean0 = self.value("shift_y"), self.value("lean")
            self.move(a, b, y=y0 + shift, lean=lean0 + lean)
            self.move(c, c + 1.0, y=y0, lean=lean0)
        self.phase(kind, t1)

    def _walk_plan(self, distance: float, pace: float) -> tuple[int, int]:
        """(steps, ramp steps) to walk ``distance`` m at ``pace`` × the athlete's gait speed."""
        p = self.p
        step_s = 1.0 / p.cadence_hz
        cruise = pace * p.step_m * p.cadence_hz
        # Speed up and slow down over one step on short walks and two on longer ones, which
        # keeps gait initiation under ≈ 0.2–0.4 g.
        ramp = 2 if distance / cruise > 4.0 * step_s else 1
        steps = max(2, math.ceil((distance / cruise + ramp * step_s) / step_s - 1e-9))
        return steps, ramp

    def walk_s(self, distance: float, pace: float = 1.0) -> float:
        """How long walking ``distance`` m takes (whole steps), s."""
        return self._walk_plan(distance, pace)[0] / self.p.cadence_hz

    def walk(
        self,
        distance: float,
        direction: float,
        *,
        face: bool = True,
        kind: str = "walk",
        pace: float = 1.0,
    ) -> None:
        """Walk ``distance`` m in world ``direction`` (rad), turning to face it first unless
        ``face`` is False (stepping back out of a rack). ``pace``: fraction of the athlete's gait
        speed (step × cadence). Steps bounce the pelvis vertically, sway it sideways, rotate
        it, and swing the arms; the speed ramps up and down smoothly and cruises between."""
        if distance <= 0.0:
            return
        p = self.p
        if face:
            self.turn_to(direction)
        steps, ramp = self._walk_plan(distance, pace)
        step_s = 1.0 / p.cadence_hz
        t0 = self.t
        t1 = t0 + steps * step_s
        speed = distance / (t1 - t0 - ramp * step_s)  # half of each ramp's time is lost
        c, s = math.cos(direction), math.sin(direction)
        t_cruise = t0 + ramp * step_s
        t_stop = max(t_cruise, t1 - ramp * step_s)  # equal for short walks, up to rounding
        self.vel_x.move(t0, t_cruise, speed * c)
        self.vel_y.move(t0, t_cruise, speed * s)
        self.vel_x.move(t_stop, t1, 0.0)
        self.vel_y.move(t_stop, t1, 0.0)
        z0, y0 = self.value("shift_z"), self.value("shift_y")
        tw0, arm_x0 = self.value("pelvis_twist"), self.value("arm_x")
        side = float(self.rng.choice([-1.0, 1.0]))
        prev = t0
        for k in range(steps):
            mid, end = t0 + (k + 0.5) * step_s, t0 + (k + 1) * step_s
            gentle = 0.5 if k in (0, steps - 1) else 1.0  # start and stop gently
            last = k == steps - 1
            sign = side * (-1.0) ** k
            # Pelvis high at mid-stance, low at double support; toward the stance leg; rotating
            # with the swing leg; the opposite arm swinging forward. The thorax counter-rotates
            # (lumbar twist −40 % of the pelvic rotation, A).
            self.move(prev, mid, z=z0 + gentle * p.bounce_m, y=y0 + sign * gentle * p.sway_m)
            self.move(
                mid,
                end,
                z=z0 if last else z0 - gentle * p.bounce_m,
                y=y0 if last else y0 + 0.3 * sign * gentle * p.sway_m,
            )
            rot = 0.0 if last else sign * gentle * p.pelvis_rotation_deg
            self.move(prev, end, pelvis_twist=tw0 + rot, twist=-0.4 * rot)
            self.move(
                prev,
                end,
                arm_x=arm_x0 + (0.0 if last else sign * 0.10 * gentle),
                wrist_pitch=0.0 if last else sign * 12.0 * gentle,
            )
            prev = end
        self.pos = (self.pos[0] + distance * c, self.pos[1] + distance * s)
        self.activities.append(("walk", t0, t1))
        self.phase(kind, t1)

    def go_to(self, station: Station, *, kind: str = "walk") -> None:
        """Walk to ``station`` and face it."""
        dx, dy = station.x - self.pos[0], station.y - self.pos[1]
        distance = math.hypot(dx, dy)
        if distance > 0.2:
            self.walk(distance, math.atan2(dy, dx), kind=kind)
        self.turn_to(station.facing)

    def go_to_s(self, station: Station) -> float:
        """Upper bound of :meth:`go_to`'s duration from here, s."""
        distance = math.hypot(station.x - self.pos[0], station.y - self.pos[1])
        return 2.0 * self.turn_s(math.pi) + (self.walk_s(distance) if distance > 0.2 else 0.0)

    # --- sitting, picking up, adjusting plates -------------------------------------------------
    def sit(self, duration: float) -> None:
        """Sit down on a bench behind, sit, and stand up again; ``duration`` s in all."""
        p = self.p
        down = self.dur(SIT_DOWN_S)
        up = self.dur(STAND_UP_S)
        t0 = self.t
        drop = p.sacrum_height_m - SEAT_SACRUM_HEIGHT_M
        # Sit-down: hips back and trunk forward first, then settle onto the bench with the pelvis
        # tilted back and the lumbar spine flexed (seated posture, A).
        self.move(t0, t0 + 0.45 * down, pelvis=25.0, lumbar=10.0, x=-0.06, z=-0.4 * drop)
        self.move(
            t0 + 0.45 * down,
            t0 + down,
            pelvis=p.sit_pelvis_deg,
            lumbar=p.sit_lumbar_deg,
            x=-0.14,
            z=-drop,
        )
        self.phase("sit_down", t0 + down)
        t_up = t0 + max(duration - up, down + 1.0)
        self.phase("sit", t_up)
        # Sit-to-stand: lean forward over the feet, then rise (trunk ≈ 40° at seat-off, A).
        lean_l = min(p.sit_lumbar_deg, 15.0)
        self.move(t_up, t_up + 0.45 * up, pelvis=30.0, lumbar=lean_l, x=-0.08, z=-0.9 * drop)
        self.move(t_up + 0.45 * up, t_up + up, pelvis=0.0, lumbar=0.0, x=0.0, z=0.0)
        self.phase("stand_up", t_up + up)
        self.activities.append(("sit", t0, t_up + up))

    def pick_up_s(self) -> float:
        """Upper bound of :meth:`pick_up`'s duration, s."""
        return 2 * max(PICK_UP_DOWN_S[1], lumbar_move_s(62.0, LUMBAR_VOLUNTARY_DPS)) + 1.5

    def pick_up(self) -> None:
        """Bend down deeply to pick something up from the floor and stand up again — a deep
        lumbar flexion that is not a rep (a false-alarm candidate)."""
        p = self.p
        lumbar = self.uniform(*PICK_UP_LUMBAR) * p.max_flexion_deg
        pelvis = self.uniform(*PICK_UP_PELVIS) * p.max_pelvis_deg
        need = lumbar_move_s(lumbar, LUMBAR_VOLUNTARY_DPS)
        down = max(self.dur(PICK_UP_DOWN_S), need)
        hold = self.uniform(*PICK_UP_HOLD_S)
        up = max(self.dur(PICK_UP_DOWN_S), need)
        t0 = self.t
        self.move(
            t0,
            t0 + down,
            pelvis=pelvis,
            lumbar=lumbar,
            x=-self.uniform(0.08, 0.15),
            z=-self.uniform(0.05, 0.15),
            arm_x=0.12,
        )
        self.move(t0 + down + hold, t0 + down + hold + up, pelvis=0.0, lumbar=0.0, x=0.0, z=0.0)
        self.move(t0 + down + hold, t0 + down + hold + up, arm_x=0.0)
        self.activities.append(("pick_up", t0, t0 + down + hold + up))
        self.phase("pick_up", t0 + down + hold + up)

    def adjust_plates_s(self) -> float:
        """Upper bound of :meth:`adjust_plates`'s duration, s."""
        return 2.0 * 2.0 + PLATES_HOLD_S[1] + 1.0

    def adjust_plates(self) -> None:
        """Crouch at the bar to change or check plates, hold, and stand up."""
        p = self.p
        lumbar = self.uniform(*PLATES_LUMBAR) * p.max_flexion_deg
        down = max(self.dur((1.2, 2.0)), lumbar_move_s(lumbar, LUMBAR_VOLUNTARY_DPS))
        hold = self.uniform(*PLATES_HOLD_S)
        t0 = self.t
        pelvis = self.uniform(*PLATES_PELVIS_DEG)
        z = -self.uniform(*PLATES_DROP_M)
        self.move(t0, t0 + down, pelvis=pelvis, lumbar=lumbar, x=-0.12, z=z, arm_x=0.15)
        # Fiddling with a collar: a small shift of the trunk halfway through the hold.
        mid = t0 + down + 0.4 * hold
        self.move(mid, mid + 1.0, lumbar=lumbar + self.uniform(-3.0, 3.0), pelvis=pelvis + 2.0)
        t_up = t0 + down + hold
        self.move(t_up, t_up + down, pelvis=0.0, lumbar=0.0, x=0.0, z=0.0, arm_x=0.0)
        self.activities.append(("adjust_plates", t0, t_up + down))
        self.phase("adjust_plates", t_up + down)

    # --- freezing --------------------------------------------------------------------------------
    def body(self, params: AthleteParams, *, arms: bool) -> BodyMotion:
        """The body these keyframes describe. ``arms``: include the wrist segment."""
        tr = {name: b.build() for name, b in self.tracks.items()}
        impacts_s = ImpactTrack([(t, s) for t, s, _ in self.landings])
        impacts_u = ImpactTrack([(t, u) for t, _, u in self.landings])
        return BodyMotion(
            params=params,
            pelvis=tr["pelvis"],
            lumbar=tr["lumbar"],
            heading=tr["heading"],
            shift_x=tr["shift_x"],
            shift_y=tr["shift_y"],
            shift_z=tr["shift_z"],
            lean=tr["lean"],
            sway=self.sway,
            bend=tr["bend"],
            twist=tr["twist"],
            pelvis_twist=tr["pelvis_twist"],
            walk_x=IntegratedTrack(self.vel_x.build()),
            walk_y=IntegratedTrack(self.vel_y.build()),
            impact_sacrum=impacts_s,
            impact_upper=impacts_u,
            arm_x=tr["arm_x"] if arms else None,
            arm_y=tr["arm_y"] if arms else None,
            arm_z=tr["arm_z"] if arms else None,
            wrist_pitch=tr["wrist_pitch"] if arms else None,
        )
