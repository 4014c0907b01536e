"""One entry point per step for any supported sensor family.

* :func:`check_sensor` — is the roster entry one a driver can stream? (no radio involved)
* :func:`start_sensor` — configure and start streaming on a client that is already connected
  (what :class:`~liftguard.sensors.manager.ConnectionManager` uses: it owns connecting,
  retries and reconnects);
* :func:`connect_sensor` — one-shot connect-and-start, for scripts, the demo and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol

from bleak import BleakClient
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError
from liftguard.firmware_bridge.dot import DotConfig
from liftguard.firmware_bridge.metawear import MetaWearConfig
from liftguard.firmware_bridge.witmotion import WitConfig
from liftguard.sensors.clock import Clock
from liftguard.sensors.dot import connect_dot, start_dot
from liftguard.sensors.metamotion import DataCallback, connect_metamotion, start_metamotion
from liftguard.sensors.witmotion import connect_witmotion, start_witmotion

__all__ = [
    "SUPPORTED_FAMILIES",
    "Connection",
    "Started",
    "check_sensor",
    "connect_sensor",
    "start_sensor",
]

#: Families with a driver here.
SUPPORTED_FAMILIES = ("metawear", "dot", "witmotion")


class Connection(Protocol):
    """A connected, streaming sensor of any family."""

    @property
    def is_connected(self) -> bool: ...

    async def close(self) -> None:
        """Stop streaming and disconnect on purpose."""


class Started(NamedTuple):
    """A sensor streaming on a connected client.

    ``chip`` is what the decoder must know about the device (MetaMotion's IMU), ``None`` for
    families that need nothing beyond the roster; ``detail`` says what it streams, for people.
    """

    connection: Connection
    chip: str | None
    detail: str


def check_sensor(sensor: SensorConfig) -> None:
    """Raise :class:`ConfigError` unless a driver can stream ``sensor`` as configured.

    Catches before any radio traffic what would otherwise fail after connecting: a family
    without a driver (``reason="unsupported_family"``), or a rate, range or mode the family
    cannot give.
    """
    if sensor.family == "metawear":
        try:
            # The chip is only known after module discovery; either one checks rates and ranges.
            MetaWearConfig.for_sensor(sensor)
        except ConfigError as exc:
            # Name the roster's keys, not the wire configuration's.
            message = str(exc)
            for wire, roster in (("gyr_odr_hz", "gyro_rate_hz"), ("odr_hz", "rate_hz")):
                if message.startswith(wire):
                    message = roster + message[len(wire) :]
                    break
            raise ConfigError(f"sensor {sensor.address}: {message}", reason=exc.reason) from None
    elif sensor.family == "dot":
        DotConfig.for_sensor(sensor)
    elif sensor.family == "witmotion":
        WitConfig.for_sensor(sensor)
    else:
        raise ConfigError(
            f"sensor {sensor.address}: unsupported family {sensor.family!r} "
            f"(LiftGuard drives {', '.join(SUPPORTED_FAMILIES)})",
            reason="unsupported_family",
        )


async def start_sensor(
    client: BleakClient,
    sensor: SensorConfig,
    *,
    clock: Clock,
    on_data: DataCallback,
) -> Started:
    """Configure ``sensor`` on an already connected ``client`` and start it streaming.

    Subscribes before sending the start command (notifications sent before ``start_notify``
    are lost). Never connects or disconnects: on failure the caller still owns the link.

    Raises:
        ConfigError: see :func:`check_sensor`.
        ProtocolError: the device did not answer like its family.
        BleakError: a GATT operation failed (e.g. the link dropped meanwhile).
    """
    if sensor.family == "metawear":
        mm = await start_metamotion(client, sensor, clock=clock, on_data=on_data)
        return Started(mm, mm.chip, f"{mm.chip} at {mm.config.odr_hz:g} Hz")
    if sensor.family == "dot":
        dot = await start_dot(client, sensor, clock=clock, on_data=on_data)
        return Started(
            dot,
            None,
            f"payload mode {dot.config.mode} at {dot.config.rate_hz:g} Hz, "
            f"battery {dot.battery_percent} %",
        )
    if sensor.family == "witmotion":
        wit = await start_witmotion(client, sensor, clock=clock, on_data=on_data)
        return Started(wit, None, f"{wit.config.rate_hz:g} Hz")
    check_sensor(sensor)  # raises: no driver for this family
    raise AssertionError("unreachable")


async def connect_sensor(
    device: BLEDevice,
    sensor: SensorConfig,
    *,
    clock: Clock,
    on_data: DataCallback,
    on_link_lost: Callable[[str], None] | None = None,
    backend: type[BaseBleakClient] | None = None,
) -> tuple[Connection, str | None]:
    """Connect ``sensor`` with its family's driver (one attempt) and start streaming.

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
