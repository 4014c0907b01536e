"""bleak's own Linux (BlueZ) backend, unmodified, against the bluetoothd double.

Everything goes through bleak's public API with its default backend (no ``backend=``): the
D-Bus traffic is the traffic a real bluetoothd would see. Streaming is in real time, so each test
streams for a second or two.
"""

from __future__ import annotations

import asyncio
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)
from bleak_retry_connector import establish_connection
from dbus_fast import Message, MessageType
from dbus_fast.aio import MessageBus

from liftguard.config import SensorConfig
from liftguard.errors import BluetoothUnavailableError, SensorNotFoundError
from liftguard.firmware_bridge.metawear import (
    COMMAND_CHAR,
    METAWEAR_SERVICE,
    MODEL_CHAR,
    MODULE_ACCELEROMETER,
    NOTIFY_CHAR,
    MetaMotionEmulator,
    MetaWearConfig,
    MetaWearDecoder,
    configure_commands,
    module_info_request,
    start_commands,
    stop_commands,
)
from liftguard.sensors.bluez_double import (
    ABORT_BY_LOCAL,
    CONTROL_BUS_NAME,
    CONTROL_PATH,
    DBusDaemonMissingError,
    PrivateBus,
    device_path,
    start_private_bus,
)
from liftguard.sensors.bluez_double.__main__ import demo_emulators
from liftguard.sensors.clock import MonotonicClock
from liftguard.sensors.discovery import find_devices
from liftguard.sensors.metamotion import MetaMotionConnection, connect_metamotion

from .conftest import DoubleFactory
from .fakes import CONTROL_UUID, COUNTER_UUID, START, FakeCounterDevice

FloatArray = npt.NDArray[np.float64]
IN_PROGRESS = "org.bluez.Error.InProgress"
FAILED = "org.bluez.Error.Failed"
READ_BIT = 0x80


class Swing:
    """Deterministic motion: a pure function of time, so an offline replay gives equal bytes."""

    def imu(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        phase = 2 * np.pi * 0.7 * t
        acc = np.stack([3 * np.sin(phase), 2 * np.cos(phase), 9.81 + 0 * t], axis=1)
        gyr = np.stack([0.5 * np.cos(phase), -0.3 * np.sin(phase), 0.1 + 0 * t], axis=1)
        return acc, gyr


def _metamotion(address: str = "D1:5E:00:00:00:01") -> MetaMotionEmulator:
    return MetaMotionEmulator(Swing(), address=address, name="MetaWear", chip="bmi160")


async def _scan(*addresses: str, timeout: float = 3.0) -> dict[str, BLEDevice]:
    """One production scan (liftguard.sensors.discovery) for the given addresses."""
    return await find_devices(addresses, timeout=timeout)


def _is_data(data: bytes) -> bool:
    return len(data) >= 2 and not data[1] & READ_BIT


# --- the private bus ---------------------------------------------------------------------------


async def test_no_system_bus_is_no_bluetooth(monkeypatch: pytest.MonkeyPatch) -> None:
    # No D-Bus at all: bleak fails with FileNotFoundError and the production scan says so.
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/system_bus_socket")
    with pytest.raises(BluetoothUnavailableError, match="no Bluetooth"):
        await find_devices(["D1:5E:00:00:00:01"], timeout=0.2)


def test_missing_dbus_daemon_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(DBusDaemonMissingError, match="apt-get install -y dbus-daemon"):
        start_private_bus()


# --- scanning ----------------------------------------------------------------------------------


async def test_discover_finds_emulated_metamotions(make_double: DoubleFactory) -> None:
    emulators = demo_emulators(athletes=2, seed=0, duration=60.0)
    await make_double(emulators)

    found = await BleakScanner.discover(timeout=0.5, return_adv=True)

    ours = {addr: (dev, adv) for addr, (dev, adv) in found.items()}
    assert {e.address for e in emulators} <= set(ours)
    for emulator in emulators:
        device, adv = ours[emulator.address]
        assert device.address == emulator.address
        assert device.name == "MetaWear"
        assert adv.local_name == "MetaWear"
        assert METAWEAR_SERVICE in adv.service_uuids
        assert -70 <= adv.rssi <= -50
        assert device.details["path"] == device_path(emulator.address)


async def test_discover_service_filter_and_gone_device(make_double: DoubleFactory) -> None:
    fake = FakeCounterDevice()  # advertises a different service
    mm = _metamotion()
    double = await make_double([fake, mm])

    only_mm = await BleakScanner.discover(timeout=0.4, service_uuids=[METAWEAR_SERVICE])
    assert [d.address for d in only_mm] == [mm.address]

    # Gone: discovery no longer hears it, the production scan reports it missing; back: found.
    double.set_advertising(mm.address, False)
    with pytest.raises(SensorNotFoundError, match=mm.address):
        await find_devices([mm.address], timeout=0.4)
    double.set_advertising(mm.address, True)
    assert set(await _scan(mm.address)) == {mm.address}


# --- connecting, GATT, notifications -------------------------------------------------------------


async def test_client_streams_byte_exact_metamotion_notifications(
    make_double: DoubleFactory,
) -> None:
    mm = _metamotion()
    double = await make_double([mm], record=True)
    device = (await _scan(mm.address))[mm.address]
    received: list[tuple[float, bytes]] = []

    def on_notify(_char: BleakGATTCharacteristic, data: bytearray) -> None:
        received.append((time.monotonic(), bytes(data)))

    async with BleakClient(device) as client:
        assert client.is_connected
        service = client.services.get_service(METAWEAR_SERVICE)
        assert service is not None
        notify = client.services.get_characteristic(NOTIFY_CHAR)
        command = client.services.get_characteristic(COMMAND_CHAR)
        assert notify is not None and command is not None
        assert "notify" in notify.properties
        assert set(command.properties) == {"write-without-response", "write"}
        assert [d.uuid for d in notify.descriptors] == ["00002902-0000-1000-8000-00805f9b34fb"]
        assert await client.read_gatt_char(MODEL_CHAR) == mm.model.encode()

        # Single-sample registers: one 8-byte notification per sample, acc and gyro at 100 Hz.
        config = MetaWearConfig(chip="bmi160", odr_hz=100.0, packed=False)
        await client.start_notify(NOTIFY_CHAR, on_notify)
        await client.write_gatt_char(
            COMMAND_CHAR, module_info_request(MODULE_ACCELEROMETER), response=False
        )
        for cmd in configure_commands(config) + start_commands(config):
            await client.write_gatt_char(COMMAND_CHAR, cmd, response=True)
        await asyncio.sleep(1.5)
        await client.stop_notify(NOTIFY_CHAR)
        await asyncio.sleep(0.05)

    assert received[0][1] == bytes((0x03, 0x80, 0x01, 0x01))  # module info: BMI160, rev 1
    sent = [n.data for n in double.delivered(mm.address)]
    assert [data for _, data in received] == sent  # the D-Bus hop changes no byte, drops nothing

    # Byte-exact: a fresh emulator replaying the same writes offline gives the same stream.
    reference = _metamotion()
    reference.connect(0.0)
    for t, uuid, data in double.written(mm.address):
        reference.write(uuid, data, t)
    last = double.delivered(mm.address)[-1].t
    expected = [n.data for n in reference.advance(last) if _is_data(n.data)]
    stream = [data for _, data in received if _is_data(data)]
    assert stream == expected

    acc = [(t, d) for t, d in received if _is_data(d) and d[0] == MODULE_ACCELEROMETER]
    rate = (len(acc) - 1) / (acc[-1][0] - acc[0][0])
    assert len(acc) >= 130
    assert rate == pytest.approx(100.0, rel=0.1)


async def test_production_driver_streams_and_decoder_decodes(make_double: DoubleFactory) -> None:
    emulators = demo_emulators(athletes=1, seed=3, duration=60.0)  # upper + sacrum, BMI270
    await make_double(emulators)
    devices = await find_devices([e.address for e in emulators], timeout=3.0)
    clock = MonotonicClock()
    packets: dict[str, list[tuple[float, bytes]]] = {e.address: [] for e in emulators}
    lost: list[str] = []

    def on_data(address: str, t: float, data: bytearray) -> None:
        packets[address].append((t, bytes(data)))

    connections: list[MetaMotionConnection] = []
    for emulator in emulators:
        sensor = SensorConfig(placement="upper", address=emulator.address)
        conn = await connect_metamotion(
            devices[emulator.address],
            sensor,
            clock=clock,
            on_data=on_data,
            on_link_lost=lost.append,
            backend=None,
        )
        assert conn.chip == "bmi270"
        connections.append(conn)
    await asyncio.sleep(1.5)
    for conn in connections:
        await conn.close()

    assert lost == []  # an intentional close is not link loss
    for conn in connections:
        decoder = MetaWearDecoder(conn.config)
        samples = {"acc": 0, "gyr": 0}
        magnitudes = []
        for _t, data in packets[conn.sensor.address]:
            packet = decoder.decode(data)
            assert packet is not None
            samples[packet.stream] += packet.values.shape[0]
            if packet.stream == "acc":
                magnitudes.extend(np.linalg.norm(packet.values, axis=1))
        assert decoder.malformed == 0
        span = packets[conn.sensor.address][-1][0] - packets[conn.sensor.address][0][0]
        for stream, n in samples.items():
            assert n / span == pytest.approx(100.0, rel=0.15), stream
        # A standing athlete: the accelerometer sees about 1 g.
        assert np.median(magnitudes) == pytest.approx(9.81, rel=0.15)


async def _managed_paths(bus_address: str) -> set[str]:
    """Object paths org.bluez exports now (its ObjectManager, asked directly)."""
    bus = await MessageBus(bus_address=bus_address).connect()
    try:
        reply = await bus.call(
            Message(
                destination="org.bluez",
                path="/",
                interface="org.freedesktop.DBus.ObjectManager",
                member="GetManagedObjects",
            )
        )
    finally:
        bus.disconnect()
    assert reply.message_type is MessageType.METHOD_RETURN
    return set(reply.body[0])


async def test_link_loss_fires_disconnect_callback_once(
    dbus_bus: PrivateBus, make_double: DoubleFactory
) -> None:
    mm = _metamotion()
    double = await make_double([mm])
    device = (await _scan(mm.address))[mm.address]
    lost: list[str] = []
    sensor = SensorConfig(placement="upper", address=mm.address)

    def ignore(_address: str, _t: float, _data: bytearray) -> None:
        pass

    conn = await connect_metamotion(
        device, sensor, clock=MonotonicClock(), on_data=ignore, on_link_lost=lost.append
    )
    assert double.is_connected(mm.address)

    assert double.drop_link(mm.address)
    await asyncio.sleep(0.2)
    assert lost == [mm.address]
    assert not conn.is_connected
    with pytest.raises(BleakError, match="Service Discovery has not been performed"):
        _ = conn.client.services  # bleak dropped the GATT tree ...
    paths = await _managed_paths(dbus_bus.address)
    assert device_path(mm.address) in paths  # ... and bluetoothd removed it, keeping the device
    assert not [p for p in paths if p.startswith(device_path(mm.address) + "/")]

    # The device advertises again; a fresh client (never the old one) reconnects and streams.
    device = (await _scan(mm.address))[mm.address]
    received: list[bytes] = []
    conn2 = await connect_metamotion(
        device,
        sensor,
        clock=MonotonicClock(),
        on_data=lambda _a, _t, d: received.append(bytes(d)),
        on_link_lost=lost.append,
    )
    await asyncio.sleep(0.3)
    await conn2.close()
    assert received
    assert lost == [mm.address]
    assert double.link_stats(mm.address).connects == 2


# --- connect failures ------------------------------------------------------------------------


async def test_in_progress_surfaces_as_bleak_dbus_error(make_double: DoubleFactory) -> None:
    a, b = _metamotion("D1:5E:00:00:00:01"), _metamotion("D1:5E:00:00:00:02")
    double = await make_double([a, b], connect_delay_s=0.3)
    devices = await _scan(a.address, b.address)

    double.fail_next_connect(a.address, IN_PROGRESS)
    with pytest.raises(BleakDBusError) as info:
        await BleakClient(devices[a.address]).connect()
    assert info.value.dbus_error == IN_PROGRESS

    # The same error without injection: two connects at once, as BlueZ refuses them.
    clients = [BleakClient(devices[a.address]), BleakClient(devices[b.address])]
    results = await asyncio.gather(*(c.connect() for c in clients), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], BleakDBusError) and errors[0].dbus_error == IN_PROGRESS
    for client in clients:
        await client.disconnect()


async def test_abort_by_local_is_retried_by_bleak_itself(make_double: DoubleFactory) -> None:
    mm = _metamotion()
    double = await make_double([mm])
    device = (await _scan(mm.address))[mm.address]
    disconnects: list[float] = []

    # One transient abort: bleak's connect() waits for Connected=false and retries inside.
    double.fail_next_connect(mm.address, FAILED)
    client = BleakClient(device, disconnected_callback=lambda _c: disconnects.append(1))
    await client.connect()
    assert client.is_connected
    # Observed: the disconnected callback fires for the aborted attempt, before connect returns.
    assert len(disconnects) == 1
    await client.disconnect()

    # Aborts that do not stop: bleak keeps retrying until its own timeout.
    for _ in range(100):
        double.fail_next_connect(mm.address, FAILED, ABORT_BY_LOCAL)
    with pytest.raises(TimeoutError):
        await BleakClient(device, timeout=1.0).connect()


async def test_establish_connection_retries_through_transient_failures(
    make_double: DoubleFactory,
) -> None:
    mm = _metamotion()
    double = await make_double([mm])
    device = (await _scan(mm.address))[mm.address]
    double.fail_next_connect(mm.address, IN_PROGRESS)
    double.fail_next_connect(mm.address, FAILED)  # le-connection-abort-by-local
    double.fail_next_connect(mm.address, IN_PROGRESS)

    client = await establish_connection(BleakClient, device, "upper", max_attempts=4)
    try:
        assert client.is_connected
        assert double.link_stats(mm.address).connects == 1
    finally:
        await client.disconnect()


async def test_unheard_device_object_expires(make_double: DoubleFactory) -> None:
    mm = _metamotion()
    double = await make_double([mm], temporary_timeout_s=0.3)
    device = (await _scan(mm.address))[mm.address]
    double.set_advertising(mm.address, False)
    await asyncio.sleep(0.6)  # bluetoothd forgets a temporary device it no longer hears
    # Observed: a plain BleakError from bleak's object cache, not BleakDeviceNotFoundError
    # (which bleak raises only when Connect itself answers UnknownObject).
    with pytest.raises(BleakError, match="dev_D1_5E_00_00_00_01' not found") as info:
        await BleakClient(device).connect()
    assert not isinstance(info.value, BleakDeviceNotFoundError)


async def test_connect_waits_for_a_gone_device(make_double: DoubleFactory) -> None:
    mm = _metamotion()
    double = await make_double([mm])
    device = (await _scan(mm.address))[mm.address]
    double.set_advertising(mm.address, False)
    with pytest.raises(TimeoutError):
        await BleakClient(device, timeout=0.5).connect()
    assert not double.is_connected(mm.address)  # bleak's Disconnect cancelled the attempt

    double.set_advertising(mm.address, True)
    async with BleakClient(device) as client:
        assert client.is_connected


# --- notification faults ---------------------------------------------------------------------


async def test_notification_faults_duplicate_drop_and_delay(make_double: DoubleFactory) -> None:
    fake = FakeCounterDevice()
    double = await make_double([fake])
    device = (await _scan(fake.address))[fake.address]
    double.set_notification_faults(fake.address, delay_s=0.2, duplicate_every=4, drop_every=5)
    counters: list[int] = []
    arrivals: list[float] = []

    def on_counter(_char: BleakGATTCharacteristic, data: bytearray) -> None:
        counters.append(struct.unpack("<I", data)[0])
        arrivals.append(time.monotonic())

    async with BleakClient(device) as client:
        await client.start_notify(COUNTER_UUID, on_counter)
        started = time.monotonic()
        await client.write_gatt_char(CONTROL_UUID, START, response=True)
        await asyncio.sleep(1.0)

    assert arrivals[0] - started >= 0.2  # delayed
    assert counters == sorted(counters)  # order kept
    # Produced notifications k = 1, 2, …: the reply to START is the first, so counter c is the
    # (c + 1)-th: dropped when (c + 1) % 5 == 0, doubled when (c + 1) % 4 == 0.
    seen = set(counters)
    assert all((c + 1) % 5 for c in seen)
    assert {c for c in seen if counters.count(c) == 2} == {c for c in seen if (c + 1) % 4 == 0}
    stats = double.link_stats(fake.address)
    assert stats.dropped > 0 and stats.duplicated > 0


# --- no adapter, no bluetoothd -----------------------------------------------------------------


async def test_missing_adapter_is_bluetooth_not_available(make_double: DoubleFactory) -> None:
    await make_double([_metamotion()], adapter=False)
    with pytest.raises(BleakBluetoothNotAvailableError) as info:
        await BleakScanner.discover(timeout=0.2)
    assert info.value.reason is BleakBluetoothNotAvailableReason.NO_BLUETOOTH
    assert "No Bluetooth adapters found" in str(info.value)


async def test_powered_off_adapter_is_bluetooth_not_available(make_double: DoubleFactory) -> None:
    await make_double([_metamotion()], powered=False)
    with pytest.raises(BleakBluetoothNotAvailableError) as info:
        await BleakScanner.discover(timeout=0.2)
    assert info.value.reason is BleakBluetoothNotAvailableReason.POWERED_OFF


async def test_no_bluetoothd_on_the_bus_is_a_dbus_error(dbus_bus: PrivateBus) -> None:
    # A system bus without org.bluez (bluetoothd not running): the bus says ServiceUnknown.
    with pytest.raises(BleakDBusError) as info:
        await BleakScanner.discover(timeout=0.2)
    assert info.value.dbus_error == "org.freedesktop.DBus.Error.ServiceUnknown"


# --- the double as its own process -------------------------------------------------------------


@pytest.fixture
async def double_process(dbus_bus: PrivateBus) -> AsyncIterator[subprocess.Popen[str]]:
    """``python -m liftguard.sensors.bluez_double`` with two demo athletes (4 MetaMotions)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "liftguard.sensors.bluez_double",
            "--bus-address",
            dbus_bus.address,
            "--demo-athletes",
            "2",
            "--seed",
            "0",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 30.0)
    assert line == "ready\n"
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()


async def _control_call(
    address: str, member: str, signature: str = "", body: list[object] | None = None
) -> Message:
    bus = await MessageBus(bus_address=address).connect()
    try:
        return await bus.call(
            Message(
                destination=CONTROL_BUS_NAME,
                path=CONTROL_PATH,
                interface="io.liftguard.TestControl1",
                member=member,
                signature=signature,
                body=body or [],
            )
        )
    finally:
        bus.disconnect()


async def test_subprocess_mode_serves_scan_faults_and_stops_on_sigterm(
    dbus_bus: PrivateBus, double_process: subprocess.Popen[str]
) -> None:
    addresses = [e.address for e in demo_emulators(athletes=2, seed=0, duration=30.0)]
    devices = await find_devices(addresses, timeout=3.0)
    assert set(devices) == set(addresses)

    lost: list[str] = []
    sensor = SensorConfig(placement="upper", address=addresses[0])
    received: list[bytes] = []
    conn = await connect_metamotion(
        devices[addresses[0]],
        sensor,
        clock=MonotonicClock(),
        on_data=lambda _a, _t, d: received.append(bytes(d)),
        on_link_lost=lost.append,
    )
    await asyncio.sleep(0.3)
    n_received = len(received)
    assert n_received

    # Faults over D-Bus, then SIGUSR1 (drop every link).
    reply = await _control_call(dbus_bus.address, "GetStats", "s", [addresses[0]])
    assert reply.message_type is MessageType.METHOD_RETURN
    assert reply.body[0]["sent"].value > n_received  # + the module-info reply
    double_process.send_signal(signal.SIGUSR1)
    for _ in range(50):
        if lost:
            break
        await asyncio.sleep(0.05)
    assert lost == [addresses[0]]
    assert not conn.is_connected

    reply = await _control_call(
        dbus_bus.address, "FailNextConnect", "ss", [addresses[1], IN_PROGRESS]
    )
    assert reply.message_type is MessageType.METHOD_RETURN
    with pytest.raises(BleakDBusError, match="InProgress"):
        await BleakClient(devices[addresses[1]]).connect()

    double_process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(double_process.wait, 10) == 0


async def test_throughput_four_sensors_100_hz(
    dbus_bus: PrivateBus, double_process: subprocess.Popen[str]
) -> None:
    """Probe: 4 MetaMotions at 100 Hz (acc + gyro, packed) through the double for 5 s."""
    addresses = [e.address for e in demo_emulators(athletes=2, seed=0, duration=30.0)]
    devices = await find_devices(addresses, timeout=3.0)
    counts = dict.fromkeys(addresses, 0)

    def on_data(address: str, _t: float, _data: bytearray) -> None:
        counts[address] += 1

    connections = []
    for address in addresses:
        sensor = SensorConfig(placement="upper", address=address)
        conn = await connect_metamotion(
            devices[address], sensor, clock=MonotonicClock(), on_data=on_data
        )
        connections.append(conn)
    before = dict(counts)
    started = time.monotonic()
    await asyncio.sleep(5.0)
    elapsed = time.monotonic() - started
    received = {a: counts[a] - before[a] for a in addresses}
    # Stop streaming but keep the links, let what is in flight land, then compare with what
    # the double sent (the module-info reply of each connect is the one not given to on_data).
    for conn in connections:
        for cmd in stop_commands(conn.config):
            await conn.client.write_gatt_char(COMMAND_CHAR, cmd, response=False)
    await asyncio.sleep(0.3)
    lost = {a: await _sent(dbus_bus.address, a) - 1 - counts[a] for a in addresses}
    for conn in connections:
        await conn.close()

    total = sum(received.values())
    print(
        f"\nthroughput probe: 4 sensors, {elapsed:.1f} s: {total / elapsed:.0f} notifications/s "
        f"received ({3 * total / elapsed:.0f} samples/s); lost {sum(lost.values())} "
        f"of {sum(counts.values())}"
    )
    # Packed: 2 streams x 100 Hz / 3 samples per notification = 66.7 notifications/s a sensor.
    for address in addresses:
        assert received[address] / elapsed == pytest.approx(200 / 3, rel=0.1)
    assert lost == dict.fromkeys(addresses, 0)


async def _sent(address: str, device: str) -> int:
    reply = await _control_call(address, "GetStats", "s", [device])
    return int(reply.body[0]["sent"].value)


async def test_pair_then_unpair_removes_the_device(
    dbus_bus: PrivateBus, make_double: DoubleFactory
) -> None:
    mm = _metamotion()
    await make_double([mm])
    device = (await _scan(mm.address))[mm.address]
    client = BleakClient(device)
    await client.connect()
    await client.pair()  # sets Trusted via Properties.Set, then Device1.Pair
    await client.unpair()  # Adapter1.RemoveDevice: link and object gone
    assert not client.is_connected
    assert device_path(mm.address) not in await _managed_paths(dbus_bus.address)
    await client.disconnect()


# --- what the double showed about the production code ------------------------------------


async def test_driver_does_not_report_link_loss_for_a_retried_abort(
    make_double: DoubleFactory,
) -> None:
    mm = _metamotion()
    double = await make_double([mm])
    device = (await _scan(mm.address))[mm.address]
    double.fail_next_connect(mm.address, FAILED)  # bleak retries this inside connect()
    lost: list[str] = []
    conn = await connect_metamotion(
        device,
        SensorConfig(placement="upper", address=mm.address),
        clock=MonotonicClock(),
        on_data=lambda _a, _t, _d: None,
        on_link_lost=lost.append,
    )
    await conn.close()
    assert lost == []


@pytest.mark.parametrize("setup", ["no adapter", "no bluetoothd"])
async def test_find_devices_says_no_bluetooth(
    setup: str, dbus_bus: PrivateBus, make_double: DoubleFactory
) -> None:
    if setup == "no adapter":
        await make_double([_metamotion()], adapter=False)
    with pytest.raises(BluetoothUnavailableError):
        await find_devices(["D1:5E:00:00:00:01"], timeout=0.2)
