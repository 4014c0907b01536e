"""The Movella DOT driver end to end: bleak's public API → simulated backend → DotEmulator."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np
import pytest
from bleak import BleakScanner
from bleak.backends.device import BLEDevice

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge.dot import DotAssembler, DotConfig, DotEmulator
from liftguard.samples import FLAG_INTERPOLATED
from liftguard.sensors import SimulatedWorld
from liftguard.sensors.dot import DotConnection, connect_dot

from .fakes import FakeCounterDevice

ADDRESS = "D4:22:CD:00:00:01"
WRAP = 1 << 32

WorldFactory = Callable[..., Awaitable[SimulatedWorld]]


def h(text: str) -> bytes:
    return bytes.fromhex(text)


class RampMotion:
    """acc = acc0 + slope·t (m/s²), gyr constant (rad/s): every sample's true time is visible."""

    acc0 = np.array([0.25, -1.5, 9.81])
    slope = np.array([0.5, 0.0, -0.25])
    gyr = np.array([0.1, -0.2, 0.3])

    def acc(self, t: np.ndarray) -> np.ndarray:
        return self.acc0 + self.slope * t[:, None]

    def __init__(self) -> None:
        self.sampled: list[float] = []

    def imu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.sampled.extend(t.tolist())
        return self.acc(t), np.tile(self.gyr, (len(t), 1))


class Received:
    def __init__(self) -> None:
        self.items: list[tuple[str, float, bytes]] = []
        self.lost: list[str] = []

    def data(self, address: str, host_time: float, data: bytearray) -> None:
        self.items.append((address, host_time, bytes(data)))

    def link_lost(self, address: str) -> None:
        self.lost.append(address)


@pytest.fixture
async def make_world() -> AsyncIterator[WorldFactory]:
    worlds: list[SimulatedWorld] = []

    async def factory(*devices: Any, **kwargs: Any) -> SimulatedWorld:
        world = SimulatedWorld(list(devices), speed=math.inf, **kwargs)
        await world.start()
        worlds.append(world)
        return world

    yield factory
    for world in worlds:
        await world.stop()


async def scan(world: SimulatedWorld, address: str) -> BLEDevice:
    device = await BleakScanner.find_device_by_address(
        address, timeout=2.0, backend=world.scanner_backend
    )
    assert device is not None
    return device


def sensor(rate_hz: float = 60.0, mode: int | None = None) -> SensorConfig:
    return SensorConfig(
        placement="upper", address=ADDRESS, family="dot", rate_hz=rate_hz, mode=mode
    )


async def connect(world: SimulatedWorld, received: Received, roster: SensorConfig) -> DotConnection:
    return await connect_dot(
        await scan(world, roster.address),
        roster,
        clock=world,
        on_data=received.data,
        on_link_lost=received.link_lost,
        backend=world.client_backend,
    )


async def test_connects_and_streams_samples_that_decode_to_the_motion(
    make_world: WorldFactory,
) -> None:
    motion = RampMotion()
    # The device counter wraps 3 s into the world: the stream must cross it seamlessly.
    emu = DotEmulator(motion, address=ADDRESS, clock_offset_us=WRAP - 3_000_000)
    world = await make_world(emu)
    received = Received()
    conn = await connect(world, received, sensor(rate_hz=30))
    assert conn.is_connected and emu.measuring
    assert conn.wire == {"mode": 21, "rate": 30.0}
    assert emu.output_rate == 30
    t_start = world.now()
    await world.run_until(t_start + 4.0)

    assert {a for a, _, _ in received.items} == {ADDRESS}
    assert len(received.items) == pytest.approx(4.0 * 30, abs=2)
    host = np.array([t for _, t, _ in received.items])
    assert np.all(np.diff(host) >= 0)
    assembler = DotAssembler(DotConfig(mode=21, rate_hz=30))
    out = [assembler.feed(t, data) for _, t, data in received.items]
    assert assembler.malformed == 0 and all(o is not None for o in out)
    t_dev = np.concatenate([o.t_device for o in out if o is not None])
    acc = np.concatenate([o.acc for o in out if o is not None])
    gyr = np.concatenate([o.gyr for o in out if o is not None])
    np.testing.assert_allclose(np.diff(t_dev), 1 / 30, atol=1.1e-6)
    # Device µs → world seconds (no drift): the counter read 2³² − 3e6 at world time 0.
    t_true = t_dev - (WRAP - 3_000_000) / 1e6
    assert np.all(host >= t_true)  # nothing arrives before it was measured
    # Subscribed before starting: the very first sample the device took was received.
    assert t_true[0] == pytest.approx(motion.sampled[0], abs=1e-6)
    np.testing.assert_allclose(acc, motion.acc(t_true), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(gyr, np.tile(motion.gyr, (len(out), 1)), rtol=2e-7)
    await conn.close()


async def test_quaternion_mode_streams_orientation_and_reconstructed_acc(
    make_world: WorldFactory,
) -> None:
    motion = RampMotion()
    emu = DotEmulator(motion, address=ADDRESS, clock_offset_us=0)
    world = await make_world(emu)
    received = Received()
    conn = await connect(world, received, sensor(rate_hz=60, mode=2))
    assert conn.wire == {"mode": 2, "rate": 60.0}
    await world.run_until(world.now() + 1.0)
    assembler = DotAssembler(conn.config)
    out = [o for _, t, d in received.items if (o := assembler.feed(t, d)) is not None]
    assert len(out) == pytest.approx(60, abs=2) and assembler.malformed == 0
    assert all(o.quat is not None for o in out)
    assert out[0].flags[0] & FLAG_INTERPOLATED  # no previous quaternion to differentiate
    # R(q)ᵀ(free acc + g) undoes what the device computed from the sensor-frame specific force,
    # whatever the quality of its orientation estimate: the motion within float32.
    t_true = np.concatenate([o.t_device for o in out])  # the counter started at 0
    acc = np.concatenate([o.acc for o in out])
    np.testing.assert_allclose(acc, motion.acc(t_true), atol=2e-5)
    await conn.close()


async def test_battery_is_read_on_connect_and_follows_notifications(
    make_world: WorldFactory,
) -> None:
    emu = DotEmulator(RampMotion(), address=ADDRESS, battery_percent=73, charging=True)
    world = await make_world(emu)
    conn = await connect(world, Received(), sensor())
    assert (conn.battery_percent, conn.charging) == (73, True)
    emu.set_battery(72, False, world.now())
    await world.run_until(world.now() + 0.1)
    assert (conn.battery_percent, conn.charging) == (72, False)
    await conn.close()


async def test_the_connection_sequence_follows_the_spec(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = DotEmulator(RampMotion(), address=ADDRESS)
    writes: list[bytes] = []
    real_write = emu.write

    def spy(uuid: str, data: bytes, now: float) -> list[Any]:
        writes.append(bytes.fromhex(uuid[4:8]) + bytes(data))
        return real_write(uuid, data, now)

    monkeypatch.setattr(emu, "write", spy)
    world = await make_world(emu)
    conn = await connect(world, Received(), sensor(rate_hz=15, mode=20))
    rate = bytes([0x10]) + bytes(23) + bytes([15, 0]) + bytes(6)
    # stop whatever runs, set the rate while stopped, then start in mode 20 (0x14)
    assert writes == [h("2001 010014"), h("1002") + rate, h("2001 010114")]
    await conn.close()
    assert writes[-1] == h("2001 010014")  # stopped before disconnecting


async def test_close_stops_measuring_and_is_not_reported_as_link_loss(
    make_world: WorldFactory,
) -> None:
    emu = DotEmulator(RampMotion(), address=ADDRESS)
    world = await make_world(emu)
    received = Received()
    conn = await connect(world, received, sensor())
    await world.run_until(world.now() + 0.5)
    await conn.close()
    assert not conn.is_connected and not world.is_connected(ADDRESS)
    assert not emu.measuring
    count = len(received.items)
    await world.run_until(world.now() + 0.5)
    assert len(received.items) == count
    assert received.lost == []
    await conn.close()  # a second close is harmless


async def test_link_loss_fires_on_link_lost_once(make_world: WorldFactory) -> None:
    emu = DotEmulator(RampMotion(), address=ADDRESS)
    world = await make_world(emu)
    received = Received()
    conn = await connect(world, received, sensor())
    await world.run_until(world.now() + 0.5)
    world.inject_disconnect(ADDRESS)
    await world.run_until(world.now() + 0.5)
    assert received.lost == [ADDRESS]
    assert not conn.is_connected and not emu.measuring
    await conn.close()
    assert received.lost == [ADDRESS]


async def test_reconnect_gets_a_fresh_client_and_streams_again(make_world: WorldFactory) -> None:
    emu = DotEmulator(RampMotion(), address=ADDRESS)
    world = await make_world(emu)
    received = Received()
    first = await connect(world, received, sensor(rate_hz=20))
    world.inject_disconnect(ADDRESS)
    await world.run_until(world.now() + 0.2)
    second = await connect(world, received, sensor(rate_hz=20))
    assert second.client is not first.client
    before = len(received.items)
    await world.run_until(world.now() + 1.0)
    assert len(received.items) - before == pytest.approx(20, abs=1)
    assert len({d for _, _, d in received.items}) == len(received.items)  # nothing twice
    await second.close()


async def test_bad_rate_is_a_config_error_before_any_connection(make_world: WorldFactory) -> None:
    emu = DotEmulator(RampMotion(), address=ADDRESS)
    world = await make_world(emu)
    device = await scan(world, ADDRESS)
    with pytest.raises(ConfigError) as info:
        await connect_dot(
            device,
            sensor(rate_hz=100.0),
            clock=world,
            on_data=Received().data,
            backend=world.client_backend,
        )
    assert ADDRESS in str(info.value)
    assert emu.connected is False


async def test_a_device_without_the_dot_services_is_a_protocol_error(
    make_world: WorldFactory,
) -> None:
    fake = FakeCounterDevice(address=ADDRESS)
    world = await make_world(fake)
    received = Received()
    with pytest.raises(ProtocolError) as info:
        await connect(world, received, sensor())
    assert info.value.reason == "not_a_dot"
    assert not world.is_connected(ADDRESS)
    assert received.lost == []  # our own disconnect after the failure is not link loss


async def test_a_rate_the_sensor_did_not_take_is_a_protocol_error(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu = DotEmulator(RampMotion(), address=ADDRESS)
    monkeypatch.setattr(emu, "_write_device_control", lambda data: None)
    world = await make_world(emu)
    with pytest.raises(ProtocolError) as info:
        await connect(world, Received(), sensor(rate_hz=12))
    assert info.value.reason == "rate_not_set"
    assert not world.is_connected(ADDRESS)
