"""Fail loud: a sensor that is lost, silent, or saturating is a blind spot, and says so.

DESIGN safety invariant 2: "monitoring degraded" within 1 s of a sensor being lost, stale
(> 250 ms without data), clipping, or an athlete not calibrated. Silence must mean "all seen,
all safe".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from liftguard._types import FloatArray, IntArray

__all__ = ["CLIP_REPEAT_S", "RATE_TOLERANCE", "STALE_S", "DegradedKind", "SensorHealth"]

#: Seconds without a notification after which a connected sensor is stale.
STALE_S = 0.25
#: A saturating sensor alerts again at most this often (landings clip in bursts).
CLIP_REPEAT_S = 10.0
#: Samples arriving this much faster or slower than configured mean the sensor is not
#: streaming what we asked (wrong firmware setting, another app reconfigured it).
RATE_TOLERANCE = 0.1
#: How much arrival history the rate check looks at (seconds of host time).
RATE_WINDOW_S = 5.0
#: Runs of at least this many packets are judged with array operations.
VECTOR_MIN_PACKETS = 24


class DegradedKind:
    """The ``kind`` of a ``severity="degraded"`` alert."""

    LOST = "sensor_lost"
    STALE = "sensor_stale"
    CLIPPING = "sensor_clipping"
    RATE = "sensor_rate"
    UNCALIBRATED = "uncalibrated"
    CALIBRATION_FAILED = "calibration_failed"
    CALIBRATION_INVALID = "calibration_invalid"
    NO_SPINE = "no_spine_sensors"


@dataclass
class SensorHealth:
    """One sensor's link and data health, driven by packets, ticks and link news."""

    connected: bool = False
    last_host: float | None = None
    stale: bool = False
    last_clip_alert: float | None = None
    rate_hz: float = 0.0
    rate_alerted: bool = False
    _window_start: float | None = None
    _window_samples: int = 0

    def samples_arrived(self, host_time: float, n: int) -> float | None:
        """``n`` samples completed at ``host_time``; the measured rate (Hz) the first time it
        is off by more than :data:`RATE_TOLERANCE` over a full window, else ``None``.

        Consecutive windows of :data:`RATE_WINDOW_S`, restarted after a gap, so packets lost in
        a burst do not read as a slow sensor.
        """
        if self.rate_hz <= 0 or self.rate_alerted:
            return None
        if self._window_start is None:
            self._window_start, self._window_samples = host_time, 0
            return None
        self._window_samples += n
        span = host_time - self._window_start
        if span < RATE_WINDOW_S:
            return None
        measured = self._window_samples / span
        self._window_start, self._window_samples = host_time, 0
        if abs(measured / self.rate_hz - 1.0) > RATE_TOLERANCE:
            self.rate_alerted = True
            return measured
        return None

    def packets_arrived(
        self, host_times: Sequence[float] | FloatArray, counts: Sequence[int] | IntArray
    ) -> list[tuple[float, float | None]]:
        """:meth:`on_data` then, for packets that completed samples, :meth:`samples_arrived`,
        for a run of packets in arrival order (replay batches them; one tight loop instead of
        two method calls per notification).

        Returns:
            ``(host_time, None)`` where a stale episode ended and ``(host_time, measured
            rate)`` where the rate alert fires, in order.
        """
        if len(host_times) >= VECTOR_MIN_PACKETS:
            return self._packets_vector(
                np.asarray(host_times, dtype=np.float64), np.asarray(counts, dtype=np.int64)
            )
        if isinstance(host_times, np.ndarray):
            host_times = host_times.tolist()
        if isinstance(counts, np.ndarray):
            counts = counts.tolist()
        out: list[tuple[float, float | None]] = []
        last, start, got = self.last_host, self._window_start, self._window_samples
        check = self.rate_hz > 0 and not self.rate_alerted
        for h, n in zip(host_times, counts, strict=True):
            if last is not None and h - last > STALE_S:
                start = None  # a gap: the rate is measured afresh after it
            last = h
            if self.stale:
                self.stale = False
                out.append((h, None))
            if not (n and check):
                continue
            if start is None:
                start, got = h, 0
                continue
            got += n
            span = h - start
            if span < RATE_WINDOW_S:
                continue
            measured = got / span
            start, got = h, 0
            if abs(measured / self.rate_hz - 1.0) > RATE_TOLERANCE:
                self.rate_alerted = True
                check = False
                out.append((h, measured))
        self.last_host, self._window_start, self._window_samples = last, start, got
        return out

    def _packets_vector(self, h: FloatArray, c: IntArray) -> list[tuple[float, float | None]]:
        """:meth:`packets_arrived` with array operations: one step per rate window (5 s) or
        gap instead of one per packet. The loop above is the reference it must match.
        """
        out: list[tuple[float, float | None]] = []
        m = h.size
        if self.stale:
            self.stale = False
            out.append((float(h[0]), None))
        before = np.nan if self.last_host is None else self.last_host
        gap = h - np.concatenate(([before], h[:-1])) > STALE_S
        gaps = np.flatnonzero(gap)
        self.last_host = float(h[-1])
        start, got = self._window_start, self._window_samples
        if self.rate_hz <= 0 or self.rate_alerted:
            if gaps.size:
                start = None
            self._window_start, self._window_samples = start, got
            return out
        filled = np.flatnonzero(c > 0)
        total = np.concatenate(([0], np.cumsum(c)))
        ordered = bool(np.isfinite(h).all()) and not np.any(np.diff(h) < 0)
        i = 0
        while i < m:
            g = int(gaps[np.searchsorted(gaps, i)]) if gaps.size and gaps[-1] >= i else m
            if g == i:
                start = None  # a gap: the rate is measured afresh after it
            if start is None:
                nxt = int(np.searchsorted(filled, i))
                if nxt == filled.size:
                    break
                i = int(filled[nxt])
                start, got = float(h[i]), 0
                i += 1
                continue
            k = _window_end(h, c, i, g, start, ordered)
            if k == g:
                got += int(total[g] - total[i])
                i = g
                continue
            got += int(total[k + 1] - total[i])
            measured = got / (float(h[k]) - start)
            start, got = float(h[k]), 0
            i = k + 1
            if abs(measured / self.rate_hz - 1.0) > RATE_TOLERANCE:
                self.rate_alerted = True
                out.append((float(h[k]), measured))
                if gaps.size and gaps[-1] >= i:
                    start = None
                break
        self._window_start, self._window_samples = start, got
        return out

    def on_connected(self, t: float) -> None:
        self.connected = True
        self.stale = False
        self.last_host = t
        self._window_start = None

    def on_lost(self) -> None:
        self.connected = False

    def on_data(self, host_time: float) -> bool:
        """Data arrived; True if this ends a stale episode."""
        if self.last_host is not None and host_time - self.last_host > STALE_S:
            self._window_start = None  # a gap: the rate is measured afresh after it
        self.last_host = host_time
        if self.stale:
            self.stale = False
            return True
        return False

    def check(self, now: float) -> bool:
        """Session time is ``now``; True if the sensor just went stale."""
        if (
            self.connected
            and not self.stale
            and self.last_host is not None
            and now - self.last_host > STALE_S
        ):
            self.stale = True
            return True
        return False

    def clipping(self, t: float) -> bool:
        """Clipped samples at ``t``; True if that deserves an alert now."""
        if self.last_clip_alert is None or t - self.last_clip_alert >= CLIP_REPEAT_S:
            self.last_clip_alert = t
            return True
        return False


def _window_end(h: FloatArray, c: IntArray, i: int, g: int, start: float, ordered: bool) -> int:
    """The first packet in ``[i, g)`` with samples whose span from ``start`` (s) reaches
    :data:`RATE_WINDOW_S` — the rate window closes there — or ``g``.

    Looked for in short runs, from where bisection says it can begin when the host times are
    in order: a scan to the batch's end per window would cost as much as the per-packet loop.
    """
    lo = i
    if ordered:
        # A packet a millisecond short of the window cannot close it, whatever the rounding.
        lo = max(i, int(np.searchsorted(h, start + RATE_WINDOW_S - 1e-3)))
        # It then closes within a packet or two: look at those one by one.
        for k in range(lo, min(g, lo + 4)):
            if c[k] > 0 and not (float(h[k]) - start < RATE_WINDOW_S):
                return k
        lo = min(g, lo + 4)
    while lo < g:
        hi = min(g, lo + 64)
        closes = (c[lo:hi] > 0) & ~(h[lo:hi] - start < RATE_WINDOW_S)
        if closes.any():
            return lo + int(np.argmax(closes))
        lo = hi
    return g
