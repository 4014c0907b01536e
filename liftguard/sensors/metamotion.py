"""MetaMotion driver: discover, connect, configure and stream through bleak's public API.

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

__all__ = ["MetaMotionConnection", "connect_metamotion"]

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
    """Connect to a MetaMotion, find its IMU chip, configure it and start acc + gyro streaming.

    Args:
        device: the scanned :class:`~bleak.backends.device.BLEDevice` (never an address string:
            BlueZ needs the scanned object).
        sensor: the roster entry (rate and ranges).
        clock: session clock; each notification is stamped with ``clock.now()`` on arrival.
        on_data: receives ``(address, host_time, data)`` for every data notification.
        on_link_lost: called with the address when the link drops without us asking.
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

    try:
        # Subscribe first: notifications sent before start_notify are lost.
        await client.start_notify(NOTIFY_CHAR, notified)
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
        config = MetaWearConfig(
            chip=chip_from_module_info(impl),
            acc_range_g=sensor.acc_range_g,
            gyro_range_dps=sensor.gyro_range_dps,
            odr_hz=sensor.rate_hz,
        )
        for cmd in configure_commands(config) + start_commands(config):
            await client.write_gatt_char(COMMAND_CHAR, cmd, response=False)
    except BaseException:
        await client.disconnect()
        raise
    conn = MetaMotionConnection(client, sensor, config)
    holder["conn"] = conn
    log.info("%s: %s streaming at %g Hz", address, config.chip, config.odr_hz)
    return conn
