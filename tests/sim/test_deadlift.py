"""The deadlift script's ground truth is plausible and matches what the brief documents."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from liftguard.errors import ConfigError
from liftguard.sim import SimulatedAthlete, TruthPhase, build_deadlift_athlete
from liftguard.sim.session import longest_run_s

SEEDS = range(10)
REPS = 5
THRESHOLD = 30.0


@cache
def _athlete(seed: int, duration: float = 180.0) -> SimulatedAthlete:
    return build_deadlift_athlete(f"a{seed}", seed, duration=duration)


def _phases(a: SimulatedAthlete, kind: str) -> list[TruthPhase]:
    return [p for p in a.phases if p.kind == kind]


def _sets(a: SimulatedAthlete) -> int:
    return sum(i.kind == "set" for i in a.inputs)


@pytest.mark.parametrize("seed", SEEDS)
def test_rep_count_is_sets_times_reps_and_numbering_is_complete(seed: int) -> None:
    a = _athlete(seed)
    n_sets = _sets(a)
    assert n_sets >= 3  # 180 s holds at least three sets with 8–15 s rests
    assert len(a.reps) == n_sets * REPS
    assert [(r.set, r.rep) for r in a.reps] == [
        (s, r) for s in range(1, n_sets + 1) for r in range(1, REPS + 1)
    ]
    set_inputs = [i for i in a.inputs if i.kind == "set"]
    assert [i.set for i in set_inputs] == list(range(1, n_sets + 1))
    assert all(i.target_reps == REPS and i.exercise == "deadlift" for i in set_inputs)


@pytest.mark.parametrize("seed", SEEDS)
def test_inputs_reps_and_phases_are_time_ordered_and_inside_the_session(seed: int) -> None:
    a = _athlete(seed)
    times = [i.t for i in a.inputs]
    assert times == sorted(times)
    assert a.inputs[0].kind == "calibrate"
    starts = [r.t_start for r in a.reps]
    assert starts == sorted(starts)
    assert all(r.t_start < r.t_end for r in a.reps)
    assert all(a.reps[k].t_end < a.reps[k + 1].t_start for k in range(len(a.reps) - 1))
    for before, after in zip(a.phases, a.phases[1:], strict=False):
        assert before.t_end <= after.t_start + 1e-9 or after.kind == "turn" or before.kind == "rest"
    assert a.phases[-1].t_end == a.duration


@pytest.mark.parametrize("duration", [60.0, 180.0])
def test_sets_are_complete_and_end_at_least_4_s_before_the_session(duration: float) -> None:
    for seed in SEEDS:
        a = _athlete(seed, duration)
        assert a.end_time + 4.0 <= duration
        standups = _phases(a, "standup")
        assert len(standups) == _sets(a)
        assert a.end_time == standups[-1].t_end
        # After the last stand-up the athlete just stands.
        t = np.arange(a.end_time, duration, 0.01)
        assert np.abs(a.lumbar_flexion_deg(t)).max() < 1e-9
        assert np.abs(a.segment_inclination_deg("sacrum", t)).max() < 0.5


def test_as_many_sets_as_fit_and_a_longer_session_extends_a_shorter_one() -> None:
    long = _athlete(2, 180.0)
    for k, standup in enumerate(_phases(long, "standup")[:-1], start=1):
        fits = build_deadlift_athlete("x", 2, duration=standup.t_end + 4.0)
        assert _sets(fits) == k
        assert fits.reps == long.reps[: k * REPS]
        short = build_deadlift_athlete("x", 2, duration=standup.t_end + 3.99)
        assert _sets(short) == k - 1
    short = _athlete(2, 60.0)
    t = np.arange(0.0, short.end_time, 0.01)  # afterwards the long session's rest begins
    np.testing.assert_allclose(
        short.sensors["upper"].imu(t)[0], long.sensors["upper"].imu(t)[0], atol=1e-12
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_every_rounded_rep_is_unsafe_and_no_good_rep_is(seed: int) -> None:
    a = _athlete(seed)
    assert a.unsafe_threshold_deg == THRESHOLD
    for r in a.reps:
        assert r.unsafe == r.rounded, r
    for s in range(1, _sets(a) + 1):
        rounded = sum(r.rounded for r in a.reps if r.set == s)
        assert 1 <= rounded <= REPS


@pytest.mark.parametrize("seed", SEEDS)
def test_peak_flexion_keeps_a_6_degree_margin_from_the_default_threshold(seed: int) -> None:
    a = _athlete(seed)
    for r in a.reps:
        if r.rounded:
            assert 36.0 <= r.peak_flexion_deg <= min(48.0, a.params.max_flexion_deg - 2.0)
        else:
            assert r.peak_flexion_deg <= 24.0
        # The truth peak is the true flexion's maximum over the rep.
        grid = np.linspace(r.t_start, r.t_end, 4001)
        assert a.lumbar_flexion_deg(grid).max() <= r.peak_flexion_deg + 1e-9
        assert a.lumbar_flexion_deg(grid).max() >= r.peak_flexion_deg - 1e-3


@pytest.mark.parametrize("seed", SEEDS)
def test_rounding_happens_as_the_bar_breaks_from_the_floor(seed: int) -> None:
    a = _athlete(seed)
    concentric = {(p.set, p.rep): p for p in _phases(a, "concentric")}
    for r in a.reps:
        phase = concentric[(r.set, r.rep)]
        assert phase.t_start == r.t_start
        t = np.linspace(phase.t_start, phase.t_end, 2001)
        flex = a.lumbar_flexion_deg(t)
        frac = (t[np.argmax(flex)] - phase.t_start) / (phase.t_end - phase.t_start)
        if r.rounded:
            # A rounding back gives way at ≤ 100 °/s, so a large rounding peaks a little later.
            assert 0.29 <= frac <= 0.55
        elif flex.max() - flex[0] > 0.5:
            assert 0.29 <= frac <= 0.41
        assert abs(flex[-1]) <= 2.0 + 1e-9  # lockout ≈ neutral
        assert abs(a.segment_inclination_deg("sacrum", t[-1:])[0]) <= 2.5  # + sway


@pytest.mark.parametrize("seed", SEEDS)
def test_lumbar_speed_stays_plausible(seed: int) -> None:
    a = _athlete(seed)
    t = np.arange(0.0, a.duration, 1e-3)
    rate = np.degrees(np.abs(a.body.lumbar.evaluate(t, 1)))
    # Maximal voluntary bending at 51–75 y reaches 83 °/s (Consmüller et al. 2012); a back
    # rounding under the bar may give way faster, up to the documented 100 °/s.
    in_rounded = np.zeros(t.size, dtype=bool)
    for r in a.reps:
        if r.rounded:
            in_rounded |= (t >= r.t_start) & (t <= r.t_end)
    assert rate.max() <= 100.0 + 1e-6
    assert rate[~in_rounded].max() <= 83.0 + 1e-6
    assert all(
        r.faults[0].name == "rounded_back" and 0 < r.faults[0].severity <= 1
        for r in a.reps
        if r.rounded
    )
    assert all(r.faults == () and r.exercise == "deadlift" for r in a.reps if not r.rounded)


@pytest.mark.parametrize("seed", SEEDS)
def test_setup_posture_range_of_motion_and_fatigue_are_in_documented_ranges(seed: int) -> None:
    a = _athlete(seed)
    set_flexion = []
    for r in a.reps:
        setup = a.lumbar_flexion_deg([r.t_start])[0]
        assert 8.0 <= setup <= 20.0  # 8–16° in set 1, + fatigue, capped
        pelvis = a.segment_inclination_deg("sacrum", [r.t_start])[0]
        assert 18.0 - 3.5 <= pelvis <= 42.0 + 3.5  # 30 ± 8° forward (+ set/rep scatter, sway)
        if r.rep == 1:
            set_flexion.append(setup)
        flex = a.lumbar_flexion_deg(np.linspace(r.t_start, r.t_end, 2001))
        rom = flex.max() - flex.min()
        assert (34.0 <= rom <= 50.0) if r.rounded else (6.0 <= rom <= 26.0)
    steps = np.diff(set_flexion)
    assert np.all(steps >= -1e-9) and np.all(steps <= 2.0 + 1e-9)  # +0–2° per set


@pytest.mark.parametrize("seed", SEEDS)
def test_phase_durations_are_in_documented_ranges(seed: int) -> None:
    a = _athlete(seed)
    ranges = {
        "calibrate_still": (3.5, 3.5),
        "bend": (1.8, 2.2),
        "bend_hold": (0.5, 0.5),
        "bend_return": (1.8, 2.2),
        "setup": (1.5, 2.5),
        "pause": (0.8, 1.5),
        # 1.0–1.8 s (sheet §2), longer for a rounded rep whose flexion speed is capped.
        "concentric": (1.0, 1.9),
        "lockout": (0.5, 1.5),
        "eccentric": (1.0, 2.0),
        "bottom": (1.0, 2.5),
        "final_pause": (0.5, 1.0),
        "standup": (1.0, 1.5),
        "rest": (8.0, 15.0),
    }
    for p in a.phases:
        if p.kind in ranges:
            lo, hi = ranges[p.kind]
            assert lo - 1e-9 <= p.t_end - p.t_start <= hi + 1e-9, p
    for inp in a.inputs[1:]:
        move = next(p for p in a.phases if p.kind == "setup" and p.set == inp.set)
        assert 0.8 - 1e-9 <= move.t_start - inp.t <= 1.2 + 1e-9


def test_fatigue_slows_the_concentric_in_later_sets() -> None:
    first, last = [], []
    for seed in SEEDS:
        a = build_deadlift_athlete("f", seed, duration=400.0)
        conc = _phases(a, "concentric")
        n_sets = _sets(a)
        first += [p.t_end - p.t_start for p in conc if p.set == 1]
        last += [p.t_end - p.t_start for p in conc if p.set == n_sets]
    assert np.mean(last) > np.mean(first) + 0.05


@pytest.mark.parametrize("seed", SEEDS)
def test_calibration_stands_still_then_bends_to_the_athletes_maximum(seed: int) -> None:
    a = _athlete(seed)
    cal = a.inputs[0]
    assert 1.0 <= cal.t <= 1.5
    before = np.arange(0.0, cal.t + 3.5, 0.005)  # quiet standing, then "stand tall and still"
    assert np.abs(a.lumbar_flexion_deg(before)).max() < 1e-9
    for placement in ("upper", "sacrum"):
        assert np.abs(a.segment_inclination_deg(placement, before)).max() < 0.5
    bend = _phases(a, "bend_hold")[0]
    hold = np.linspace(bend.t_start, bend.t_end, 11)
    np.testing.assert_allclose(a.lumbar_flexion_deg(hold), a.params.max_flexion_deg)
    pelvis = a.segment_inclination_deg("sacrum", hold)
    assert np.all(np.abs(pelvis - a.params.max_pelvis_deg) < 0.5)
    assert 35.0 <= a.params.max_pelvis_deg <= 75.0
    assert 40.0 <= a.params.max_flexion_deg <= 60.0
    # Nothing but the calibration bend happens before the first set input.
    first_set = a.inputs[1].t
    t = np.arange(bend.t_end + 2.3, first_set, 0.01)
    assert np.abs(a.lumbar_flexion_deg(t)).max() < 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_trunk_inclination_is_pelvis_plus_lumbar_flexion(seed: int) -> None:
    a = _athlete(seed)
    t = np.arange(0.0, a.duration, 0.05)
    np.testing.assert_allclose(
        a.segment_inclination_deg("upper", t) - a.segment_inclination_deg("sacrum", t),
        a.lumbar_flexion_deg(t),
        atol=1e-9,
    )


@pytest.mark.parametrize("seed", [0, 5])
def test_segment_quaternions_carry_exactly_the_sagittal_inclination(seed: int) -> None:
    a = _athlete(seed)
    t = np.arange(0.0, a.duration, 0.05)
    heading = a.body.heading(t)
    forward = np.stack([np.cos(heading), np.sin(heading), np.zeros_like(t)], axis=1)
    tilt = {"sacrum": a.params.sacrum_tilt_deg, "upper": a.params.upper_tilt_deg}
    for placement in ("upper", "sacrum"):
        q = a.segment_quat(placement, t)
        w, x, y, z = q.T
        up = np.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], axis=1)
        sagittal = np.degrees(np.arctan2((up * forward).sum(axis=1), up[:, 2]))
        np.testing.assert_allclose(
            sagittal, tilt[placement] + a.segment_inclination_deg(placement, t), atol=1e-9
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_rests_turn_the_athlete_away_and_back_and_sets_hold_one_heading(seed: int) -> None:
    a = _athlete(seed)
    turns = _phases(a, "turn")
    assert len(turns) == _sets(a) - 1
    for turn in turns:
        t = np.linspace(turn.t_start, turn.t_end, 1001)
        swing = np.degrees(np.abs(a.body.heading(t) - a.body.heading(t[:1])))
        assert 29.0 <= swing.max() <= 181.0
        assert swing[-1] <= 5.0 + 1e-9
    for s in range(1, _sets(a) + 1):
        setup = next(p for p in a.phases if p.kind == "setup" and p.set == s)
        standup = next(p for p in a.phases if p.kind == "standup" and p.set == s)
        t = np.linspace(setup.t_start, standup.t_end, 101)
        assert np.ptp(a.body.heading(t)) == 0.0


def test_reps_can_be_rejudged_at_another_threshold_with_the_hold_rule() -> None:
    a = _athlete(1)
    rounded = next(r for r in a.reps if r.rounded)
    # Just under the peak the flexion is above threshold only for an instant: not unsafe.
    rejudged = a.reps_at(rounded.peak_flexion_deg - 0.01)
    assert not rejudged[a.reps.index(rounded)].unsafe
    assert all(not r.unsafe for r in a.reps_at(60.0))
    assert all(r.unsafe for r in a.reps_at(0.0))
    assert a.reps_at(THRESHOLD) == a.reps


def test_longest_run_counts_the_span_between_first_and_last_sample() -> None:
    mask = np.array([0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0], dtype=bool)
    assert longest_run_s(mask, 0.02) == pytest.approx(0.1)
    assert longest_run_s(np.zeros(5, dtype=bool), 0.02) == 0.0
    assert longest_run_s(np.ones(1, dtype=bool), 0.02) == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"duration": 5.0},
        {"duration": float("nan")},
        {"duration": 60.0, "reps_per_set": 0},
        {"duration": 60.0, "rest_s": (10.0, 5.0)},
        {"duration": 60.0, "acc_bias_g": -0.1},
        {"duration": 60.0, "mountings": {"wrist": [1.0, 0.0, 0.0, 0.0]}},
    ],
)
def test_invalid_configuration_is_a_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        build_deadlift_athlete("bad", 0, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        build_deadlift_athlete("bad", -1, duration=60.0)


def test_a_session_too_short_for_a_set_has_only_the_calibration() -> None:
    a = build_deadlift_athlete("c", 0, duration=25.0)
    assert [i.kind for i in a.inputs] == ["calibrate"]
    assert a.reps == []
    assert a.end_time + 4.0 <= 25.0
