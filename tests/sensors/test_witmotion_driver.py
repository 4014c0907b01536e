"""WitMotion driver end to end: bleak's public API → simulated backend → byte-exact emulator."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import numpy as np
import pytest
from bleak import BleakScanner
from bleak.backends.device import BLEDevice

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge.witmotion import WitAssembler, WitConfig, WitMotionEmulator
from liftguard.sensors import SimulatedWorld
from liftguard.sensors.witmotion import WitConnection, connect_witmotion

G = 9.80665
DEG = math.pi / 180.0
ACC_PER_COUNT = 16.0 * G / 32768.0
GYR_PER_COUNT = 2000.0 * DEG / 32768.0
ADDRESS = "D8:76:A8:00:00:01"
ROLL = 20 * DEG
TURN = 0.3  # rad/s about the vertical: yaw grows at this rate, gravity stays put in the sensor
UP = np.array([0.0, math.sin(ROLL), math.cos(ROLL)])  # world up in sensor coordinates
GYR = TURN * UP


class Motion:
    """A sensor rolled by ``ROLL``, turning about the vertical at ``TURN``: its Z-Y-X angles
    are (ROLL, 0, TURN·t), so consecutive samples' yaw tells the rate they were taken at."""

    def imu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.tile(G * UP, (t.size, 1)), np.tile(GYR, (t.size, 1))


def yaw_steps(blocks: list[Any]) -> np.ndarray:
    quat = np.concatenate([b.quat for b in blocks])
    w, x, y, z = quat.T
    yaw = np.unwrap(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))
    return np.diff(yaw)


class Received:
    def __init__(self) -> None:
        self.items: list[tuple[str, float, bytes]] = []

    def __call__(self, address: str, host_time: float, data: bytearray) -> None:
        self.items.append((address, host_time, bytes(data)))

    def decode(self, rate_hz: float) -> tuple[WitAssembler, list[Any]]:
        assembler = WitAssembler(WitConfig(rate_hz))
        out = [assembler.feed(t, d) for _, t, d in self.items]
        return assembler, [r for r in out if r is not None]


WorldFactory = Callable[..., Awaitable[SimulatedWorld]]


@pytest.fixture
async def make_world() -> AsyncIterator[WorldFactory]:
    worlds: list[SimulatedWorld] = []

    async def factory(*devices: WitMotionEmulator, **kwargs: Any) -> SimulatedWorld:
        kwargs.setdefault("speed", math.inf)
        world = SimulatedWorld(list(devices), **kwargs)
        await world.start()
        worlds.append(world)
        return world

    yield factory
    for world in worlds:
        await world.stop()


async def scan(world: SimulatedWorld, address: str = ADDRESS) -> BLEDevice:
    device = await BleakScanner.find_device_by_address(
        address, timeout=2.0, backend=world.scanner_backend
    )
    assert device is not None
    return device


def sensor(rate_hz: float = 100.0, **kw: Any) -> SensorConfig:
    return SensorConfig("upper", ADDRESS, family="witmotion", rate_hz=rate_hz, **kw)


async def connect(
    world: SimulatedWorld, rate_hz: float = 100.0, **kw: Any
) -> tuple[WitConnection, Received, list[str]]:
    received, lost = Received(), list[str]()
    conn = await connect_witmotion(
        await scan(world),
        sensor(rate_hz),
        clock=world,
        on_data=received,
        on_link_lost=lost.append,
        backend=world.client_backend,
        **kw,
    )
    return conn, received, lost


@pytest.mark.parametrize("rate", [10.0, 50.0, 200.0])
async def test_connects_and_streams_at_the_configured_rate(
    make_world: WorldFactory, rate: float
) -> None:
    emu = WitMotionEmulator(Motion(), address=ADDRESS)
    world = await make_world(emu)
    conn, received, lost = await connect(world, rate)
    assert conn.is_connected
    assert conn.wire == {
        "family": "witmotion",
        "rate_hz": rate,
        "rate_code": {10.0: 0x06, 50.0: 0x08, 200.0: 0x0B}[rate],
        "saved": False,
    }
    assert emu.rate_hz == rate
    start = world.now()
    await world.run_until(start + 2.0)
    assembler, blocks = received.decode(rate)
    n = sum(len(b) for b in blocks)
    assert abs(n - 2.0 * rate) <= 2
    assert assembler.malformed == 0
    hosts = [t for _, t, _ in received.items]
    assert hosts == sorted(hosts) and hosts[0] >= start - 0.05
    # Every forwarded sample is at the new rate: yaw steps by TURN / rate, never by 10 Hz's.
    np.testing.assert_allclose(yaw_steps(blocks), TURN / rate, atol=0.02 * DEG)
    await conn.close()
    assert lost == []


async def test_values_match_the_motion_within_quantisation(make_world: WorldFactory) -> None:
    world = await make_world(WitMotionEmulator(Motion(), address=ADDRESS))
    conn, received, _ = await connect(world, 100.0)
    await world.run_until(world.now() + 1.0)
    await conn.close()
    _, blocks = received.decode(100.0)
    acc = np.concatenate([b.acc for b in blocks])
    gyr = np.concatenate([b.gyr for b in blocks])
    quat = np.concatenate([b.quat for b in blocks])
    assert all(b.t_device is None for b in blocks)
    assert not any(b.flags.any() for b in blocks)
    half = ACC_PER_COUNT / 2 + 1e-12
    np.testing.assert_allclose(acc, np.tile(G * UP, (len(acc), 1)), atol=half)
    np.testing.assert_allclose(gyr, np.tile(GYR, (len(gyr), 1)), atol=GYR_PER_COUNT / 2 + 1e-12)
    # The device's own orientation: world up seen from the sensor ≈ the measured gravity.
    w, x, y, z = quat.T
    up = np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=1)
    assert np.degrees(np.arccos(np.clip(up @ UP, -1, 1))).max() < 0.2


async def test_frames_split_across_notifications_arrive_whole(make_world: WorldFactory) -> None:
    emu = WitMotionEmulator(Motion(), address=ADDRESS, chunk_sizes=(7, 20, 3, 11, 19))
    world = await make_world(emu)
    conn, received, _ = await connect(world, 100.0)
    await world.run_until(world.now() + 1.0)
    await conn.close()
    assembler, blocks = received.decode(100.0)
    assert abs(sum(len(b) for b in blocks) - 100) <= 2
    # The first forwarded notification starts right after the rate read-back: no garbage.
    assert assembler.malformed == 0
    np.testing.assert_allclose(yaw_steps(blocks), TURN / 100, atol=0.02 * DEG)


async def test_rate_is_not_saved_unless_asked(make_world: WorldFactory) -> None:
    emu = WitMotionEmulator(Motion(), address=ADDRESS)
    world = await make_world(emu)
    conn, _, _ = await connect(world, 100.0)
    await conn.close()
    assert (emu.rate_hz, emu.saved_rate_hz) == (100.0, 10.0)
    conn, _, _ = await connect(world, 50.0, save=True)
    assert conn.wire["saved"] is True
    await conn.close()
    assert emu.saved_rate_hz == 50.0


async def test_link_loss_fires_on_link_lost_once_and_close_does_not(
    make_world: WorldFactory,
) -> None:
    world = await make_world(WitMotionEmulator(Motion(), address=ADDRESS))
    conn, received, lost = await connect(world, 100.0)
    await world.sleep(0.5)
    world.inject_disconnect(ADDRESS)
    await world.sleep(0.5)
    assert lost == [ADDRESS]
    assert not conn.is_connected
    count = len(received.items)
    await world.sleep(0.5)
    assert len(received.items) == count  # nothing after the link went down
    await conn.close()
    assert lost == [ADDRESS]


async def test_intentional_close_is_not_link_loss(make_world: WorldFactory) -> None:
    world = await make_world(WitMotionEmulator(Motion(), address=ADDRESS))
    conn, _, lost = await connect(world, 20.0)
    await conn.close()
    await world.sleep(0.2)
    assert lost == []
    assert not conn.is_connected
    assert not world.is_connected(ADDRESS)


class DeafToRate(WitMotionEmulator):
    """A sensor that ignores rate writes (as if every unlock had expired)."""

    def _command(self, register: int, value: int, now: float) -> None:
        if register != 0x03:
            super()._command(register, value, now)


class Mute(WitMotionEmulator):
    """A sensor that streams but never answers register reads."""

    def _reply(self, start: int, now: float) -> None:
        return None


async def test_a_sensor_that_ignores_the_rate_is_an_error(make_world: WorldFactory) -> None:
    world = await make_world(DeafToRate(Motion(), address=ADDRESS))
    received, lost = Received(), list[str]()
    with pytest.raises(ProtocolError) as info:
        await connect_witmotion(
            await scan(world),
            sensor(100.0),
            clock=world,
            on_data=received,
            on_link_lost=lost.append,
            backend=world.client_backend,
        )
    assert info.value.reason == "rate_not_applied"
    assert not world.is_connected(ADDRESS)
    assert received.items == []  # 10 Hz samples were never passed on
    assert lost == []


async def test_no_read_back_reply_is_an_error(make_world: WorldFactory) -> None:
    world = await make_world(Mute(Motion(), address=ADDRESS))
    with pytest.raises(ProtocolError) as info:
        await connect_witmotion(
            await scan(world),
            sensor(100.0),
            clock=world,
            on_data=Received(),
            backend=world.client_backend,
            reply_timeout=0.2,
        )
    assert info.value.reason == "no_reply"
    assert not world.is_connected(ADDRESS)


async def test_link_lost_while_connecting_raises_at_once_without_on_link_lost(
    make_world: WorldFactory,
) -> None:
    world = await make_world(Mute(Motion(), address=ADDRESS))
    lost: list[str] = []
    task = asyncio.create_task(
        connect_witmotion(
            await scan(world),
            sensor(100.0),
            clock=world,
            on_data=Received(),
            on_link_lost=lost.append,
            backend=world.client_backend,
            reply_timeout=60.0,
        )
    )
    while not world.is_connected(ADDRESS):
        await world.sleep(0.01)
    await world.sleep(0.5)  # past the command gaps: waiting for the read-back
    world.inject_disconnect(ADDRESS)
    with pytest.raises(ProtocolError) as info:
        await asyncio.wait_for(task, 10.0)
    assert info.value.reason == "link_lost"
    assert lost == []


async def test_a_bad_roster_entry_fails_before_touching_the_radio(
    make_world: WorldFactory,
) -> None:
    world = await make_world(WitMotionEmulator(Motion(), address=ADDRESS))
    device = await scan(world)
    for bad in (sensor(125.0), sensor(100.0, acc_range_g=8), SensorConfig("upper", ADDRESS)):
        with pytest.raises(ConfigError):
            await connect_witmotion(
                device, bad, clock=world, on_data=Received(), backend=world.client_backend
            )
    assert not world.is_connected(ADDRESS)


async def test_two_sensors_stream_side_by_side(make_world: WorldFactory) -> None:
    second = "D8:76:A8:00:00:02"
    world = await make_world(
        WitMotionEmulator(Motion(), address=ADDRESS),
        WitMotionEmulator(Motion(), address=second, chunk_sizes=(13,)),
    )
    received = Received()
    conns = []
    for address, placement in ((ADDRESS, "upper"), (second, "sacrum")):
        conns.append(
            await connect_witmotion(
                await scan(world, address),
                SensorConfig(placement, address, family="witmotion", rate_hz=100.0),
                clock=world,
                on_data=received,
                backend=world.client_backend,
            )
        )
    await world.run_until(world.now() + 1.0)
    for conn in conns:
        await conn.close()
    for address in (ADDRESS, second):
        mine = Received()
        mine.items = [item for item in received.items if item[0] == address]
        assembler, blocks = mine.decode(100.0)
        assert sum(len(b) for b in blocks) >= 99
        assert assembler.malformed == 0
