"""The alert board: every alert stays active until a supervisor acknowledges it."""

from __future__ import annotations

from liftguard.events import AlertAckEvent, AlertEvent

__all__ = ["AlertBoard"]


class AlertBoard:
    """Active (unacknowledged) alerts of a session, in the order they were raised."""

    def __init__(self) -> None:
        self._active: dict[str, AlertEvent] = {}
        self._next = 1

    def new_id(self) -> str:
        """A session-unique alert id (``"a1"``, ``"a2"`` …), deterministic for replay."""
        alert_id = f"a{self._next}"
        self._next += 1
        return alert_id

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
