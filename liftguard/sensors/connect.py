"""One entry point to connect any supported sensor family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError
from liftguard.sensors.clock import Clock
from liftguard.sensors.dot import connect_dot
from liftguard.sensors.metamotion import DataCallback, connect_metamotion
from liftguard.sensors.witmotion import connect_witmotion

__all__ = ["Connection", "connect_sensor"]


class Connection(Protocol):
    """A connected, streaming sensor of any family."""

    @property
    def is_connected(self) -> bool: ...

    async def close(self) -> None:
        """Stop streaming and disconnect on purpose."""


async def connect_sensor(
    device: BLEDevice,
    sensor: SensorConfig,
    *,
    clock: Clock,
    on_data: DataCallback,
    on_link_lost: Callable[[str], None] | None = None,
    backend: type[BaseBleakClient] | None = None,
) -> tuple[Connection, str | None]:
    """Connect ``sensor`` with its family's driver and start streaming.

    Returns:
        ``(connection, chip)``: ``chip`` is what the decoder must know about the device
        (MetaMotion's IMU), ``None`` for families that need nothing beyond the roster.
    """
    if sensor.family == "metawear":
        mm = await connect_metamotion(
            device,
            sensor,
            clock=clock,
            on_data=on_data,
            on_link_lost=on_link_lost,
            backend=backend,
        )
        return mm, mm.chip
    if sensor.family == "witmotion":
        wit = await connect_witmotion(
            device,
            sensor,
            clock=clock,
            on_data=on_data,
            on_link_lost=on_link_lost,
            backend=backend,
        )
        return wit, None
    if sensor.family == "dot":
        dot = await connect_dot(
            device,
            sensor,
            clock=clock,
            on_data=on_data,
            on_link_lost=on_link_lost,
            backend=backend,
        )
        return dot, None
    raise ConfigError(f"sensor {sensor.address}: no driver for family {sensor.family!r}")
