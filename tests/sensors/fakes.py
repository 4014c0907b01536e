"""A minimal EmulatedDevice for exercising the simulated bleak backend."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from liftguard.firmware_bridge.emulation import (
    Advertisement,
    CharacteristicSpec,
    Notification,
    ServiceSpec,
)

SERVICE_UUID = "0000fe00-0000-1000-8000-00805f9b34fb"
CONTROL_UUID = "0000fe01-0000-1000-8000-00805f9b34fb"  # write / write-without-response
COUNTER_UUID = "0000fe02-0000-1000-8000-00805f9b34fb"  # notify: uint32 LE counter
STATUS_UUID = "0000fe03-0000-1000-8000-00805f9b34fb"  # read + notify: command replies
INFO_SERVICE_UUID = "0000fe10-0000-1000-8000-00805f9b34fb"
FIRMWARE_UUID = "0000fe11-0000-1000-8000-00805f9b34fb"  # read

START = b"\x01"
STOP = b"\x00"
FIRMWARE = b"fake-1.0"
RATE_HZ = 100.0


@dataclass
class FakeCounterDevice:
    """Streams a uint32 counter (1, 2, …) at 100 Hz on COUNTER once START is written.

    Every write is answered on STATUS with ``b"ok" + command``. Sample ``k`` of a run started at
    ``t0`` is emitted at exactly ``t0 + k / RATE_HZ``. Records what the host did to it.
    """

    address: str = "AA:BB:CC:DD:EE:01"
    name: str = "FakeIMU-1"
    family: str = "fake"
    advertised_services: tuple[str, ...] = (SERVICE_UUID,)
    rssi: int = -60
    connects: list[float] = field(default_factory=list)
    disconnects: list[float] = field(default_factory=list)
    writes: list[tuple[float, str, bytes]] = field(default_factory=list)
    emitted: list[Notification] = field(default_factory=list)
    _t0: float | None = None
    _k: int = 0
    _last_now: float = float("-inf")

    @property
    def services(self) -> tuple[ServiceSpec, ...]:
        return (
            ServiceSpec(
                SERVICE_UUID,
                (
                    CharacteristicSpec(CONTROL_UUID, ("write", "write-without-response")),
                    CharacteristicSpec(COUNTER_UUID, ("notify",)),
                    CharacteristicSpec(STATUS_UUID, ("read", "notify")),
                ),
            ),
            ServiceSpec(INFO_SERVICE_UUID, (CharacteristicSpec(FIRMWARE_UUID, ("read",)),)),
        )

    def advertisement(self) -> Advertisement:
        return Advertisement(
            local_name=self.name,
            service_uuids=self.advertised_services,
            manufacturer_data={0xFFFF: b"\x01"},
            rssi=self.rssi,
        )

    def _check_time(self, now: float) -> None:
        # The backend promises never to make device time go backwards.
        assert now >= self._last_now, (now, self._last_now)
        self._last_now = now

    def connect(self, now: float) -> None:
        self._check_time(now)
        self.connects.append(now)

    def disconnect(self, now: float) -> None:
        self._check_time(now)
        self.disconnects.append(now)
        self._t0 = None

    def read(self, uuid: str, now: float) -> bytes:
        self._check_time(now)
        if uuid == FIRMWARE_UUID:
            return FIRMWARE
        if uuid == STATUS_UUID:
            return b"streaming" if self._t0 is not None else b"idle"
        raise ValueError(f"not readable: {uuid}")

    def write(self, uuid: str, data: bytes, now: float) -> list[Notification]:
        self._check_time(now)
        self.writes.append((now, uuid, data))
        if uuid == CONTROL_UUID and data == START:
            self._t0, self._k = now, 0
        elif uuid == CONTROL_UUID and data == STOP:
            self._t0 = None
        return [Notification(now, STATUS_UUID, b"ok" + data)]

    def advance(self, now: float) -> list[Notification]:
        self._check_time(now)
        out: list[Notification] = []
        if self._t0 is None:
            return out
        while self._t0 + (self._k + 1) / RATE_HZ <= now:
            self._k += 1
            out.append(
                Notification(self._t0 + self._k / RATE_HZ, COUNTER_UUID, struct.pack("<I", self._k))
            )
        self.emitted.extend(out)
        return out

    def emission_time(self, counter: int) -> float:
        """When sample ``counter`` of the current/last run was emitted (device seconds)."""
        times = [n.t for n in self.emitted if struct.unpack("<I", n.data)[0] == counter]
        return times[-1]
