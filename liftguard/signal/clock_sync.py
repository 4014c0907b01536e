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
from liftguard.signal._envelope import VECTOR_MIN_PACKETS, deque_after, ordered, windowed_min
from liftguard.signal._history import first_true

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
        hosts = np.asarray(host_times, dtype=np.float64)[keep]
        sizes = np.asarray(counts, dtype=np.int64)[keep]
        m = sizes.size
        if m == 0:
            return np.zeros(0)
        starts = np.empty(m)
        vector = m >= VECTOR_MIN_PACKETS and ordered(hosts, self._bounds)
        i = 0
        while i < m:
            if vector and m - i >= VECTOR_MIN_PACKETS:
                # Array operations up to the first packet that needs a decision (a gap, or a
                # fall of the offset estimate), which the loop then takes.
                done = self._run(hosts[i:], sizes[i:], starts[i:])
                i += done
                if i == m:
                    break
                end = i + 1
            else:
                end = m
            starts[i:end] = self._loop(hosts[i:end].tolist(), sizes[i:end].tolist())
            i = end
        within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        t: FloatArray = np.repeat(starts, sizes) + within * (1.0 / self.rate_hz)
        return t

    def _loop(self, hosts: list[float], ns: list[int]) -> list[float]:
        """The reference: one packet at a time, plain floats (the live per-notification cost)."""
        period = 1.0 / self.rate_hz
        bounds = self._bounds
        window, gap_s, rate = self.window_s, self.gap_s, self.rate_hz
        index, last_t = self._next_index, self._last_t
        starts: list[float] = []
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
        return starts

    def _run(self, hosts: FloatArray, ns: npt.NDArray[np.int64], starts: FloatArray) -> int:
        """:meth:`_loop`'s arithmetic on arrays, for the leading packets that need no decision.

        Writes their first-sample times into ``starts`` and returns how many there were.
        """
        period = 1.0 / self.rate_hz
        prior = self._bounds
        index = self._next_index + np.concatenate(([0], np.cumsum(ns[:-1])))
        last_index = index + ns - 1
        bound = hosts - last_index * period
        all_h = np.concatenate([[h for h, _ in prior], hosts])
        all_b = np.concatenate([[b for _, b in prior], bound])
        env = windowed_min(all_h, all_b, len(prior), self.window_s)
        # A gap: the packet came later than its samples could have been measured, judged
        # against the envelope before it (none before the first packet ever).
        env_before = np.concatenate(([prior[0][1] if prior else np.inf], env[:-1]))
        late = hosts - (env_before + last_index * period)
        t0 = env + index * period
        prev_last = np.concatenate(
            ([-np.inf if self._last_t is None else self._last_t], (t0 + (ns - 1) * period)[:-1])
        )
        done = min(first_true(late > self.gap_s), first_true(t0 <= prev_last))
        if done == 0:
            return 0
        starts[:done] = t0[:done]
        self._bounds = deque_after(all_h, all_b, len(prior) + done - 1, self.window_s)
        self._next_index = int(index[done - 1] + ns[done - 1])
        self._last_t = float(t0[done - 1] + (ns[done - 1] - 1) * period)
        return done


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
        hosts = np.asarray(host_times, dtype=np.float64)[keep]
        sizes = np.asarray(counts, dtype=np.int64)[keep]
        m = sizes.size
        if m == 0:
            return np.zeros(0)
        device = np.asarray(t_device, dtype=np.float64)
        ends = np.cumsum(sizes)
        first_dev, last_dev = device[ends - sizes], device[ends - 1]
        offsets = np.empty(m)
        vector = m >= VECTOR_MIN_PACKETS and ordered(hosts, self._bounds)
        i = 0
        while i < m:
            if vector and m - i >= VECTOR_MIN_PACKETS:
                i += self._run(hosts[i:], first_dev[i:], last_dev[i:], offsets[i:])
                if i == m:
                    break
                end = i + 1
            else:
                end = m
            offsets[i:end] = self._loop(
                hosts[i:end].tolist(), first_dev[i:end].tolist(), last_dev[i:end].tolist()
            )
            i = end
        t: FloatArray = device + np.repeat(offsets, sizes)
        return t

    def _loop(self, hosts: list[float], first: list[float], last: list[float]) -> list[float]:
        """The reference: one packet at a time (first and last device second of each)."""
        bounds, window, last_t = self._bounds, self.window_s, self._last_t
        offsets: list[float] = []
        for host_time, d0, d1 in zip(hosts, first, last, strict=True):
            bound = host_time - d1
            while bounds and bounds[-1][1] >= bound:
                bounds.pop()
            bounds.append((host_time, bound))
            while bounds[0][0] < host_time - window and len(bounds) > 1:
                bounds.popleft()
            offset = bounds[0][1]
            if last_t is not None and d0 + offset <= last_t:
                # The offset estimate fell (a packet faster than any before it): shift this
                # packet just past the previous sample rather than move time backwards.
                offset = last_t + 1e-6 - d0
            offsets.append(offset)
            last_t = d1 + offset
        self._last_t = last_t
        return offsets

    def _run(
        self, hosts: FloatArray, first: FloatArray, last: FloatArray, offsets: FloatArray
    ) -> int:
        """:meth:`_loop` on arrays for the leading packets whose offset did not fall.

        Writes their offsets into ``offsets`` and returns how many there were.
        """
        prior = self._bounds
        bound = hosts - last
        all_h = np.concatenate([[h for h, _ in prior], hosts])
        all_b = np.concatenate([[b for _, b in prior], bound])
        env = windowed_min(all_h, all_b, len(prior), self.window_s)
        prev_last = np.concatenate(
            ([-np.inf if self._last_t is None else self._last_t], (last + env)[:-1])
        )
        done = first_true(first + env <= prev_last)
        if done == 0:
            return 0
        offsets[:done] = env[:done]
        self._bounds = deque_after(all_h, all_b, len(prior) + done - 1, self.window_s)
        self._last_t = float(last[done - 1] + env[done - 1])
        return done
