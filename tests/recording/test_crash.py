"""kill -9 at any moment: the recording opens and has everything but the last second."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liftguard.recording import read_recording

SPEED = 2.0


def record_and_kill(path: Path, delay: float) -> float:
    """Start a recorded demo, SIGKILL it `delay` real seconds after its first event.

    Returns the estimated session time at the kill (session seconds).
    """
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liftguard",
            "demo",
            "--duration",
            "60",
            "--speed",
            str(SPEED),
            "--json",
            "--record",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    first = json.loads(proc.stdout.readline())
    seen_wall = time.monotonic()
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    killed_wall = time.monotonic()
    proc.wait(timeout=30)
    return float(first["t"]) + (killed_wall - seen_wall) * SPEED


@pytest.mark.parametrize("moment", range(10))
def test_recording_survives_kill_9_losing_at_most_the_last_second(
    moment: int, tmp_path: Path
) -> None:
    rng = random.Random(moment)
    delay = 0.05 + rng.random() * 2.5
    path = tmp_path / "crash.mcap"
    killed_at = record_and_kill(path, delay)
    rec = read_recording(path)  # opens; never raises for a crashed file
    assert not rec.clean
    assert rec.problems
    assert [a.name for a in rec.config.athletes] == ["anna", "beth"]
    # Everything up to the last second before the kill is on disk ...
    assert killed_at - rec.end_time <= 1.0, f"file ends {killed_at - rec.end_time:.2f} s early"
    # ... for every sensor that was streaming by then.
    connected = {
        addr.upper(): t for _, t, addr, state, _ in rec.connections if state == "connected"
    }
    for _, sensor in rec.config.sensors():
        batch = rec.packets_of(sensor.address)
        since = connected.get(sensor.address.upper())
        if since is None:
            continue  # connected after the last flush: covered by the check above
        last = float(batch.t_host[-1]) if batch.t_host.size else since
        lost = killed_at - last
        assert lost <= 1.0, f"{sensor.address}: {lost:.2f} s lost (killed at {killed_at:.2f} s)"


def test_info_on_a_crashed_recording_says_recovered(tmp_path: Path) -> None:
    path = tmp_path / "crash.mcap"
    record_and_kill(path, 1.0)
    out = subprocess.run(
        [sys.executable, "-m", "liftguard", "info", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "RECOVERED" in out.stdout
    assert os.path.getsize(path) > 0
