"""Replay reproduces the live session: same reps, same alerts, field for field."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from liftguard.demo import DemoOptions, run_demo_sync
from liftguard.events import Event
from liftguard.recording import read_recording, replay


def reps_and_alerts(events: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for e in events:
        if e["type"] in ("rep", "alert"):
            out.setdefault(e["athlete"], []).append(e)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_replay_reproduces_live_reps_and_alerts_field_for_field(seed: int, tmp_path: Path) -> None:
    path = tmp_path / "s.mcap"
    live: list[Event] = []
    run_demo_sync(
        DemoOptions(athletes=2, duration=60, speed=math.inf, seed=seed), live.append, record=path
    )
    replayed: list[Event] = []
    replay(read_recording(path), replayed.append)
    want = reps_and_alerts([e.to_json() for e in live])
    got = reps_and_alerts([e.to_json() for e in replayed])
    assert sum(len(v) for v in want.values()) >= 10
    assert got == want


@pytest.mark.parametrize("window_s", [0.01, 0.5, 30.0])
def test_how_replay_batches_the_stream_never_changes_an_event(
    demo_recording: tuple[Path, list[Event]], window_s: float
) -> None:
    path, live = demo_recording
    replayed: list[Event] = []
    replay(read_recording(path), replayed.append, window_s=window_s)
    assert reps_and_alerts([e.to_json() for e in replayed]) == reps_and_alerts(
        [e.to_json() for e in live]
    )


def test_replay_ends_with_a_summary_carrying_the_recorded_truth(
    demo_recording: tuple[Path, list[Event]],
) -> None:
    path, live = demo_recording
    replayed: list[Event] = []
    replay(read_recording(path), replayed.append)
    summaries = [e.to_json() for e in replayed if e.type == "summary"]
    assert [s["athlete"] for s in summaries] == ["anna", "beth"]
    live_summaries = [e.to_json() for e in live if e.type == "summary"]
    for got, want in zip(summaries, live_summaries, strict=True):
        assert (got["reps"], got["alerts"], got["truth"]) == (
            want["reps"],
            want["alerts"],
            want["truth"],
        )


def test_cli_demo_recording_replays_to_the_same_events(tmp_path: Path) -> None:
    path = tmp_path / "cli.mcap"
    lg = [sys.executable, "-m", "liftguard"]
    live = subprocess.run(
        [
            *lg,
            "demo",
            "--duration",
            "60",
            "--speed",
            "20",
            "--seed",
            "4",
            "--json",
            "--record",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rep = subprocess.run(
        [*lg, "replay", str(path), "--fast", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    live_events = [json.loads(x) for x in live.stdout.splitlines()]
    rep_events = [json.loads(x) for x in rep.stdout.splitlines()]
    assert reps_and_alerts(rep_events) == reps_and_alerts(live_events)
    assert reps_and_alerts(live_events)


def test_replay_reproduces_staleness_alerts_from_the_recorded_clock_ticks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liftguard.session import Session

    original = Session.packet

    def stall(self: Session, address: str, host_time: float, data: bytes | bytearray) -> None:
        # The sacrum sensor of the second athlete goes quiet for a second, link up.
        if address == "D1:5E:01:00:00:02" and 20.0 < host_time < 21.0:
            return
        original(self, address, host_time, data)

    monkeypatch.setattr(Session, "packet", stall)
    path = tmp_path / "stall.mcap"
    live: list[Event] = []
    run_demo_sync(
        DemoOptions(athletes=2, duration=40, speed=math.inf, seed=5), live.append, record=path
    )
    monkeypatch.setattr(Session, "packet", original)
    stale = [e for e in live if e.type == "alert" and e.kind == "sensor_stale"]
    assert len(stale) == 1 and stale[0].athlete == "beth" and 20.25 < stale[0].t <= 21.0
    replayed: list[Event] = []
    replay(read_recording(path), replayed.append)
    alerts = [e.to_json() for e in live if e.type == "alert"]
    assert [e.to_json() for e in replayed if e.type == "alert"] == alerts


@pytest.mark.parametrize("family", ["dot", "witmotion"])
def test_replay_reproduces_every_family(family: str, tmp_path: Path) -> None:
    path = tmp_path / f"{family}.mcap"
    live: list[Event] = []
    run_demo_sync(
        DemoOptions(athletes=2, duration=60, speed=math.inf, seed=6, families=(family,)),
        live.append,
        record=path,
    )
    replayed: list[Event] = []
    replay(read_recording(path), replayed.append)
    want = reps_and_alerts([e.to_json() for e in live])
    assert sum(len(v) for v in want.values()) >= 10
    assert reps_and_alerts([e.to_json() for e in replayed]) == want
