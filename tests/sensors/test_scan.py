"""`liftguard scan`: supported sensors in range, through bleak's real BlueZ backend."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from liftguard.cast import build_cast
from liftguard.sensors.bluez_double import PrivateBus

from .conftest import DoubleFactory


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "liftguard",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_scan_lists_every_supported_family_through_bluez(
    dbus_bus: PrivateBus, make_double: DoubleFactory
) -> None:
    cast = build_cast(3, 0, 60.0, families=("metawear", "dot", "witmotion"))
    await make_double(cast.emulators)
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": dbus_bus.address}
    code, out, err = await run_cli("scan", "--timeout", "1.5", "--json", env=env)
    assert code == 0, err
    found = [json.loads(line) for line in out.splitlines()]
    assert sorted((f["family"], f["address"]) for f in found) == sorted(
        (s.family, s.address) for _, s in cast.config.sensors()
    )


async def test_scan_without_an_adapter_says_so_in_one_line(
    dbus_bus: PrivateBus, make_double: DoubleFactory
) -> None:
    await make_double([], adapter=False)
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": dbus_bus.address}
    code, out, err = await run_cli("scan", "--timeout", "1", env=env)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Bluetooth is not available" in err


async def test_scan_without_any_bluetooth_stack_says_so_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path / 'no-bus'}"}
    code, _, err = await run_cli("scan", "--timeout", "1", env=env)
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "no Bluetooth" in err


async def test_scan_simulated_lists_the_demo_sensors() -> None:
    code, out, err = await run_cli("scan", "--simulated", "--json", env=dict(os.environ))
    assert code == 0, err
    families = sorted(json.loads(line)["family"] for line in out.splitlines())
    assert families == ["dot", "dot", "metawear", "metawear", "witmotion", "witmotion"]
