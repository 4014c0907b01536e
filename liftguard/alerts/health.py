"""Fail loud: a sensor that is lost, silent, or saturating is a blind spot, and says so.

DESIGN safety invariant 2: "monitoring degraded" within 1 s of a sensor being lost, stale
(> 250 ms without data), clipping, or an athlete not calibrated. Silence must mean "all seen,
all safe".
"""

from __future__ import annotations

from dataclasses import dataclass

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
        self, host_times: list[float], counts: list[int]
    ) -> list[tuple[float, float | None]]:
        """:meth:`on_data` then, for packets that completed samples, :meth:`samples_arrived`,
        for a run of packets in arrival order (replay batches them; one tight loop instead of
        two method calls per notification).

        Returns:
            ``(host_time, None)`` where a stale episode ended and ``(host_time, measured
            rate)`` where the rate alert fires, in order.
        """
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
