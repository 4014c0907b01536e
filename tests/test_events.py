"""The event JSON form is a public interface: stable keys, rounding, round trip."""

from __future__ import annotations

import json

import pytest

from liftguard.events import AlertEvent, RepEvent, SummaryEvent, event_from_json


def test_rep_event_json_has_the_documented_fields() -> None:
    e = RepEvent(
        t=12.34567,
        athlete="anna",
        exercise="deadlift",
        set=1,
        rep=2,
        t_start=10.0004,
        t_end=12.34567,
        peak_flexion_deg=18.2345,
        duration_s=2.3456,
    )
    obj = json.loads(e.dumps())
    assert obj == {
        "type": "rep",
        "t": 12.346,
        "athlete": "anna",
        "exercise": "deadlift",
        "set": 1,
        "rep": 2,
        "t_start": 10.0,
        "t_end": 12.346,
        "peak_flexion_deg": 18.23,
        "duration_s": 2.35,
        "eccentric_s": None,
        "concentric_s": None,
        "flexion_at_liftoff_deg": None,
        "trunk_range_deg": None,
        "peak_landing_acc_g": None,
        "landing_flexion_deg": None,
    }


def test_alert_event_json_has_the_documented_fields() -> None:
    e = AlertEvent(
        t=5.0,
        athlete="beth",
        id="a1",
        kind="lumbar_flexion",
        severity="alarm",
        value_deg=33.333,
        threshold_deg=30.0,
        exercise="deadlift",
        set=1,
        rep=3,
    )
    obj = e.to_json()
    assert list(obj)[:2] == ["type", "t"]
    for key in ("athlete", "kind", "severity", "t", "value_deg", "threshold_deg", "rep"):
        assert key in obj
    assert obj["value_deg"] == 33.33


@pytest.mark.parametrize(
    "event",
    [
        RepEvent(1.0, "a", "deadlift", 1, 1, 0.5, 1.0, 20.0),
        AlertEvent(2.0, "a", "a7", "lumbar_flexion", "alarm", 31.0, 30.0, "deadlift", 2, 4),
        SummaryEvent(3.0, "a", 5, 1, {"reps": 5, "unsafe_reps": 1, "unsafe": [[1, 2]]}),
    ],
)
def test_events_round_trip_through_json(event) -> None:
    assert event_from_json(json.loads(event.dumps())) == event


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_json({"type": "nope", "t": 0})
