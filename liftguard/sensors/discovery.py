"""Finding the roster's sensors: one scan, stopped as soon as everyone is seen."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

from liftguard.errors import SensorNotFoundError
from liftguard.sensors._unavailable import no_bluetooth_is_one_error

__all__ = ["find_devices"]


async def find_devices(
    addresses: Iterable[str],
    *,
    timeout: float = 10.0,
    backend: type[BaseBleakScanner] | None = None,
) -> dict[str, BLEDevice]:
    """Scan once for the given addresses.

    Args:
        addresses: BLE addresses to look for (case-insensitive).
        timeout: seconds to keep scanning for missing devices.
        backend: bleak scanner backend class; ``None`` for the real radio.

    Returns:
        address (upper case) → scanned :class:`BLEDevice` (what ``BleakClient`` should be given).

    Raises:
        BluetoothUnavailableError: there is no Bluetooth stack on this machine.
        SensorNotFoundError: some address was not seen within ``timeout``.
    """
    wanted = {a.upper() for a in addresses}
    found: dict[str, BLEDevice] = {}
    everyone = asyncio.Event()

    def seen(device: BLEDevice, _adv: AdvertisementData) -> None:
        key = device.address.upper()
        if key in wanted:
            found[key] = device
            if len(found) == len(wanted):
                everyone.set()

    kwargs: dict[str, Any] = {} if backend is None else {"backend": backend}
    with no_bluetooth_is_one_error():
        async with BleakScanner(seen, **kwargs):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(everyone.wait(), timeout)
    missing = sorted(wanted - found.keys())
    if missing:
        raise SensorNotFoundError(
            f"sensor(s) not found within {timeout:g} s: {', '.join(missing)} — charged, "
            "in range, and not connected to another device?"
        )
    return found
