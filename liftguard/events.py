"""Session events: small frozen dataclasses with a stable JSON form.

Every event has ``type`` (its kind), ``t`` (session seconds) and ``athlete``. The JSON form
(:meth:`Event.to_json`) is a public interface — the ``--json`` stream, the recorder and the
dashboard all use it — so fields are only ever added, never renamed. Times are rounded to the
millisecond and angles to 0.01° in JSON; the objects keep full precision.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "AlertAckEvent",
    "AlertEvent",
    "CalibrationEvent",
    "Event",
    "LabelEvent",
    "RepEvent",
    "SensorEvent",
    "SetEvent",
    "SummaryEvent",
    "event_from_json",
]

_TIME_FIELDS = {"t", "t_start", "t_end"}


def _round(name: str, value: Any) -> Any:
    if isinstance(value, float):
        if name in _TIME_FIELDS or name.startswith("t_"):
            return round(value, 3)
        return round(value, 2)
    return value


@dataclass(frozen=True)
class Event:
    """Base of all events. ``t`` is session time in seconds."""

    type: ClassVar[str] = "event"
    t: float
    athlete: str

    def to_json(self) -> dict[str, Any]:
        """The event's stable JSON object (``type`` first)."""
        out: dict[str, Any] = {"type": self.type}
        for f in dataclasses.fields(self):
            out[f.name] = _round(f.name, getattr(self, f.name))
        return out

    def dumps(self) -> str:
        """One line of JSON."""
        return json.dumps(self.to_json(), separators=(",", ":"))


@dataclass(frozen=True)
class RepEvent(Event):
    """A completed repetition. Angles in degrees from the athlete's calibrated neutral.

    Metrics: ``duration_s``, ``eccentric_s``/``concentric_s`` (lowering/lifting; for jumps
    landing → deepest absorption and back), ``flexion_at_liftoff_deg`` (deadlift),
    ``trunk_range_deg``, and for jumping chin-ups ``peak_landing_acc_g`` (sacrum, g) and
    ``landing_flexion_deg`` (peak within 400 ms after impact); ``None`` where they do not apply
    (``peak_flexion_deg`` and ``trunk_range_deg`` too, for an athlete with a wrist sensor only).
    """

    type: ClassVar[str] = "rep"
    exercise: str
    set: int
    rep: int
    t_start: float
    t_end: float
    peak_flexion_deg: float | None
    duration_s: float | None = None
    eccentric_s: float | None = None
    concentric_s: float | None = None
    flexion_at_liftoff_deg: float | None = None
    trunk_range_deg: float | None = None
    peak_landing_acc_g: float | None = None
    landing_flexion_deg: float | None = None


@dataclass(frozen=True)
class AlertEvent(Event):
    """Something the supervisor must see.

    ``kind`` is ``"lumbar_flexion"`` for the unsafe-flexion rule; ``severity`` is ``"alarm"``
    or ``"warning"``; ``id`` is unique within a session and is what an acknowledgement names.
    """

    type: ClassVar[str] = "alert"
    id: str
    kind: str
    severity: str
    value_deg: float | None
    threshold_deg: float | None
    exercise: str | None = None
    set: int | None = None
    rep: int | None = None
    message: str = ""


@dataclass(frozen=True)
class AlertAckEvent(Event):
    """The supervisor acknowledged alert ``alert_id``."""

    type: ClassVar[str] = "alert_ack"
    alert_id: str
    by: str = "supervisor"


@dataclass(frozen=True)
class SensorEvent(Event):
    """A sensor's connection state changed (``connected``, ``lost``, ``reconnected`` …)."""

    type: ClassVar[str] = "sensor"
    placement: str
    address: str
    state: str
    detail: str = ""


@dataclass(frozen=True)
class CalibrationEvent(Event):
    """Result of a calibration step (``neutral`` or ``bend``) for one athlete."""

    type: ClassVar[str] = "calibration"
    step: str
    ok: bool
    max_flexion_deg: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class SetEvent(Event):
    """A set starts (``state="start"``) or ends (``state="end"``)."""

    type: ClassVar[str] = "set"
    exercise: str
    set: int
    target_reps: int
    state: str = "start"


@dataclass(frozen=True)
class LabelEvent(Event):
    """A supervisor's technique label for one rep."""

    type: ClassVar[str] = "label"
    set: int
    rep: int
    label: str


@dataclass(frozen=True)
class SummaryEvent(Event):
    """End-of-session counts for one athlete; ``truth`` only for simulated athletes."""

    type: ClassVar[str] = "summary"
    reps: int
    alerts: int
    truth: dict[str, Any] | None = field(default=None)


_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        RepEvent,
        AlertEvent,
        AlertAckEvent,
        SensorEvent,
        CalibrationEvent,
        SetEvent,
        LabelEvent,
        SummaryEvent,
    )
}


def event_from_json(obj: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON object; raises ``ValueError`` on an unknown type."""
    kind = obj.get("type")
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in obj.items() if k in names})
