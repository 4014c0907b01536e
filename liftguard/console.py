"""Event sinks for a terminal: one human-readable line per event, or JSON lines."""

from __future__ import annotations

import sys
from typing import TextIO

from liftguard.events import (
    AlertAckEvent,
    AlertEvent,
    CalibrationEvent,
    Event,
    RepEvent,
    SensorEvent,
    SetEvent,
    SummaryEvent,
)

__all__ = ["ConsoleSink", "format_event"]


def format_event(e: Event) -> str:
    """One line a supervisor can read at a glance."""
    head = f"{e.t:8.2f}s  {e.athlete:<8}"
    if isinstance(e, RepEvent):
        flexion = (
            "lumbar flexion not measured"
            if e.peak_flexion_deg is None
            else f"peak lumbar flexion {e.peak_flexion_deg:5.1f}°"
        )
        return (
            f"{head} rep    {e.exercise} set {e.set} rep {e.rep}: "
            f"{flexion}  ({e.t_end - e.t_start:.1f} s)"
        )
    if isinstance(e, AlertEvent):
        where = f"{e.exercise} set {e.set} rep {e.rep}" if e.exercise else "outside a set"
        return f"{head} ALERT  {e.severity.upper()} {e.kind}: {e.message} — {where} [{e.id}]"
    if isinstance(e, AlertAckEvent):
        return f"{head} ack    alert {e.alert_id} acknowledged by {e.by}"
    if isinstance(e, CalibrationEvent):
        status = "ok" if e.ok else f"FAILED: {e.detail}"
        extra = (
            f", maximum flexion {e.max_flexion_deg:.1f}°"
            if e.ok and e.max_flexion_deg is not None
            else ""
        )
        return f"{head} calib  {e.step} {status}{extra}"
    if isinstance(e, SetEvent):
        verb = "starts" if e.state == "start" else "ends"
        return f"{head} set    {e.exercise} set {e.set} ({e.target_reps} reps) {verb}"
    if isinstance(e, SensorEvent):
        detail = f" ({e.detail})" if e.detail else ""
        return f"{head} sensor {e.placement} {e.address} {e.state}{detail}"
    if isinstance(e, SummaryEvent):
        line = f"{head} total  {e.reps} reps, {e.alerts} alerts"
        if e.truth is not None:
            line += f"  (simulator truth: {e.truth['reps']} reps, {e.truth['unsafe_reps']} unsafe)"
        return line
    return f"{head} {e.type}"


class ConsoleSink:
    """Writes each event to ``stream`` as it happens, flushing so a pipe sees it at once."""

    def __init__(self, *, json: bool = False, stream: TextIO | None = None) -> None:
        self.json = json
        self.stream = stream if stream is not None else sys.stdout

    def __call__(self, event: Event) -> None:
        self.stream.write((event.dumps() if self.json else format_event(event)) + "\n")
        self.stream.flush()
