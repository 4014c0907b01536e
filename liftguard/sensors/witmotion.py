"""WitMotion WT901BLE driver: set the rate and stream through bleak's public API.

:func:`start_witmotion` works on a client someone else connected (the connection manager,
:mod:`liftguard.sensors.manager`); :func:`connect_witmotion` is the one-shot connect-and-start.

The same code drives a real sensor and an emulated one; only the backend class handed to
:class:`bleak.BleakClient` differs (``None`` picks the platform's real backend).

The sensor streams from power-up at whatever rate it last saved (factory: 10 Hz), so the driver
subscribes first, then unlocks and writes the rate, and then reads the RATE register back: the
``55 71`` reply proves the rate took (a write outside the unlock window is silently ignored by
the firmware) and marks where the new-rate stream starts. Notifications before that reply are
not passed on — their samples are at the old rate, which would mislead a host clock that stamps
samples at the nominal rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.exc import BleakCharacteristicNotFoundError

from liftguard.config import SensorConfig
from liftguard.errors import ProtocolError
from liftguard.firmware_bridge.witmotion import (
    NOTIFY_CHAR,
    RATE_CODE_HZ,
    WRITE_CHAR,
    FrameReassembler,
    WitConfig,
    parse_register_reply,
    rate_command,
    read_register_command,
    save_command,
    unlock_command,
)
from liftguard.sensors.clock import Clock

__all__ = ["WitConnection", "connect_witmotion", "start_witmotion"]

log = logging.getLogger(__name__)

DataCallback = Callable[[str, float, bytearray], None]

_REG_RATE = 0x03
#: Attempts at unlock + rate + read-back before giving up on a sensor that ignores the rate.
_RATE_ATTEMPTS = 2


@runtime_checkable
class _SleepingClock(Protocol):
    """A clock that can also wait on its own time base (the simulator's world does)."""

    def now(self) -> float: ...

    async def sleep(self, dt: float) -> None: ...


class WitConnection:
    """One connected, streaming WitMotion sensor.

    ``config`` is the wire configuration in use; ``saved`` whether it was written to the
    sensor's flash (it then survives a power cycle).
    """

    def __init__(
        self, client: BleakClient, sensor: SensorConfig, config: WitConfig, *, saved: bool
    ) -> None:
        self.client = client
        self.sensor = sensor
        self.config = config
        self.saved = saved
        self._intentional = False

    @property
    def is_connected(self) -> bool:
        return self.client.is_connected

    @property
    def wire(self) -> dict[str, object]:
        """What the sensor was set to: family, ``rate_hz`` (Hz), ``rate_code``, ``saved``."""
        return {
            "family": "witmotion",
            "rate_hz": self.config.rate_hz,
            "rate_code": self.config.rate_code,
            "saved": self.saved,
        }

    async def close(self) -> None:
        """Disconnect (an intentional disconnect, not link loss). The sensor keeps its rate.

        There is no stop command: the sensor streams whenever it is powered.
        """
        self._intentional = True
        if self.client.is_connected:
            await self.client.disconnect()


async def start_witmotion(
    client: BleakClient,
    sensor: SensorConfig,
    *,
    clock: Clock,
    on_data: DataCallback,
    save: bool = False,
    reply_timeout: float = 5.0,
    command_gap_s: float = 0.1,
) -> WitConnection:
    """Set a connected WT901BLE's output rate, confirm it, and pass its stream on.

    The link is the caller's: this neither connects nor, on failure, disconnects. A link that
    drops meanwhile shows up as a failed write or a read-back timeout; a caller that wants to
    know at once races this against its disconnected callback (as :func:`connect_witmotion`
    and the connection manager do).

    Args:
        client: a connected :class:`~bleak.BleakClient`, fresh for this connection.
        sensor: the roster entry (``family="witmotion"``, ``rate_hz`` one of 10, 20, 50, 100,
            200 Hz).
        clock: session clock; each notification is stamped with ``clock.now()`` on arrival. If
            it has an async ``sleep`` (the simulator's world), the pauses between commands are
            taken on it, so simulated sessions stay reproducible.
        on_data: receives ``(address, host_time, data)`` for every notification from the
            rate confirmation on (the first one trimmed to start right after the ``55 71``
            reply, so it begins on a frame boundary).
        save: also store the rate in the sensor's flash (it otherwise falls back to its saved
            rate at the next power-up). Off by default: flash has finite write cycles and the
            driver sets the rate on every connect anyway.
        reply_timeout: seconds to wait for the RATE read-back.
        command_gap_s: pause between commands, s; WitMotion's SDK waits 100 ms around each
            register write.

    Raises:
        ConfigError: ``sensor`` is not a usable WitMotion configuration.
        ProtocolError: no WitMotion characteristics (``"not_a_witmotion"``), no read-back
            reply (``"no_reply"``), or the sensor kept another rate after retrying
            (``"rate_not_applied"``).
    """
    config = WitConfig.for_sensor(sensor)
    address = client.address
    sleep = clock.sleep if isinstance(clock, _SleepingClock) else asyncio.sleep
    loop = asyncio.get_running_loop()
    reassembler = FrameReassembler()
    state: dict[str, Any] = {"forwarding": False, "reply": None}

    def notified(_char: BleakGATTCharacteristic, data: bytearray) -> None:
        host_time = clock.now()
        if state["forwarding"]:
            on_data(address, host_time, data)
            return
        frames, ends = reassembler.feed_located(data)
        for frame, end in zip(frames, ends.tolist(), strict=True):
            parsed = parse_register_reply(frame)
            if parsed is None or parsed[0] != _REG_RATE:
                continue
            code = int(parsed[1][0]) & 0xFFFF
            reply = state["reply"]
            if reply is not None and not reply.done():
                reply.set_result(code)
            if code == config.rate_code:
                state["forwarding"] = True
                if end < len(data):
                    on_data(address, host_time, data[end:])
                return

    async def send(command: bytes) -> None:
        await client.write_gatt_char(WRITE_CHAR, command, response=True)

    # Subscribe first: notifications sent before start_notify are lost, and the read-back
    # reply must not be among them.
    try:
        await client.start_notify(NOTIFY_CHAR, notified)
    except BleakCharacteristicNotFoundError:
        raise ProtocolError(
            f"{address}: no WitMotion data characteristic; is this a WitMotion BLE 5.0 sensor?",
            reason="not_a_witmotion",
        ) from None
    for attempt in range(1, _RATE_ATTEMPTS + 1):
        await send(unlock_command())
        await sleep(command_gap_s)
        await send(rate_command(config.rate_hz))
        await sleep(command_gap_s)
        reply: asyncio.Future[int] = loop.create_future()
        state["reply"] = reply
        await send(read_register_command(_REG_RATE))
        try:
            code = await asyncio.wait_for(reply, reply_timeout)
        except TimeoutError:
            raise ProtocolError(
                f"{address}: no answer to the RATE register read; is this a WitMotion "
                "BLE 5.0 sensor?",
                reason="no_reply",
            ) from None
        if code == config.rate_code:
            break
        log.warning(
            "%s: rate read back as code 0x%02x (%s Hz), wanted 0x%02x; attempt %d",
            address,
            code,
            RATE_CODE_HZ.get(code, "?"),
            config.rate_code,
            attempt,
        )
    else:
        raise ProtocolError(
            f"{address}: the sensor did not take the rate {config.rate_hz:g} Hz",
            reason="rate_not_applied",
        )
    if save:
        # A fresh unlock: the save must land inside an unlock window of its own.
        await send(unlock_command())
        await sleep(command_gap_s)
        await send(save_command())
    log.info("%s: WitMotion streaming at %g Hz", address, config.rate_hz)
    return WitConnection(client, sensor, config, saved=save)


async def connect_witmotion(
    device: BLEDevice,
    sensor: SensorConfig,
    *,
    clock: Clock,
    on_data: DataCallback,
    on_link_lost: Callable[[str], None] | None = None,
    backend: type[BaseBleakClient] | None = None,
    save: bool = False,
    reply_timeout: float = 5.0,
    command_gap_s: float = 0.1,
) -> WitConnection:
    """Connect to a WT901BLE (one attempt, no retries) and :func:`start_witmotion` it.

    Args:
        device: the scanned :class:`~bleak.backends.device.BLEDevice` (never an address string:
            BlueZ needs the scanned object). A fresh ``BleakClient`` is made for it.
        sensor: the roster entry (see :func:`start_witmotion`).
        clock: session clock (see :func:`start_witmotion`).
        on_data: receives ``(address, host_time, data)`` (see :func:`start_witmotion`).
        on_link_lost: called once with the address when the link drops, after this function
            has returned, without :meth:`WitConnection.close` being called. A drop during
            connecting raises instead.
        backend: bleak client backend class; ``None`` for real hardware.
        save, reply_timeout, command_gap_s: see :func:`start_witmotion`.

    Raises:
        ConfigError: ``sensor`` is not a usable WitMotion configuration (before connecting).
        ProtocolError: as :func:`start_witmotion`, or the link dropped while connecting
            (``"link_lost"``, at once rather than at the read-back timeout).
    """
    WitConfig.for_sensor(sensor)  # a bad roster entry fails before touching the radio
    address = device.address
    holder: dict[str, WitConnection] = {}
    linked = False
    dropped = asyncio.Event()

    def disconnected(_client: BleakClient) -> None:
        conn = holder.get("conn")
        if conn is None:
            # Still setting up: abort now rather than at the read-back timeout. Before
            # connect() returns this is bleak retrying a transient abort, not a lost link.
            if linked:
                dropped.set()
            return
        # BlueZ reports our own disconnect() too; only link loss is news.
        if on_link_lost is not None and not conn._intentional:
            on_link_lost(address)

    kwargs: dict[str, Any] = {} if backend is None else {"backend": backend}
    client = BleakClient(device, disconnected_callback=disconnected, **kwargs)
    await client.connect()
    linked = True
    setup = asyncio.ensure_future(
        start_witmotion(
            client,
            sensor,
            clock=clock,
            on_data=on_data,
            save=save,
            reply_timeout=reply_timeout,
            command_gap_s=command_gap_s,
        )
    )
    lost = asyncio.ensure_future(dropped.wait())
    try:
        await asyncio.wait((setup, lost), return_when=asyncio.FIRST_COMPLETED)
        if dropped.is_set():
            raise ProtocolError(f"{address}: link lost while connecting", reason="link_lost")
        conn = setup.result()
    except BaseException:
        setup.cancel()
        with contextlib.suppress(BaseException):
            await setup
        await client.disconnect()
        raise
    finally:
        lost.cancel()
    holder["conn"] = conn
    return conn
