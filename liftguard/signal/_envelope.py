"""The sliding lower envelope of clock bounds, for a whole run of packets at once.

Both clock syncs keep, packet by packet, a monotonic deque whose front is the smallest bound
received within the last ``window`` host seconds. Replay hands them thousands of packets at a
time; this module computes the same fronts for all of them with array operations (a sparse
table of minima) and rebuilds the deque the per-packet loop would have left, so the two paths
agree to the last bit (a minimum is one of its inputs, never a new rounding).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from liftguard._types import FloatArray

#: Runs shorter than this go through the per-packet loop: array set-up costs more than it saves.
VECTOR_MIN_PACKETS = 24


def ordered(hosts: FloatArray, before: deque[tuple[float, float]]) -> bool:
    """True if ``hosts`` (s) are finite, non-decreasing and not before the deque's last.

    The envelope's windows are searched by host time; an out-of-order clock (never seen from
    a monotonic host clock, but a recording could be edited) takes the per-packet loop.
    """
    if not np.all(np.isfinite(hosts)) or np.any(np.diff(hosts) < 0):
        return False
    return not before or hosts[0] >= before[-1][0]


def windowed_min(hosts: FloatArray, bounds: FloatArray, first: int, window_s: float) -> FloatArray:
    """For each position ``i >= first``, the minimum of ``bounds[j]`` over ``j <= i`` with
    ``hosts[j] >= hosts[i] - window_s``.

    Args:
        hosts: ``(N,)`` host seconds, non-decreasing.
        bounds: ``(N,)`` the bounds.
        first: where the queries start (the positions before it are the carried-over deque).
        window_s: how far back the window reaches, seconds.

    Returns:
        ``(N - first,)`` the minima.
    """
    n = hosts.size
    hi = np.arange(first, n)
    lo = np.searchsorted(hosts, hosts[first:] - window_s, side="left")
    length = hi - lo + 1
    # Sparse table: level k holds the minimum of each run of 2**k bounds.
    levels = [bounds]
    while (1 << len(levels)) <= int(length.max()):
        prev, step = levels[-1], 1 << (len(levels) - 1)
        levels.append(np.minimum(prev[:-step], prev[step:]))
    # floor(log2(length)), exact: the binary exponent
    exp = np.frexp(length.astype(np.float64))[1].astype(np.int64) - 1
    # Two runs of 2**exp cover [lo, hi]. Queries share a few levels (mostly the full window's):
    # one gather per level.
    out: FloatArray = np.empty(n - first)
    for k in range(int(exp.min()), int(exp.max()) + 1):
        q = exp == k
        if not q.any():
            continue
        run_min = levels[k]
        out[q] = np.minimum(run_min[lo[q]], run_min[hi[q] - (1 << k) + 1])
    return out


def deque_after(
    hosts: FloatArray, bounds: FloatArray, last: int, window_s: float
) -> deque[tuple[float, float]]:
    """The deque the per-packet loop holds after pushing position ``last``.

    It keeps, within the window of ``hosts[last]``, every bound smaller than all bounds pushed
    after it (a later bound that is smaller or equal pops it from the back).
    """
    lo = int(np.searchsorted(hosts[: last + 1], hosts[last] - window_s, side="left"))
    seg_h, seg_b = hosts[lo : last + 1], bounds[lo : last + 1]
    later_min = np.minimum.accumulate(seg_b[::-1])[::-1]
    keep = np.ones(seg_b.size, dtype=bool)
    keep[:-1] = seg_b[:-1] < later_min[1:]
    return deque(zip(seg_h[keep].tolist(), seg_b[keep].tolist(), strict=True))
