"""Movella DOT driver: configure and stream through bleak's public API.

:func:`start_dot` works on a client someone else connected (the connection manager,
:mod:`liftguard.sensors.manager`); :func:`connect_dot` is the one-shot connect-and-start.

The same code drives a real DOT and an emulated one
(:class:`~liftguard.firmware_bridge.dot.DotEmulator` behind
:class:`~liftguard.sensors.simulated.SimulatedWorld`); only the backend class differs.

Connection sequence, each step checked against the DOT BLE service specification (XD0506P):

1. a fresh :class:`~bleak.BleakClient` on the scanned ``BLEDevice`` (a reused client can
   deliver notifications twice after a reconnect);
2. stop any measurement a previous host left running — the output rate cannot change while
   measuring (Spec Table 7);
3. write the output rate (device control, visit bit 4) and read it back;
4. read the battery and subscribe to its change notifications;
5. enable notifications on the payload characteristic, *then* write the start command (Spec
   §3.1 and §3.8; anything notified before the subscription is lost), and read the control
   characteristic back to confirm the sensor is measuring in the requested mode.

All writes use write-with-response: the DOT's control characteristics are "Read, Write"
(Spec Tables 5 and 12), and the 32-byte device-control value does not fit a 20-byte
write-without-response at the default MTU anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakCharacteristicNotFoundError

from liftguard.config import SensorConfig
from liftguard.errors import ProtocolError
from liftguard.firmware_bridge.dot import (
    BATTERY_CHAR,
    CONTROL_CHAR,
    DEVICE_CONTROL_CHAR,
    DotConfig,
    output_rate_command,
    parse_battery,
    parse_control,
    parse_output_rate,
    start_command,
    stop_command,
)
from liftguard.sensors.clock import Clock

__all__ = ["DotConnection", "connect_dot", "start_dot"]

log = logging.getLogger(__name__)

DataCallback = Callable[[str, float, bytearray], None]
_T = TypeVar("_T")


class DotConnection:
    """One connected, streaming Movella DOT.

    Attributes:
        client: the bleak client of this connection.
        sensor: the roster entry.
        config: the wire configuration in use (payload mode, output rate).
        battery_percent: last battery level reported by the sensor, %.
        charging: last charging status reported by the sensor.
    """

    def __init__(
        self,
        client: BleakClient,
        sensor: SensorConfig,
        config: DotConfig,
        battery: tuple[int, bool],
    ) -> None:
        self.client = client
        self.sensor = sensor
        self.config = config
        self.battery_percent, self.charging = battery
        self._intentional = False

    @property
    def is_connected(self) -> bool:
        """Whether the link is up."""
        return self.client.is_connected

    @property
    def wire(self) -> dict[str, int | float]:
        """The stream's wire configuration: ``{"mode": payload mode, "rate": output rate Hz}``."""
        return {"mode": self.config.mode, "rate": self.config.rate_hz}

    def _battery_changed(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        parsed = parse_battery(data)
        if parsed is not None:
            self.battery_percent, self.charging = parsed

    async def close(self) -> None:
        """Stop measuring and disconnect (an intentional disconnect, not link loss)."""
        self._intentional = True
        if not self.client.is_connected:
            return
        try:
            # Spec §3.8: stop the measurement first, then disable the notification.
            await self.client.write_gatt_char(
                CONTROL_CHAR, stop_command(self.config), response=True
            )
            await self.client.stop_notify(self.config.notify_char)
        finally:
            await self.client.disconnect()


async def start_dot(
    client: BleakClient,
    sensor: SensorConfig,
    *,
    clock: Clock,
    on_data: DataCallback,
    reply_timeout: float = 5.0,
) -> DotConnection:
    """Set a connected Movella DOT's output rate and start streaming ``sensor``'s mode.

    Steps 2-5 of the connection sequence above, on a client the caller connected and keeps
    owning: this neither connects nor, on failure, disconnects.

    Args:
        client: a connected :class:`~bleak.BleakClient`, fresh for this connection.
        sensor: the roster entry: ``rate_hz`` (1, 4, 10, 12, 15, 20, 30 or 60) and ``mode``
            (payload mode 2, 3, 20 or 21; None = 21 Rate quantities).
        clock: session clock; each notification is stamped with ``clock.now()`` on arrival.
        on_data: receives ``(address, host_time, data)`` for every measurement notification.
        reply_timeout: seconds each GATT read or write may take.

    Raises:
        ConfigError: ``sensor``'s mode or rate is not one a DOT streams (before any GATT
            traffic).
        ProtocolError: the device lacks the DOT's characteristics, did not answer within
            ``reply_timeout``, or did not take the rate or the start command like a DOT.
    """
    config = DotConfig.for_sensor(sensor)
    address = client.address

    def notified(_char: BleakGATTCharacteristic, data: bytearray) -> None:
        on_data(address, clock.now(), data)

    async def within(step: str, op: Awaitable[_T]) -> _T:
        try:
            return await asyncio.wait_for(op, reply_timeout)
        except TimeoutError:
            raise ProtocolError(
                f"{address}: no answer while {step}; is this a Movella DOT?", reason="no_reply"
            ) from None
        except BleakCharacteristicNotFoundError:
            raise ProtocolError(
                f"{address}: no DOT measurement service (while {step}); is this a Movella DOT?",
                reason="not_a_dot",
            ) from None

    async def write(step: str, uuid: str, value: bytes) -> None:
        await within(step, client.write_gatt_char(uuid, value, response=True))

    async def read(step: str, uuid: str) -> bytearray:
        return await within(step, client.read_gatt_char(uuid))

    await write("stopping", CONTROL_CHAR, stop_command(config))
    await write("setting the rate", DEVICE_CONTROL_CHAR, output_rate_command(config.rate_hz))
    rate = parse_output_rate(await read("reading the rate", DEVICE_CONTROL_CHAR))
    if rate != config.rate_code:
        raise ProtocolError(
            f"{address}: output rate reads {rate} Hz after setting {config.rate_code} Hz",
            reason="rate_not_set",
        )
    battery = parse_battery(await read("reading the battery", BATTERY_CHAR))
    if battery is None:
        raise ProtocolError(f"{address}: unreadable battery value", reason="bad_reply")
    conn = DotConnection(client, sensor, config, battery)
    await within("subscribing", client.start_notify(BATTERY_CHAR, conn._battery_changed))
    # Subscribe first: notifications sent before start_notify are lost.
    await within("subscribing", client.start_notify(config.notify_char, notified))
    await write("starting", CONTROL_CHAR, start_command(config))
    control = parse_control(await read("confirming the start", CONTROL_CHAR))
    if control != parse_control(start_command(config)):
        raise ProtocolError(
            f"{address}: measurement did not start in payload mode {config.mode} "
            f"(control reads {control})",
            reason="not_started",
        )
    log.info(
        "%s: DOT streaming payload mode %d at %g Hz, battery %d %%",
        address,
        config.mode,
        config.rate_hz,
        conn.battery_percent,
    )
    return conn


async def connect_dot(
    device: BLEDevice,
    sensor: SensorConfig,
    *,
    clock: Clock,
    on_data: DataCallback,
    on_link_lost: Callable[[str], None] | None = None,
    backend: type[BaseBleakClient] | None = None,
    reply_timeout: float = 5.0,
) -> DotConnection:
    """Connect to a Movella DOT (one attempt, no retries) and :func:`start_dot` it.

    Args:
        device: the scanned :class:`~bleak.backends.device.BLEDevice` (never an address string:
            BlueZ needs the scanned object).
        sensor: the roster entry (see :func:`start_dot`).
        clock: session clock; each notification is stamped with ``clock.now()`` on arrival.
        on_data: receives ``(address, host_time, data)`` for every measurement notification.
        on_link_lost: called once with the address when the link drops without us asking,
            once streaming has started (a drop while connecting raises instead).
        backend: bleak client backend class; ``None`` for real hardware.
        reply_timeout: seconds each GATT read or write may take.

    Raises:
        ConfigError: ``sensor``'s mode or rate is not one a DOT streams (before connecting).
        ProtocolError: see :func:`start_dot`.
    """
    DotConfig.for_sensor(sensor)  # a bad roster entry fails before touching the radio
    address = device.address
    holder: dict[str, DotConnection] = {}

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
        conn = await start_dot(
            client, sensor, clock=clock, on_data=on_data, reply_timeout=reply_timeout
        )
    except BaseException:
        await client.disconnect()
        raise
    holder["conn"] = conn
    return conn
