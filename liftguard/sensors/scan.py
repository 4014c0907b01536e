"""``liftguard scan``: the supported sensors in range."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bleak import BleakScanner
from bleak.backends.scanner import BaseBleakScanner

from liftguard.firmware_bridge.families import identify
from liftguard.sensors._unavailable import no_bluetooth_is_one_error

__all__ = ["FoundSensor", "scan_sensors"]


@dataclass(frozen=True)
class FoundSensor:
    """A supported sensor seen advertising. ``battery_percent`` only where it is advertised."""

    family: str
    name: str
    address: str
    rssi: int
    battery_percent: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "name": self.name,
            "address": self.address,
            "rssi": self.rssi,
            "battery_percent": self.battery_percent,
        }


async def scan_sensors(
    timeout: float = 5.0, *, backend: type[BaseBleakScanner] | None = None
) -> list[FoundSensor]:
    """Scan for ``timeout`` seconds; return the supported sensors, strongest signal first.

    Raises:
        BluetoothUnavailableError: no Bluetooth stack, no adapter, or it is powered off.
    """
    kwargs: dict[str, Any] = {} if backend is None else {"backend": backend}
    with no_bluetooth_is_one_error(hint="`liftguard scan --simulated` lists the emulated sensors"):
        seen = await BleakScanner.discover(timeout=timeout, return_adv=True, **kwargs)
    found = []
    for device, adv in seen.values():
        family = identify(
            adv.local_name or device.name, adv.service_uuids, list(adv.manufacturer_data)
        )
        if family is not None:
            found.append(
                FoundSensor(family, adv.local_name or device.name or "", device.address, adv.rssi)
            )
    found.sort(key=lambda f: -f.rssi)
    return found


async def scan_simulated(timeout: float = 1.0) -> list[FoundSensor]:
    """What ``scan`` sees in the demo's simulated gym: three athletes, one per family."""
    from liftguard.cast import build_cast
    from liftguard.sensors.simulated import SimulatedWorld

    cast = build_cast(3, 0, 60.0, families=("metawear", "dot", "witmotion"))
    world = SimulatedWorld(cast.emulators)
    await world.start()
    try:
        return await scan_sensors(timeout, backend=world.scanner_backend)
    finally:
        await world.stop()
