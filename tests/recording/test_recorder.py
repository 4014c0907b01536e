"""What a recording holds, and refusing to start a session that could not be recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from liftguard.config import AthleteConfig, SensorConfig, SessionConfig
from liftguard.errors import ConfigError
from liftguard.events import Event
from liftguard.recording import Recorder, read_recording
from liftguard.recording import recorder as recorder_module
from liftguard.recording.info import inspect_recording

CONFIG = SessionConfig(
    name="t",
    athletes=(
        AthleteConfig(
            "ann",
            (
                SensorConfig("upper", "AA:00:00:00:00:01"),
                SensorConfig("sacrum", "AA:00:00:00:00:02"),
            ),
        ),
    ),
)


def test_recording_holds_roster_truth_events_and_every_packet(
    demo_recording: tuple[Path, list[Event]],
) -> None:
    path, live = demo_recording
    rec = read_recording(path)
    assert rec.clean and rec.problems == []
    assert rec.meta["software"].startswith("liftguard ")
    assert [a.name for a in rec.config.athletes] == ["anna", "beth"]
    assert {t["athlete"] for t in rec.truth} == {"anna", "beth"}
    assert [e["type"] for e in rec.events] == [e.type for e in live]
    info = inspect_recording(rec)
    for s in info.sensors:
        # 100 Hz for ~59 s of streaming, acc and gyro paired: nothing lost on the way
        assert 5800 <= s.samples <= 6000
        assert s.gaps == 0 and s.malformed == 0
    assert len(rec.connections) == 4 and all(c[4] for c in rec.connections)


def test_info_json_and_text_say_the_file_was_closed_cleanly(
    demo_recording: tuple[Path, list[Event]],
) -> None:
    path, _ = demo_recording
    lg = [sys.executable, "-m", "liftguard", "info", str(path)]
    text = subprocess.run(lg, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "closed cleanly" in text
    obj = json.loads(
        subprocess.run(
            [*lg, "--json"], capture_output=True, text=True, timeout=60, check=True
        ).stdout
    )
    assert obj["clean"] is True
    assert obj["reps"] == {"anna": 5, "beth": 5}
    assert len(obj["sensors"]) == 4


def test_a_folder_that_cannot_be_created_fails_before_the_session(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot create"):
        Recorder(blocker / "sub" / "x.mcap", CONFIG)


def test_an_existing_recording_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "x.mcap"
    path.write_bytes(b"precious")
    with pytest.raises(ConfigError, match="already exists"):
        Recorder(path, CONFIG)
    assert path.read_bytes() == b"precious"


def test_a_full_disk_fails_before_the_session(tmp_path: Path, monkeypatch) -> None:
    class Usage:
        free = 5 * 1024 * 1024

    monkeypatch.setattr(recorder_module.shutil, "disk_usage", lambda _p: Usage)
    with pytest.raises(ConfigError, match="only 5 MB free"):
        Recorder(tmp_path / "x.mcap", CONFIG)


def test_cli_demo_to_an_unwritable_place_says_so_in_one_line_and_runs_nothing(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = subprocess.run(
        [sys.executable, "-m", "liftguard", "demo", "--record", str(blocker / "a" / "b.mcap")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1
    assert "cannot create" in out.stderr


def test_write_errors_mid_session_stop_recording_but_not_the_session(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "x.mcap", CONFIG)

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    rec._writer.flush = boom  # type: ignore[method-assign]
    rec.packet("AA:00:00:00:00:01", 1.0, b"\x03\x04" + bytes(6))
    rec.flush()
    assert rec.error is not None and "No space left" in rec.error
    rec.packet("AA:00:00:00:00:01", 2.0, b"\x03\x04" + bytes(6))  # no exception
