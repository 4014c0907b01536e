"""The history behind the rep counters: the same smoothed values however the stream is cut,
across buffer growth and trimming."""

from __future__ import annotations

import numpy as np
import pytest

from liftguard.signal._history import _FIELDS, History


def _stream(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.005, 0.02, n))
    angles = [np.cumsum(rng.normal(0, 0.5, n)) for _ in range(3)]
    acc = [9.81 + rng.normal(0, 0.3, n) for _ in range(2)]
    angles[2][n // 3] = np.nan  # one bad sample: filled from the last good one
    return [t, *angles, *acc]


@pytest.mark.parametrize("cuts", [[1], [1, 2, 3], [57], [400, 1, 1000]])
def test_history_is_the_same_whatever_the_blocks_and_after_trimming(cuts: list[int]) -> None:
    cols = _stream(6000, seed=len(cuts))
    whole, cut = History(keep_s=5.0), History(keep_s=5.0)
    whole.append(*cols)
    i = k = 0
    while i < 6000:
        j = min(6000, i + cuts[k % len(cuts)])
        assert cut.append(*(c[i:j] for c in cols)) == len(cut) - (j - i)
        i, k = j, k + 1
    assert len(cut) < 6000  # trimmed as it went (keep_s is 5 s of a ~75 s stream)
    tail = len(cut)
    for name in _FIELDS:
        assert np.array_equal(getattr(cut, name), getattr(whole, name)[-tail:]), name
    a, b = len(whole) - tail, len(whole)
    assert np.array_equal(cut.mean(tail - 200, tail, 0.3), whole.mean(b - 200, b, 0.3))
    assert np.isfinite(whole.flex).all() and a >= 0
