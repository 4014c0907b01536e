"""Whole LIFTMOR sessions: calibration, every exercise's sets, rests and everything in between.

:func:`build_session_athlete` simulates one athlete through a
:class:`~liftguard.sim.program.Program` (the LIFTMOR session by default) with sensors of the
chosen families; :func:`build_group_session` simulates several athletes who calibrate together
and then each go at their own pace.

Random streams (``numpy.random.default_rng``; ``day`` is the session's day, 0 by default):
``[seed, 1]`` the athlete (shared with the deadlift demo, so seed s is the same person),
``[seed, 10, day]`` day-to-day shifts (day ≠ 0 only), ``[seed, 20, day]`` the script,
``[seed, 21, day]`` the faults, ``[seed, 22, day]`` the gym layout,
``[seed, 30 + i, day]`` sensor ``ALL_PLACEMENTS[i]``'s errors, ``[seed, 35, day]`` the
soft-tissue bursts, ``[seed, 38 + i, day]`` sensor i's slips. Sets are drawn one after another
and a set is kept only if it fits ``duration``, so a longer session starts with exactly the sets
of a shorter one.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from liftguard.errors import ConfigError
from liftguard.sim._physics import GRAVITY
from liftguard.sim.athlete import AthleteParams
from liftguard.sim.body import ALL_PLACEMENTS, BodyMotion
from liftguard.sim.exercises import SET_WRITERS, FaultDraw, SetContext
from liftguard.sim.faults import FAULT_KINDS, FaultLabel, FaultSpec, check_faults
from liftguard.sim.imu import SENSOR_FAMILIES, SimulatedImu, Slip, SoftTissueBurst
from liftguard.sim.landing import LandingProfile
from liftguard.sim.program import Program, SetPlan
from liftguard.sim.script import RepRecord, SessionScript, Station
from liftguard.sim.session import (
    TRUTH_GRID_S,
    SimulatedAthlete,
    TruthActivity,
    TruthLanding,
    TruthRep,
    TruthSet,
    TruthSlip,
    rep_truth,
)

__all__ = ["DEFAULT_FAMILIES", "build_group_session", "build_session_athlete"]

FloatArray = npt.NDArray[np.float64]

#: Two MetaMotions, as the demo wears them.
DEFAULT_FAMILIES: dict[str, str] = {"upper": "metawear", "sacrum": "metawear"}
END_MARGIN_S = 4.0  # the last movement ends at least this long before the session does
CALIBRATE_AT_S = (1.0, 1.5)
FIRST_SET_WAIT_S = (5.0, 20.0)  # at the first station before the first set (A)
# Gym layout around the athlete's rest spot (0, 0): station (x, y) m and the heading to face it.
STATIONS: dict[str, tuple[float, float, float]] = {
    "deadlift": (2.5, 0.0, 0.0),
    "squat": (0.0, 3.0, 0.5 * math.pi),
    "press": (0.0, 3.0, 0.5 * math.pi),
    "jumping_chinup": (-2.5, 1.5, math.pi),
}
STATION_JITTER_M = 0.3
# Rest behaviour (A, sheet §7 "walking 2–10 steps, standing, sitting, re-racking or adjusting
# plates"): probabilities per rest.
P_WALK_AWAY = 0.6
P_SIT = 0.45
P_PICK_UP = 0.25
P_ADJUST_PLATES = 0.35
P_TURN_AWAY = 0.6
AWAY_STEPS = (2, 10)
# Soft-tissue wobble after a landing (sheet §6 STA model, A): natural frequency, damping ratio,
# initial amplitude (sacrum 0.5–2 g per the sheet; T12 0.2–0.5 × the sacrum's in the same
# landing, A: the upper-lumbar skin moves about a third as much as the lower lumbar's in
# flexion, 4.0 vs 13.5 mm, Xi et al. 2022, P-y — this is what makes the T12 sensor's peak
# 0.6–0.9 × the sacral one, sheet §5), and the sensor's rocking rate (A, bracketed by the
# ≤ 2.48 rad/s differences of a displaced pelvis IMU, Kiernan et al. 2024, P-y).
STA_FREQUENCY_HZ = (12.0, 25.0)
STA_DAMPING = (0.2, 0.5)
STA_SACRUM_G = (0.5, 2.0)
STA_UPPER_SHARE = (0.2, 0.5)
STA_RATE_RAD_S = {"sacrum": (0.5, 2.5), "upper": (0.2, 1.0)}
# A slip re-seats a sensor by a few degrees (brief; no published number) over 30–100 ms (A).
SLIP_DEG = (2.0, 8.0)
SLIP_S = (0.03, 0.10)


def _check(
    seed: int,
    duration: float | None,
    families: Mapping[str, str],
    day: int,
    unsafe_threshold_deg: float,
    slip_probability: float,
    mountings: Mapping[str, npt.ArrayLike] | None,
    slips: Mapping[str, Sequence[float]] | None,
) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise ConfigError(f"duration must be a positive number of seconds, got {duration!r}")
    if isinstance(day, bool) or not isinstance(day, int | np.integer) or day < 0:
        raise ConfigError(f"day must be a non-negative integer, got {day!r}")
    if not math.isfinite(unsafe_threshold_deg):
        raise ConfigError(f"unsafe_threshold_deg must be finite, got {unsafe_threshold_deg!r}")
    if not 0.0 <= slip_probability <= 1.0:
        raise ConfigError(f"slip_probability must be in [0, 1], got {slip_probability!r}")
    for needed in ("upper", "sacrum"):
        if needed not in families:
            raise ConfigError(f"families needs an {needed!r} sensor")
    for placement, family in families.items():
        if placement not in ALL_PLACEMENTS:
            raise ConfigError(f"unknown placement {placement!r}; expected one of {ALL_PLACEMENTS}")
        if family not in SENSOR_FAMILIES:
            raise ConfigError(
                f"unknown sensor family {family!r}; expected one of {sorted(SENSOR_FAMILIES)}"
            )
    for what, given in (("mountings", mountings), ("slips", slips)):
        unknown = set(given or {}) - set(families)
        if unknown:
            raise ConfigError(f"{what} for placements without a sensor: {sorted(unknown)}")


def _stations(rng: np.random.Generator) -> dict[str, Station]:
    out = {}
    for name, (x, y, facing) in STATIONS.items():
        jx, jy = rng.uniform(-STATION_JITTER_M, STATION_JITTER_M, size=2)
        out[name] = Station(x + float(jx), y + float(jy), facing)
    # Squat and press share the rack.
    out["press"] = out["squat"]
    return out


def _fill_rest(sc: SessionScript, t_input: float, station: Station, barbell: bool) -> None:
    """Rest until ``t_input`` (s) and be at ``station``, facing it, when it comes."""
    rng = sc.rng
    margin = 1.0

    def left() -> float:
        return t_input - sc.t

    if left() > 3.0:
        sc.stand(min(sc.uniform(2.0, 6.0), left() - 1.0), kind="rest")
    plates = barbell and rng.uniform() < P_ADJUST_PLATES
    reserve = (sc.adjust_plates_s() if plates else 0.0) + margin
    if rng.uniform() < P_WALK_AWAY:
        steps = int(rng.integers(AWAY_STEPS[0], AWAY_STEPS[1] + 1))
        distance = steps * sc.p.step_m
        direction = float(rng.uniform(0.0, 2.0 * math.pi))
        trip = 2.0 * (sc.walk_s(distance) + 2.0 * sc.turn_s(math.pi))
        if left() > trip + reserve + 5.0:
            sc.walk(distance, direction)
            back = sc.go_to_s(station)
            if rng.uniform() < P_SIT and left() > back + reserve + 30.0:
                sc.sit((left() - back - reserve) * sc.uniform(0.5, 0.9))
            if rng.uniform() < P_PICK_UP and left() > back + reserve + sc.pick_up_s() + 2.0:
                sc.pick_up()
            stay = left() - back - reserve - sc.uniform(0.0, 3.0)
            if stay > 0.5:
                sc.stand(stay, kind="rest")
    elif rng.uniform() < P_TURN_AWAY and left() > 2 * sc.turn_s(math.pi) + reserve + 4.0:
        turn = math.radians(float(rng.uniform(30.0, 180.0))) * float(rng.choice([-1.0, 1.0]))
        sc.turn_to(sc.tracks["heading"].value + turn)
        stay = left() - sc.turn_s(math.pi) - reserve - 2.0
        if stay > 0.5:
            sc.stand(stay, kind="rest")
    if rng.uniform() < P_PICK_UP and left() > sc.go_to_s(station) + sc.pick_up_s() + reserve:
        sc.pick_up()
    sc.go_to(station)
    if plates and left() > sc.adjust_plates_s() + margin:
        sc.adjust_plates()
    if left() > 0:
        sc.stand(left(), kind="rest")


def _before_set(
    sc: SessionScript,
    program: Program,
    index: int,
    stations: dict[str, Station],
) -> None:
    plan = program.sets[index]
    station = stations[plan.exercise]
    barbell = plan.exercise != "jumping_chinup"
    if index == 0:
        sc.go_to(station)
        sc.stand(sc.uniform(*FIRST_SET_WAIT_S), kind="rest")
        return
    prev = program.sets[index - 1]
    if prev.exercise != plan.exercise:
        t_input = sc.t + program.transition(sc.rng)
        sc.go_to(station)
        _fill_rest(sc, max(t_input, sc.t + 2.0), station, barbell)
    else:
        _fill_rest(sc, sc.t + program.rest_s(prev, sc.rng), station, barbell)


def _measure_faults(
    body: BodyMotion, draws: list[FaultDraw], landing_peak_g: float | None
) -> tuple[FaultLabel, ...]:
    labels = []
    for d in draws:
        kind = FAULT_KINDS[d.name]
        n = int(np.floor((d.t1 - d.t0) / TRUTH_GRID_S)) + 1
        grid = d.t0 + TRUTH_GRID_S * np.arange(n)
        if kind.quantity == "lumbar_flexion":
            peak = float(np.degrees(body.lumbar_flexion(grid)).max())
        elif kind.quantity == "lumbar_extension":
            peak = float(-np.degrees(body.lumbar_flexion(grid)).min())
        elif kind.quantity == "trunk_inclination":
            peak = float(np.degrees(body.inclination("upper", grid)).max())
        else:
            peak = float(landing_peak_g) if landing_peak_g is not None else math.nan
        labels.append(FaultLabel(d.name, float(d.severity), peak, kind.quantity, kind.unit))
    return tuple(labels)


def _bursts(sc: SessionScript, rng: np.random.Generator) -> dict[str, list[SoftTissueBurst]]:
    """Soft-tissue wobble of the sacrum and T12 sensors after every landing."""
    out: dict[str, list[SoftTissueBurst]] = {"sacrum": [], "upper": []}
    for t_rel, prof_s, prof_u in sc.landings:
        sacrum_g = float(rng.uniform(*STA_SACRUM_G))
        amplitude = {"sacrum": sacrum_g, "upper": sacrum_g * float(rng.uniform(*STA_UPPER_SHARE))}
        for placement, prof in (("sacrum", prof_s), ("upper", prof_u)):
            axis = rng.standard_normal(3)
            out[placement].append(
                SoftTissueBurst(
                    t=t_rel + prof.touchdown_s + prof.time_to_peak_s,
                    amplitude=amplitude[placement] * GRAVITY,
                    frequency_hz=float(rng.uniform(*STA_FREQUENCY_HZ)),
                    damping=float(rng.uniform(*STA_DAMPING)),
                    angular_rate=float(rng.uniform(*STA_RATE_RAD_S[placement])),
                    axis=(float(axis[0]), float(axis[1]), float(axis[2])),
                )
            )
    return out


def _slips(times: Sequence[float], rng: np.random.Generator) -> list[Slip]:
    out = []
    for t in sorted(times):
        axis = rng.standard_normal(3)
        axis /= np.linalg.norm(axis)
        angle = math.radians(float(rng.uniform(*SLIP_DEG)))
        rotvec = (float(axis[0] * angle), float(axis[1] * angle), float(axis[2] * angle))
        out.append(Slip(float(t), float(rng.uniform(*SLIP_S)), rotvec))
    return out


def _as_program(program: Program | Iterable[tuple[str, int, int]] | None) -> Program:
    if program is None:
        return Program.liftmor()
    if isinstance(program, Program):
        return program
    return Program.from_list(program)


def build_session_athlete(
    name: str,
    seed: int,
    *,
    program: Program | Iterable[tuple[str, int, int]] | None = None,
    duration: float | None = None,
    families: Mapping[str, str] | None = None,
    day: int = 0,
    faults: Mapping[str, FaultSpec] | None = None,
    unsafe_threshold_deg: float = 30.0,
    noise: bool = True,
    saturate: bool = True,
    slips: Mapping[str, Sequence[float]] | None = None,
    slip_probability: float = 0.0,
    calibrate_at: float | None = None,
    mountings: Mapping[str, npt.ArrayLike] | None = None,
    params: AthleteParams | None = None,
) -> SimulatedAthlete:
    """One athlete's whole session: calibration, then the program's sets with rests between.

    Args:
        seed: non-negative int; everything follows from it (and ``day``).
        program: a :class:`Program`, or ``(exercise, sets, reps)`` triples; default LIFTMOR.
        duration: session length, s. ``None``: the whole program plus 4 s. Otherwise the sets
            that fit (each complete, the last ending ≥ 4 s before the end).
        families: ``{placement: family}`` for ``upper``, ``sacrum`` and optionally ``wrist``;
            families are :data:`~liftguard.sim.imu.SENSOR_FAMILIES` keys.
        day: which day (0 = the athlete's reference day; others shift posture, mobility and pace
            slightly and re-stick the sensors).
        faults: fault specs merged over :data:`~liftguard.sim.faults.DEFAULT_FAULTS`.
        unsafe_threshold_deg: flexion (°) that makes a rep unsafe when held ≥ 0.1 s.
        noise: False gives exact signals (no bias, scale error, drift, jitter or noise).
        saturate: sensors clip at their family's range.
        slips: ``{placement: [t, …]}`` explicit slip times (s); ``slip_probability``: chance per
            sensor of one slip at a random time after the first set starts.
        calibrate_at: when the supervisor asks for calibration, s (group sessions share it).
        mountings: ``{placement: (4,) sensor-to-segment}``; others uniform random.
        params: the athlete (otherwise drawn from the seed), before the ``day`` shift.

    Raises :class:`~liftguard.errors.ConfigError` for invalid values or a ``duration`` too short
    for the calibration.
    """
    fams = dict(DEFAULT_FAMILIES if families is None else families)
    _check(seed, duration, fams, day, unsafe_threshold_deg, slip_probability, mountings, slips)
    plan = _as_program(program)
    specs = check_faults(faults or {})
    seed, day = int(seed), int(day)
    athlete = (
        params if params is not None else AthleteParams.sample(np.random.default_rng([seed, 1]))
    )
    if day:
        athlete = athlete.on_day(np.random.default_rng([seed, 10, day]))

    sc = SessionScript(athlete, np.random.default_rng([seed, 20, day]))
    fault_rng = np.random.default_rng([seed, 21, day])
    stations = _stations(np.random.default_rng([seed, 22, day]))
    t_cal = float(sc.rng.uniform(*CALIBRATE_AT_S)) if calibrate_at is None else float(calibrate_at)
    if not t_cal >= 0.0:
        raise ConfigError(f"calibrate_at must be >= 0, got {calibrate_at!r}")
    sc.calibration(t_cal)
    if duration is not None and sc.motion_end + END_MARGIN_S > duration:
        raise ConfigError(
            f"duration {duration:g} s is too short: the calibration alone needs "
            f"{sc.motion_end + END_MARGIN_S:.1f} s"
        )
    numbers = plan.set_numbers()
    working: dict[str, int] = {}
    draws: dict[tuple[str, int, int], list[FaultDraw]] = {}
    done: list[tuple[SetPlan, int, float, float]] = []
    for i, set_plan in enumerate(plan.sets):
        trial = copy.deepcopy((sc, fault_rng, draws, working)) if duration is not None else None
        _before_set(sc, plan, i, stations)
        if not set_plan.warmup:
            working[set_plan.exercise] = working.get(set_plan.exercise, 0) + 1
        ctx = SetContext(
            set_plan,
            numbers[i],
            0 if set_plan.warmup else working[set_plan.exercise],
            specs,
            fault_rng,
        )
        t_input = sc.t
        SET_WRITERS[set_plan.exercise](sc, ctx)
        sc.current = (0, "")
        if duration is not None and sc.motion_end + END_MARGIN_S > duration:
            assert trial is not None
            sc, fault_rng, draws, working = trial
            break
        for (s_no, r_no), d in ctx.draws.items():
            draws[(set_plan.exercise, s_no, r_no)] = d
        done.append((set_plan, numbers[i], t_input, sc.t))
    end = duration if duration is not None else sc.motion_end + END_MARGIN_S
    sc.phase("stand", max(end, sc.t))
    body = sc.body(athlete, arms="wrist" in fams)

    first_input = next((i.t for i in sc.inputs if i.kind == "set"), sc.motion_end)
    bursts = _bursts(sc, np.random.default_rng([seed, 35, day]))
    sensors: dict[str, SimulatedImu] = {}
    slip_truth: list[TruthSlip] = []
    for k, placement in enumerate(ALL_PLACEMENTS):
        if placement not in fams:
            continue
        slip_rng = np.random.default_rng([seed, 38 + k, day])
        times = list((slips or {}).get(placement, ()))
        if slip_probability > 0.0 and slip_rng.uniform() < slip_probability:
            times.append(float(slip_rng.uniform(first_input, max(first_input, sc.motion_end))))
        sensor_slips = _slips(times, slip_rng)
        slip_truth += [
            TruthSlip(placement, s.t, s.t + s.duration_s, s.angle_deg) for s in sensor_slips
        ]
        sensors[placement] = SimulatedImu.for_family(
            body,
            placement,
            fams[placement],
            np.random.default_rng([seed, 30 + k, day]),
            noise=noise,
            mounting=None if mountings is None else mountings.get(placement),
            slips=sensor_slips,
            bursts=bursts.get(placement, []),
            saturate=saturate,
        )

    landing_of = {sr: sc.landings[i] for i, sr in enumerate(sc.landing_reps)}
    reps = [_rep(body, r, draws, landing_of, unsafe_threshold_deg, sc) for r in sc.reps]
    return SimulatedAthlete(
        name=name,
        params=athlete,
        sensors=sensors,
        inputs=sc.inputs,
        reps=reps,
        end_time=sc.motion_end,
        duration=float(end),
        unsafe_threshold_deg=float(unsafe_threshold_deg),
        phases=sc.phases,
        body=body,
        sets=[TruthSet(p.exercise, n, p.reps, p.load, p.warmup, t0, t1) for p, n, t0, t1 in done],
        activities=[_activity(body, k, t0, t1) for k, t0, t1 in sc.activities],
        landings=_landings(sc, sensors),
        slips=slip_truth,
        day=day,
        program=plan,
    )


def _rep(
    body: BodyMotion,
    r: RepRecord,
    draws: dict[tuple[str, int, int], list[FaultDraw]],
    landing_of: Mapping[tuple[int, int], tuple[float, LandingProfile, LandingProfile]],
    threshold: float,
    sc: SessionScript,
) -> TruthRep:
    peak_g = None
    if r.exercise == "jumping_chinup" and (r.set, r.rep) in landing_of:
        peak_g = landing_of[(r.set, r.rep)][1].peak / GRAVITY
    labels = _measure_faults(body, draws.get((r.exercise, r.set, r.rep), []), peak_g)
    rounded = any(f.quantity == "lumbar_flexion" for f in labels)
    return rep_truth(
        body,
        r.set,
        r.rep,
        r.t_start,
        r.t_end,
        rounded,
        threshold,
        exercise=r.exercise,
        faults=labels,
        phases=tuple(sc.phases[r.first_phase : r.last_phase]),
        warmup=r.warmup,
        load=r.load,
    )


def _activity(body: BodyMotion, kind: str, t0: float, t1: float) -> TruthActivity:
    n = int(np.floor((t1 - t0) / TRUTH_GRID_S)) + 1
    grid = t0 + TRUTH_GRID_S * np.arange(n)
    return TruthActivity(kind, t0, t1, float(np.degrees(body.lumbar_flexion(grid)).max()))


def _landings(sc: SessionScript, sensors: dict[str, SimulatedImu]) -> list[TruthLanding]:
    out = []
    for (t_rel, ps, pu), (set_no, rep_no) in zip(sc.landings, sc.landing_reps, strict=True):
        t_td = t_rel + ps.touchdown_s
        grid = t_td - 0.02 + 1e-3 * np.arange(400)
        peaks = {}
        for placement in ("sacrum", "upper"):
            acc, _ = sensors[placement].ideal(grid)
            peaks[placement] = float(np.linalg.norm(acc, axis=1).max()) / GRAVITY
        out.append(
            TruthLanding(
                set=set_no,
                rep=rep_no,
                t_release=t_rel,
                t_touchdown=t_td,
                drop_m=ps.drop_m,
                free_fall_s=ps.free_fall_s,
                peak_sacrum_g=ps.peak / GRAVITY,
                t_peak_sacrum=t_td + ps.time_to_peak_s,
                peak_upper_g=pu.peak / GRAVITY,
                t_peak_upper=t_td + pu.time_to_peak_s,
                absorb_s=ps.absorb_s,
                depth_m=ps.depth_m,
                compression_m=pu.compression_m,
                sensor_peak_g=peaks,
            )
        )
    return out


def build_group_session(
    names: Sequence[str],
    seed: int,
    **kwargs: object,
) -> list[SimulatedAthlete]:
    """Several athletes in one session: one calibration for all (as the supervisor runs it),
    then each at their own pace. Athlete ``i`` uses seed ``seed × 1000 + i`` (like the demo);
    ``kwargs`` go to :func:`build_session_athlete`. Without a ``duration`` the session lasts
    until the slowest athlete is done, for everyone.
    """
    if not names or len(set(names)) != len(names):
        raise ConfigError("a group needs at least one athlete and distinct names")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    t_cal = float(np.random.default_rng([seed, 40]).uniform(*CALIBRATE_AT_S))
    kwargs.pop("calibrate_at", None)

    def build(duration: object) -> list[SimulatedAthlete]:
        kw = dict(kwargs, duration=duration)
        return [
            build_session_athlete(n, seed * 1000 + i, calibrate_at=t_cal, **kw)  # type: ignore[arg-type]
            for i, n in enumerate(names)
        ]

    athletes = build(kwargs.get("duration"))
    if kwargs.get("duration") is None:
        longest = max(a.duration for a in athletes)
        athletes = build(longest)
    return athletes
