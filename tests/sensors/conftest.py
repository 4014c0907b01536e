"""Fixtures for running bleak's real BlueZ backend against the bluetoothd double."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any

import pytest

from liftguard.firmware_bridge.emulation import EmulatedDevice
from liftguard.sensors.bluez_double import (
    BluezDouble,
    DBusDaemonMissingError,
    PrivateBus,
    start_private_bus,
)

DoubleFactory = Callable[..., Awaitable[BluezDouble]]


@pytest.fixture
def dbus_bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateBus]:
    """A private dbus-daemon that bleak takes for the system bus (DBUS_SYSTEM_BUS_ADDRESS).

    Fails, never skips, without dbus-daemon: CI installs it, and a silently skipped transport
    test would hide that the production BLE path went untested.
    """
    try:
        bus = start_private_bus()
    except DBusDaemonMissingError as exc:
        pytest.fail(f"{exc}. These tests run bleak's BlueZ backend on a private bus.")
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.address)
    try:
        yield bus
    finally:
        bus.stop()


@pytest.fixture
async def make_double(dbus_bus: PrivateBus) -> AsyncIterator[DoubleFactory]:
    """Started :class:`BluezDouble` objects on the private bus, stopped at teardown."""
    doubles: list[BluezDouble] = []

    async def factory(devices: Iterable[EmulatedDevice], **kwargs: Any) -> BluezDouble:
        double = BluezDouble(devices, bus_address=dbus_bus.address, **kwargs)
        await double.start()
        doubles.append(double)
        return double

    yield factory
    for double in doubles:
        await double.stop()
    assert not [e for d in doubles for e in d.errors], "the double's pump hit an error"
