"""Session time for sensors that send no device clock.

Some streams (MetaMotion raw acc/gyro without an accounter, WitMotion) carry no timestamp, only
samples at a nominal rate. Their sample times are ``offset + index / rate``. Every packet bounds
the offset from above: its last sample cannot have been received before it was measured, so
``host_time - index_last / rate >= offset``. The lower envelope of that bound over a sliding
window is the estimate: it ignores BLE latency and jitter (which only ever add delay) and still
follows slow drift between the device's crystal and the host clock.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from liftguard._types import FloatArray

__all__ = ["HostClockSync"]


class HostClockSync:
    """Stamps samples of one nominal-rate stream with session time.

    Args:
        rate_hz: nominal sample rate in Hz.
        window_s: how far back (host seconds) the offset's lower envelope looks; longer
            rejects more jitter, shorter follows drift faster.
        gap_s: a packet arriving this much later than its samples could have been measured
            means samples were lost in between; the index is moved on so that the samples
            after a gap land at their true time instead of being squeezed against the past.
    """

    def __init__(self, rate_hz: float, *, window_s: float = 10.0, gap_s: float = 0.25) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.window_s = float(window_s)
        self.gap_s = float(gap_s)
        self._next_index = 0
        self._bounds: deque[tuple[float, float]] = deque()  # (host_time, bound), bound increasing
        self._last_t: float | None = None
        #: How many gaps (lost samples) were detected.
        self.gaps = 0
        #: Samples skipped over because of gaps.
        self.lost_samples = 0

    @property
    def offset(self) -> float | None:
        """Current estimate of the session time of sample index 0, in seconds."""
        return self._bounds[0][1] if self._bounds else None

    def stamp(self, host_time: float, n: int) -> FloatArray:
        """Session times of ``n`` samples whose last one arrived at ``host_time``.

        Returns:
            ``(n,)`` float64 seconds, strictly increasing across calls.
        """
        if n <= 0:
            return np.zeros(0)
        period = 1.0 / self.rate_hz
        offset = self.offset
        if offset is not None:
            measured_by = offset + (self._next_index + n - 1) * period
            late = host_time - measured_by
            if late > self.gap_s:
                skipped = int(np.floor(late * self.rate_hz))
                self._next_index += skipped
                self.gaps += 1
                self.lost_samples += skipped
        last_index = self._next_index + n - 1
        self._push_bound(host_time, host_time - last_index * period)
        offset = self._bounds[0][1]
        t: FloatArray = offset + (self._next_index + np.arange(n, dtype=np.float64)) * period
        if self._last_t is not None and t[0] <= self._last_t:
            # The offset estimate just fell (a packet with less latency than any before it):
            # keep time monotonic by starting half a period after the previous sample.
            t = t + (self._last_t + 0.5 * period - t[0])
        self._next_index += n
        self._last_t = float(t[-1])
        return t

    def _push_bound(self, host_time: float, bound: float) -> None:
        # Monotonic deque: the front is always the minimum bound inside the window.
        while self._bounds and self._bounds[-1][1] >= bound:
            self._bounds.pop()
        self._bounds.append((host_time, bound))
        while self._bounds[0][0] < host_time - self.window_s and len(self._bounds) > 1:
            self._bounds.popleft()
