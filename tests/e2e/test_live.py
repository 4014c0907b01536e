"""`liftguard live` with bleak's own BlueZ backend against the bluetoothd double.

The double runs in its own process on a private dbus-daemon, serving the demo's emulated
sensors; `liftguard live` finds, connects, streams, records, survives link loss, and reads
the supervisor's commands from standard input.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from liftguard.cast import build_cast
from liftguard.errors import ConfigError
from liftguard.inputs import Acknowledge, Calibrate, StartSet
from liftguard.live import CommandParser
from liftguard.recording import read_recording
from liftguard.recording.info import inspect_recording
from liftguard.sensors.bluez_double import start_private_bus

FAMILIES = ("metawear", "dot", "witmotion")


@pytest.fixture
def bluez(tmp_path: Path) -> Iterator[tuple[dict[str, str], subprocess.Popen[str], Path]]:
    """A bluetoothd double serving 3 athletes (one per family); env and roster for live."""
    bus = start_private_bus()
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus.address}
    double = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liftguard.sensors.bluez_double",
            "--bus-address",
            bus.address,
            "--demo-athletes",
            "3",
            "--families",
            ",".join(FAMILIES),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert double.stdout is not None and double.stdout.readline().strip() == "ready"
    cast = build_cast(3, 0, 600.0, families=FAMILIES)
    lines = ['name = "gym"']
    for athlete in cast.config.athletes:
        lines.append(f'[[athlete]]\nname = "{athlete.name}"')
        for s in athlete.sensors:
            lines.append(
                f'[[athlete.sensor]]\nplacement = "{s.placement}"\nfamily = "{s.family}"'
                f'\naddress = "{s.address}"\nrate_hz = {s.rate_hz}'
            )
    roster = tmp_path / "session.toml"
    roster.write_text("\n".join(lines) + "\n")
    try:
        yield env, double, roster
    finally:
        double.terminate()
        double.wait(10)
        bus.stop()


def test_live_streams_every_family_through_bluez_and_records(bluez, tmp_path: Path) -> None:
    env, _double, roster = bluez
    rec_path = tmp_path / "live.mcap"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "liftguard",
            "live",
            "--config",
            str(roster),
            "--duration",
            "6",
            "--json",
            "--record",
            str(rec_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stderr
    events = [json.loads(x) for x in out.stdout.splitlines()]
    connected = {
        e["address"] for e in events if e["type"] == "sensor" and e["state"] == "connected"
    }
    assert len(connected) == 6
    assert [e["type"] for e in events][-3:] == ["summary"] * 3
    info = inspect_recording(read_recording(rec_path))
    for s in info.sensors:
        expected_hz = 60 if s.family == "dot" else 100
        assert s.samples > expected_hz * 2, (s.address, s.samples)
        assert s.malformed == 0


def test_live_reports_link_loss_and_reconnects_by_itself(bluez, tmp_path: Path) -> None:
    env, double, roster = bluez
    live = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liftguard",
            "live",
            "--config",
            str(roster),
            "--duration",
            "14",
            "--json",
            "--no-record",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert live.stdout is not None
    events = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        e = json.loads(live.stdout.readline())
        events.append(e)
        if sum(x["type"] == "sensor" and x["state"] == "connected" for x in events) == 6:
            break
    time.sleep(1.0)
    double.send_signal(signal.SIGUSR1)  # the double drops every link
    rest, err = live.communicate(timeout=120)
    assert live.returncode == 0, err
    events += [json.loads(x) for x in rest.splitlines()]
    lost = {e["address"] for e in events if e["type"] == "sensor" and e["state"] == "lost"}
    back = {e["address"] for e in events if e["type"] == "sensor" and e["state"] == "reconnected"}
    assert len(lost) == 6 and back == lost
    degraded = [e for e in events if e["type"] == "alert" and e["kind"] == "sensor_lost"]
    assert len(degraded) == 6


def test_supervisor_commands_become_inputs() -> None:
    cast = build_cast(2, 0, 60.0)
    p = CommandParser(cast.config)
    assert p.parse("calibrate", 1.0) == Calibrate(t=1.0, athletes=None)
    assert p.parse("calibrate anna", 1.0) == Calibrate(t=1.0, athletes=("anna",))
    assert p.parse("set anna deadlift", 2.0) == StartSet(2.0, "anna", "deadlift", 1, 5)
    assert p.parse("set anna deadlift 3", 3.0) == StartSet(3.0, "anna", "deadlift", 2, 3)
    assert p.parse("set beth squat", 3.0) == StartSet(3.0, "beth", "squat", 1, 5)
    # 0 planned reps: an open set, ended by a pause (the monitor treats 0 as "not known")
    assert p.parse("set beth squat 0", 3.5) == StartSet(3.5, "beth", "squat", 2, 0)
    assert p.parse("ack anna-1", 4.0) == Acknowledge(4.0, "anna-1")
    assert p.parse("quit", 5.0) == "quit"
    assert p.parse("   ", 5.0) is None
    for bad in ("set zoe deadlift", "set anna yoga", "dance", "calibrate zoe"):
        with pytest.raises(ConfigError):
            p.parse(bad, 6.0)


def test_live_without_bluetooth_says_so_in_one_line(tmp_path: Path) -> None:
    roster = tmp_path / "s.toml"
    roster.write_text(
        '[[athlete]]\nname="a"\n[[athlete.sensor]]\nplacement="upper"\n'
        'address="AA:BB:CC:DD:EE:FF"\n'
    )
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path / 'nobus'}"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "liftguard",
            "live",
            "--config",
            str(roster),
            "--no-record",
            "--duration",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 1
    assert len(out.stderr.strip().splitlines()) == 1 and "no Bluetooth" in out.stderr
