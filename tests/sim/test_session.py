"""Whole sessions: programs, fault knobs, days, groups, determinism and the truth API."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

from liftguard.errors import ConfigError
from liftguard.sim import SimulatedAthlete
from liftguard.sim.faults import NO_FAULTS, FaultSpec, around_threshold
from liftguard.sim.liftmor import build_group_session, build_session_athlete
from liftguard.sim.program import Program, SetPlan

SHORT = Program.from_list(
    [("deadlift", 2, 3), ("press", 1, 2)], rest_median_s=30.0, transition_s=(30.0, 40.0)
)


@cache
def _short(seed: int = 4, duration: float | None = None, day: int = 0) -> SimulatedAthlete:
    return build_session_athlete("s", seed, program=SHORT, duration=duration, day=day)


def test_liftmor_program_is_warmups_then_five_by_five_in_order() -> None:
    program = Program.liftmor()
    exercises = [s.exercise for s in program.sets]
    assert exercises == (["deadlift"] * 7 + ["squat"] * 7 + ["press"] * 7 + ["jumping_chinup"] * 5)
    working = [s for s in program.sets if not s.warmup]
    assert len(working) == 20 and all(s.reps == 5 for s in working)
    assert all(0.80 <= s.load <= 0.85 for s in working if s.exercise != "jumping_chinup")
    warmups = [s for s in program.sets if s.warmup]
    assert all(0.40 <= s.load <= 0.70 and 2 <= s.reps <= 5 for s in warmups)
    assert program.set_numbers()[:8] == [1, 2, 3, 4, 5, 6, 7, 1]


def test_rests_are_lognormal_with_a_90_s_median() -> None:
    program = Program.liftmor()
    rng = np.random.default_rng(0)
    rests = np.array([program.rest_s(program.sets[3], rng) for _ in range(20000)])
    assert np.median(rests) == pytest.approx(90.0, rel=0.03)
    # Sheet §7: 5th–95th percentile ≈ 40–240 s (a lognormal cannot hit both; σ = 0.55).
    assert 33.0 <= np.percentile(rests, 5) <= 42.0
    assert 205.0 <= np.percentile(rests, 95) <= 240.0
    assert rests.min() >= 30.0 and rests.max() <= 300.0
    transitions = [program.transition(rng) for _ in range(200)]
    assert min(transitions) >= 120.0 and max(transitions) <= 300.0


@pytest.mark.parametrize(
    "bad",
    [
        lambda: SetPlan("bench", 5),
        lambda: SetPlan("squat", 0),
        lambda: SetPlan("squat", 5, load=1.5),
        lambda: Program(()),
        lambda: Program.from_list([("squat", 0, 5)]),
        lambda: Program((SetPlan("squat", 5),), rest_bounds_s=(10.0, 5.0)),
        lambda: FaultSpec(probability=1.5),
        lambda: FaultSpec(severity=(0.8, 0.2)),
        lambda: build_session_athlete("x", 0, faults={"wobbly_knees": FaultSpec(0.5)}),
        lambda: build_session_athlete("x", 0, families={"upper": "metawear"}),
        lambda: build_session_athlete("x", 0, families={"upper": "metawear", "sacrum": "fitbit"}),
        lambda: build_session_athlete("x", 0, families={**_fams(), "thigh": "dot"}),
        lambda: build_session_athlete("x", 0, duration=5.0),
        lambda: build_session_athlete("x", -1),
        lambda: build_session_athlete("x", 0, day=-2),
        lambda: build_session_athlete("x", 0, slips={"wrist": [10.0]}),
    ],
)
def test_invalid_programs_and_sessions_are_config_errors(bad: object) -> None:
    with pytest.raises(ConfigError):
        bad()  # type: ignore[operator]


def _fams() -> dict[str, str]:
    return {"upper": "metawear", "sacrum": "metawear"}


def test_same_seed_gives_bit_identical_signals_and_truth() -> None:
    a = build_session_athlete("s", 9, program=SHORT, slip_probability=1.0)
    b = build_session_athlete("s", 9, program=SHORT, slip_probability=1.0)
    t = np.arange(0.0, a.duration, 0.01)
    for placement in a.sensors:
        np.testing.assert_array_equal(
            a.sensors[placement].imu(t)[0], b.sensors[placement].imu(t)[0]
        )
        np.testing.assert_array_equal(
            a.sensors[placement].imu(t)[1], b.sensors[placement].imu(t)[1]
        )
        np.testing.assert_array_equal(a.sensor_quat(placement, t), b.sensor_quat(placement, t))
    assert a.reps == b.reps and a.phases == b.phases and a.inputs == b.inputs
    assert a.activities == b.activities and a.slips == b.slips and a.sets == b.sets
    assert len(a.slips) == 2
    other = build_session_athlete("s", 10, program=SHORT)
    assert other.params != a.params and other.reps != a.reps


def test_a_longer_session_starts_with_exactly_the_sets_of_a_shorter_one() -> None:
    whole = _short()
    assert [s.exercise for s in whole.sets] == ["deadlift", "deadlift", "press"]
    cut = whole.sets[1].t_end + 4.0
    fits = build_session_athlete("s", 4, program=SHORT, duration=cut)
    assert len(fits.sets) == 2 and fits.reps == whole.reps[:6]
    short = build_session_athlete("s", 4, program=SHORT, duration=cut - 0.01)
    assert len(short.sets) == 1
    assert fits.duration == cut and fits.phases[-1].t_end == cut
    t = np.arange(0.0, fits.sets[-1].t_end, 0.01)
    np.testing.assert_array_equal(
        fits.sensors["sacrum"].imu(t)[0], whole.sensors["sacrum"].imu(t)[0]
    )


def test_another_day_shifts_the_athlete_slightly_and_re_sticks_the_sensors() -> None:
    base, other = _short(day=0), _short(day=3)
    assert base.day == 0 and other.day == 3
    assert other.params.height_m == base.params.height_m
    changed = base.params.differs_from(other.params)
    assert "max_flexion_deg" in changed and "height_m" not in changed
    assert abs(other.params.max_flexion_deg - base.params.max_flexion_deg) < 10.0
    assert abs(other.params.sacrum_tilt_deg - base.params.sacrum_tilt_deg) < 8.0
    assert not np.array_equal(base.sensors["upper"].mounting, other.sensors["upper"].mounting)
    # Day 0 is the same athlete the deadlift demo draws from this seed.
    from liftguard.sim import build_deadlift_athlete

    assert build_deadlift_athlete("d", 4, duration=60.0).params == base.params


def test_faults_can_be_drawn_uniformly_around_a_threshold() -> None:
    faults = {**NO_FAULTS, "rounded_back": around_threshold(30.0, 3.0)}
    peaks = []
    for seed in range(4):
        a = build_session_athlete(
            "t", seed, program=[("deadlift", 2, 5)], faults=faults, unsafe_threshold_deg=30.0
        )
        for r in a.reps:
            (label,) = r.faults
            assert label.name == "rounded_back" and label.unit == "deg"
            assert 27.0 - 1e-6 <= label.peak <= 33.0 + 1e-6
            assert label.peak == pytest.approx(r.peak_flexion_deg)
            peaks.append(label.peak)
            # Near the edge the truth's unsafe verdict follows the peak.
            if label.peak < 29.9:
                assert not r.unsafe
    assert min(peaks) < 28.0 and max(peaks) > 32.0
    assert np.std(peaks) == pytest.approx(6.0 / math.sqrt(12.0), rel=0.35)  # uniform on ±3°


@pytest.mark.parametrize(
    ("name", "exercise"),
    [
        ("rounded_back", "deadlift"),
        ("hips_rise_first", "deadlift"),
        ("lockout_hyperextension", "deadlift"),
        ("squat_lumbar_flexion", "squat"),
        ("forward_lean", "squat"),
        ("press_hyperextension", "press"),
        ("flexed_landing", "jumping_chinup"),
        ("stiff_landing", "jumping_chinup"),
    ],
)
def test_a_faults_resulting_peak_grows_with_its_severity(name: str, exercise: str) -> None:
    faults = {**NO_FAULTS, name: FaultSpec(1.0, severity=(0.0, 1.0))}
    a = build_session_athlete("g", 12, program=[(exercise, 2, 5)], faults=faults)
    labels = [r.fault(name) for r in a.reps]
    assert all(f is not None for f in labels)
    sev = np.array([f.severity for f in labels if f is not None])
    peak = np.array([f.peak for f in labels if f is not None])
    if labels[0] is not None and labels[0].quantity == "trunk_inclination":
        # Measured from where the rep started (the first rep starts from the set-up posture).
        peak -= np.array([a.trunk_inclination_deg([r.t_start])[0] for r in a.reps])
    assert np.ptp(sev) > 0.5
    # Linear in severity up to the rep-to-rep scatter of the athlete's own good value.
    assert np.corrcoef(sev, peak)[0, 1] > 0.97, (sev, peak)


def test_group_sessions_calibrate_together_and_go_at_their_own_pace() -> None:
    group = build_group_session(["ann", "bea", "cat"], 5, program=SHORT)
    calibrations = {a.inputs[0].t for a in group}
    assert len(calibrations) == 1 and all(a.inputs[0].kind == "calibrate" for a in group)
    assert len({a.duration for a in group}) == 1
    first_sets = [next(i.t for i in a.inputs if i.kind == "set") for a in group]
    assert len(set(np.round(first_sets, 6))) == 3
    assert len({a.params.tempo for a in group}) == 3
    with pytest.raises(ConfigError):
        build_group_session(["ann", "ann"], 5)


def test_truth_samples_label_every_instant() -> None:
    a = _short()
    t = np.arange(0.0, a.duration, 0.05)
    truth = a.truth_samples(t)
    assert all(len(v) == t.size for v in truth.values())
    assert set(truth) >= {"flexion_deg", "bend_deg", "twist_deg", "trunk_deg", "pelvis_deg"}
    r = a.reps[0]
    inside = (t >= r.t_start) & (t <= r.t_end)
    assert set(truth["rep"][inside]) == {r.rep}
    assert set(truth["exercise"][inside]) == {"deadlift"}
    assert set(truth["phase"][inside]) <= {p.kind for p in r.phases}
    assert "walk" in set(truth["phase"]) and "calibrate_still" in set(truth["phase"])
    assert not truth["clipped_sacrum"].any()
    np.testing.assert_allclose(
        truth["trunk_deg"] - truth["pelvis_deg"], truth["flexion_deg"], atol=1e-9
    )


def test_reps_carry_a_small_lateral_bend_and_twist() -> None:
    a = _short()
    for r in a.reps:
        g = np.arange(r.t_start, r.t_end, 0.01)
        angles = a.lumbar_angles_deg(g)
        assert 0.0 < np.abs(angles[:, 1]).max() <= 6.0 + 1e-9
        assert np.abs(angles[:, 2]).max() <= 6.0 + 1.0  # + the sway twist difference
    bends = [a.lumbar_angles_deg(np.linspace(r.t_start, r.t_end, 200))[:, 1] for r in a.reps]
    side = np.sign(a.params.bend_bias_deg)
    if abs(a.params.bend_bias_deg) > 2.0:  # a habit shows over the reps
        assert np.mean([b[np.argmax(np.abs(b))] * side for b in bends]) > 0


def test_walking_moves_the_athlete_between_stations_with_a_bouncing_pelvis() -> None:
    a = _short()
    walk = next(p for p in a.phases if p.kind == "walk" and p.t_end - p.t_start > 2.0)
    t = np.arange(walk.t_start, walk.t_end, 0.005)
    pos = a.sensor_position("sacrum", t)
    assert np.linalg.norm(pos[-1, :2] - pos[0, :2]) > 1.0
    acc, _ = a.sensors["sacrum"].ideal(t)
    norm = np.linalg.norm(acc, axis=1) / 9.81
    assert 0.1 < np.ptp(norm) < 1.0  # steps: ±0.1–0.5 g around 1 g, not impacts
    # Bounce at the step rate: the vertical position's spectrum peaks near the cadence.
    z = pos[:, 2] - pos[:, 2].mean()
    spectrum = np.abs(np.fft.rfft(z * np.hanning(z.size)))
    freqs = np.fft.rfftfreq(z.size, 0.005)
    band = freqs > 0.8
    assert abs(freqs[band][np.argmax(spectrum[band])] - a.params.cadence_hz) < 0.5
