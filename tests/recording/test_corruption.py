"""Damaged files: a clear one-line error or a recovery that says what was skipped; never a
traceback, never a hang."""

from __future__ import annotations

import math
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from mcap.writer import Writer

from liftguard.demo import DemoOptions, run_demo_sync
from liftguard.errors import CorruptRecordingError
from liftguard.events import Event
from liftguard.recording import read_recording, replay


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("small") / "small.mcap"
    run_demo_sync(
        DemoOptions(athletes=1, duration=30, speed=math.inf, seed=1), lambda e: None, record=path
    )
    return path.read_bytes()


@contextmanager
def hang_guard(seconds: int = 20) -> Iterator[None]:
    """Fail (instead of hanging the suite) if reading takes absurdly long."""

    def boom(*_: object) -> None:
        raise AssertionError(f"no answer within {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def read_damaged(path: Path) -> None:
    """Either a one-line CorruptRecordingError naming the file, or a recovery that replays."""
    with hang_guard():
        try:
            rec = read_recording(path)
        except CorruptRecordingError as exc:
            msg = str(exc)
            assert str(path) in msg and "\n" not in msg
            return
        assert rec.clean or rec.problems
        events: list[Event] = []
        replay(rec, events.append)


def test_truncation_anywhere_is_an_error_or_a_recovery(small: bytes, tmp_path: Path) -> None:
    cuts = sorted(
        {
            0,
            1,
            7,
            8,
            9,
            20,
            100,
            *range(0, len(small), max(1, len(small) // 60)),
            len(small) - 30,
            len(small) - 1,
        }
    )
    for cut in cuts:
        path = tmp_path / f"cut{cut}.mcap"
        path.write_bytes(small[:cut])
        read_damaged(path)


def test_a_truncated_file_keeps_what_came_before_the_cut(small: bytes, tmp_path: Path) -> None:
    path = tmp_path / "half.mcap"
    path.write_bytes(small[: len(small) // 2])
    rec = read_recording(path)
    assert not rec.clean
    assert rec.batches, "half a file must still hold packets"
    assert any("ends early" in p or "damaged" in p or "not closed" in p for p in rec.problems)


@pytest.mark.parametrize("seed", range(6))
def test_random_bit_flips_are_an_error_or_a_recovery(
    small: bytes, tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    data = bytearray(small)
    for _ in range(1 + seed * 3):
        i = rng.randrange(len(data))
        data[i] ^= 1 << rng.randrange(8)
    path = tmp_path / "flipped.mcap"
    path.write_bytes(bytes(data))
    read_damaged(path)


def test_a_text_file_is_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "notes.mcap"
    path.write_text("athlete,reps\nanna,5\n")
    with pytest.raises(CorruptRecordingError, match="not an MCAP file"):
        read_recording(path)


def test_an_mcap_file_from_another_program_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "ros.mcap"
    with open(path, "wb") as f:
        w = Writer(f)
        w.start(profile="ros2", library="test")
        sid = w.register_schema("std_msgs/String", "ros2msg", b"string data")
        cid = w.register_channel("/chatter", "cdr", sid)
        w.add_message(cid, log_time=1, data=b"\x00\x01", publish_time=1)
        w.finish()
    with pytest.raises(CorruptRecordingError, match="another program"):
        read_recording(path)


def test_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(CorruptRecordingError, match="cannot open"):
        read_recording(tmp_path / "nope.mcap")


@pytest.mark.parametrize("command", ["info", "replay"])
def test_cli_on_damaged_files_never_shows_a_traceback(
    small: bytes, tmp_path: Path, command: str
) -> None:
    half = tmp_path / "half.mcap"
    half.write_bytes(small[: len(small) // 3])
    junk = tmp_path / "junk.mcap"
    junk.write_bytes(b"\x89MCAP0\r\n" + bytes(range(256)) * 4)
    for path, ok in ((half, True), (junk, False)):
        args = [sys.executable, "-m", "liftguard", command, str(path)]
        if command == "replay":
            args.append("--fast")
        out = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert "Traceback" not in out.stderr
        if ok:
            assert out.returncode == 0, out.stderr
        else:
            assert out.returncode == 1
            assert len(out.stderr.strip().splitlines()) == 1
            assert str(path) in out.stderr
