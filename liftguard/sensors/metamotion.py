"""MetaMotion driver: configure and stream through bleak's public API.

:func:`start_metamotion` works on a client someone else connected (the connection manager,
:mod:`liftguard.sensors.manager`, which retries and reconnects); :func:`connect_metamotion` is
the one-shot connect-and-start for scripts and tests.

The same code drives a real MetaMotion and an emulated one; the only difference is the backend
class handed to :class:`bleak.BleakScanner` and :class:`bleak.BleakClient` (``None`` picks the
platform's real backend).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakCharacteristicNotFoundError

from liftguard.config import SensorConfig
from liftguard.errors import ProtocolError
from liftguard.firmware_bridge.metawear import (
    COMMAND_CHAR,
    NOTIFY_CHAR,
    MetaWearConfig,
    chip_from_module_info,
    configure_commands,
    module_info_request,
    parse_module_info,
    start_commands,
    stop_commands,
)
from liftguard.sensors.clock import Clock

__all__ = ["DataCallback", "MetaMotionConnection", "connect_metamotion", "start_metamotion"]

log = logging.getLogger(__name__)

ACCELEROMETER_MODULE = 0x03
DataCallback = Callable[[str, float, bytearray], None]


class MetaMotionConnection:
    """One connected, streaming MetaMotion.

    ``chip`` is the IMU found by module discovery; ``config`` the wire configuration in use.
    """

    def __init__(self, client: BleakClient, sensor: SensorConfig, config: MetaWearConfig) -> None:
        self.client = client
        self.sensor = sensor
        self.config = config
        self._intentional = False

    @property
    def chip(self) -> str:
        return self.config.chip

    @property
    def is_connected(self) -> bool:
        return self.client.is_connected

    async def close(self) -> None:
        """Stop streaming and disconnect (an intentional disconnect, not link loss)."""
        self._intentional = True
        if not self.client.is_connected:
            return
        try:
            for cmd in stop_commands(self.config):
                await self.client.write_gatt_char(COMMAND_CHAR, cmd, response=False)
        finally:
            await self.client.disconnect()


async def start_metamotion(
    client: BleakClient,
    sensor: SensorConfig,
    *,
    clock: Clock,
    on_data: DataCallback,
    reply_timeout: float = 5.0,
) -> MetaMotionConnection:
    """Find a connected MetaMotion's IMU chip, configure it and start acc + gyro streaming.

    The link is the caller's: this neither connects nor, on failure, disconnects, so a
    connection manager can make the client (with its own retries and disconnected callback)
    and decide what a failure means.

    Args:
        client: a connected :class:`~bleak.BleakClient` (fresh for this connection: a reused
            client can deliver every notification twice).
        sensor: the roster entry (rates and ranges; ``gyro_rate_hz`` sets the gyro's own ODR).
        clock: session clock; each notification is stamped with ``clock.now()`` on arrival.
        on_data: receives ``(address, host_time, data)`` for every data notification.
        reply_timeout: seconds to wait for the module-discovery reply.

    Raises:
        ProtocolError: the device has no MetaWear characteristics (``"not_a_metamotion"``) or
            did not answer module discovery (``"no_reply"``).
        BleakError: a GATT operation failed (e.g. the link dropped).
    """
    address = client.address
    loop = asyncio.get_running_loop()
    reply: asyncio.Future[tuple[int, int, int]] = loop.create_future()

    def notified(_char: BleakGATTCharacteristic, data: bytearray) -> None:
        host_time = clock.now()
        if not reply.done():
            info = parse_module_info(bytes(data))
            if info is not None and info[0] == ACCELEROMETER_MODULE:
                reply.set_result(info)
                return
        on_data(address, host_time, data)

    # Subscribe first: notifications sent before start_notify are lost.
    try:
        await client.start_notify(NOTIFY_CHAR, notified)
    except BleakCharacteristicNotFoundError:
        raise ProtocolError(
            f"{address}: no MetaWear service; is this a MetaMotion?", reason="not_a_metamotion"
        ) from None
    await client.write_gatt_char(
        COMMAND_CHAR, module_info_request(ACCELEROMETER_MODULE), response=False
    )
    try:
        _module, impl, _rev = await asyncio.wait_for(reply, reply_timeout)
    except TimeoutError:
        raise ProtocolError(
            f"{address}: no answer to module discovery; is this a MetaMotion?",
            reason="no_reply",
        ) from None
    config = MetaWearConfig.for_sensor(sensor, chip_from_module_info(impl))
    for cmd in configure_commands(config) + start_commands(config):
        await client.write_gatt_char(COMMAND_CHAR, cmd, response=False)
    log.info(
        "%s: %s streaming acc at %g Hz, gyro at %g Hz",
        address,
        config.chip,
        config.odr("acc"),
        config.odr("gyr"),
    )
    return MetaMotionConnection(client, sensor, config)


async def connect_metamotion(
    device: BLEDevice,
    sensor: SensorConfig,
    *,
    clock: Clock,
    on_data: DataCallback,
    on_link_lost: Callable[[str], None] | None = None,
    backend: type[BaseBleakClient] | None = None,
    reply_timeout: float = 5.0,
) -> MetaMotionConnection:
    """Connect to a MetaMotion (one attempt, no retries) and :func:`start_metamotion` it.

    Args:
        device: the scanned :class:`~bleak.backends.device.BLEDevice` (never an address string:
            BlueZ needs the scanned object).
        sensor: the roster entry (rate and ranges).
        clock: session clock; each notification is stamped with ``clock.now()`` on arrival.
        on_data: receives ``(address, host_time, data)`` for every data notification.
        on_link_lost: called with the address when the link drops without us asking, once
            streaming has started.
        backend: bleak client backend class; ``None`` for real hardware.
        reply_timeout: seconds to wait for the module-discovery reply.

    Raises:
        ProtocolError: the device did not answer module discovery like a MetaMotion.
    """
    address = device.address
    holder: dict[str, MetaMotionConnection] = {}

    def disconnected(_client: BleakClient) -> None:
        conn = holder.get("conn")
        # BlueZ reports our own disconnect() too, and bleak's own retries of a transient
        # abort while connecting; only the loss of an established link is news.
        if on_link_lost is not None and conn is not None and not conn._intentional:
            on_link_lost(address)

    kwargs: dict[str, Any] = {} if backend is None else {"backend": backend}
    client = BleakClient(device, disconnected_callback=disconnected, **kwargs)
    await client.connect()
    try:
        conn = await start_metamotion(
            client, sensor, clock=clock, on_data=on_data, reply_timeout=reply_timeout
        )
    except BaseException:
        await client.disconnect()
        raise
    holder["conn"] = conn
    return conn
