"""The standing accelerometer-offset learner: its vectorised window statistics and learning
agree, bit for bit, with the plain window-by-window rule, however the stream is cut."""

from __future__ import annotations

import numpy as np
import pytest

from liftguard.signal.orientation import (
    GRAVITY,
    _by_sample,
    _norm_spread,
    _spread,
    _StandingAccOffset,
)

RATE = 100.0


def _stream(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Still stretches (some tilted, one implausible) and moving ones, with sensor noise."""
    rng = np.random.default_rng(seed)
    acc = np.tile([0.3, -0.2, GRAVITY + 0.4], (n, 1)) + rng.normal(0, 0.02, (n, 3))
    gyr = rng.normal(0, 0.005, (n, 3))
    k = n // 8
    acc[k : 2 * k] += rng.normal(0, 2.0, (k, 3))  # moving
    gyr[3 * k : 4 * k] += 0.5  # turning
    acc[4 * k : 5 * k] = [GRAVITY * np.sin(0.5), 0.0, GRAVITY * np.cos(0.5)]  # tilted, still
    acc[5 * k : 6 * k] *= 1.3  # still, implausible norm
    return acc, gyr


def _norm(v: np.ndarray) -> float:
    # As a row of a batch: a lone vector's norm is a BLAS dot product, rounded differently.
    return float(np.linalg.norm(v[None], axis=1)[0])


class _Reference:
    """The rule written window by window, the way it reads in the docstring."""

    def __init__(self, rate_hz: float) -> None:
        self.learner = _StandingAccOffset(rate_hz)
        self.acc = np.zeros((0, 3))
        self.gyr = np.zeros((0, 3))

    def feed(self, acc: np.ndarray, gyr: np.ndarray) -> tuple[np.ndarray, int | None]:
        lr, size = self.learner, self.learner.size
        held = self.acc.shape[0]
        self.acc, self.gyr = np.concatenate([self.acc, acc]), np.concatenate([self.gyr, gyr])
        offsets = np.full(acc.shape[0], lr.offset)
        moved = None
        while self.acc.shape[0] >= size:
            a, g = self.acc[:size], self.gyr[:size]
            self.acc, self.gyr = self.acc[size:], self.gyr[size:]
            end = size - held  # where this window closes in the block
            held -= size
            g_mean, a_mean = g.mean(axis=0), a.mean(axis=0)
            if (
                _norm(g_mean) > lr.GYR_MEAN
                or np.abs(g - g_mean).max() > lr.GYR_SPREAD
                or np.linalg.norm(a - a_mean, axis=1).max() > lr.ACC_SPREAD
            ):
                moved = end if moved is None else moved
                continue
            norm = _norm(a_mean)
            direction = a_mean / norm
            if abs(norm - GRAVITY) > lr.LIMIT:
                continue
            if lr.vertical is None:
                lr.vertical = direction
            elif float(direction @ lr.vertical) < lr._cos_cone:
                continue
            lr._windows = min(lr._windows + 1, lr.MAX_WINDOWS)
            lr.offset += (norm - GRAVITY - lr.offset) / lr._windows
            offsets[end:] = lr.offset
        return offsets, moved


@pytest.mark.parametrize("cuts", [[1], [7, 1, 130], [1000], [4000]])
def test_feed_agrees_with_the_window_by_window_rule(cuts: list[int]) -> None:
    acc, gyr = _stream(4000, seed=len(cuts))
    ref, fast = _Reference(RATE), _StandingAccOffset(RATE)
    i = k = 0
    while i < acc.shape[0]:
        j = min(i + cuts[k % len(cuts)], acc.shape[0])
        want = ref.feed(acc[i:j], gyr[i:j])
        got = fast.feed(acc[i:j], gyr[i:j])
        assert np.array_equal(got[0], want[0]) and got[1] == want[1]
        i, k = j, k + 1
    assert fast.offset == ref.learner.offset and fast.offset != 0.0
    assert np.array_equal(fast.vector, ref.learner.vector)


@pytest.mark.parametrize("whole", [1, 2, 37])
def test_window_statistics_are_numpys_bit_for_bit(whole: int) -> None:
    rng = np.random.default_rng(whole)
    size = 50
    x = rng.normal(0, 3.0, (whole * size, 3)) * rng.lognormal(0, 2.0, (whole * size, 1))
    by_window = x.reshape(whole, size, 3)
    t = _by_sample(x[:7], x[7:], whole)
    assert np.array_equal(t, by_window.transpose(1, 0, 2))
    mean = np.add.reduce(t, axis=0) / size
    assert np.array_equal(mean, by_window.mean(axis=1))
    assert np.array_equal(_spread(t, mean), np.abs(by_window - mean[:, None]).max(axis=(1, 2)))
    assert np.array_equal(
        _norm_spread(t, mean), np.linalg.norm(by_window - mean[:, None], axis=2).max(axis=1)
    )
