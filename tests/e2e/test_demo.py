"""End to end: emulated MetaMotions → simulated bleak backend → pipeline → JSON events.

The demo's athletes are simulated with known truth, so the whole chain is checked against it:
every rep counted, every unsafe rep alarmed exactly once, no safe rep alarmed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest


def run_demo(seed: int, *extra: str) -> list[dict]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "liftguard",
            "demo",
            "--athletes",
            "2",
            "--duration",
            "60",
            "--speed",
            "20",
            "--seed",
            str(seed),
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.mark.parametrize("seed", range(10))
def test_demo_counts_every_rep_and_alarms_exactly_the_unsafe_ones(seed: int) -> None:
    events = run_demo(seed)
    summaries = {e["athlete"]: e for e in events if e["type"] == "summary"}
    assert len(summaries) == 2
    for athlete, summary in summaries.items():
        truth = summary["truth"]
        reps = [e for e in events if e["type"] == "rep" and e["athlete"] == athlete]
        alerts = [e for e in events if e["type"] == "alert" and e["athlete"] == athlete]
        alarms = [e for e in alerts if e["kind"] == "lumbar_flexion" and e["severity"] == "alarm"]
        warnings = [e for e in alerts if e["severity"] == "warning"]
        assert truth["reps"] >= 5, "the demo must show at least one full set"
        assert summary["reps"] == len(reps) == truth["reps"]
        by_set = Counter(r["set"] for r in reps)
        for s, n in by_set.items():
            assert [r["rep"] for r in reps if r["set"] == s] == list(range(1, n + 1))
        alarmed = Counter((a["set"], a["rep"]) for a in alarms)
        assert all(n == 1 for n in alarmed.values()), f"{athlete}: repeated alarm {alarmed}"
        assert set(alarmed) == {tuple(u) for u in truth["unsafe"]}
        assert summary["alerts"] == len(alerts) == len(alarms) + len(warnings)
        for a in alarms:
            assert a["value_deg"] > a["threshold_deg"] == 30.0
        alarm_t = {(a["set"], a["rep"]): a["t"] for a in alarms}
        for w in warnings:  # warnings at 20°; one that escalates comes before its alarm
            assert w["value_deg"] > w["threshold_deg"] == 20.0
            assert w["t"] < alarm_t.get((w["set"], w["rep"]), float("inf"))
        assert len({(w["set"], w["rep"]) for w in warnings}) == len(warnings)


def test_demo_reports_sensors_calibration_and_sets_before_reps() -> None:
    events = run_demo(0)
    kinds = [e["type"] for e in events]
    assert kinds.count("sensor") == 4
    assert all(e["state"] == "connected" for e in events if e["type"] == "sensor")
    cal = [e for e in events if e["type"] == "calibration"]
    assert [(c["step"], c["ok"]) for c in cal if c["athlete"] == "anna"] == [
        ("neutral", True),
        ("bend", True),
    ]
    first_rep = kinds.index("rep")
    assert "set" in kinds[:first_rep]
    assert kinds[-2:] == ["summary", "summary"]


def test_sixteen_athletes_all_calibrate_although_connecting_takes_seconds() -> None:
    """Regression: the scripts used to play while 32 sensors were still connecting (~8 s), so
    every athlete was mid-bend when calibration started and every calibration failed."""
    import math

    from liftguard.demo import DemoOptions, run_demo_sync

    events: list = []
    run_demo_sync(DemoOptions(athletes=16, duration=40, speed=math.inf, seed=5), events.append)
    cal = [e for e in events if e.type == "calibration"]
    assert len(cal) == 32
    assert all(e.ok for e in cal), [e.detail for e in cal if not e.ok][:3]
