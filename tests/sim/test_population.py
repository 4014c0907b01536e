"""Ground truth of a simulated population against the parameter sheet's documented ranges.

Twenty athletes each do one set of five reps of every LIFTMOR exercise. Each test computes a
statistic from the *truth* (not from the script's parameters) and checks it against the range
the sheet documents, so a change in the kinematics that leaves the parameters alone but moves the
body out of range fails here.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import cache

import numpy as np
import pytest

from liftguard.sim import SimulatedAthlete
from liftguard.sim.faults import FAULT_KINDS
from liftguard.sim.imu import GRAVITY
from liftguard.sim.liftmor import build_session_athlete
from liftguard.sim.program import Program
from liftguard.sim.session import TruthRep

POPULATION = 20
PROGRAM = Program.from_list(
    [("deadlift", 1, 5), ("squat", 1, 5), ("press", 1, 5), ("jumping_chinup", 1, 5)],
    rest_median_s=40.0,
    transition_s=(40.0, 60.0),
)
FAMILIES = {"upper": "metawear", "sacrum": "metawear", "wrist": "metawear"}


@cache
def _population() -> tuple[SimulatedAthlete, ...]:
    return tuple(
        build_session_athlete(f"p{i}", 100 + i, program=PROGRAM, families=FAMILIES)
        for i in range(POPULATION)
    )


def _reps(exercise: str, *, clean: bool = False) -> list[tuple[SimulatedAthlete, TruthRep]]:
    return [
        (a, r)
        for a in _population()
        for r in a.reps
        if r.exercise == exercise and not (clean and r.faults)
    ]


def _within(values: list[float], lo: float, hi: float) -> None:
    """Every value in ``[lo, hi]``; the message shows the observed span."""
    span = (float(np.min(values)), float(np.max(values)))
    assert lo <= span[0] and span[1] <= hi, f"observed {span}, documented [{lo}, {hi}]"


def _grid(r: TruthRep) -> np.ndarray:
    return np.arange(r.t_start, r.t_end, 1e-3)


def _phase(r: TruthRep, kind: str) -> tuple[float, float]:
    p = next(p for p in r.phases if p.kind == kind)
    return p.t_start, p.t_end


def test_every_athlete_does_the_whole_program() -> None:
    for a in _population():
        assert Counter(r.exercise for r in a.reps) == {
            "deadlift": 5,
            "squat": 5,
            "press": 5,
            "jumping_chinup": 5,
        }
        assert len(a.landings) == 5
        assert [s.exercise for s in a.sets] == ["deadlift", "squat", "press", "jumping_chinup"]


def test_deadlift_lordosis_loss_at_the_bar_and_lumbar_range_of_motion() -> None:
    start, rom, share = [], [], []
    for a, r in _reps("deadlift"):
        flex = a.lumbar_flexion_deg(_grid(r))
        start.append(flex[0])
        if not r.faults:
            rom.append(flex.max() - flex.min())
            share.append(flex.max() / a.params.max_flexion_deg)
    # Standing → start: a cued older beginner loses 8–16° of lordosis (A), well below the ≈33°
    # of trained lifters (Bengtsson et al. 2022, D); start-to-lockout ROM of good reps stays
    # under those lifters' 33° too, and their peak is a "good" 20–50 % of maximum (sheet §2).
    _within(start, 7.0, 17.0)
    assert 10.0 <= np.median(start) <= 14.0
    _within(rom, 6.0, 26.0)
    _within(share, 0.15, 0.55)
    assert 0.25 <= np.median(share) <= 0.4


def test_deadlift_trunk_and_pelvis_at_lift_off_and_bar_travel() -> None:
    trunk, pelvis, travel, low = [], [], [], []
    for a, r in _reps("deadlift", clean=True):
        trunk.append(a.trunk_inclination_deg([r.t_start])[0])
        pelvis.append(a.pelvis_inclination_deg([r.t_start])[0])
        wrist = a.sensor_position("wrist", _grid(r))[:, 2]
        travel.append(wrist.max() - wrist.min())
        low.append(wrist.min())
    # Trunk 50 ± 10° and sacrum 30 ± 10° forward at lift-off (sheet §2, A); bar travel
    # 0.45–0.55 m (A) — here from the hanging wrist, which never sinks below the bar.
    _within(trunk, 28.0, 60.0)
    assert 40.0 <= np.median(trunk) <= 52.0
    _within(pelvis, 18.0, 42.5)
    _within(travel, 0.42, 0.56)
    assert min(low) >= 0.285 - 0.005


def test_squat_pelvis_travel_trunk_lean_and_sacral_tilt() -> None:
    travel, trunk, sacrum = [], [], []
    for a, r in _reps("squat"):
        z = a.sensor_position("sacrum", _grid(r))[:, 2]
        travel.append(z.max() - z.min())
    for a, r in _reps("squat", clean=True):
        g = _grid(r)
        trunk.append(a.trunk_inclination_deg(g).max())
        t0, t1 = _phase(r, "eccentric")
        before_wink = t0 + 0.8 * (t1 - t0)
        sacrum.append(a.pelvis_inclination_deg([before_wink])[0])
    # Pelvis travel 0.35–0.55 m, trunk 35–50° at the bottom, sacrum 10–30° forward before the
    # butt wink (sheet §3, A); ±2° for rep scatter and sway.
    _within(travel, 0.34, 0.56)
    _within(trunk, 33.0, 52.0)
    _within(sacrum, 10.0, 31.0)


def test_squat_butt_wink_happens_at_the_bottom_in_about_half_of_the_athletes() -> None:
    winkers = 0
    for a in _population():
        r = next(r for r in a.reps if r.exercise == "squat" and not r.faults)
        t0, t1 = _phase(r, "eccentric")
        g = np.linspace(t0 + 0.8 * (t1 - t0), t1, 50)
        pelvis = a.pelvis_inclination_deg(g)
        tucked = pelvis[0] - pelvis[-1]
        if a.params.butt_wink_deg > 0:
            winkers += 1
            assert tucked >= 0.5 * a.params.butt_wink_deg  # posterior tilt at the bottom
        else:
            assert tucked < 1.0
    assert 5 <= winkers <= 15


def test_press_bar_travel_upright_trunk_and_still_pelvis() -> None:
    travel, trunk, pelvis, lumbar = [], [], [], []
    for a, r in _reps("press", clean=True):
        g = _grid(r)
        wrist = a.sensor_position("wrist", g)[:, 2]
        travel.append(wrist.max() - wrist.min())
        trunk.append(a.trunk_inclination_deg(g).min())
        pelvis.append(np.abs(a.pelvis_inclination_deg(g)).max())
        lumbar.append(a.lumbar_flexion_deg(g).min())
    # Bar travel 0.40–0.55 m; lumbar −3 to −8° at lockout; trunk 0 to −10° (leaning back);
    # sacral tilt change < 5° (sheet §4, A); ±1° for rep scatter and sway.
    _within(travel, 0.39, 0.56)
    _within(lumbar, -9.5, -1.5)
    _within(trunk, -14.0, 1.0)
    assert max(pelvis) <= 5.5


def test_landing_peaks_timing_and_the_t12_attenuation() -> None:
    sensor_sacrum, rigid, ratio, delay, to_peak, absorb = [], [], [], [], [], []
    for a in _population():
        for landing in a.landings:
            sensor_sacrum.append(landing.sensor_peak_g["sacrum"])
            rigid.append(landing.peak_sacrum_g)
            ratio.append(landing.sensor_peak_g["upper"] / landing.sensor_peak_g["sacrum"])
            delay.append(landing.t_peak_upper - landing.t_peak_sacrum)
            to_peak.append(landing.t_peak_sacrum - landing.t_touchdown)
            absorb.append(landing.absorb_s)
    # Sacral specific-force peaks 3–8 g with the skin overshoot (README §2; sheet §5 2.5–5 g
    # rigid, overshoot to 6–8 g); rigid ≤ 6 g even when stiff; T12 ≈ 0.6–0.9 × the sacral
    # sensor peak and 5–20 ms later; 30–80 ms to peak; absorption 0.3–0.8 s (sheet §5).
    _within(sensor_sacrum, 3.0, 8.0)
    _within(rigid, 2.5 - 1e-9, 6.0)
    _within(ratio, 0.6, 0.95)
    assert 0.75 <= np.median(ratio) <= 0.9
    _within(delay, 0.004, 0.021)
    _within(to_peak, 0.03, 0.081)
    _within(absorb, 0.3 - 1e-9, 0.8)


def test_free_fall_lasts_sqrt_2h_over_g_and_the_accelerometers_read_zero() -> None:
    for a in _population()[:8]:
        for landing in a.landings:
            assert landing.free_fall_s == pytest.approx(
                math.sqrt(2 * landing.drop_m / GRAVITY), abs=1e-3
            )
            assert 0.10 <= landing.drop_m <= 0.40
            # Pure free fall: from the end of the grip release to touchdown.
            release = next(
                p for p in a.phases if p.kind == "flight" and p.t_end == landing.t_touchdown
            )
            t = np.arange(release.t_start, release.t_end, 1e-3)
            for placement in ("sacrum", "upper", "wrist"):
                acc, _ = a.sensors[placement].ideal(t)
                assert np.linalg.norm(acc, axis=1).max() < 0.02 * GRAVITY
            # What a detector sees at 100 Hz: the norm under 0.5 g for about √(2h/g).
            t100 = np.arange(landing.t_release - 0.2, landing.t_touchdown + 0.2, 0.01)
            low = np.linalg.norm(a.sensors["sacrum"].imu(t100)[0], axis=1) < 0.5 * GRAVITY
            assert low.sum() * 0.01 == pytest.approx(landing.free_fall_s, abs=0.03)


def test_lumbar_flexion_in_landings_and_the_stiff_landings() -> None:
    for a, r in _reps("jumping_chinup"):
        t0, t1 = _phase(r, "landing")[0], _phase(r, "recover")[1]
        flex = a.lumbar_flexion_deg(np.arange(t0, t1, 1e-3)).max()
        stiff = r.fault("stiff_landing")
        if r.fault("flexed_landing") is None:
            # Soft landings flex the lumbar spine +5–20° (sheet §5), stiff ones less.
            assert 5.0 - 0.5 <= flex <= 20.0 if stiff is None else flex <= 20.0
        landing = next(x for x in a.landings if (x.set, x.rep) == (r.set, r.rep))
        if stiff is not None:
            assert stiff.peak == pytest.approx(landing.peak_sacrum_g)
            assert landing.absorb_s <= a.params.landing_absorb_s + 1e-9


def test_lumbar_speed_stays_under_the_documented_caps() -> None:
    for a in _population()[:10]:
        t = np.arange(0.0, a.duration, 2e-3)
        flex = a.lumbar_flexion_deg(t)
        rate = np.degrees(a.body.lumbar.evaluate(t, 1))
        allowed = np.zeros(t.size, dtype=bool)  # where a fault or an impact may give way
        for r in a.reps:
            if r.rounded or r.exercise == "jumping_chinup":
                allowed |= (t >= r.t_start) & (t <= r.t_end)
        # 83 °/s voluntary (Consmüller et al. 2012, 51–75 y), 100 °/s giving way (A),
        # 47 °/s moving into extension (same study).
        assert np.abs(rate).max() <= 100.0 + 1e-6
        assert np.abs(rate[~allowed]).max() <= 83.0 + 1e-6
        into_extension = (flex < -5.0) & (rate < 0.0)
        assert np.abs(rate[into_extension]).max(initial=0.0) <= 47.0 + 1e-6


def test_every_fault_appears_with_graded_severity() -> None:
    labels: dict[str, list[tuple[float, float]]] = {name: [] for name in FAULT_KINDS}
    for a in _population():
        for r in a.reps:
            for f in r.faults:
                assert FAULT_KINDS[f.name].exercise == r.exercise
                assert 0.0 <= f.severity <= 1.0
                labels[f.name].append((f.severity, f.peak))
    for name, found in labels.items():
        severities = sorted(s for s, _ in found)
        assert len(found) >= 3, name
        assert severities[-1] - severities[0] > 0.3, name  # graded, not one value
        assert len(set(np.round(severities, 6))) == len(severities), name


def test_non_rep_activities_are_in_the_truth_and_outside_every_rep() -> None:
    kinds: Counter[str] = Counter()
    for a in _population():
        windows = [(r.t_start, r.t_end) for r in a.reps]
        for act in a.activities:
            kinds[act.kind] += 1
            if act.kind in ("walk", "sit", "pick_up", "adjust_plates", "calibration_bend"):
                assert all(act.t_end <= s or act.t_start >= e for s, e in windows), act
            if act.kind == "pick_up":
                assert act.peak_flexion_deg >= 0.6 * a.params.max_flexion_deg - 1e-6
    for kind in ("walk", "turn", "sit", "pick_up", "adjust_plates", "unrack", "rerack"):
        assert kinds[kind] > 0, kind


def test_phases_tile_each_session_and_reps_own_their_phases() -> None:
    for a in _population()[:5]:
        assert a.phases[0].t_start == 0.0 and a.phases[-1].t_end == a.duration
        for before, after in zip(a.phases, a.phases[1:], strict=False):
            assert after.t_start == before.t_end
        for r in a.reps:
            assert r.phases[0].t_start == r.t_start and r.phases[-1].t_end == r.t_end
            assert {p.exercise for p in r.phases} == {r.exercise}
            assert {(p.set, p.rep) for p in r.phases} == {(r.set, r.rep)}
        set_inputs = [i for i in a.inputs if i.kind == "set"]
        assert [(i.exercise, i.set) for i in set_inputs] == [(s.exercise, s.set) for s in a.sets]
        assert [i.t for i in a.inputs] == sorted(i.t for i in a.inputs)
