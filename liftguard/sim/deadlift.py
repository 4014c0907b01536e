"""The deadlift session script: calibration, then complete sets of dead-stop reps with rests.

Every duration is drawn inside its range per occurrence, nudged by the athlete's ``tempo`` so each
athlete keeps a recognisable pace. Angles are scripted in degrees (as the sources state them) and
handed to the body model in radians. Evidence tags as in :mod:`liftguard.sim.athlete`.

Random streams (``numpy.random.default_rng([seed, k])``): k = 1 athlete, k = 2 script, k = 3 + i
sensor ``PLACEMENTS[i]``. Sets are drawn one after another from the script stream and a set is only
kept if it fits, so a longer session starts with exactly the sets of a shorter one.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from liftguard.errors import ConfigError
from liftguard.sim.athlete import AthleteParams
from liftguard.sim.body import PLACEMENTS, BodyMotion
from liftguard.sim.faults import FAULT_KINDS, FaultLabel
from liftguard.sim.imu import SimulatedImu
from liftguard.sim.script import LUMBAR_GIVING_WAY_DPS, LUMBAR_VOLUNTARY_DPS, lumbar_move_s
from liftguard.sim.session import ScriptInput, SimulatedAthlete, TruthPhase, rep_truth
from liftguard.sim.tracks import SineSum, TrackBuilder

__all__ = ["build_deadlift_athlete"]

# --- Phase durations, seconds -----------------------------------------------------------------
CALIBRATE_AT_S = (1.0, 1.5)  # quiet standing before the supervisor starts calibration
CALIBRATE_STILL_S = 3.5  # the pipeline needs 3 s still; 0.5 s margin
# Full forward bend and return. At ~2 s the peak lumbar rate is ≈ 1.875 × 45°/2 s ≈ 42°/s, below
# the 83°/s maximal-bending flexion velocity at 51–75 y (Consmüller et al. 2012, P).
BEND_S = (1.8, 2.2)
BEND_HOLD_S = 0.5
STAND_AFTER_CALIBRATION_S = (1.8, 2.2)
SET_LEAD_S = (0.8, 1.2)  # "set" input → first movement
SETUP_DESCENT_S = (1.5, 2.5)  # A
SETUP_PAUSE_S = (0.8, 1.5)  # A: grip and brace before the first pull
CONCENTRIC_S = (1.0, 1.8)  # D: 0.45–0.55 m bar travel (A) ÷ 0.3–0.5 m/s (A, Janicijevic 2024)
LOCKOUT_S = (0.5, 1.5)  # A
ECCENTRIC_S = (1.0, 2.0)  # A: coached, controlled lowering in supervised older-adult training
BOTTOM_PAUSE_S = (1.0, 2.5)  # A: dead-stop reset of the bar on the floor
FINAL_PAUSE_S = (0.5, 1.0)  # A
STANDUP_S = (1.0, 1.5)  # A: unloaded stand-up after letting go of the bar
END_MARGIN_S = 4.0  # the last movement ends at least this long before the session does

# --- Postures, degrees -------------------------------------------------------------------------
SETUP_PELVIS_JITTER_DEG = 2.0  # set-to-set scatter of the bottom pelvis inclination (A)
BOTTOM_JITTER_DEG = 1.0  # rep-to-rep scatter of the bottom posture (A)
LOCKOUT_DEG = (-2.0, 2.0)  # pelvis and lumbar at lockout ≈ standing (A)
SETUP_FLEXION_RANGE_DEG = (8.0, 20.0)  # set-1 8–16° plus fatigue, capped so good reps stay ≤ 24°
GOOD_RISE_DEG = (0.0, 5.0)  # extra flexion as the bar breaks the floor in a good rep (A)
GOOD_PEAK_MAX_DEG = 24.0  # 6° under the default 30° alarm: unambiguous first demo
ROUNDED_PEAK_DEG = (36.0, 48.0)  # and ≤ max flexion − 2°: 6° over the default alarm (A)
ROUNDED_MAX_MARGIN_DEG = 2.0
PEAK_AT_FRACTION = (0.30, 0.40)  # flexion peaks this far into the concentric (bar breaks floor)
ROUNDED_EXTRA_P = 0.15  # rounded reps per set: 1 + Binomial(reps − 1, 0.15) (A)
TRAVEL_SCATTER = (0.95, 1.05)  # set-to-set scatter of sacrum travel to the bar (A)

# --- Rest: heading turn and weight shift between sets (A) -------------------------------------
TURN_START_S = (0.5, 1.0)
TURN_DEG = (30.0, 180.0)
TURN_RESIDUAL_DEG = 5.0  # the athlete does not come back to exactly the same heading
TURN_HOLD_S = (0.5, 2.0)
TURN_CLEAR_S = 1.0  # turned back this long before the next "set" input
WEIGHT_SHIFT_M = (0.02, 0.04)
WEIGHT_SHIFT_LEAN_DEG = (0.5, 1.5)

# --- Postural sway (A): quiet standing sway is slow (< 1 Hz) and well under 1° -------------
SWAY_AMPLITUDE_DEG = (0.05, 0.15)  # per sinusoid; 3 sinusoids → |sway| ≤ 0.45° < 0.5°
SWAY_FREQUENCY_HZ = (0.1, 0.6)
SWAY_TERMS = 3
SWAY_CHANNELS = 4  # sagittal, lateral, sacrum twist, upper twist


def _rad(deg: float) -> float:
    return math.radians(deg)


class _Script:
    """Keyframes, inputs and phases written in time order; ``t`` is where the script is now."""

    def __init__(self, params: AthleteParams, rng: np.random.Generator) -> None:
        self.p = params
        self.rng = rng
        self.heading = TrackBuilder(float(rng.uniform(0.0, 2.0 * math.pi)))
        self.pelvis = TrackBuilder(0.0)
        self.lumbar = TrackBuilder(0.0)
        self.shift_x = TrackBuilder(0.0)
        self.shift_y = TrackBuilder(0.0)
        self.shift_z = TrackBuilder(0.0)
        self.lean = TrackBuilder(0.0)
        amplitude = np.radians(rng.uniform(*SWAY_AMPLITUDE_DEG, size=(SWAY_CHANNELS, SWAY_TERMS)))
        frequency = rng.uniform(*SWAY_FREQUENCY_HZ, size=(SWAY_CHANNELS, SWAY_TERMS))
        phase = rng.uniform(0.0, 2.0 * math.pi, size=(SWAY_CHANNELS, SWAY_TERMS))
        self.sway = SineSum(amplitude, frequency, phase)
        self.t = 0.0
        self.motion_end = 0.0
        self.inputs: list[ScriptInput] = []
        self.phases: list[TruthPhase] = []
        self.rep_windows: list[tuple[int, int, float, float, bool]] = []

    def dur(self, bounds: tuple[float, float]) -> float:
        """A duration inside ``bounds`` near this athlete's tempo."""
        lo, hi = bounds
        frac = float(np.clip(self.p.tempo + self.rng.normal(0.0, 0.2), 0.0, 1.0))
        return lo + (hi - lo) * frac

    def phase(self, kind: str, t0: float, t1: float, set_no: int = 0, rep_no: int = 0) -> None:
        self.phases.append(TruthPhase(kind, t0, t1, set_no, rep_no))

    def pose(
        self,
        t0: float,
        t1: float,
        *,
        pelvis_deg: float,
        lumbar_deg: float,
        x: float,
        z: float,
    ) -> None:
        """Move the sagittal channels from rest at ``t0`` to rest at ``t1``."""
        self.pelvis.move(t0, t1, _rad(pelvis_deg))
        self.lumbar.move(t0, t1, _rad(lumbar_deg))
        self.shift_x.move(t0, t1, x)
        self.shift_z.move(t0, t1, z)
        self.motion_end = max(self.motion_end, t1)

    # --- calibration ----------------------------------------------------------------------
    def calibration(self) -> None:
        p = self.p
        t_cal = float(self.rng.uniform(*CALIBRATE_AT_S))
        self.inputs.append(ScriptInput(t_cal, "calibrate"))
        self.phase("stand", 0.0, t_cal)
        t_bend = t_cal + CALIBRATE_STILL_S
        self.phase("calibrate_still", t_cal, t_bend)
        t_down = t_bend + self.dur(BEND_S)
        self.pose(
            t_bend,
            t_down,
            pelvis_deg=p.max_pelvis_deg,
            lumbar_deg=p.max_flexion_deg,
            x=-p.bend_back_m,
            z=-p.bend_drop_m,
        )
        self.phase("bend", t_bend, t_down)
        t_up = t_down + BEND_HOLD_S
        self.phase("bend_hold", t_down, t_up)
        t_back = t_up + self.dur(BEND_S)
        self.pose(t_up, t_back, pelvis_deg=0.0, lumbar_deg=0.0, x=0.0, z=0.0)
        self.phase("bend_return", t_up, t_back)
        self.t = t_back + self.dur(STAND_AFTER_CALIBRATION_S)
        self.phase("stand", t_back, self.t)

    # --- rest between sets ----------------------------------------------------------------
    def rest(self, set_no: int, rest_s: tuple[float, float]) -> None:
        """Stand U(rest_s) s, turning away and back and shifting weight; ends at the set input."""
        rng = self.rng
        t0 = self.t
        t_input = t0 + float(rng.uniform(*rest_s))
        self.phase("rest", t0, t_input, set_no)
        self.t = t_input
        turn = _rad(float(rng.uniform(*TURN_DEG)) * float(rng.choice([-1.0, 1.0])))
        residual = _rad(float(rng.uniform(-TURN_RESIDUAL_DEG, TURN_RESIDUAL_DEG)))
        t_turn = t0 + float(rng.uniform(*TURN_START_S))
        # ~1 s plus 1 s per 120° keeps the peak yaw rate under ~150°/s.
        d = (0.8 + abs(math.degrees(turn)) / 120.0) * float(rng.uniform(0.9, 1.1))
        hold = float(rng.uniform(*TURN_HOLD_S))
        side = float(rng.choice([-1.0, 1.0]))
        shift = side * float(rng.uniform(*WEIGHT_SHIFT_M))
        lean = -side * _rad(float(rng.uniform(*WEIGHT_SHIFT_LEAN_DEG)))
        room = t_input - TURN_CLEAR_S - t_turn
        if 2.0 * d + hold > room:
            hold = max(0.2, room - 2.0 * d)
            d = min(d, (room - hold) / 2.0)
        if d < 0.5:
            return  # a rest this short has no room to turn round
        psi = self.heading.value
        t1, t2, t3 = t_turn + d, t_turn + d + hold, t_turn + 2.0 * d + hold
        self.heading.move(t_turn, t1, psi + turn)
        self.heading.move(t2, t3, psi + residual)
        self.shift_y.move(t_turn, t1, shift)
        self.shift_y.move(t2, t3, 0.0)
        self.lean.move(t_turn, t1, lean)
        self.lean.move(t2, t3, 0.0)
        self.motion_end = max(self.motion_end, t3)
        self.phase("turn", t_turn, t3, set_no)

    # --- one set ---------------------------------------------------------------------------
    def deadlift_set(self, set_no: int, reps: int) -> None:
        p, rng = self.p, self.rng
        t_input = self.t
        self.inputs.append(ScriptInput(t_input, "set", "deadlift", set_no, reps))
        t_move = t_input + self.dur(SET_LEAD_S)
        self.phase("stand", t_input, t_move, set_no)

        jitter = float(np.clip(rng.normal(0.0, 1.0), -1.0, 1.0)) * SETUP_PELVIS_JITTER_DEG
        set_pelvis = p.setup_pelvis_deg + jitter
        set_flexion = float(
            np.clip(
                p.setup_flexion_deg + p.fatigue_flexion_deg_per_set * (set_no - 1),
                *SETUP_FLEXION_RANGE_DEG,
            )
        )
        drop = p.bar_drop_m * float(rng.uniform(*TRAVEL_SCATTER))
        back = p.hinge_back_m * float(rng.uniform(*TRAVEL_SCATTER))
        n_rounded = 1 + int(rng.binomial(reps - 1, ROUNDED_EXTRA_P))
        rounded_at = set(int(i) + 1 for i in rng.choice(reps, size=n_rounded, replace=False))
        slowdown = 1.0 + p.fatigue_slowdown_per_set * (set_no - 1)

        t = t_move + self.dur(SETUP_DESCENT_S)
        self.pose(t_move, t, pelvis_deg=set_pelvis, lumbar_deg=set_flexion, x=-back, z=-drop)
        self.phase("setup", t_move, t, set_no)
        t_lift = t + self.dur(SETUP_PAUSE_S)
        self.phase("pause", t, t_lift, set_no)

        for rep in range(1, reps + 1):
            rounded = rep in rounded_at
            start_flexion = math.degrees(self.lumbar.value)
            concentric = float(np.clip(self.dur(CONCENTRIC_S) * slowdown, *CONCENTRIC_S))
            if rounded:
                hi = min(ROUNDED_PEAK_DEG[1], p.max_flexion_deg - ROUNDED_MAX_MARGIN_DEG)
                peak = float(rng.uniform(ROUNDED_PEAK_DEG[0], hi))
            else:
                rise = float(rng.uniform(*GOOD_RISE_DEG))
                # 1e-9° keeps the degrees → radians → degrees round trip from reporting 24 + 1 ulp.
                peak = min(GOOD_PEAK_MAX_DEG - 1e-9, start_flexion + rise)
            frac = float(rng.uniform(*PEAK_AT_FRACTION))
            lock_flexion = float(rng.uniform(*LOCKOUT_DEG))
            # Keep the lumbar speed plausible: a good rep's flexion stays under the voluntary
            # 83 °/s, a rounding back gives way at up to 100 °/s (see liftguard.sim.script);
            # a slow rounding peaks later and the rep grinds longer.
            cap = LUMBAR_GIVING_WAY_DPS if rounded else LUMBAR_VOLUNTARY_DPS
            rise_s = max(concentric * frac, lumbar_move_s(peak - start_flexion, cap))
            concentric = max(
                concentric, rise_s + lumbar_move_s(peak - lock_flexion, LUMBAR_VOLUNTARY_DPS)
            )
            t_peak = t_lift + rise_s
            t_lock = t_lift + concentric
            # Rounding: the lumbar spine flexes as the bar breaks from the floor, then extends to
            # lockout while the hips keep extending — pelvis and lumbar are keyed separately.
            self.lumbar.move(t_lift, t_peak, _rad(peak))
            self.lumbar.move(t_peak, t_lock, _rad(lock_flexion))
            self.pelvis.move(t_lift, t_lock, _rad(float(rng.uniform(*LOCKOUT_DEG))))
            self.shift_x.move(t_lift, t_lock, 0.0)
            self.shift_z.move(t_lift, t_lock, 0.0)
            self.phase("concentric", t_lift, t_lock, set_no, rep)

            t_lower = t_lock + self.dur(LOCKOUT_S)
            self.phase("lockout", t_lock, t_lower, set_no, rep)
            t_floor = t_lower + self.dur(ECCENTRIC_S)
            bottom_flexion = float(
                np.clip(
                    set_flexion + rng.uniform(-BOTTOM_JITTER_DEG, BOTTOM_JITTER_DEG),
                    *SETUP_FLEXION_RANGE_DEG,
                )
            )
            bottom_pelvis = set_pelvis + float(rng.uniform(-BOTTOM_JITTER_DEG, BOTTOM_JITTER_DEG))
            self.pose(
                t_lower,
                t_floor,
                pelvis_deg=bottom_pelvis,
                lumbar_deg=bottom_flexion,
                x=-back,
                z=-drop,
            )
            self.phase("eccentric", t_lower, t_floor, set_no, rep)
            self.rep_windows.append((set_no, rep, t_lift, t_floor, rounded))
            if rep < reps:
                t_lift = t_floor + self.dur(BOTTOM_PAUSE_S)
                self.phase("bottom", t_floor, t_lift, set_no, rep)

        t_stand = t_floor + self.dur(FINAL_PAUSE_S)
        self.phase("final_pause", t_floor, t_stand, set_no)
        t_up = t_stand + self.dur(STANDUP_S)
        self.pose(t_stand, t_up, pelvis_deg=0.0, lumbar_deg=0.0, x=0.0, z=0.0)
        self.phase("standup", t_stand, t_up, set_no)
        self.t = t_up

    def body(self) -> BodyMotion:
        return BodyMotion(
            params=self.p,
            pelvis=self.pelvis.build(),
            lumbar=self.lumbar.build(),
            heading=self.heading.build(),
            shift_x=self.shift_x.build(),
            shift_y=self.shift_y.build(),
            shift_z=self.shift_z.build(),
            lean=self.lean.build(),
            sway=self.sway,
        )


def _rounded_label(
    body: BodyMotion, p: AthleteParams, t0: float, t1: float
) -> tuple[FaultLabel, ...]:
    """The demo's rounded rep as a ``rounded_back`` fault: severity on the session scale, from
    the set-up flexion (0) to 95 % of the athlete's maximum (1)."""
    start = math.degrees(float(body.lumbar(np.array([t0]))[0]))
    grid = np.linspace(t0, t1, int((t1 - t0) / 1e-3) + 1)
    peak = float(np.degrees(body.lumbar(grid)).max())
    severity = float(np.clip((peak - start) / (0.95 * p.max_flexion_deg - start), 0.0, 1.0))
    kind = FAULT_KINDS["rounded_back"]
    return (FaultLabel(kind.name, severity, peak, kind.quantity, kind.unit),)


def build_deadlift_athlete(
    name: str,
    seed: int,
    *,
    duration: float,
    unsafe_threshold_deg: float = 30.0,
    reps_per_set: int = 5,
    rest_s: tuple[float, float] = (8.0, 15.0),
    acc_bias_g: float = 0.02,
    noise: bool = True,
    mountings: Mapping[str, npt.ArrayLike] | None = None,
    params: AthleteParams | None = None,
) -> SimulatedAthlete:
    """An athlete doing calibration and then as many complete deadlift sets as fit in ``duration``.

    ``seed``: non-negative int; everything (athlete, script, mountings, biases, noise) follows from
    it. ``duration``: session length, s; the last set's stand-up ends ≥ 4 s before it.
    ``unsafe_threshold_deg``: flexion (degrees) that makes a rep :attr:`TruthRep.unsafe` when held
    ≥ 0.1 s. ``rest_s``: rest between sets, s, uniform. ``acc_bias_g``: accelerometer bias bound
    per axis, g. ``noise``: False gives exact signals (no bias, no noise). ``mountings``: optional
    ``{placement: (4,) [w, x, y, z] sensor-to-segment}``; others are uniform random.
    ``params``: optional athlete (otherwise drawn from the seed).

    Raises :class:`~liftguard.errors.ConfigError` for invalid values or a ``duration`` too short
    for even the calibration.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    if not (math.isfinite(duration) and duration > 0):
        raise ConfigError(f"duration must be a positive number of seconds, got {duration!r}")
    if not math.isfinite(unsafe_threshold_deg):
        raise ConfigError(f"unsafe_threshold_deg must be finite, got {unsafe_threshold_deg!r}")
    if reps_per_set < 1:
        raise ConfigError(f"reps_per_set must be at least 1, got {reps_per_set!r}")
    lo, hi = rest_s
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo <= hi):
        raise ConfigError(f"rest_s must be (low, high) with 0 <= low <= high, got {rest_s!r}")
    if not (math.isfinite(acc_bias_g) and acc_bias_g >= 0):
        raise ConfigError(f"acc_bias_g must be >= 0, got {acc_bias_g!r}")
    unknown = set(mountings or {}) - set(PLACEMENTS)
    if unknown:
        raise ConfigError(f"mountings for unknown placements {sorted(unknown)}")

    seed = int(seed)
    athlete = (
        params if params is not None else AthleteParams.sample(np.random.default_rng([seed, 1]))
    )
    script = _Script(athlete, np.random.default_rng([seed, 2]))
    script.calibration()
    if script.motion_end + END_MARGIN_S > duration:
        raise ConfigError(
            f"duration {duration:g} s is too short: the calibration alone needs "
            f"{script.motion_end + END_MARGIN_S:.1f} s"
        )
    set_no = 1
    while True:
        trial = copy.deepcopy(script)
        if set_no > 1:
            trial.rest(set_no, (float(lo), float(hi)))
        trial.deadlift_set(set_no, reps_per_set)
        if trial.motion_end + END_MARGIN_S > duration:
            break
        script = trial
        set_no += 1
    script.phase("stand", script.t, duration)

    body = script.body()
    sensors = {
        placement: SimulatedImu.with_random_errors(
            body,
            placement,
            np.random.default_rng([seed, 3 + i]),
            acc_bias_g=acc_bias_g,
            noise=noise,
            mounting=None if mountings is None else mountings.get(placement),
        )
        for i, placement in enumerate(PLACEMENTS)
    }
    reps = [
        rep_truth(
            body,
            s,
            r,
            t0,
            t1,
            rounded,
            unsafe_threshold_deg,
            faults=_rounded_label(body, athlete, t0, t1) if rounded else (),
            phases=tuple(p for p in script.phases if p.set == s and p.rep == r and p.t_end <= t1),
        )
        for s, r, t0, t1, rounded in script.rep_windows
    ]
    return SimulatedAthlete(
        name=name,
        params=athlete,
        sensors={"upper": sensors["upper"], "sacrum": sensors["sacrum"]},
        inputs=script.inputs,
        reps=reps,
        end_time=script.motion_end,
        duration=float(duration),
        unsafe_threshold_deg=float(unsafe_threshold_deg),
        phases=script.phases,
        body=body,
    )
