"""Fail loud: a sensor that is lost, silent, or saturating is a blind spot, and says so.

DESIGN safety invariant 2: "monitoring degraded" within 1 s of a sensor being lost, stale
(> 250 ms without data), clipping, or an athlete not calibrated. Silence must mean "all seen,
all safe".
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CLIP_REPEAT_S", "STALE_S", "DegradedKind", "SensorHealth"]

#: Seconds without a notification after which a connected sensor is stale.
STALE_S = 0.25
#: A saturating sensor alerts again at most this often (landings clip in bursts).
CLIP_REPEAT_S = 10.0


class DegradedKind:
    """The ``kind`` of a ``severity="degraded"`` alert."""

    LOST = "sensor_lost"
    STALE = "sensor_stale"
    CLIPPING = "sensor_clipping"
    UNCALIBRATED = "uncalibrated"
    CALIBRATION_FAILED = "calibration_failed"


@dataclass
class SensorHealth:
    """One sensor's link and data health, driven by packets, ticks and link news."""

    connected: bool = False
    last_host: float | None = None
    stale: bool = False
    last_clip_alert: float | None = None

    def on_connected(self, t: float) -> None:
        self.connected = True
        self.stale = False
        self.last_host = t

    def on_lost(self) -> None:
        self.connected = False

    def on_data(self, host_time: float) -> bool:
        """Data arrived; True if this ends a stale episode."""
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
