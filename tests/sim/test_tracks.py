"""Keyframe tracks: minimum-jerk interpolation through keyframes, evaluated in bulk."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.sim.tracks import QuinticTrack, SineSum, TrackBuilder, TrackBundle, min_jerk

keyframes = st.lists(
    st.tuples(
        st.floats(0.05, 3.0),  # gap to the previous keyframe, s
        st.floats(-100.0, 100.0),  # value
    ),
    min_size=1,
    max_size=12,
)


def _track(frames: list[tuple[float, float]]) -> QuinticTrack:
    times = np.cumsum([gap for gap, _ in frames])
    return QuinticTrack(times, [v for _, v in frames])


def test_min_jerk_blend_starts_and_ends_at_rest() -> None:
    ends = np.array([0.0, 1.0])
    np.testing.assert_allclose(min_jerk(ends), [0.0, 1.0])
    np.testing.assert_allclose(min_jerk(ends, 1), [0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(min_jerk(ends, 2), [0.0, 0.0], atol=1e-12)


@given(keyframes)
def test_track_passes_through_every_keyframe_at_rest(frames: list[tuple[float, float]]) -> None:
    track = _track(frames)
    np.testing.assert_allclose(track(track.times), track.values, rtol=0, atol=1e-9)
    np.testing.assert_allclose(track.evaluate(track.times, 1), 0.0, atol=1e-9)
    np.testing.assert_allclose(track.evaluate(track.times, 2), 0.0, atol=1e-9)


@given(keyframes)
def test_track_is_monotone_between_keyframes_so_keyframes_are_its_extrema(
    frames: list[tuple[float, float]],
) -> None:
    track = _track(frames)
    times, values = track.times, track.values
    t = np.linspace(times[0] - 1.0, times[-1] + 1.0, 2001)
    v = track(t)
    assert v.max() <= values.max() + 1e-9
    assert v.min() >= values.min() - 1e-9
    for k in range(len(times) - 1):
        seg = v[(t >= times[k]) & (t <= times[k + 1])]
        step = np.diff(seg) * np.sign(values[k + 1] - values[k])
        assert np.all(step >= -1e-9)


def test_track_is_c2_continuous_across_keyframes() -> None:
    track = QuinticTrack([0.0, 1.0, 1.5, 3.0], [0.0, 2.0, -1.0, 4.0])
    for knot in track.times[1:-1]:
        for order in (0, 1, 2):
            left = track.evaluate(np.array([knot - 1e-9]), order)
            right = track.evaluate(np.array([knot + 1e-9]), order)
            np.testing.assert_allclose(left, right, atol=1e-5)


def test_analytic_derivatives_match_finite_differences() -> None:
    track = QuinticTrack([0.0, 0.7, 2.0], [1.0, 3.0, -2.0])
    t = np.linspace(0.01, 1.99, 50)
    h = 1e-5
    fd1 = (track(t + h) - track(t - h)) / (2 * h)
    fd2 = (track(t + h) - 2 * track(t) + track(t - h)) / h**2
    np.testing.assert_allclose(track.evaluate(t, 1), fd1, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(track.evaluate(t, 2), fd2, rtol=1e-3, atol=1e-3)


def test_track_holds_its_end_values_outside_the_keyframes() -> None:
    track = QuinticTrack([1.0, 2.0], [5.0, 7.0])
    np.testing.assert_array_equal(track(np.array([-10.0, 0.99, 2.01, 1e6])), [5, 5, 7, 7])
    np.testing.assert_array_equal(QuinticTrack([3.0], [4.0])(np.array([0.0, 9.0])), [4, 4])


@pytest.mark.parametrize(
    ("times", "values"),
    [([0.0, 0.0], [1.0, 2.0]), ([1.0, 0.5], [1.0, 2.0]), ([0.0], [1.0, 2.0]), ([], [])],
)
def test_track_rejects_bad_keyframes(times: list[float], values: list[float]) -> None:
    with pytest.raises(ValueError):
        QuinticTrack(times, values)


@settings(max_examples=50)
@given(st.lists(keyframes, min_size=1, max_size=5), st.floats(-5.0, 5.0))
def test_bundle_equals_its_tracks_evaluated_one_by_one(
    channels: list[list[tuple[float, float]]], offset: float
) -> None:
    tracks = [_track(frames) for frames in channels]
    bundle = TrackBundle(tracks)
    end = max(tr.times[-1] for tr in tracks)
    t = np.linspace(offset - 2.0, end + 2.0, 997)
    expected = np.stack([tr(t) for tr in tracks])
    np.testing.assert_allclose(bundle(t), expected, rtol=0, atol=1e-9)


def test_builder_rests_until_a_move_starts() -> None:
    b = TrackBuilder(0.0)
    b.move(2.0, 3.0, 1.0)
    b.move(3.0, 4.0, 0.5)
    track = b.build()
    np.testing.assert_array_equal(track(np.array([0.0, 1.0, 1.999])), 0.0)
    assert track(np.array([3.0]))[0] == 1.0
    with pytest.raises(ValueError):
        b.move(3.5, 5.0, 2.0)  # starts before the last keyframe


def test_sine_sum_stays_inside_its_bound() -> None:
    sway = SineSum([[0.1, 0.2, 0.05]], [[0.13, 0.31, 0.57]], [[0.0, 1.0, 2.0]])
    v = sway(np.linspace(0.0, 300.0, 30001))
    assert v.shape == (30001, 1)
    assert np.abs(v).max() <= sway.bound[0]
    assert np.abs(v).max() > 0.5 * sway.bound[0]
