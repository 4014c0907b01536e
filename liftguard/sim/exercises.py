"""The four LIFTMOR exercises as keyframe scripts, with graded technique faults.

Each ``*_set`` function writes one set at the script's cursor: the supervisor's "set" input, the
set-up (descent to the bar, unracking, stepping under the chin-up bar), the reps, and stepping
away. Durations come from the parameter sheet (tags next to each constant) and the athlete's
``tempo``; concentric durations follow bar travel ÷ mean concentric velocity, which falls with
load (a linear load–velocity profile), with fatigue across the reps of a set and across sets.

Faults are drawn per rep from a :class:`~liftguard.sim.faults.FaultSpec` each; the rep remembers
the fault's severity and the window over which its resulting peak is measured on the truth once
the body is built (:mod:`liftguard.sim.liftmor`), so a label's peak is what really happened.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from liftguard.sim._physics import GRAVITY
from liftguard.sim.athlete import AthleteParams
from liftguard.sim.faults import FaultSpec
from liftguard.sim.landing import delayed_landing, solve_landing
from liftguard.sim.program import LIFTMOR_LOAD, SetPlan
from liftguard.sim.script import (
    ARM_HANG,
    LUMBAR_EXTENSION_DPS,
    LUMBAR_GIVING_WAY_DPS,
    LUMBAR_VOLUNTARY_DPS,
    RepRecord,
    SessionScript,
    lumbar_move_s,
)
from liftguard.sim.session import ScriptInput

__all__ = [
    "BAR_WRIST_HEIGHT_M",
    "MCV_RANGES",
    "SET_WRITERS",
    "FaultDraw",
    "SetContext",
    "deadlift_drop_m",
    "wrist_height_m",
]

_G = GRAVITY

# --- Velocity and tempo -----------------------------------------------------------------------
#: Mean concentric velocity at 80–85 % 1RM for untrained older women, m/s (sheet §2–4, A,
#: anchored by Janicijevic 2024 and the older-women leg-press data): (fast, slow) ends; the
#: athlete's ``tempo`` picks a point.
MCV_RANGES: dict[str, tuple[float, float]] = {
    "deadlift": (0.40, 0.25),
    "squat": (0.45, 0.30),
    "press": (0.45, 0.30),
}
#: Load–velocity slope: v(load) = v(82.5 %) × (1 + 2.4 × (0.825 − load)), so 40 % 1RM moves about
#: twice as fast as the working load. A: individual load–velocity profiles are linear
#: (Balsalobre-Fernández et al. 2018, R² = 0.987, P-y); the slope is assumed.
LOAD_VELOCITY_SLOPE = 2.4
CONCENTRIC_LIMITS_S = (0.5, 4.0)  # clip of any computed concentric duration

SET_LEAD_S = (0.8, 1.2)  # "set" input → first movement, A
# Deadlift (sheet §2)
DL_SETUP_DESCENT_S = (1.5, 2.5)  # A
DL_SETUP_PAUSE_S = (0.8, 1.5)  # A
DL_LOCKOUT_S = (0.5, 1.5)  # A
DL_ECCENTRIC_S = (1.0, 2.5)  # A, sheet §2
DL_BOTTOM_S = (1.0, 3.0)  # A: inside the sheet's 1–4 s dead-stop reset
DL_FINAL_PAUSE_S = (0.5, 1.0)  # A
DL_STANDUP_S = (1.0, 1.5)  # A
DL_PEAK_AT = (0.30, 0.40)  # flexion peaks this far into the concentric (bar breaks the floor)
DL_RISE_DEG = (0.0, 5.0)  # extra flexion as the bar breaks the floor in a good rep (A)
DL_LOCKOUT_DEG = (-2.0, 2.0)  # pelvis and lumbar at a good lockout ≈ standing (A)
DL_GRIP_HALF_M = 0.275  # grip 55 ± 10 cm (Escamilla et al. 2000, P-y) → wrist beside midline
#: Height of the wrist sensor when the hands hold a bar on the floor: plate radius 0.225 m
#: (450 mm plates) + 0.06 m from the bar's axis to the wrist sensor. A.
BAR_WRIST_HEIGHT_M = 0.285
DL_EARLY_HIP_SHARE = 0.2  # share of hip extension done when the bar breaks the floor (A)
DL_EARLY_BAR_SHARE = 0.1  # share of bar travel done by then (A)
# Squat (sheet §3)
SQ_ECCENTRIC_S = (1.2, 2.5)  # A
SQ_BOTTOM_S = (0.05, 0.3)  # A
SQ_BETWEEN_S = (0.5, 2.0)  # A: rep-to-rep spacing
SQ_WINK_AT = 0.15  # the butt wink happens in the last 15 % of the descent (sheet §3: 10–20 %)
SQ_SACRUM_MAX_DEG = 30.0  # sacral inclination at the bottom ≤ 30° before the wink (sheet §3)
# Press (sheet §4)
PR_ECCENTRIC_S = (1.0, 2.0)  # A
PR_LOCKOUT_S = (0.3, 1.0)  # A
PR_RACK_S = (0.5, 2.0)  # A
# Barbell handling (A)
UNRACK_S = (1.8, 2.6)
WALKOUT_M = (0.4, 0.7)
WALKOUT_PACE = 0.5  # short, careful steps with a loaded bar
BRACE_S = (0.5, 1.5)
# Jumping chin-up (sheet §5)
CH_DIP_S = (0.3, 0.5)  # A
CH_JUMP_S = (0.5, 0.7)  # A: "jump to bar 0.3–0.6 s", lengthened where needed (see below)
CH_GRAB_S = (0.2, 0.5)  # A
CH_PULL_S = (1.0, 2.5)  # A
CH_TOP_S = (0.2, 0.5)  # A
CH_LOWER_S = (1.0, 3.0)  # A
CH_HANG_S = (0.3, 1.0)  # A
CH_RECOVER_S = (0.8, 1.5)  # A
CH_RESET_S = (2.0, 5.0)  # A
CH_RELEASE_S = (0.015, 0.03)  # A: the grip lets go over 15–30 ms
CH_MAX_DECEL = 0.9 * _G  # a jump's deceleration at the top cannot exceed gravity (no pull-down)
CH_HAND_ABOVE_SHOULDER_TOP_M = 0.15  # chin over the bar: hands 15 cm above the shoulders (A)
#: Soft landing peak (sacral rigid specific force, g) as a function of touchdown speed: 0.5 +
#: 1.43 × v gives 2.5 g at 0.10 m and 4.5 g at 0.40 m, matching the sheet's 2.5–4.5 BW soft
#: bracket and the √h growth of peak vGRF (Niu et al. 2014, P-y). Stiff: 4 g at 0.10 m to 6 g at
#: 0.40 m (sheet §5 4–6 BW). A, both.
SOFT_PEAK_G = (0.5, 1.43)
STIFF_PEAK_G = (4.0, 6.0)
SOFT_PEAK_LIMITS_G = (2.5, 5.0)  # sheet §5: sacral rigid peak 2.5–5 g
LANDING_SCATTER_G = 0.1  # landing-to-landing scatter of the peak, SD, g (A)
STIFF_PEAK_TIME_S = 0.03  # stiff landing: time to peak (sheet §5 30–80 ms range's low end)
STIFF_ABSORB_S = 0.3  # stiff landing: absorption (sheet §5 0.3–0.8 s range's low end)
#: Half the extra width of the T12 impact bump, s; its peak comes this much (≈ 1–1.5×) later
#: than the sacrum's, giving the sheet's 5–20 ms (§5, A).
T12_DELAY_S = (0.004, 0.013)
# Asymmetry per rep (A): lateral bend / twist = athlete bias + N(0, 1°), clipped to ±6°.
ASYM_SD_DEG = 1.0
ASYM_MAX_DEG = 6.0


@dataclass
class FaultDraw:
    """A fault scripted into a rep: its severity and the window where its peak is measured."""

    name: str
    severity: float
    t0: float = 0.0
    t1: float = 0.0


@dataclass
class SetContext:
    """What a set writer needs besides the script."""

    plan: SetPlan
    set_no: int
    working_index: int  # 1-based among this exercise's working sets; 0 for warm-ups
    faults: Mapping[str, FaultSpec]
    fault_rng: np.random.Generator
    draws: dict[tuple[int, int], list[FaultDraw]] = field(default_factory=dict)

    def probability(self, spec: FaultSpec) -> float:
        """Per-rep probability: half on warm-ups, +10 % per later working set (fatigue), A."""
        if spec.probability >= 1.0:
            return 1.0
        if self.plan.warmup:
            return 0.5 * spec.probability
        return min(1.0, spec.probability * (1.0 + 0.1 * (self.working_index - 1)))

    def draw(self, name: str, good: float, worst: float) -> tuple[float, float] | None:
        """``(severity, scripted peak)`` of fault ``name`` for this rep, or None."""
        spec = self.faults[name]
        return spec.draw(self.fault_rng, good, worst, self.probability(spec))


# --- geometry -----------------------------------------------------------------------------------
def wrist_height_m(
    p: AthleteParams, pelvis_deg: float, lumbar_deg: float, z: float, arm_z: float
) -> float:
    """Height of the wrist sensor (m above the floor) for a sagittal posture without sway, the
    same chain as :meth:`~liftguard.sim.body.BodyMotion.pose_soa`."""
    theta_s = math.radians(p.sacrum_tilt_deg + pelvis_deg)
    theta_u = math.radians(p.upper_tilt_deg + pelvis_deg + lumbar_deg)
    trunk = math.radians(pelvis_deg + lumbar_deg)
    upper = p.sacrum_height_m + z + p.lumbar_length_m * math.cos(0.5 * (theta_s + theta_u))
    shoulder = (
        upper + p.shoulder_above_upper_m * math.cos(trunk) - p.shoulder_forward_m * math.sin(trunk)
    )
    return shoulder + arm_z


def deadlift_drop_m(p: AthleteParams, pelvis_deg: float, lumbar_deg: float) -> float:
    """How far the sacrum must descend (m) for straight, hanging arms to reach a bar on the
    floor in this posture — D, from the body chain and :data:`BAR_WRIST_HEIGHT_M`."""
    hang = -ARM_HANG * p.arm_length_m
    return wrist_height_m(p, pelvis_deg, lumbar_deg, 0.0, hang) - BAR_WRIST_HEIGHT_M


def _concentric_s(sc: SessionScript, ctx: SetContext, travel_m: float, rep: int) -> float:
    """Bar travel ÷ mean concentric velocity at this load, slowed by fatigue."""
    p = sc.p
    fast, slow = MCV_RANGES[ctx.plan.exercise]
    v_work = fast + p.tempo * (slow - fast)
    v = v_work * (1.0 + LOAD_VELOCITY_SLOPE * (LIFTMOR_LOAD - ctx.plan.load))
    d = travel_m / max(v, 0.05) * (1.0 + p.rep_slowdown) ** (rep - 1)
    if not ctx.plan.warmup:
        d *= 1.0 + p.fatigue_slowdown_per_set * (ctx.working_index - 1)
    return float(np.clip(d, *CONCENTRIC_LIMITS_S))


def _asymmetry(sc: SessionScript) -> tuple[float, float]:
    p, rng = sc.p, sc.rng
    bend = float(
        np.clip(p.bend_bias_deg + rng.normal(0.0, ASYM_SD_DEG), -ASYM_MAX_DEG, ASYM_MAX_DEG)
    )
    twist = float(
        np.clip(p.twist_bias_deg + rng.normal(0.0, ASYM_SD_DEG), -ASYM_MAX_DEG, ASYM_MAX_DEG)
    )
    return bend, twist


def _start_set(sc: SessionScript, ctx: SetContext) -> None:
    plan = ctx.plan
    sc.current = (ctx.set_no, plan.exercise)
    sc.inputs.append(ScriptInput(sc.t, "set", plan.exercise, ctx.set_no, plan.reps))
    sc.stand(sc.dur(SET_LEAD_S))


def _record(
    sc: SessionScript,
    ctx: SetContext,
    rep: int,
    t0: float,
    t1: float,
    first_phase: int,
    draws: list[FaultDraw],
) -> None:
    plan = ctx.plan
    sc.reps.append(
        RepRecord(
            plan.exercise,
            ctx.set_no,
            rep,
            t0,
            t1,
            warmup=plan.warmup,
            load=plan.load,
            first_phase=first_phase,
            last_phase=len(sc.phases),
        )
    )
    ctx.draws[(ctx.set_no, rep)] = draws


def _fault_window(draws: list[FaultDraw], t0: float, t1: float) -> None:
    for d in draws:
        d.t0, d.t1 = t0, t1


# --- deadlift -----------------------------------------------------------------------------------
def deadlift_set(sc: SessionScript, ctx: SetContext) -> None:
    """Conventional deadlift from the floor: set-up, dead-stop reps, stand up."""
    p, rng = sc.p, sc.rng
    _start_set(sc, ctx)
    fatigue = p.session_fatigue_deg_per_set * max(ctx.working_index - 1, 0)
    # Lighter bars are pulled with a flatter back (load effect, Shoji et al. 2025, P-y): −5° per
    # unit of 1RM below the working load (A).
    lumbar0 = float(
        np.clip(
            p.setup_flexion_deg + fatigue - 5.0 * (LIFTMOR_LOAD - ctx.plan.load),
            4.0,
            0.5 * p.max_flexion_deg,
        )
    )
    pelvis0 = p.setup_pelvis_deg + float(np.clip(rng.normal(0.0, 1.0), -1.0, 1.0)) * 2.0
    drop = deadlift_drop_m(p, pelvis0, lumbar0)
    back = p.hinge_back_m * sc.uniform(0.95, 1.05)
    t0 = sc.t
    d = max(sc.dur(DL_SETUP_DESCENT_S), lumbar_move_s(lumbar0, LUMBAR_VOLUNTARY_DPS))
    hang = -ARM_HANG * p.arm_length_m
    sc.move(t0, t0 + d, pelvis=pelvis0, lumbar=lumbar0, x=-back, z=-drop)
    sc.move(t0, t0 + d, arm_x=0.0, arm_y=DL_GRIP_HALF_M, arm_z=hang, wrist_pitch=0.0)
    sc.phase("setup", t0 + d)
    sc.phase("pause", sc.t + sc.dur(DL_SETUP_PAUSE_S))

    lumbar_start, pelvis_start = lumbar0, pelvis0
    reps = ctx.plan.reps
    for rep in range(1, reps + 1):
        first_phase = len(sc.phases)
        t_lift = sc.t
        conc = _concentric_s(sc, ctx, _deadlift_travel(p), rep)
        good_peak = lumbar_start + sc.uniform(*DL_RISE_DEG)
        lock_lumbar = sc.uniform(*DL_LOCKOUT_DEG)
        trunk0 = pelvis_start + lumbar_start
        draws: list[FaultDraw] = []
        peak, rise_cap = good_peak, LUMBAR_VOLUNTARY_DPS
        got = ctx.draw("rounded_back", good_peak, 0.95 * p.max_flexion_deg)
        if got is not None:
            draws.append(FaultDraw("rounded_back", got[0]))
            peak, rise_cap = got[1], LUMBAR_GIVING_WAY_DPS
        got = ctx.draw("hips_rise_first", trunk0, min(trunk0 + 25.0, 85.0))
        hips_first = 0.0
        if got is not None:
            draws.append(FaultDraw("hips_rise_first", got[0]))
            hips_first = got[1] - trunk0
        got = ctx.draw("lockout_hyperextension", max(0.0, -lock_lumbar), 20.0)
        if got is not None:
            draws.append(FaultDraw("lockout_hyperextension", got[0]))
            lock_lumbar = -got[1]
        frac = sc.uniform(*DL_PEAK_AT)
        rise_t = max(frac * conc, lumbar_move_s(peak - lumbar_start, rise_cap))
        fall_cap = LUMBAR_EXTENSION_DPS if lock_lumbar < -5.0 else LUMBAR_VOLUNTARY_DPS
        fall_t = lumbar_move_s(peak - lock_lumbar, fall_cap)
        conc = max(conc, rise_t + fall_t)
        t_peak, t_lock = t_lift + rise_t, t_lift + conc
        sc.move(t_lift, t_peak, lumbar=peak)
        sc.move(t_peak, t_lock, lumbar=lock_lumbar)
        lock_pelvis = sc.uniform(*DL_LOCKOUT_DEG)
        # At the flexion peak the bar has just broken from the floor. Hips and bar positions are
        # keyed there so the hanging hands never sink below the bar: a rounding back lowers the
        # shoulders, so the hips must rise more to lift the bar at all. Knees extending first
        # ("hips rise first") tips the trunk forward with the bar still on the floor.
        if hips_first > 0.0:
            pelvis_e = trunk0 + hips_first - peak
            lift = 0.0
        else:
            pelvis_e = pelvis_start + DL_EARLY_HIP_SHARE * (lock_pelvis - pelvis_start)
            lift = DL_EARLY_BAR_SHARE * _deadlift_travel(p)
        hang = -ARM_HANG * p.arm_length_m
        z_e = BAR_WRIST_HEIGHT_M + lift - wrist_height_m(p, pelvis_e, peak, 0.0, hang)
        sc.move(t_lift, t_peak, pelvis=pelvis_e, z=z_e, x=-back * (1.0 - DL_EARLY_HIP_SHARE))
        sc.move(t_peak, t_lock, pelvis=lock_pelvis, z=0.0, x=0.0)
        bend, twist = _asymmetry(sc)
        t_mid = t_lift + 0.5 * conc
        sc.move(t_lift, t_mid, bend=bend, twist=twist)
        sc.move(t_mid, t_lock, bend=0.0, twist=0.0)
        sc.phase("concentric", t_lock, rep_no=rep)
        sc.phase("lockout", t_lock + sc.dur(DL_LOCKOUT_S), rep_no=rep)
        t_lower = sc.t
        bottom_lumbar = float(
            np.clip(lumbar0 + sc.uniform(-1.0, 1.0), 4.0, 0.5 * p.max_flexion_deg)
        )
        bottom_pelvis = pelvis0 + sc.uniform(-1.0, 1.0)
        ecc = max(
            sc.dur(DL_ECCENTRIC_S), lumbar_move_s(bottom_lumbar - lock_lumbar, LUMBAR_VOLUNTARY_DPS)
        )
        z_bottom = -deadlift_drop_m(p, bottom_pelvis, bottom_lumbar)
        sc.move(
            t_lower, t_lower + ecc, pelvis=bottom_pelvis, lumbar=bottom_lumbar, x=-back, z=z_bottom
        )
        sc.phase("eccentric", t_lower + ecc, rep_no=rep)
        _fault_window(draws, t_lift, t_lower + ecc)
        _record(sc, ctx, rep, t_lift, t_lower + ecc, first_phase, draws)
        lumbar_start, pelvis_start = bottom_lumbar, bottom_pelvis
        if rep < reps:
            sc.phase("bottom", sc.t + sc.dur(DL_BOTTOM_S), rep_no=rep)
    sc.phase("final_pause", sc.t + sc.dur(DL_FINAL_PAUSE_S))
    t_stand = sc.t
    up = max(sc.dur(DL_STANDUP_S), lumbar_move_s(lumbar_start, LUMBAR_VOLUNTARY_DPS))
    sc.move(t_stand, t_stand + up, pelvis=0.0, lumbar=0.0, x=0.0, z=0.0, **sc.arms_hanging())
    sc.phase("standup", t_stand + up)


def _deadlift_travel(p: AthleteParams) -> float:
    """Vertical bar travel, floor → lockout (m): the hanging wrist's rise."""
    return wrist_height_m(p, 0.0, 0.0, 0.0, -ARM_HANG * p.arm_length_m) - BAR_WRIST_HEIGHT_M


# --- barbell in a rack (squat, press) -----------------------------------------------------------
def _unrack(sc: SessionScript, ctx: SetContext, arms: dict[str, float]) -> float:
    """Take the bar out of the rack and step back; returns the distance walked back, m."""
    t0 = sc.t
    d = sc.dur(UNRACK_S)
    sc.move(t0, t0 + 0.35 * d, **arms)
    # Step under the bar, dip, and stand up with it.
    sc.move(t0 + 0.35 * d, t0 + 0.65 * d, z=-0.10, pelvis=8.0, lumbar=3.0)
    sc.move(t0 + 0.65 * d, t0 + d, z=0.0, pelvis=0.0, lumbar=0.0)
    sc.activities.append(("unrack", t0, t0 + d))
    sc.phase("unrack", t0 + d)
    psi = sc.tracks["heading"].value
    distance = sc.uniform(*WALKOUT_M)
    sc.walk(distance, psi + math.pi, face=False, kind="walkout", pace=WALKOUT_PACE)
    sc.stand(sc.dur(BRACE_S), kind="brace")
    return distance


def _rerack(sc: SessionScript, ctx: SetContext, distance: float) -> None:
    psi = sc.tracks["heading"].value
    sc.walk(distance, psi, face=False, kind="walkin", pace=WALKOUT_PACE)
    t0 = sc.t
    d = sc.dur(UNRACK_S)
    sc.move(t0, t0 + 0.35 * d, z=-0.10, pelvis=8.0, lumbar=3.0)
    sc.move(t0 + 0.35 * d, t0 + 0.65 * d, z=0.0, pelvis=0.0, lumbar=0.0)
    sc.move(t0 + 0.65 * d, t0 + d, **sc.arms_hanging())
    sc.activities.append(("rerack", t0, t0 + d))
    sc.phase("rerack", t0 + d)


def squat_set(sc: SessionScript, ctx: SetContext) -> None:
    """High-bar back squat from a rack: unrack, walk out, reps to depth, walk in, rerack."""
    p = sc.p
    _start_set(sc, ctx)
    walked = _unrack(sc, ctx, {"arm_x": -0.05, "arm_y": 0.30, "arm_z": 0.02, "wrist_pitch": 150.0})
    lumbar_set = max(p.squat_lumbar_deg, p.squat_trunk_deg - SQ_SACRUM_MAX_DEG)
    reps = ctx.plan.reps
    for rep in range(1, reps + 1):
        first_phase = len(sc.phases)
        draws: list[FaultDraw] = []
        trunk = p.squat_trunk_deg + sc.uniform(-1.5, 1.5)
        # Rep-to-rep scatter (A), keeping the sacrum ≤ 30° forward before the wink (sheet §3).
        lumbar_n = max(lumbar_set + sc.uniform(-1.5, 1.5), trunk - SQ_SACRUM_MAX_DEG)
        wink, cap = p.butt_wink_deg, LUMBAR_VOLUNTARY_DPS
        got = ctx.draw("squat_lumbar_flexion", lumbar_n + wink, 0.9 * p.max_flexion_deg)
        if got is not None:
            draws.append(FaultDraw("squat_lumbar_flexion", got[0]))
            wink, cap = got[1] - lumbar_n, LUMBAR_GIVING_WAY_DPS
        got = ctx.draw("forward_lean", trunk, 65.0)
        if got is not None:
            draws.append(FaultDraw("forward_lean", got[0]))
            trunk = got[1]
        pelvis_b = trunk - lumbar_n
        depth = p.squat_depth_m * sc.uniform(0.97, 1.03)
        back = p.squat_back_m * (1.0 + 0.5 * (trunk - p.squat_trunk_deg) / 30.0)
        ecc = sc.dur(SQ_ECCENTRIC_S)
        t_wink = max(SQ_WINK_AT * ecc, lumbar_move_s(wink, cap))
        ecc = max(ecc, t_wink + lumbar_move_s(lumbar_n, LUMBAR_VOLUNTARY_DPS), t_wink / 0.6)
        t0 = sc.t
        sc.move(t0, t0 + ecc, x=-back, z=-depth)
        sc.move(t0, t0 + ecc - t_wink, pelvis=pelvis_b, lumbar=lumbar_n)
        sc.move(t0 + ecc - t_wink, t0 + ecc, pelvis=pelvis_b - wink, lumbar=lumbar_n + wink)
        bend, twist = _asymmetry(sc)
        sc.move(t0, t0 + ecc, bend=bend, twist=twist)
        sc.phase("eccentric", t0 + ecc, rep_no=rep)
        sc.phase("bottom", sc.t + sc.uniform(*SQ_BOTTOM_S), rep_no=rep)
        t1 = sc.t
        conc = _concentric_s(sc, ctx, depth, rep)
        t_unwink = max(SQ_WINK_AT * conc, lumbar_move_s(wink, LUMBAR_VOLUNTARY_DPS))
        conc = max(conc, t_unwink + lumbar_move_s(lumbar_n, LUMBAR_VOLUNTARY_DPS), t_unwink / 0.5)
        sc.move(t1, t1 + t_unwink, pelvis=pelvis_b, lumbar=lumbar_n)
        sc.move(t1 + t_unwink, t1 + conc, pelvis=0.0, lumbar=0.0)
        sc.move(t1, t1 + conc, x=0.0, z=0.0, bend=0.0, twist=0.0)
        sc.phase("concentric", t1 + conc, rep_no=rep)
        _fault_window(draws, t0, t1 + conc)
        _record(sc, ctx, rep, t0, t1 + conc, first_phase, draws)
        if rep < reps:
            sc.phase("lockout", sc.t + sc.dur(SQ_BETWEEN_S), rep_no=rep)
    _rerack(sc, ctx, walked)


def press_set(sc: SessionScript, ctx: SetContext) -> None:
    """Standing barbell overhead press from the front rack."""
    p = sc.p
    _start_set(sc, ctx)
    rack = {"arm_x": 0.08, "arm_y": 0.22, "arm_z": -0.03, "wrist_pitch": 180.0}
    walked = _unrack(sc, ctx, rack)
    reps = ctx.plan.reps
    for rep in range(1, reps + 1):
        first_phase = len(sc.phases)
        draws: list[FaultDraw] = []
        ext = -p.press_lumbar_deg + sc.uniform(-1.0, 1.0)
        got = ctx.draw("press_hyperextension", ext, 25.0)
        if got is not None:
            draws.append(FaultDraw("press_hyperextension", got[0]))
            ext = got[1]
        ext = max(ext, 0.0)
        travel = p.press_travel_m * sc.uniform(0.98, 1.02)
        conc = _concentric_s(sc, ctx, travel, rep)
        cap = LUMBAR_EXTENSION_DPS if ext > 5.0 else LUMBAR_VOLUNTARY_DPS
        arch_t = max(conc, lumbar_move_s(ext, cap))
        t0 = sc.t
        pelvis = p.press_pelvis_deg + sc.uniform(-1.0, 1.0)
        sc.move(t0, t0 + conc, arm_x=0.0, arm_z=rack["arm_z"] + travel)
        sc.move(t0, t0 + arch_t, lumbar=-ext, pelvis=pelvis)
        bend, twist = _asymmetry(sc)
        sc.move(t0, t0 + conc, bend=0.5 * bend, twist=0.5 * twist)
        sc.phase("concentric", t0 + conc, rep_no=rep)
        hold = max(sc.uniform(*PR_LOCKOUT_S), arch_t - conc + 0.1)
        sc.phase("lockout", sc.t + hold, rep_no=rep)
        t1 = sc.t
        ecc = max(sc.dur(PR_ECCENTRIC_S), lumbar_move_s(ext, LUMBAR_VOLUNTARY_DPS))
        sc.move(t1, t1 + ecc, arm_x=rack["arm_x"], arm_z=rack["arm_z"])
        sc.move(t1, t1 + ecc, lumbar=0.0, pelvis=0.0, bend=0.0, twist=0.0)
        sc.phase("eccentric", t1 + ecc, rep_no=rep)
        _fault_window(draws, t0, t1 + ecc)
        _record(sc, ctx, rep, t0, t1 + ecc, first_phase, draws)
        if rep < reps:
            sc.phase("bottom", sc.t + sc.dur(PR_RACK_S), rep_no=rep)
    _rerack(sc, ctx, walked)


# --- jumping chin-up with drop landing ------------------------------------------------------------
def landing_peaks_g(drop_m: float, release_s: float) -> tuple[float, float]:
    """(soft, stiff) sacral rigid peak specific force (g) for a drop, before athlete offsets."""
    v = math.sqrt(2.0 * _G * max(drop_m - _G * release_s**2 / 7.0, 1e-3)) + 0.0
    soft = SOFT_PEAK_G[0] + SOFT_PEAK_G[1] * v
    lo, hi = STIFF_PEAK_G
    stiff = lo + (hi - lo) * (v - math.sqrt(2 * _G * 0.1)) / (
        math.sqrt(2 * _G * 0.4) - math.sqrt(2 * _G * 0.1)
    )
    return soft, float(np.clip(stiff, lo, hi))


def chinup_set(sc: SessionScript, ctx: SetContext) -> None:
    """Jumping chin-ups: dip, jump to the bar, pull, lower, hang, let go, land, stand up."""
    p, rng = sc.p, sc.rng
    _start_set(sc, ctx)
    L = p.arm_length_m
    h = p.drop_height_m
    reach = 0.95 * L  # hanging: the wrist this far above the shoulder
    reps = ctx.plan.reps
    for rep in range(1, reps + 1):
        first_phase = len(sc.phases)
        draws: list[FaultDraw] = []
        release = sc.uniform(*CH_RELEASE_S)
        soft, stiff = landing_peaks_g(h, release)
        soft = float(
            np.clip(
                soft + p.landing_offset_g + rng.normal(0.0, LANDING_SCATTER_G), *SOFT_PEAK_LIMITS_G
            )
        )
        stiff = max(stiff, soft)
        peak_g, s_stiff = soft, 0.0
        got = ctx.draw("stiff_landing", soft, stiff)
        if got is not None:
            s_stiff, peak_g = got
            draws.append(FaultDraw("stiff_landing", s_stiff))
        tp = p.landing_peak_time_s + s_stiff * (STIFF_PEAK_TIME_S - p.landing_peak_time_s)
        absorb = p.landing_absorb_s + s_stiff * (STIFF_ABSORB_S - p.landing_absorb_s)
        absorb = max(absorb, 2.5 * tp)
        # Stiff landings flex the trunk and spine less (sheet §5: stiff +5–15° / 0–8°).
        # Rep-to-rep scatter inside the sheet's soft-landing +5–20° (§5); stiff ones flex less.
        soft_lumbar = min(max(p.landing_lumbar_deg + sc.uniform(-1.5, 1.5), 5.0), 20.0)
        good_lumbar = soft_lumbar * (1.0 - 0.5 * s_stiff)
        lumbar_l, lumbar_cap = good_lumbar, LUMBAR_GIVING_WAY_DPS
        got = ctx.draw("flexed_landing", good_lumbar, 0.85 * p.max_flexion_deg)
        if got is not None:
            draws.append(FaultDraw("flexed_landing", got[0]))
            lumbar_l = got[1]
        trunk_l = max(p.landing_trunk_deg * (1.0 - 0.5 * s_stiff), lumbar_l + 5.0)

        # Dip and jump to the bar.
        t0 = sc.t
        dip = sc.dur(CH_DIP_S)
        dip_z = -sc.uniform(0.12, 0.20)
        sc.move(
            t0,
            t0 + dip,
            z=dip_z,
            pelvis=sc.uniform(15.0, 25.0),
            lumbar=sc.uniform(3.0, 8.0),
            x=-0.05,
        )
        sc.move(t0, t0 + dip, arm_x=-0.15, arm_z=-ARM_HANG * L, wrist_pitch=-15.0)
        sc.phase("dip", t0 + dip, rep_no=rep)
        rise = h - dip_z
        # A minimum-jerk rise decelerates at 5.77 Δ/T² at the top; keep it under 0.9 g.
        jump = max(sc.dur(CH_JUMP_S), math.sqrt(5.7735 * rise / CH_MAX_DECEL))
        t1 = sc.t
        sc.move(t1, t1 + jump, z=h, pelvis=0.0, lumbar=0.0, x=0.0)
        sc.move(t1, t1 + 0.5 * jump, arm_x=0.6 * L, arm_z=0.0, wrist_pitch=90.0, arm_y=0.22)
        sc.move(t1 + 0.5 * jump, t1 + jump, arm_x=0.0, arm_z=reach, wrist_pitch=180.0)
        sc.phase("jump", t1 + jump, rep_no=rep)
        sc.phase("hang", sc.t + sc.dur(CH_GRAB_S), rep_no=rep)
        # Pull: the body rises, the wrist stays on the bar (arm offset shrinks by the same).
        pull = reach - CH_HAND_ABOVE_SHOULDER_TOP_M
        t2 = sc.t
        d = sc.dur(CH_PULL_S)
        sc.move(
            t2,
            t2 + d,
            z=h + pull,
            arm_z=reach - pull,
            pelvis=sc.uniform(-3.0, 5.0),
            lumbar=sc.uniform(-3.0, 3.0),
        )
        sc.phase("concentric", t2 + d, rep_no=rep)
        sc.phase("top", sc.t + sc.dur(CH_TOP_S), rep_no=rep)
        t3 = sc.t
        d = sc.dur(CH_LOWER_S)
        sc.move(t3, t3 + d, z=h, arm_z=reach, pelvis=0.0, lumbar=0.0)
        sc.phase("eccentric", t3 + d, rep_no=rep)
        sc.phase("hang", sc.t + sc.dur(CH_HANG_S), rep_no=rep)

        # Let go: the landing is the vertical impact track; every channel rests until touchdown.
        t_rel = sc.t
        sc.hold_all(t_rel)
        prof_s = solve_landing(
            h,
            peak_g * _G,
            tp,
            absorb,
            release_s=release,
            slow_fraction=sc.uniform(0.35, 0.5),
        )
        prof_u = delayed_landing(prof_s, sc.uniform(*T12_DELAY_S))
        sc.landings.append((t_rel, prof_s, prof_u))
        sc.landing_reps.append((ctx.set_no, rep))
        t_td = t_rel + prof_s.touchdown_s
        sc.phase("release", t_rel + release, rep_no=rep)
        sc.phase("flight", t_td, rep_no=rep)
        sc.phase("landing", t_td + prof_s.impact_s, rep_no=rep)
        # The script's heights are from standing; the impact track carries the fall and sink.
        sc.z_offset += prof_s.net_m
        t_flex = max(0.6 * absorb, lumbar_move_s(lumbar_l, lumbar_cap))
        sc.move(t_td, t_td + t_flex, lumbar=lumbar_l, pelvis=trunk_l - lumbar_l, x=-0.08)
        sc.move(t_td, t_td + 0.35, arm_x=0.3 * L, arm_z=-0.5 * L, wrist_pitch=45.0)
        sc.phase("absorption", t_td + absorb, rep_no=rep)
        # Stand up from wherever the landing left the pelvis.
        t_up = max(sc.t, t_td + t_flex) + 0.1
        up = max(sc.dur(CH_RECOVER_S), lumbar_move_s(lumbar_l, LUMBAR_VOLUNTARY_DPS))
        sc.move(t_up, t_up + up, lumbar=0.0, pelvis=0.0, x=0.0, z=0.0, **sc.arms_hanging())
        sc.phase("recover", t_up + up, rep_no=rep)
        for dr in draws:
            dr.t0, dr.t1 = t_td, t_up + up
        _record(sc, ctx, rep, t0, t_up + up, first_phase, draws)
        if rep < reps:
            sc.phase("reset", sc.t + sc.dur(CH_RESET_S), rep_no=rep)


SET_WRITERS = {
    "deadlift": deadlift_set,
    "squat": squat_set,
    "press": press_set,
    "jumping_chinup": chinup_set,
}
