"""The simulated bleak backend, exercised only through bleak's public API."""

from __future__ import annotations

import asyncio
import itertools
import math
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_16
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.sensors import Clock, MonotonicClock, SimulatedWorld
from liftguard.sensors.simulated import BleLossModel

from .fakes import (
    CONTROL_UUID,
    COUNTER_UUID,
    FIRMWARE,
    FIRMWARE_UUID,
    INFO_SERVICE_UUID,
    SERVICE_UUID,
    START,
    STATUS_UUID,
    FakeCounterDevice,
)

CI = 0.0075  # the world's default connection interval, s
JITTER = 0.001  # the world's default jitter bound, s
EPS = 1e-9

WorldFactory = Callable[..., Awaitable[SimulatedWorld]]


@pytest.fixture
async def make_world() -> AsyncIterator[WorldFactory]:
    """Started worlds (as fast as possible unless told otherwise), stopped at teardown."""
    worlds: list[SimulatedWorld] = []

    async def factory(*devices: FakeCounterDevice, **kwargs: Any) -> SimulatedWorld:
        kwargs.setdefault("speed", math.inf)
        world = SimulatedWorld(list(devices), **kwargs)
        await world.start()
        worlds.append(world)
        return world

    yield factory
    for world in worlds:
        await world.stop()


class Received:
    """A sync notification callback recording (host receive time, counter value)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.items: list[tuple[float, int]] = []

    def __call__(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        self.items.append((self.clock.now(), struct.unpack("<I", data)[0]))

    @property
    def counters(self) -> list[int]:
        return [c for _, c in self.items]


def emission_times(device: FakeCounterDevice) -> dict[int, float]:
    """Counter value → emission time, for the device's latest run."""
    return {struct.unpack("<I", n.data)[0]: n.t for n in device.emitted}


async def scan_for(world: SimulatedWorld, address: str) -> BLEDevice:
    device = await BleakScanner.find_device_by_address(
        address, timeout=2.0, backend=world.scanner_backend
    )
    assert device is not None
    return device


async def streaming_client(
    world: SimulatedWorld, device: FakeCounterDevice, **client_kwargs: Any
) -> tuple[BleakClient, Received]:
    """Connected, subscribed to the counter, and started — subscribe first, then start."""
    client = BleakClient(device.address, backend=world.client_backend, **client_kwargs)
    await client.connect()
    received = Received(world)
    await client.start_notify(COUNTER_UUID, received)
    await client.write_gatt_char(CONTROL_UUID, START, response=True)
    return client, received


def assert_in_order_and_on_time(
    received: Received, device: FakeCounterDevice, *, ci: float = CI, jitter: float = JITTER
) -> None:
    assert received.counters == list(range(1, len(received.counters) + 1))
    emitted = emission_times(device)
    times = [t for t, _ in received.items]
    assert times == sorted(times)
    for receive_t, counter in received.items:
        assert emitted[counter] <= receive_t <= emitted[counter] + ci + jitter + EPS


# -- discovery ---------------------------------------------------------------------------------


async def test_discovery_lists_advertising_devices_with_name_address_and_rssi(
    make_world: WorldFactory,
) -> None:
    a = FakeCounterDevice(address="AA:BB:CC:DD:EE:01", name="Left", rssi=-48)
    b = FakeCounterDevice(
        address="AA:BB:CC:DD:EE:02",
        name="Right",
        rssi=-71,
        advertised_services=("0000beef-0000-1000-8000-00805f9b34fb",),
    )
    world = await make_world(a, b)

    found = await BleakScanner.discover(
        timeout=0.05, return_adv=True, backend=world.scanner_backend
    )

    assert set(found) == {a.address, b.address}
    ble_device, adv = found[a.address]
    assert ble_device.name == "Left"
    assert ble_device.details is a
    assert adv.local_name == "Left"
    assert adv.rssi == -48
    assert adv.service_uuids == [SERVICE_UUID]
    assert adv.manufacturer_data == {0xFFFF: b"\x01"}
    assert found[b.address][1].rssi == -71


@pytest.mark.parametrize("service_filter", [SERVICE_UUID, SERVICE_UUID.upper(), "fe00"])
async def test_discovery_honours_the_service_filter(
    make_world: WorldFactory, service_filter: str
) -> None:
    a = FakeCounterDevice(address="AA:BB:CC:DD:EE:01")
    b = FakeCounterDevice(
        address="AA:BB:CC:DD:EE:02", advertised_services=("0000beef-0000-1000-8000-00805f9b34fb",)
    )
    world = await make_world(a, b)

    found = await BleakScanner.discover(
        timeout=0.05, service_uuids=[service_filter], backend=world.scanner_backend
    )

    assert [d.address for d in found] == [a.address]


async def test_scanners_started_before_a_callback_is_registered_still_find_devices(
    make_world: WorldFactory,
) -> None:
    # find_device_by_* registers its callback after start(): devices must re-advertise.
    device = FakeCounterDevice()
    world = await make_world(device)

    found = await BleakScanner.find_device_by_name(
        device.name, timeout=2.0, backend=world.scanner_backend
    )

    assert found is not None
    assert found.details is device


# -- connecting --------------------------------------------------------------------------------


async def test_connect_on_a_discovered_device_fills_services(make_world: WorldFactory) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    ble_device = await scan_for(world, device.address)

    async with BleakClient(ble_device, backend=world.client_backend) as client:
        assert client.is_connected
        assert client.name == device.name
        assert client.mtu_size == 23
        services = client.services
        assert {s.uuid for s in services} == {SERVICE_UUID, INFO_SERVICE_UUID}
        counter = services.get_characteristic(COUNTER_UUID)
        control = services.get_characteristic(CONTROL_UUID)
        assert counter is not None
        assert control is not None
        assert counter.properties == ["notify"]
        assert counter.service_uuid == SERVICE_UUID
        assert [d.uuid for d in counter.descriptors] == [normalize_uuid_16(0x2902)]
        assert control.properties == ["write", "write-without-response"]
        assert control.max_write_without_response_size == 20
        handles = [
            *services.services,
            *services.characteristics,
            *services.descriptors,
        ]
        assert len(handles) == len(set(handles)) == 2 + 4 + 2
        assert await client.read_gatt_char(FIRMWARE_UUID) == bytearray(FIRMWARE)
        assert world.is_connected(device.address)
        assert len(device.connects) == 1

    assert not client.is_connected
    assert len(device.disconnects) == 1


async def test_connect_takes_connect_time_on_the_simulated_clock(
    make_world: WorldFactory,
) -> None:
    device = FakeCounterDevice()
    world = await make_world(device, connect_time_s=0.4)
    await world.run_until(1.0)

    await BleakClient(device.address, backend=world.client_backend).connect()

    assert device.connects == [pytest.approx(1.4)]


async def test_service_filter_on_the_client_limits_services(make_world: WorldFactory) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)

    client = BleakClient(device.address, services=["fe10"], backend=world.client_backend)
    await client.connect()

    assert [s.uuid for s in client.services] == [INFO_SERVICE_UUID]
    await client.disconnect()


async def test_connected_device_stops_advertising_and_refuses_a_second_client(
    make_world: WorldFactory,
) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    ble_device = await scan_for(world, device.address)
    first = BleakClient(ble_device, backend=world.client_backend)
    await first.connect()

    found = await BleakScanner.discover(timeout=0.05, backend=world.scanner_backend)
    second = BleakClient(ble_device, backend=world.client_backend)

    assert found == []
    with pytest.raises(BleakError):
        await second.connect()
    with pytest.raises(BleakError, match="already connected"):
        await first.connect()


async def test_a_device_that_is_not_advertising_is_not_discovered_and_connect_fails(
    make_world: WorldFactory,
) -> None:
    here = FakeCounterDevice(address="AA:BB:CC:DD:EE:01")
    away = FakeCounterDevice(address="AA:BB:CC:DD:EE:02", name="Away")
    world = await make_world(here, away)
    world.set_advertising(away.address, False)

    found = await BleakScanner.discover(timeout=0.05, backend=world.scanner_backend)
    client = BleakClient(BLEDevice(away.address, away.name, away), backend=world.client_backend)

    assert [d.address for d in found] == [here.address]
    with pytest.raises(BleakDeviceNotFoundError):
        await client.connect()
    assert away.connects == []
    assert not client.is_connected

    world.set_advertising(away.address, True)
    await client.connect()
    assert client.is_connected


async def test_an_unknown_address_is_not_found(make_world: WorldFactory) -> None:
    world = await make_world(FakeCounterDevice())

    with pytest.raises(BleakDeviceNotFoundError):
        await BleakClient("11:22:33:44:55:66", backend=world.client_backend).connect()


# -- reads, writes and notifications -----------------------------------------------------------


async def test_write_reaches_the_device_and_its_reply_notification_arrives(
    make_world: WorldFactory,
) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    client = BleakClient(device.address, backend=world.client_backend)
    await client.connect()
    replies: list[tuple[float, bytearray]] = []
    await client.start_notify(STATUS_UUID, lambda _c, data: replies.append((world.now(), data)))

    written_at = world.now()
    await client.write_gatt_char(CONTROL_UUID, b"\x07", response=True)
    assert device.writes == [(written_at, CONTROL_UUID, b"\x07")]
    await world.sleep(0.05)

    assert [data for _, data in replies] == [bytearray(b"ok\x07")]
    assert written_at <= replies[0][0] <= written_at + CI + JITTER + EPS
    assert isinstance(replies[0][1], bytearray)
    assert await client.read_gatt_char(STATUS_UUID) == bytearray(b"idle")


async def test_write_without_response_reaches_the_device(make_world: WorldFactory) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    client = BleakClient(device.address, backend=world.client_backend)
    await client.connect()

    await client.write_gatt_char(CONTROL_UUID, START, response=False)

    assert device.writes[-1][1:] == (CONTROL_UUID, START)
    assert await client.read_gatt_char(STATUS_UUID) == bytearray(b"streaming")


async def test_notifications_arrive_in_emission_order_within_one_connection_interval(
    make_world: WorldFactory,
) -> None:
    device = FakeCounterDevice()
    world = await make_world(device, seed=3)
    _, received = await streaming_client(world, device)

    await world.sleep(1.0)

    assert len(received.counters) >= 99
    assert_in_order_and_on_time(received, device)


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    interval=st.sampled_from([0.0075, 0.0125, 0.03, 0.05]),
    jitter=st.floats(0.0, 0.003),
)
def test_delivery_bounds_hold_for_any_seed_interval_and_jitter(
    seed: int, interval: float, jitter: float
) -> None:
    async def scenario() -> tuple[Received, FakeCounterDevice]:
        device = FakeCounterDevice()
        world = SimulatedWorld(
            [device],
            speed=math.inf,
            seed=seed,
            connection_interval_s=interval,
            jitter_s=jitter,
        )
        async with world:
            _, received = await streaming_client(world, device)
            await world.sleep(0.5)
        return received, device

    received, device = asyncio.run(scenario())

    assert len(received.counters) >= 49 - math.ceil((interval + jitter) * 100)
    assert_in_order_and_on_time(received, device, ci=interval, jitter=jitter)


async def test_nothing_is_delivered_before_start_notify(make_world: WorldFactory) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    client = BleakClient(device.address, backend=world.client_backend)
    await client.connect()
    await client.write_gatt_char(CONTROL_UUID, START, response=True)
    await world.sleep(0.2)

    subscribed_at = world.now()
    counters = Received(world)
    replies: list[bytes] = []
    await client.start_notify(COUNTER_UUID, counters)
    await client.start_notify(STATUS_UUID, lambda _c, data: replies.append(bytes(data)))
    await world.sleep(0.2)

    emitted = emission_times(device)
    assert counters.items
    assert all(emitted[c] > subscribed_at for c in counters.counters)
    assert counters.counters[0] == min(c for c, t in emitted.items() if t > subscribed_at)
    assert replies == []  # the reply to START went out before anyone listened


async def test_stop_notify_stops_delivery(make_world: WorldFactory) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    client, received = await streaming_client(world, device)
    await world.sleep(0.3)

    stopped_at = world.now()
    await client.stop_notify(COUNTER_UUID)
    count = len(received.items)
    await world.sleep(0.3)

    assert count > 0
    assert len(received.items) == count
    assert all(t <= stopped_at for t, _ in received.items)
    assert max(emission_times(device)) > count + 20  # the device kept streaming


async def test_subscribing_twice_replaces_the_callback(make_world: WorldFactory) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    client, first = await streaming_client(world, device)
    second = Received(world)

    await client.start_notify(COUNTER_UUID, second)
    before = len(first.items)
    await world.sleep(0.2)

    assert len(first.items) == before
    assert len(second.items) >= 15


# -- link loss and reconnection ----------------------------------------------------------------


async def test_injected_disconnect_fires_the_callback_exactly_once(
    make_world: WorldFactory,
) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    lost: list[BleakClient] = []
    client, received = await streaming_client(world, device, disconnected_callback=lost.append)
    await world.sleep(0.2)

    world.inject_disconnect(device.address)

    assert lost == [client]
    assert not client.is_connected
    assert not world.is_connected(device.address)
    assert device.disconnects == [world.now()]
    count = len(received.items)
    await world.sleep(0.2)
    world.inject_disconnect(device.address)
    await client.disconnect()
    assert lost == [client]
    assert len(received.items) == count
    with pytest.raises(BleakError):
        await client.write_gatt_char(CONTROL_UUID, START, response=True)


async def test_intentional_disconnect_fires_the_callback_once_like_bluez(
    make_world: WorldFactory,
) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    lost: list[BleakClient] = []
    client = BleakClient(device.address, lost.append, backend=world.client_backend)
    await client.connect()

    await client.disconnect()
    await client.disconnect()

    assert lost == [client]
    assert not client.is_connected


@pytest.mark.parametrize("fresh_client", [True, False], ids=["fresh-client", "reused-client"])
async def test_reconnect_gets_no_duplicates(make_world: WorldFactory, fresh_client: bool) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    ble_device = await scan_for(world, device.address)
    first = BleakClient(ble_device, backend=world.client_backend)
    await first.connect()
    before = Received(world)
    await first.start_notify(COUNTER_UUID, before)
    await first.write_gatt_char(CONTROL_UUID, START, response=True)
    await world.sleep(0.2)
    world.inject_disconnect(device.address)
    seen_before = len(before.items)
    await world.sleep(0.1)

    second = BleakClient(ble_device, backend=world.client_backend) if fresh_client else first
    await second.connect()
    after = Received(world)
    await second.start_notify(COUNTER_UUID, after)
    await second.write_gatt_char(CONTROL_UUID, START, response=True)
    await world.sleep(0.5)

    assert len(before.items) == seen_before
    assert len(after.counters) >= 45
    assert_in_order_and_on_time(after, device)
    assert len(device.connects) == 2


# -- the clock ---------------------------------------------------------------------------------


async def test_speed_20_runs_two_simulated_seconds_in_about_a_tenth_of_a_second(
    make_world: WorldFactory,
) -> None:
    device = FakeCounterDevice()
    world = await make_world(device, speed=20.0)
    _, received = await streaming_client(world, device)
    sim_start = world.now()

    real_start = time.perf_counter()
    await world.sleep(2.0)
    real_elapsed = time.perf_counter() - real_start

    assert world.now() == pytest.approx(sim_start + 2.0)
    assert 0.05 < real_elapsed < 1.0  # loose: the pump is paced, not exact
    assert len(received.items) >= 190


async def _record_run(seed: int, *, async_callback: bool = False) -> list[tuple[float, int]]:
    device = FakeCounterDevice()
    world = SimulatedWorld([device], speed=math.inf, seed=seed)
    items: list[tuple[float, int]] = []

    def on_counter(_char: BleakGATTCharacteristic, data: bytearray) -> None:
        items.append((world.now(), struct.unpack("<I", data)[0]))

    async def on_counter_async(char: BleakGATTCharacteristic, data: bytearray) -> None:
        on_counter(char, data)

    async with world:
        client = BleakClient(device.address, backend=world.client_backend)
        await client.connect()
        await client.start_notify(COUNTER_UUID, on_counter_async if async_callback else on_counter)
        await client.write_gatt_char(CONTROL_UUID, START, response=True)
        await world.sleep(0.5)
        world.inject_disconnect(device.address)
        await world.sleep(0.1)
        await client.connect()
        await client.start_notify(COUNTER_UUID, on_counter)
        await client.write_gatt_char(CONTROL_UUID, START, response=True)
        await world.sleep(0.5)
        await client.disconnect()
    return items


async def test_same_seed_gives_identical_delivery_times() -> None:
    first = await _record_run(seed=7)
    second = await _record_run(seed=7)
    other = await _record_run(seed=8)

    assert len(first) >= 90
    assert first == second
    assert [c for _, c in other] == [c for _, c in first]
    assert [t for t, _ in other] != [t for t, _ in first]


async def test_async_callbacks_see_their_exact_receive_time() -> None:
    assert await _record_run(seed=7, async_callback=True) == await _record_run(seed=7)


async def test_sleep_wakes_at_exactly_the_requested_simulated_time(
    make_world: WorldFactory,
) -> None:
    world = await make_world(FakeCounterDevice())

    await world.run_until(0.123)
    assert world.now() == 0.123
    await world.sleep(0.5)
    assert world.now() == pytest.approx(0.623)
    await world.run_until(0.1)  # already past: returns at once
    assert world.now() == pytest.approx(0.623)


async def test_stop_cancels_pending_sleeps_and_sleeping_needs_a_running_world() -> None:
    world = SimulatedWorld([FakeCounterDevice()], speed=1.0)
    with pytest.raises(RuntimeError, match="not running"):
        await world.sleep(1.0)
    await world.start()
    await world.start()  # idempotent
    sleeper = asyncio.create_task(world.sleep(100.0))
    await asyncio.sleep(0.02)

    await world.stop()

    with pytest.raises(asyncio.CancelledError):
        await sleeper
    frozen = world.now()
    await asyncio.sleep(0.02)
    assert world.now() == frozen


async def test_a_failing_notification_callback_does_not_stop_the_world(
    make_world: WorldFactory,
) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    client = BleakClient(device.address, backend=world.client_backend)
    await client.connect()

    def boom(_char: BleakGATTCharacteristic, _data: bytearray) -> None:
        raise ValueError("driver bug")

    await client.start_notify(COUNTER_UUID, boom)
    await client.write_gatt_char(CONTROL_UUID, START, response=True)
    await world.sleep(0.1)

    assert len(errors) >= 9
    assert isinstance(errors[0]["exception"], ValueError)
    await world.sleep(0.1)  # still advancing


async def test_gatt_misuse_fails_like_hardware(make_world: WorldFactory) -> None:
    device = FakeCounterDevice()
    world = await make_world(device)
    client = BleakClient(device.address, backend=world.client_backend)
    await client.connect()
    counter = client.services.get_characteristic(COUNTER_UUID)
    assert counter is not None

    with pytest.raises(BleakGATTProtocolError):
        await client.write_gatt_char(COUNTER_UUID, b"\x01", response=True)
    with pytest.raises(BleakGATTProtocolError):
        await client.read_gatt_char(COUNTER_UUID)
    with pytest.raises(BleakError, match="exceeds"):
        await client.write_gatt_char(CONTROL_UUID, bytes(21), response=False)
    with pytest.raises(BleakError):
        await client.start_notify(FIRMWARE_UUID, lambda _c, _d: None)
    with pytest.raises(BleakError, match="not supported by the simulator"):
        await client.read_gatt_descriptor(counter.descriptors[0].handle)
    await client.pair()
    await client.unpair()
    assert client.is_connected


def test_monotonic_clock_starts_near_zero_and_never_decreases() -> None:
    clock = MonotonicClock()
    first = clock.now()
    second = clock.now()

    assert isinstance(clock, Clock)
    assert 0.0 <= first <= second < 1.0
    assert isinstance(SimulatedWorld([]), Clock)


# -- the BLE loss model ------------------------------------------------------------------------


async def _stream_with_loss(
    loss: BleLossModel | None, seconds: float, *, seed: int = 0
) -> tuple[SimulatedWorld, FakeCounterDevice, Received]:
    device = FakeCounterDevice()
    world = SimulatedWorld([device], speed=math.inf, seed=seed, loss=loss)
    await world.start()
    _, received = await streaming_client(world, device)
    await world.sleep(seconds)
    await world.stop()
    return world, device, received


def _iid_only(p: float) -> BleLossModel:
    return BleLossModel(baseline=(p, p), burst_rate_per_10min=(0.0, 0.0), dropout_probability=0.0)


async def test_without_a_loss_model_nothing_is_lost() -> None:
    world, device, received = await _stream_with_loss(None, 2.0)

    report = world.losses(device.address)
    assert report.count == 0 and report.times == () and report.outages == ()
    assert len(received.counters) >= 195
    assert received.counters == list(range(1, len(received.counters) + 1))


async def test_iid_losses_are_never_delivered_and_reported_exactly() -> None:
    world, device, received = await _stream_with_loss(_iid_only(0.2), 20.0, seed=4)

    report = world.losses(device.address)
    emitted = emission_times(device)
    got = set(received.counters)
    # Everything transmitted is either delivered or reported lost (the last few may still be
    # in the radio queue when the world stops).
    lost_counters = [c for c, t in emitted.items() if t in set(report.times)]
    assert report.count == len(report.times) == len(lost_counters) == report.random
    assert got.isdisjoint(lost_counters)
    in_flight = set(emitted) - got - set(lost_counters)
    assert all(emitted[c] > max(t for t, _ in received.items) - 0.05 for c in in_flight)
    assert 0.17 < report.count / len(emitted) < 0.23  # ~4000 draws at p = 0.2
    assert received.counters == sorted(received.counters)  # still in order, just with holes
    assert report.probability == 0.2


async def test_burst_outages_lose_everything_inside_them_and_nothing_else() -> None:
    model = BleLossModel(
        baseline=(0.0, 0.0),
        burst_rate_per_10min=(100.0, 100.0),
        burst_s=(0.2, 2.0),
        dropout_probability=0.0,
    )
    world, device, received = await _stream_with_loss(model, 60.0, seed=2)

    report = world.losses(device.address)
    assert len(report.outages) >= 4  # ~10 expected in a minute
    assert all(o.kind == "burst" and 0.2 <= o.end - o.start <= 2.0 for o in report.outages)
    assert report.random == 0 and report.count > 0
    emitted = emission_times(device)

    def in_outage(t: float, before: float = 0.0, after: float = 0.0) -> bool:
        return any(o.start - before <= t < o.end + after for o in report.outages)

    # A notification is lost when it is transmitted (at the next connection event, within one
    # interval of its emission) inside an outage: lost ones were emitted inside or just before
    # one; delivered ones were not emitted where their transmission must have fallen inside.
    assert all(in_outage(t, before=CI + EPS) for t in report.times)
    assert not any(in_outage(emitted[c], after=-CI - EPS) for c in received.counters)
    assert len(received.counters) + report.count >= len(emitted) - 5


async def test_a_whole_sensor_dropout_is_a_long_silent_gap() -> None:
    model = BleLossModel(
        baseline=(0.0, 0.0),
        burst_rate_per_10min=(0.0, 0.0),
        dropout_probability=1.0,
        dropout_s=(10.0, 60.0),
        horizon_s=90.0,
    )
    world, device, received = await _stream_with_loss(model, 90.0, seed=1)

    (outage,) = world.losses(device.address).outages
    assert outage.kind == "dropout" and 10.0 <= outage.end - outage.start <= 60.0
    times = [t for t, _ in received.items]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) == pytest.approx(outage.end - outage.start, abs=0.03)


async def test_default_loss_model_is_within_the_sheet_ranges_and_seeded() -> None:
    first, device, received = await _stream_with_loss(BleLossModel(), 600.0, seed=11)
    second, _, again = await _stream_with_loss(BleLossModel(), 600.0, seed=11)
    other, _, different = await _stream_with_loss(BleLossModel(), 600.0, seed=12)

    report = first.losses(device.address)
    assert 0.001 <= report.probability <= 0.01
    bursts = [o for o in report.outages if o.kind == "burst"]
    assert all(0.2 <= o.end - o.start <= 2.0 for o in bursts)
    assert len(bursts) <= 15  # 0.5–3 per 10 min, a Poisson count
    n = len(emission_times(device))
    assert report.random / n < 0.02
    assert report == second.losses(device.address)
    assert received.items == again.items
    assert other.losses(device.address).times != report.times or different.items != received.items
    with pytest.raises(ValueError):
        BleLossModel(baseline=(0.5, 0.1))
    with pytest.raises(KeyError):
        first.losses("00:00:00:00:00:00")
