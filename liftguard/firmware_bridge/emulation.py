"""What every byte-exact device emulator offers, and what feeds it motion.

An emulator is the firmware of one sensor, minus the radio: it owns a GATT table, answers
reads and writes the way the real firmware does, and — once started — produces the real
firmware's notification bytes at the configured rate. It never reads a clock: the caller passes
device time in, so the same inputs always give the same bytes. The simulated bleak backend
(:mod:`liftguard.sensors.simulated`) puts emulators behind bleak's public API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "Advertisement",
    "CharacteristicSpec",
    "EmulatedDevice",
    "MotionSource",
    "Notification",
    "ServiceSpec",
]

FloatArray = npt.NDArray[np.float64]


class MotionSource(Protocol):
    """What a sensor physically experiences.

    ``imu(t)`` takes ``t``: ``(N,)`` device seconds (increasing across calls) and returns
    ``(acc, gyr)``: ``(N, 3)`` specific force in m/s² and ``(N, 3)`` angular rate in rad/s, both
    in the sensor frame, before any quantisation or range limit (the emulator applies those).
    """

    def imu(self, t: FloatArray) -> tuple[FloatArray, FloatArray]: ...


@dataclass(frozen=True)
class CharacteristicSpec:
    """One GATT characteristic: 128-bit ``uuid`` (lower case) and bleak property names."""

    uuid: str
    properties: tuple[str, ...]


@dataclass(frozen=True)
class ServiceSpec:
    """One GATT service and its characteristics."""

    uuid: str
    characteristics: tuple[CharacteristicSpec, ...]


@dataclass(frozen=True)
class Advertisement:
    """What the device advertises."""

    local_name: str
    service_uuids: tuple[str, ...] = ()
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    rssi: int = -60


@dataclass(frozen=True)
class Notification:
    """Bytes the device sent on characteristic ``uuid`` at device time ``t`` (seconds)."""

    t: float
    uuid: str
    data: bytes


class EmulatedDevice(Protocol):
    """A sensor's firmware behind a GATT table. All times are device seconds."""

    address: str
    name: str
    family: str

    @property
    def services(self) -> tuple[ServiceSpec, ...]: ...

    def advertisement(self) -> Advertisement: ...

    def connect(self, now: float) -> None:
        """A central connected."""

    def disconnect(self, now: float) -> None:
        """The link went down (either side); the firmware stops what a disconnect stops."""

    def read(self, uuid: str, now: float) -> bytes:
        """Value of a readable characteristic."""

    def write(self, uuid: str, data: bytes, now: float) -> list[Notification]:
        """Handle a write; returns the notifications it causes at once (command replies)."""

    def advance(self, now: float) -> list[Notification]:
        """Notifications produced by streaming since the last call, up to and including ``now``."""
