"""Deadlift rep counting from trunk inclination: what counts and what must not."""

from __future__ import annotations

import numpy as np
import pytest

from liftguard.signal.reps import DeadliftRepCounter

RATE = 100.0


def profile(points: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Piecewise-linear trunk inclination through (time, degrees) points, sampled at 100 Hz."""
    times, values = zip(*points, strict=True)
    t = np.arange(times[0], times[-1], 1 / RATE)
    return t, np.interp(t, times, values)


def a_set(reps: int, *, lockout: float = 1.0, start: float = 0.0) -> list[tuple[float, float]]:
    """Stand, set up to the bar, `reps` deadlifts, put the bar down, stand up and stay up."""
    pts = [(start, 0.0), (start + 2, 0.0), (start + 4, 45.0), (start + 5, 45.0)]
    t = start + 5
    for _ in range(reps):
        pts += [
            (t + 1.5, 0.0),
            (t + 1.5 + lockout, 0.0),
            (t + 3 + lockout, 45.0),
            (t + 4.5 + lockout, 45.0),
        ]
        t += 4.5 + lockout
    pts += [(t + 1.5, 0.0), (t + 20, 0.0)]
    return pts


def run(counter: DeadliftRepCounter, t: np.ndarray, trunk: np.ndarray, block: int = 7):
    reps, finished = [], []
    for i in range(0, t.size, block):
        upd = counter.update(t[i : i + block], trunk[i : i + block], trunk[i : i + block] * 0.3)
        reps += upd.reps
        if upd.finished_at is not None:
            finished.append(upd.finished_at)
    return reps, finished


@pytest.mark.parametrize("n", [1, 3, 5, 8])
@pytest.mark.parametrize("block", [1, 7, 100, 10_000])
def test_counts_every_rep_and_not_the_setup_or_final_stand_up(n: int, block: int) -> None:
    t, trunk = profile(a_set(n))
    reps, finished = run(DeadliftRepCounter(), t, trunk, block)
    assert [r.rep for r in reps] == list(range(1, n + 1))
    assert len(finished) == 1


def test_rep_window_runs_from_lift_off_to_the_bar_returning() -> None:
    t, trunk = profile(a_set(2))
    reps, _ = run(DeadliftRepCounter(), t, trunk)
    first = reps[0]
    # lift-off at 5 s (bottom pause ends); the trunk passes 25° on the way down at 8.17 s
    assert first.t_start == pytest.approx(5.0 + 2 / 45 * 1.5, abs=0.02)
    assert first.t_end == pytest.approx(6.5 + 1.0 + 25 / 45 * 1.5, abs=0.02)


def test_long_lockout_ends_the_set_instead_of_counting() -> None:
    t, trunk = profile(a_set(3, lockout=7.0))
    reps, finished = run(DeadliftRepCounter(max_lockout_s=6.0), t, trunk)
    assert reps == []
    assert finished == []  # nothing was counted, so the set has not "finished" either


def test_shallow_bends_below_the_down_threshold_do_not_count() -> None:
    pts = [(0, 0.0)]
    for k in range(10):
        pts += [(2 * k + 1, 20.0), (2 * k + 2, 0.0)]
    t, trunk = profile(pts)
    reps, _ = run(DeadliftRepCounter(), t, trunk)
    assert reps == []


def test_candidate_numbers_each_sample_with_the_rep_it_belongs_to() -> None:
    t, trunk = profile(a_set(3))
    counter = DeadliftRepCounter()
    upd = counter.update(t, trunk, trunk)
    ends = [r.t_end for r in upd.reps]
    assert upd.candidate[0] == 1
    assert upd.candidate[np.searchsorted(t, ends[0]) - 1] == 1
    assert upd.candidate[np.searchsorted(t, ends[0])] == 2
    assert upd.candidate[-1] == 4


def test_peak_flexion_is_the_maximum_inside_the_rep_window() -> None:
    t, trunk = profile(a_set(1))
    flexion = np.zeros_like(t)
    flexion[(t > 5.3) & (t < 5.6)] = 33.0  # inside rep 1 (early concentric)
    flexion[t < 4.0] = 50.0  # before lift-off: the setup, not the rep
    counter = DeadliftRepCounter()
    upd = counter.update(t, trunk, flexion)
    assert upd.reps[0].peak_flexion_deg == 33.0


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        DeadliftRepCounter(down_deg=10, up_deg=20)


def a_set_then_a_pick_up(reps: int, *, after_s: float = 2.5) -> list[tuple[float, float]]:
    """:func:`a_set`, but ``after_s`` after standing up the athlete bends to the floor (70°) to
    pick something up and stands again — sooner than the longest lockout."""
    pts = a_set(reps)[:-1]
    t_up = pts[-1][0]
    return [
        *pts,
        (t_up + after_s, 0.0),
        (t_up + after_s + 1.5, 70.0),
        (t_up + after_s + 2.5, 70.0),
        (t_up + after_s + 4.0, 0.0),
        (t_up + after_s + 20, 0.0),
    ]


@pytest.mark.parametrize("block", [1, 7, 10_000])
def test_standing_up_after_the_planned_reps_ends_the_set_before_a_pick_up(block: int) -> None:
    t, trunk = profile(a_set_then_a_pick_up(5))
    reps, finished = run(DeadliftRepCounter(target_reps=5), t, trunk, block)
    assert [r.rep for r in reps] == [1, 2, 3, 4, 5]
    # the final stand-up: 5 s setup + 5 reps of 5.5 s + the trunk passing 10° on the way up
    assert finished == [pytest.approx(5 + 5 * 5.5 + 1.5 * 35 / 45, abs=0.02)]


def test_without_a_plan_a_quick_pick_up_after_the_set_is_counted_as_a_rep() -> None:
    # Why the plan matters: the trunk alone cannot tell a stand-up from a lift, so the stand-up
    # followed by the bend becomes a sixth "rep".
    t, trunk = profile(a_set_then_a_pick_up(5))
    reps, _ = run(DeadliftRepCounter(), t, trunk)
    assert len(reps) == 6


def test_fewer_reps_than_planned_still_end_the_set_after_the_longest_lockout() -> None:
    t, trunk = profile(a_set(3))
    reps, finished = run(DeadliftRepCounter(target_reps=5), t, trunk)
    assert len(reps) == 3
    assert len(finished) == 1


def test_target_reps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="target_reps"):
        DeadliftRepCounter(target_reps=0)
