"""Session time for sensors that send no device clock.

Some streams (MetaMotion raw acc/gyro without an accounter, WitMotion) carry no timestamp, only
samples at a nominal rate. Their sample times are ``offset + index / rate``. Every packet bounds
the offset from above: its last sample cannot have been received before it was measured, so
``host_time - index_last / rate >= offset``. The lower envelope of that bound over a sliding
window is the estimate: it ignores BLE latency and jitter (which only ever add delay) and still
follows slow drift between the device's crystal and the host clock.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

from liftguard._types import FloatArray

__all__ = ["DeviceClockSync", "HostClockSync"]


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
        return self.stamp_packets(np.array([host_time]), np.array([n]))

    def stamp_packets(self, host_times: FloatArray, counts: npt.NDArray[np.int64]) -> FloatArray:
        """Session times for the samples completed by a run of packets, in arrival order.

        Stamping packets one by one or many at once gives the same times to the last bit: a
        replay may batch, and must still reproduce the live session.

        Args:
            host_times: ``(m,)`` host receive time of each packet, seconds.
            counts: ``(m,)`` samples each packet completed (0 for packets that completed none).

        Returns:
            ``(sum(counts),)`` float64 seconds, strictly increasing across calls.
        """
        keep = counts > 0
        hosts, ns = host_times[keep].tolist(), counts[keep].tolist()
        if not ns:
            return np.zeros(0)
        period = 1.0 / self.rate_hz
        bounds = self._bounds
        window, gap_s, rate = self.window_s, self.gap_s, self.rate_hz
        index, last_t = self._next_index, self._last_t
        starts: list[float] = []
        # A plain-float loop (one step per packet, no numpy inside): this is the per-packet
        # cost of every live notification and of replay.
        for host_time, n in zip(hosts, ns, strict=True):
            if bounds:
                late = host_time - (bounds[0][1] + (index + n - 1) * period)
                if late > gap_s:
                    skipped = math.floor(late * rate)
                    index += skipped
                    self.gaps += 1
                    self.lost_samples += skipped
            bound = host_time - (index + n - 1) * period
            # Monotonic deque: the front is always the minimum bound inside the window.
            while bounds and bounds[-1][1] >= bound:
                bounds.pop()
            bounds.append((host_time, bound))
            while bounds[0][0] < host_time - window and len(bounds) > 1:
                bounds.popleft()
            t0 = bounds[0][1] + index * period
            if last_t is not None and t0 <= last_t:
                # The offset estimate just fell (a packet with less latency than any before
                # it): keep time monotonic by starting half a period after the last sample.
                t0 = last_t + 0.5 * period
            starts.append(t0)
            index += n
            last_t = t0 + (n - 1) * period
        self._next_index, self._last_t = index, last_t
        sizes = np.asarray(ns, dtype=np.int64)
        within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        t: FloatArray = np.repeat(np.asarray(starts), sizes) + within * period
        return t


class DeviceClockSync:
    """Session time for streams that carry a device clock (Movella DOT's µs counter).

    ``session = device + offset``. Every packet bounds the offset from above — its last
    sample cannot have arrived before it was taken: ``host_time - device_time_last >= offset``
    — and the lower envelope of those bounds over a sliding window follows the crystal's
    drift against the host while ignoring BLE latency and jitter. Gaps need no detection:
    device time simply jumps over them. Resets and wraps of the counter are the unwrapper's
    job (the family's assembler); what arrives here is monotonic device seconds.

    Args:
        window_s: how far back (host seconds) the envelope looks.
    """

    def __init__(self, *, window_s: float = 10.0) -> None:
        self.window_s = float(window_s)
        self._bounds: deque[tuple[float, float]] = deque()
        self._last_t: float | None = None

    @property
    def offset(self) -> float | None:
        """Current estimate of ``session - device`` time, seconds."""
        return self._bounds[0][1] if self._bounds else None

    def stamp_packets(
        self, t_device: FloatArray, host_times: FloatArray, counts: npt.NDArray[np.int64]
    ) -> FloatArray:
        """Session times for the samples completed by a run of packets, in arrival order.

        Args:
            t_device: ``(sum(counts),)`` device seconds of every sample, monotonic.
            host_times: ``(m,)`` host receive time of each packet, seconds.
            counts: ``(m,)`` samples each packet completed.

        Returns:
            ``(sum(counts),)`` session seconds, strictly increasing across calls.
        """
        keep = counts > 0
        hosts, ns = host_times[keep].tolist(), counts[keep].tolist()
        if not ns:
            return np.zeros(0)
        device = t_device.tolist()
        bounds, window, last_t = self._bounds, self.window_s, self._last_t
        offsets: list[float] = []
        pos = 0
        for host_time, n in zip(hosts, ns, strict=True):
            bound = host_time - device[pos + n - 1]
            while bounds and bounds[-1][1] >= bound:
                bounds.pop()
            bounds.append((host_time, bound))
            while bounds[0][0] < host_time - window and len(bounds) > 1:
                bounds.popleft()
            offset = bounds[0][1]
            if last_t is not None and device[pos] + offset <= last_t:
                # The offset estimate fell (a packet faster than any before it): shift this
                # packet just past the previous sample rather than move time backwards.
                offset = last_t + 1e-6 - device[pos]
            offsets.append(offset)
            last_t = device[pos + n - 1] + offset
            pos += n
        self._last_t = last_t
        t: FloatArray = t_device + np.repeat(np.asarray(offsets), np.asarray(ns, dtype=np.int64))
        return t
