"""The alert board: every alert stays active until a supervisor acknowledges it."""

from __future__ import annotations

from liftguard.events import AlertAckEvent, AlertEvent

__all__ = ["AlertBoard"]


class AlertBoard:
    """Active (unacknowledged) alerts of a session, in the order they were raised."""

    def __init__(self) -> None:
        self._active: dict[str, AlertEvent] = {}
        self._next: dict[str, int] = {}

    def new_id(self, athlete: str) -> str:
        """A session-unique alert id (``"anna-1"``, ``"anna-2"`` …).

        Numbered per athlete, so ids do not depend on how athletes' data interleaved in time:
        a replay that processes athletes in a different order gives the same ids.
        """
        n = self._next.get(athlete, 0) + 1
        self._next[athlete] = n
        return f"{athlete}-{n}"

    def raise_(self, alert: AlertEvent) -> None:
        """Show ``alert`` until it is acknowledged."""
        self._active[alert.id] = alert

    def acknowledge(self, alert_id: str, t: float, by: str = "supervisor") -> AlertAckEvent | None:
        """Acknowledge an active alert; returns the ``alert_ack`` event, or None if unknown."""
        alert = self._active.pop(alert_id, None)
        if alert is None:
            return None
        return AlertAckEvent(t=t, athlete=alert.athlete, alert_id=alert_id, by=by)

    @property
    def active(self) -> list[AlertEvent]:
        """Alerts still waiting for acknowledgement, oldest first."""
        return list(self._active.values())
