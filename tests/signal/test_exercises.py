"""Rep and phase segmentation of squat, press and jumping chin-ups (and the deadlift wrapper).

Against the simulator: seeds 0–9, one athlete each, two sets of five of one exercise with sensor
noise on. Each set is fed from the supervisor's "set" input up to the next set's input — the
rest after the set included, as if nobody ended the set — so the counter has to end the set
itself and ignore unracking, walking out, re-racking, walking in and the rest.
"""

from __future__ import annotations

import numpy as np
import pytest

from liftguard.signal.exercises import (
    BackAngles,
    DeadliftCounter,
    ExerciseUpdate,
    JumpRepCounter,
    PressRepCounter,
    SquatRepCounter,
    counter_for,
)
from liftguard.signal.reps import DeadliftRepCounter
from tests.signal.simstreams import FIELDS, Fed, athlete, cut, feed, noisy, set_windows, stream

SEEDS = range(10)
EXERCISES = ("squat", "press", "jumping_chinup")
G = 9.80665


# --- the interface --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("deadlift", DeadliftCounter),
        ("squat", SquatRepCounter),
        ("press", PressRepCounter),
        ("ohp", PressRepCounter),
        ("jumping_chinup", JumpRepCounter),
        ("jump", JumpRepCounter),
    ],
)
def test_counter_for_knows_the_four_exercises_and_their_aliases(name: str, kind: type) -> None:
    assert isinstance(counter_for(name), kind)


@pytest.mark.parametrize("name", ["bench", "", "squats"])
def test_counter_for_rejects_other_exercises(name: str) -> None:
    with pytest.raises(ValueError, match="no rep counter"):
        counter_for(name)


def test_back_angles_need_one_length() -> None:
    z = np.zeros(3)
    with pytest.raises(ValueError, match="sacrum_acc"):
        BackAngles(z, z, z, z, np.zeros(2), z)


# --- synthetic movements: what counts and what must not -------------------------------------------
RATE = 100.0


def synthetic(
    trunk: list[tuple[float, float]],
    pelvis: list[tuple[float, float]] | None = None,
    rate: float = RATE,
) -> BackAngles:
    """Piecewise-linear trunk and pelvis through ``(time, degrees)`` points; flexion is their
    difference; the accelerometers read 1 g."""
    times = [p[0] for p in trunk]
    t = np.arange(times[0], times[-1], 1 / rate)
    tr = np.interp(t, times, [p[1] for p in trunk])
    pv = np.interp(t, *zip(*pelvis, strict=True)) if pelvis else 0.7 * tr
    g = np.full(t.shape, G)
    return BackAngles(t, tr, pv, tr - pv, g, g)


def run_blocks(counter: object, block: BackAngles, size: int = 17) -> tuple[list, list]:
    reps, fins = [], []
    for i in range(0, len(block), size):
        upd: ExerciseUpdate = counter.update(  # type: ignore[attr-defined]
            BackAngles(*(getattr(block, f)[i : i + size] for f in FIELDS))
        )
        reps += upd.reps
        if upd.finished_at is not None:
            fins.append(upd.finished_at)
    return reps, fins


def squat_set(n: int) -> list[tuple[float, float]]:
    """Stand, unrack (an 11° dip), ``n`` squats to 42° with 1 s between, re-rack, stand."""
    pts = [(0.0, 0.0), (2.0, 0.0), (2.6, 11.0), (3.2, 0.0), (5.0, 0.0)]
    t = 5.0
    for _ in range(n):
        pts += [(t + 1.6, 42.0), (t + 1.8, 42.0), (t + 3.0, 0.0), (t + 4.0, 0.0)]
        t += 4.0
    pts += [(t + 2.0, 0.0), (t + 2.6, 11.0), (t + 3.2, 0.0), (t + 20.0, 0.0)]
    return pts


@pytest.mark.parametrize("n", [1, 3, 5])
def test_squats_count_but_unracking_and_reracking_do_not(n: int) -> None:
    reps, fins = run_blocks(SquatRepCounter(), synthetic(squat_set(n)))
    assert [r.rep for r in reps] == list(range(1, n + 1))
    assert len(fins) == 1
    first = reps[0]
    assert first.t_start == pytest.approx(5.0, abs=0.2)
    assert first.t_end == pytest.approx(8.0, abs=0.2)
    assert [p[0] for p in first.phases] == ["eccentric", "bottom", "concentric"]


def test_sitting_down_on_a_bench_and_standing_up_is_not_a_squat() -> None:
    # Trunk forward while sitting down, pelvis tilted 14° back while seated, forward again to
    # stand up.
    trunk = [(0, 0.0), (2, 0.0), (3, 35.0), (4, 4.0), (30, 4.0), (31, 45.0), (32, 0.0), (40, 0.0)]
    pelvis = [(0, 0.0), (2, 0.0), (3, 25.0), (4, -14.0), (30, -14.0), (31, 30.0), (32, 0.0)]
    pelvis.append((40, 0.0))
    reps, _ = run_blocks(SquatRepCounter(), synthetic(trunk, pelvis))
    assert reps == []


def test_crouching_at_the_bar_to_change_plates_is_not_a_squat() -> None:
    trunk = [(0, 0.0), (2, 0.0), (3.5, 55.0), (8.0, 57.0), (9.5, 0.0), (15, 0.0)]
    reps, _ = run_blocks(SquatRepCounter(), synthetic(trunk))
    assert reps == []


def test_a_rep_that_is_not_counted_keeps_the_set_going() -> None:
    # Rep 2 dwells 3.2 s at the bottom (a squat whose pelvis tucks under; past max_bottom_s,
    # so not counted) and ends after rep 1's 5 s pause has run out. The set must not end under
    # it: rep 3 is counted (found by the validity benchmark: the set ended, and a later unsafe
    # rep went without its alarm).
    trunk = [(0, 0.0), (2, 0.0), (3.6, 42.0), (3.8, 42.0), (5.0, 0.0), (6.0, 0.0)]
    trunk += [(7.6, 42.0), (10.8, 42.0), (12.0, 0.0), (13.0, 0.0)]
    trunk += [(14.6, 42.0), (14.8, 42.0), (16.0, 0.0), (30.0, 0.0)]
    reps, fins = run_blocks(SquatRepCounter(), synthetic(trunk))
    assert len(reps) == 2
    assert reps[1].t_start == pytest.approx(13.0, abs=0.3)
    assert len(fins) == 1 and fins[0] > 16.0


def test_bending_to_the_floor_is_not_a_squat() -> None:
    trunk = [(0, 0.0), (2, 0.0), (3.5, 95.0), (4.0, 95.0), (5.5, 0.0), (10, 0.0)]
    reps, _ = run_blocks(SquatRepCounter(), synthetic(trunk))
    assert reps == []


def press_set(n: int, arch: float = 4.0) -> tuple[list, list]:
    """Unrack dip, then ``n`` presses: lumbar extension of ``arch`` degrees (pelvis still)."""
    trunk = [(0.0, 0.0), (3.0, 0.0), (3.6, 11.0), (4.2, 0.0), (6.0, 0.0)]
    pelvis = [(0.0, 0.0), (3.0, 0.0), (3.6, 8.0), (4.2, 0.0), (6.0, 0.0)]
    t = 6.0
    for _ in range(n):
        trunk += [(t + 1.4, -arch), (t + 2.0, -arch), (t + 3.5, 0.0), (t + 4.5, 0.0)]
        pelvis += [(t + 4.5, 0.0)]
        t += 4.5
    trunk += [(t + 20.0, 0.0)]
    pelvis += [(t + 20.0, 0.0)]
    return trunk, pelvis


@pytest.mark.parametrize("n", [1, 4])
def test_presses_count_from_the_back_arching_and_the_unrack_dip_does_not(n: int) -> None:
    reps, fins = run_blocks(PressRepCounter(), synthetic(*press_set(n)))
    assert [r.rep for r in reps] == list(range(1, n + 1))
    assert len(fins) == 1
    assert [p[0] for p in reps[0].phases] == ["concentric", "lockout", "eccentric"]
    assert reps[0].t_start == pytest.approx(6.0, abs=0.3)
    assert reps[0].t_end == pytest.approx(9.5, abs=0.3)


def test_an_arch_of_one_degree_is_not_a_press() -> None:
    reps, _ = run_blocks(PressRepCounter(), synthetic(*press_set(3, arch=1.0)))
    assert reps == []


def test_arching_while_walking_is_not_a_press() -> None:
    # The same arches, but the upper back's accelerometer shakes by ±0.25 g (steps at 1.8 Hz):
    # a press holds the bar overhead with a still back.
    block = synthetic(*press_set(3))
    shake = G * (1.0 + 0.25 * np.sin(2 * np.pi * 1.8 * block.t))
    walking = BackAngles(*(getattr(block, f) for f in FIELDS[:5]), shake)
    reps, _ = run_blocks(PressRepCounter(), walking)
    assert reps == []


def test_samples_out_of_order_are_skipped_not_fatal() -> None:
    block = synthetic(squat_set(2))
    t = block.t.copy()
    t[100] = t[99]  # a duplicate timestamp
    t[200] = np.nan
    bad = BackAngles(t, *(getattr(block, f) for f in FIELDS[1:]))
    counter = SquatRepCounter()
    upd = counter.update(bad)
    assert upd.candidate.shape == t.shape
    assert [r.rep for r in upd.reps] == [1, 2]
    again = counter.update(BackAngles(*(np.asarray(getattr(bad, f))[:10] for f in FIELDS)))
    assert again.reps == [] and again.candidate.shape == (10,)


# --- against the simulator ------------------------------------------------------------------------
def truth_reps(a, set_no: int) -> list:
    return [r for r in a.reps if r.set == set_no]


def count_sets(exercise: str, rate: float, seeds=SEEDS, transform=None) -> list[str]:
    """Feed every set of every seed; return a line per set whose count is wrong."""
    wrong = []
    for seed in seeds:
        a = athlete(exercise, seed)
        s = stream(exercise, seed, rate)
        if transform is not None:
            s = transform(s, seed)
        for set_no, lo, hi in set_windows(a, s["t"]):
            fed = feed(counter_for(exercise), s, lo, hi, block_s=1.0)
            n = len(truth_reps(a, set_no))
            if len(fed.reps) != n:
                wrong.append(f"seed {seed} set {set_no}: {len(fed.reps)} counted, {n} done")
    return wrong


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_rep_of_every_set_is_counted_once(exercise: str) -> None:
    # Goal met: exact for all 20 sets of each exercise, also for the press (every simulated
    # athlete arches or leans back at least 2° while pressing; see the press counter).
    assert count_sets(exercise, 100.0) == []


@pytest.mark.parametrize("exercise", EXERCISES)
@pytest.mark.parametrize("rate", [12.5, 25.0, 60.0, 200.0])
def test_counts_are_exact_at_any_rate(exercise: str, rate: float) -> None:
    assert count_sets(exercise, rate, seeds=range(0, 10, 2)) == []


@pytest.mark.parametrize("exercise", EXERCISES)
def test_noisy_biased_angles_still_count_right(exercise: str) -> None:
    # Each angle gets white Gaussian noise of 2° (per sample, 100 Hz) and a 1° bias.
    assert count_sets(exercise, 100.0, transform=lambda s, seed: noisy(s, seed)) == []


@pytest.mark.parametrize("exercise", EXERCISES)
def test_rep_windows_overlap_truth_and_metrics_are_sane(exercise: str) -> None:
    for seed in SEEDS:
        a = athlete(exercise, seed)
        s = stream(exercise, seed, 100.0)
        for set_no, lo, hi in set_windows(a, s["t"]):
            fed = feed(counter_for(exercise), s, lo, hi)
            truth = truth_reps(a, set_no)
            assert len(fed.reps) == len(truth)
            for got, tr in zip(fed.reps, truth, strict=True):
                # One-to-one and in order: each window overlaps its own truth rep only.
                assert got.t_start < tr.t_end and tr.t_start < got.t_end
                others = [o for o in a.reps if o is not tr]
                assert not any(got.t_start < o.t_end and o.t_start < got.t_end for o in others)
                assert got.duration_s == pytest.approx(tr.t_end - tr.t_start, rel=0.2)
                assert got.eccentric_s > 0 and got.concentric_s > 0
                bounds = [b for _, t0, t1 in got.phases for b in (t0, t1)]
                assert bounds == sorted(bounds)
                assert bounds[0] == got.t_start and bounds[-1] == got.t_end
                # Peak flexion is the truth's inside our (slightly narrower) window.
                assert got.peak_flexion_deg <= tr.peak_flexion_deg + 0.5
                assert got.flexion_at_liftoff_deg is None
                # (A press may hardly move the trunk: the lumbar arch can be the whole signal.)
                assert got.trunk_range_deg > (20.0 if exercise != "press" else 0.0)


@pytest.mark.parametrize(("exercise", "hold"), [("squat", "bottom"), ("press", "lockout")])
def test_the_hold_phase_follows_the_truth(exercise: str, hold: str) -> None:
    # The squat's trunk stops moving ~15 % of the descent before the hips stop going down (and
    # starts ~15 % into the rise): the back's angles cannot see those last centimetres, hence
    # the tail of a few tenths of a second.
    errors = []
    for seed in SEEDS:
        a = athlete(exercise, seed)
        s = stream(exercise, seed, 100.0)
        for set_no, lo, hi in set_windows(a, s["t"]):
            fed = feed(counter_for(exercise), s, lo, hi)
            for got, tr in zip(fed.reps, truth_reps(a, set_no), strict=True):
                truth = {p.kind: (p.t_start, p.t_end) for p in tr.phases}
                ours = {name: (t0, t1) for name, t0, t1 in got.phases}
                errors += [abs(ours[hold][k] - truth[hold][k]) for k in (0, 1)]
    assert np.median(errors) < 0.1
    assert np.percentile(errors, 90) < 0.4
    assert max(errors) < 0.8


def test_each_jump_rep_carries_its_landing() -> None:
    for seed in SEEDS:
        a = athlete("jumping_chinup", seed)
        s = stream("jumping_chinup", seed, 100.0)
        for set_no, lo, hi in set_windows(a, s["t"]):
            fed = feed(JumpRepCounter(), s, lo, hi)
            truth = [lnd for lnd in a.landings if lnd.set == set_no]
            assert [lnd.rep for lnd in fed.landings] == [r.rep for r in fed.reps]
            for rep, lnd, tr in zip(fed.reps, fed.landings, truth, strict=True):
                assert rep.peak_landing_acc_g == lnd.peak_acc_g
                assert rep.t_start < lnd.t_impact < rep.t_end
                assert [p[0] for p in rep.phases] == [
                    "jump",
                    "hang",
                    "flight",
                    "landing",
                    "absorption",
                    "recover",
                ]
                flight = rep.phases[2]
                assert flight[1] == pytest.approx(tr.t_release + 0.02, abs=0.03)
                # Peak true flexion over the same 400 ms after the impact (1 ms grid); the spine
                # flexes at up to 100 °/s, 1° per 10 ms sample.
                grid = lnd.t_impact + np.arange(0.0, 0.4, 0.001)
                true_flex = float(a.lumbar_angles_deg(grid)[:, 0].max())
                assert rep.landing_flexion_deg == pytest.approx(true_flex, abs=1.0)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_set_ends_by_itself_and_the_rest_after_it_counts_nothing(exercise: str) -> None:
    for seed in SEEDS:
        a = athlete(exercise, seed)
        s = stream(exercise, seed, 100.0)
        pause = counter_for(exercise).max_pause_s  # type: ignore[attr-defined]
        for k, (set_no, lo, hi) in enumerate(set_windows(a, s["t"])):
            fed = feed(counter_for(exercise), s, lo, hi)
            last_rep_end = truth_reps(a, set_no)[-1].t_end
            if not fed.finished_at:
                # Only the last set, when the session ends before the pause runs out.
                assert s["t"][hi - 1] < last_rep_end + pause
                continue
            (t_fin,) = fed.finished_at
            assert last_rep_end < t_fin < last_rep_end + pause + 0.5
            # Nothing after the end counts, and the samples from `stop` on are not the set's.
            assert all(r.t_end < last_rep_end + 0.5 for r in fed.reps)
            assert s["t"][fed.stop[0]] >= t_fin
            if exercise != "jumping_chinup":
                # Barbell sets end before the athlete does anything else (the jumping chin-up
                # pause is longer than the sim's first rest movements; they make no landings).
                t_set_end = a.sets[k].t_end
                rest = [x for x in a.activities if t_set_end <= x.t_start < s["t"][hi - 1]]
                assert not rest or t_fin < rest[0].t_start, f"seed {seed} set {set_no}"


@pytest.mark.parametrize("exercise", (*EXERCISES, "deadlift"))
def test_with_the_planned_reps_the_set_ends_as_the_last_rep_is_done(exercise: str) -> None:
    # Nothing the athlete does after the last planned rep (stand up, walk off, bend for a plate)
    # can be counted or alarmed as part of the set: the set is over before it starts.
    for seed in SEEDS:
        a = athlete(exercise, seed)
        s = stream(exercise, seed, 100.0)
        for k, (set_no, lo, hi) in enumerate(set_windows(a, s["t"])):
            truth = truth_reps(a, set_no)
            fed = feed(counter_for(exercise, target_reps=len(truth)), s, lo, hi)
            assert len(fed.reps) == len(truth), f"seed {seed} set {set_no}"
            (t_fin,) = fed.finished_at
            assert s["t"][fed.stop[0] - 1] <= t_fin
            # Decided around the last rep's true end (a jump is "upright again" a little before
            # the truth says), at most 2 s later — or, for the deadlift, once the athlete is up
            # again, which the truth still counts as part of the set.
            assert truth[-1].t_end - 0.5 < t_fin <= max(truth[-1].t_end + 2.0, a.sets[k].t_end)
            rest = [x for x in a.activities if a.sets[k].t_end <= x.t_start]
            assert not rest or t_fin < rest[0].t_start, f"seed {seed} set {set_no}"


def test_counter_for_rejects_a_plan_of_no_reps() -> None:
    with pytest.raises(ValueError, match="target_reps"):
        counter_for("squat", target_reps=0)


def test_rest_periods_give_press_and_jump_counters_nothing() -> None:
    # A fresh counter running through every rest of whole LIFTMOR sessions (walking, sitting,
    # turning, bending to pick things up, changing plates): no press, no jump.
    for seed in (0, 1):
        a = athlete("liftmor", seed)
        s = stream("liftmor", seed, 25.0)
        t = s["t"]
        for t0, t1 in rests(a):
            lo, hi = np.searchsorted(t, t0), np.searchsorted(t, t1)
            for exercise in ("press", "jumping_chinup"):
                assert feed(counter_for(exercise), s, lo, hi, block_s=2.0).reps == []


def rests(a) -> list[tuple[float, float]]:
    edges = [(0.0, a.sets[0].t_input)]
    edges += [(a.sets[k].t_end, a.sets[k + 1].t_input) for k in range(len(a.sets) - 1)]
    return edges


def test_a_squat_counter_left_running_in_rests_counts_only_shallow_pick_up_bends() -> None:
    # Sitting, walking, turning, changing plates and the calibration bend never count. Bending
    # to pick something up with the trunk less than 75° forward looks like a squat to the back
    # sensors and does count; the counter only runs during a set, which ends 5 s after its
    # last rep (previous test), so this is what a supervisor who never ends a set would see.
    picks = counted = 0
    for seed in (0, 1):
        a = athlete("liftmor", seed)
        s = stream("liftmor", seed, 25.0)
        t = s["t"]
        for t0, t1 in rests(a):
            lo, hi = np.searchsorted(t, t0), np.searchsorted(t, t1)
            fed = feed(SquatRepCounter(max_pause_s=1e9), s, lo, hi, block_s=2.0)
            picks += sum(1 for x in a.activities if x.kind == "pick_up" and t0 <= x.t_start < t1)
            for rep in fed.reps:
                kinds = {x.kind for x in a.activities if x.t_start - 1 < rep.t_start < x.t_end}
                assert kinds == {"pick_up"}, kinds
                counted += 1
    assert counted < 0.6 * picks


# --- block partition invariance, gaps -------------------------------------------------------------
def with_gap(exercise: str, seed: int, rate: float, gap_s: float = 1.5) -> dict:
    """The first set (and its rest) with ``gap_s`` of samples missing mid-set."""
    a = athlete(exercise, seed)
    s = stream(exercise, seed, rate)
    t = s["t"]
    first = a.sets[0]
    mid = first.t_input + 0.6 * (first.t_end - first.t_input)
    s = cut(s, (t >= first.t_input) & (t < a.sets[1].t_input) & ((t < mid) | (t > mid + gap_s)))
    return s


def same(a: Fed, b: Fed) -> bool:
    return (
        np.array_equal(a.candidates, b.candidates)
        and a.reps == b.reps
        and a.landings == b.landings
        and a.finished_at == b.finished_at
        and a.stop == b.stop
    )


@pytest.mark.parametrize("exercise", [*EXERCISES, "deadlift"])
@pytest.mark.parametrize("rate", [12.5, 100.0])
def test_any_block_sizes_give_identical_output(exercise: str, rate: float) -> None:
    s = with_gap(exercise, 3, rate)
    whole = feed(counter_for(exercise), s, sizes=[s["t"].size])
    assert whole.reps and whole.finished_at
    rng = np.random.default_rng(7)
    for _ in range(3):
        sizes = [int(n) for n in rng.integers(1, 40, 200)]
        assert same(feed(counter_for(exercise), s, sizes=sizes), whole)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_a_gap_between_reps_does_not_change_the_count(exercise: str) -> None:
    for seed in range(4):
        a = athlete(exercise, seed)
        s = stream(exercise, seed, 100.0)
        t = s["t"]
        reps = truth_reps(a, 1)
        # Drop 0.4 s of samples between reps 2 and 3 (standing), and 3 s of the rest after.
        pause = (reps[1].t_end + reps[2].t_start) / 2
        after = a.sets[0].t_end + 5.0
        keep = ((t < pause - 0.2) | (t > pause + 0.2)) & ((t < after) | (t > after + 3.0))
        g = cut(s, keep)
        (_, lo, hi), _ = set_windows(a, g["t"])
        fed = feed(counter_for(exercise), g, lo, hi)
        assert len(fed.reps) == len(reps)


# --- the deadlift wrapper -------------------------------------------------------------------------
def test_the_deadlift_wrapper_counts_what_the_deadlift_counter_counts() -> None:
    for seed in range(4):
        a = athlete("deadlift", seed)
        s = stream("deadlift", seed, 100.0)
        for _, lo, hi in set_windows(a, s["t"]):
            fed = feed(DeadliftCounter(), s, lo, hi)
            inner = DeadliftRepCounter()
            windows = inner.update(s["t"][lo:hi], s["trunk_deg"][lo:hi], s["flexion_deg"][lo:hi])
            assert [(r.t_start, r.t_end, r.peak_flexion_deg) for r in fed.reps] == [
                (w.t_start, w.t_end, w.peak_flexion_deg) for w in windows.reps
            ]
            for got in fed.reps:
                assert got.flexion_at_liftoff_deg is not None
                at = float(np.interp(got.t_start, s["t"], s["flexion_deg"]))
                assert got.flexion_at_liftoff_deg == pytest.approx(at, abs=1e-6)
                assert [p[0] for p in got.phases] == ["concentric", "lockout", "eccentric"]
                assert got.peak_landing_acc_g is None and got.landing_flexion_deg is None
