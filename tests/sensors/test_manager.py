"""The connection manager end to end: the simulated backend and bleak's real BlueZ backend.

Simulated tests run on the world's clock (``speed=math.inf``, ``sleep=world.sleep``), so times
are exact and reproducible. BlueZ tests run bleak's unmodified Linux backend against the
bluetoothd double on a private bus in real time, so they stream for a second or two.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pytest
from bleak.backends.client import BaseBleakClient
from bleak.exc import BleakError

from liftguard.config import AthleteConfig, SensorConfig, SessionConfig
from liftguard.errors import BluetoothUnavailableError
from liftguard.firmware_bridge.dot import MEDIUM_PAYLOAD_CHAR as DOT_STREAM
from liftguard.firmware_bridge.dot import DotEmulator
from liftguard.firmware_bridge.emulation import EmulatedDevice, Notification
from liftguard.firmware_bridge.metawear import (
    MetaMotionEmulator,
    MetaWearConfig,
    MetaWearDecoder,
)
from liftguard.firmware_bridge.witmotion import WitMotionEmulator
from liftguard.sensors import SimulatedWorld
from liftguard.sensors.bluez_double import BluezDouble, PrivateBus
from liftguard.sensors.clock import Clock, MonotonicClock
from liftguard.sensors.manager import ConnectionManager

from .conftest import DoubleFactory
from .fakes import FakeCounterDevice

FloatArray = npt.NDArray[np.float64]
IN_PROGRESS = "org.bluez.Error.InProgress"
FAILED = "org.bluez.Error.Failed"  # default message: le-connection-abort-by-local

MM1 = "D1:5E:00:00:00:01"
DOT1 = "D4:22:CD:00:00:02"
WIT2 = "D8:76:A8:00:00:03"
MM2 = "D1:5E:00:00:00:04"
#: Two athletes, three families: (address, family, athlete, placement).
MIXED = (
    (MM1, "metawear", "anna", "upper"),
    (DOT1, "dot", "anna", "sacrum"),
    (WIT2, "witmotion", "beth", "upper"),
    (MM2, "metawear", "beth", "sacrum"),
)
MM_NOTIFICATIONS_HZ = 200 / 3  # acc + gyro at 100 Hz, three samples per packed notification


class Swing:
    """Deterministic, always-changing motion: consecutive packets never repeat their bytes."""

    def imu(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        phase = 2 * np.pi * 0.7 * t
        acc = np.stack([3 * np.sin(phase), 2 * np.cos(phase), 9.81 + 0.01 * t], axis=1)
        gyr = np.stack([0.5 * np.cos(phase), -0.3 * np.sin(phase), 0.1 + 0 * t], axis=1)
        return acc, gyr


def emulator(address: str, family: str, **kw: Any) -> EmulatedDevice:
    if family == "metawear":
        chip: Literal["bmi160", "bmi270"] = "bmi270" if address == MM1 else "bmi160"
        return MetaMotionEmulator(Swing(), address=address, chip=chip, **kw)
    if family == "dot":
        return DotEmulator(Swing(), address=address, **kw)
    return WitMotionEmulator(Swing(), address=address, **kw)


def roster(entries: Iterable[tuple[str, str, str, str]]) -> SessionConfig:
    athletes: dict[str, list[SensorConfig]] = defaultdict(list)
    for address, family, athlete, placement in entries:
        athletes[athlete].append(SensorConfig(placement, address, family=family))
    return SessionConfig("test", tuple(AthleteConfig(a, tuple(s)) for a, s in athletes.items()))


class Tap:
    """An emulator wrapper that remembers every notification the device emitted, in order."""

    def __init__(self, inner: EmulatedDevice) -> None:
        self.inner = inner
        self.emitted: list[bytes] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def advance(self, now: float) -> list[Notification]:
        out = self.inner.advance(now)
        self.emitted += [n.data for n in out]
        return out

    def write(self, uuid: str, data: bytes, now: float) -> list[Notification]:
        out = self.inner.write(uuid, data, now)
        self.emitted += [n.data for n in out]
        return out


class Log:
    """What the manager told us, and whether it ever sent data it should not have."""

    def __init__(self) -> None:
        self.states: list[tuple[str, float, str, str, str | None]] = []
        self.packets: dict[str, list[tuple[float, bytes]]] = defaultdict(list)
        self.live: set[str] = set()
        self.violations: list[str] = []

    def on_state(self, address: str, t: float, state: str, detail: str, chip: str | None) -> None:
        self.states.append((address, t, state, detail, chip))
        if state in ("connected", "reconnected"):
            self.live.add(address)
        elif state == "lost":
            self.live.discard(address)

    def on_data(self, address: str, t: float, data: bytearray) -> None:
        # A sensor's data must come between its connected/reconnected and its lost report.
        if address not in self.live:
            self.violations.append(f"data from {address} at {t} while not connected")
        self.packets[address].append((t, bytes(data)))

    def of(self, address: str) -> list[str]:
        return [s for a, _, s, _, _ in self.states if a == address]

    def report(self, address: str, state: str) -> tuple[float, str, str | None]:
        matches = [(t, d, c) for a, t, s, d, c in self.states if a == address and s == state]
        assert len(matches) == 1, (address, state, self.states)
        return matches[0]

    def count(self, address: str, t0: float, t1: float) -> int:
        return sum(t0 <= t < t1 for t, _ in self.packets[address])


def is_subsequence(part: Sequence[bytes], whole: Sequence[bytes]) -> bool:
    """``part`` in order within ``whole``, each element used once (so nothing doubled)."""
    it = iter(whole)
    return all(any(p == w for w in it) for p in part)


def assert_serial(spans: Sequence[tuple[float, float]]) -> None:
    ordered = sorted(spans)
    for (_s0, e0), (s1, _e1) in itertools.pairwise(ordered):
        assert e0 <= s1, f"connection attempts overlap: {ordered}"


# --- simulated world -----------------------------------------------------------------------

WorldFactory = Callable[..., Awaitable[SimulatedWorld]]
Keep = Callable[[ConnectionManager], ConnectionManager]


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


@pytest.fixture
async def keep() -> AsyncIterator[Keep]:
    """Managers stopped at teardown (before the world or the double they use)."""
    managers: list[ConnectionManager] = []

    def add(manager: ConnectionManager) -> ConnectionManager:
        managers.append(manager)
        return manager

    yield add
    for manager in managers:
        await manager.stop()


def sim_manager(
    world: SimulatedWorld,
    config: SessionConfig,
    log: Log,
    *,
    client_backend: type[BaseBleakClient] | None = None,
) -> ConnectionManager:
    return ConnectionManager(
        config,
        clock=world,
        on_data=log.on_data,
        on_state=log.on_state,
        scanner_backend=world.scanner_backend,
        client_backend=client_backend or world.client_backend,
        scan_timeout=2.0,
        sleep=world.sleep,
    )


def spying(
    world: SimulatedWorld,
    spans: list[tuple[float, float]],
    base: type[BaseBleakClient] | None = None,
) -> type[BaseBleakClient]:
    """``base`` (the world's client backend), recording each connect's (start, end)."""
    parent: Any = base or world.client_backend

    class Spy(parent):
        async def connect(self, pair: bool, **kwargs: Any) -> None:
            start = world.now()
            try:
                await super().connect(pair, **kwargs)
            finally:
                spans.append((start, world.now()))

    return cast("type[BaseBleakClient]", Spy)


async def test_connects_a_mixed_roster_one_at_a_time_and_reconnects_one_at_a_time(
    make_world: WorldFactory, keep: Keep
) -> None:
    world = await make_world(*(emulator(a, f) for a, f, _, _ in MIXED))
    spans: list[tuple[float, float]] = []
    log = Log()
    manager = keep(sim_manager(world, roster(MIXED), log, client_backend=spying(world, spans)))

    await manager.start()

    assert [(a, s, c) for a, _, s, _, c in log.states] == [
        (MM1, "connected", "bmi270"),
        (DOT1, "connected", None),
        (WIT2, "connected", None),
        (MM2, "connected", "bmi160"),
    ]
    details = {a: d for a, _, _, d, _ in log.states}
    assert details[MM1] == "bmi270 at 100 Hz"
    assert details[DOT1].startswith("payload mode 21 at 60 Hz")
    assert details[WIT2] == "100 Hz"
    assert manager.status() == dict.fromkeys((MM1, DOT1, WIT2, MM2), "streaming")
    assert len(spans) == 4
    assert_serial(spans)

    t = world.now()
    await world.sleep(1.0)
    for address, _, _, _ in MIXED:
        assert log.count(address, t, t + 1.0) >= 50, address

    # Two drops at the same instant: the two reconnects still take turns on the radio.
    world.inject_disconnect(MM1)
    world.inject_disconnect(WIT2)
    await world.sleep(2.0)
    assert log.of(MM1) == ["connected", "lost", "reconnected"]
    assert log.of(WIT2) == ["connected", "lost", "reconnected"]
    assert len(spans) == 6
    assert_serial(spans)
    assert log.violations == []


async def test_link_loss_is_reported_once_at_once_then_data_flows_again_without_duplicates(
    make_world: WorldFactory, keep: Keep
) -> None:
    taps = {MM1: Tap(emulator(MM1, "metawear")), DOT1: Tap(emulator(DOT1, "dot"))}
    world = await make_world(*taps.values())
    log = Log()
    manager = keep(sim_manager(world, roster(MIXED[:2]), log))
    await manager.start()
    await world.sleep(1.0)

    t_drop = world.now()
    world.inject_disconnect(MM1)
    # At once: reported from inside the disconnected callback, stamped with the drop's time.
    assert log.states[-1][:3] == (MM1, t_drop, "lost")
    assert manager.status()[MM1] == "reconnecting"

    await world.sleep(2.0)
    await manager.stop()
    assert log.of(MM1) == ["connected", "lost", "reconnected"]
    assert log.of(DOT1) == ["connected"]
    t_back, _, chip = log.report(MM1, "reconnected")
    assert chip == "bmi270"
    assert t_drop < t_back < t_drop + 1.0
    # The gap is just the absence of packets; then the stream is back at its rate.
    assert log.count(MM1, t_drop, t_back) == 0
    after = log.count(MM1, t_back, t_drop + 2.0)
    assert after == pytest.approx(MM_NOTIFICATIONS_HZ * (t_drop + 2.0 - t_back), rel=0.1)
    # Every packet forwarded is one the sensor emitted, in order, none twice.
    for address, tap in taps.items():
        received = [d for _, d in log.packets[address]]
        assert len(set(received)) == len(received), address
        assert is_subsequence(received, tap.emitted), address
    assert log.violations == []


async def test_a_sensor_gone_for_10_s_reconnects_after_it_returns_and_others_never_slow(
    make_world: WorldFactory, keep: Keep
) -> None:
    world = await make_world(*(emulator(a, f) for a, f, _, _ in MIXED))
    spans: list[tuple[float, float]] = []
    log = Log()
    manager = keep(sim_manager(world, roster(MIXED), log, client_backend=spying(world, spans)))
    await manager.start()
    await world.sleep(1.0)

    t_gone = world.now()
    world.set_advertising(DOT1, False)  # walked out of range ...
    world.inject_disconnect(DOT1)  # ... and the link timed out
    await world.sleep(10.0)
    assert manager.status()[DOT1] == "reconnecting"
    t_return = world.now()
    world.set_advertising(DOT1, True)
    await world.sleep(3.0)

    assert log.of(DOT1) == ["connected", "lost", "reconnected"]
    assert log.report(DOT1, "lost")[0] == t_gone
    t_back = log.report(DOT1, "reconnected")[0]
    assert t_return <= t_back <= t_return + 2.0
    # Nothing while it was gone; packets that arrived while its driver finished starting the
    # stream keep their receive times, so they may sit just before the report.
    assert log.count(DOT1, t_gone, t_return) == 0
    assert log.count(DOT1, t_back, t_back + 1.0) == pytest.approx(60, abs=2)
    # Nothing tried to connect to a sensor nobody could hear.
    assert not [s for s in spans if t_gone < s[0] < t_return]
    # The others stream at their rate through every second of it.
    for address in (MM1, WIT2, MM2):
        baseline = log.count(address, t_gone - 1.0, t_gone)
        for t in np.arange(t_gone, t_back + 2.0, 1.0):
            assert log.count(address, t, t + 1.0) >= 0.95 * baseline, (address, t)
    assert log.violations == []


@pytest.mark.parametrize("failing", ["connect", "start"])
async def test_a_sensor_that_keeps_failing_to_reconnect_never_holds_up_another(
    failing: str, make_world: WorldFactory, keep: Keep
) -> None:
    world = await make_world(emulator(MM1, "metawear"), emulator(MM2, "metawear"))
    refused: set[str] = set()
    spans: list[tuple[float, float]] = []
    base: Any = world.client_backend

    class Refusing(base):
        """Every round fails after taking radio time: at connecting (retried by
        bleak-retry-connector, which pauses between attempts) or at subscribing (retried by
        the manager after its own backoff)."""

        async def connect(self, pair: bool, **kwargs: Any) -> None:
            if failing == "connect" and self.address in refused:
                await world.sleep(0.25)
                raise BleakError("Connection failed")
            await super().connect(pair, **kwargs)

        async def start_notify(self, characteristic: Any, callback: Any, **kwargs: Any) -> None:
            if failing == "start" and self.address in refused:
                await world.sleep(0.05)
                raise BleakError("Notify failed")
            await super().start_notify(characteristic, callback, **kwargs)

    log = Log()
    config = roster([(MM1, "metawear", "anna", "upper"), (MM2, "metawear", "anna", "sacrum")])
    backend = spying(world, spans, Refusing)
    manager = keep(sim_manager(world, config, log, client_backend=backend))
    await manager.start()
    refused.add(MM1)
    world.inject_disconnect(MM1)  # now MM1 fails round after round, backing off in between
    await world.sleep(3.0)
    t_drop = world.now()
    world.inject_disconnect(MM2)
    await world.sleep(2.0)

    assert log.of(MM1) == ["connected", "lost"]
    assert manager.status()[MM1] == "reconnecting"
    assert len([s for s in spans if s[0] > 0.5]) >= 2  # MM1 kept trying ...
    assert log.of(MM2) == ["connected", "lost", "reconnected"]
    assert log.report(MM2, "reconnected")[0] - t_drop < 1.0  # ... without holding MM2 up
    assert_serial(spans)
    assert log.violations == []


async def test_a_sensor_missing_at_start_is_found_and_connected_later(
    make_world: WorldFactory, keep: Keep
) -> None:
    world = await make_world(emulator(MM1, "metawear"), emulator(DOT1, "dot"))
    world.set_advertising(DOT1, False)  # not switched on yet
    log = Log()
    manager = keep(sim_manager(world, roster(MIXED[:2]), log))

    await manager.start()
    assert log.of(MM1) == ["connected"]
    t_missing, detail, _ = log.report(DOT1, "missing")
    assert t_missing == pytest.approx(2.0, abs=0.05)  # the whole scan_timeout was waited for
    assert "not found" in detail
    assert manager.status() == {MM1: "streaming", DOT1: "missing"}

    await world.sleep(3.0)
    assert log.of(DOT1) == ["missing"]
    t_on = world.now()
    world.set_advertising(DOT1, True)
    await world.sleep(2.0)
    assert log.of(DOT1) == ["missing", "connected"]  # first connection: not "reconnected"
    t_connected = log.report(DOT1, "connected")[0]
    assert t_on <= t_connected <= t_on + 1.5
    assert log.count(DOT1, t_connected, world.now()) > 0
    assert manager.status() == {MM1: "streaming", DOT1: "streaming"}
    assert log.violations == []


class Slow(WitMotionEmulator):
    """A WitMotion that does not answer register reads while ``slow`` is set."""

    slow = True

    def _reply(self, start: int, now: float) -> None:
        if not self.slow:
            super()._reply(start, now)


async def test_a_drop_while_the_stream_starts_aborts_at_once_and_is_retried_not_reported_lost(
    make_world: WorldFactory, keep: Keep
) -> None:
    device = Slow(Swing(), address=WIT2)
    world = await make_world(device)
    log = Log()
    manager = keep(sim_manager(world, roster(MIXED[2:3]), log))
    starting = asyncio.create_task(manager.start())
    while not world.is_connected(WIT2):
        await world.sleep(0.01)
    await world.sleep(0.5)  # past the command gaps: the driver waits for the read-back
    t_drop = world.now()
    world.inject_disconnect(WIT2)
    device.slow = False
    await asyncio.wait_for(starting, 3.0)  # not the driver's 5 s reply timeout
    await world.sleep(2.0)

    assert log.of(WIT2) == ["missing", "connected"]
    t_missing, detail, _ = log.report(WIT2, "missing")
    assert t_missing - t_drop < 0.25  # a few event-loop turns of the world's pump
    assert "link lost while starting the stream" in detail
    assert manager.status() == {WIT2: "streaming"}
    assert log.violations == []


async def test_a_dropped_connection_never_forwards_data_even_if_its_client_still_calls_back(
    make_world: WorldFactory, keep: Keep
) -> None:
    # Models the BlueZ pitfall of an old client that keeps delivering after a reconnect.
    world = await make_world(emulator(MM1, "metawear"))
    base: Any = world.client_backend
    callbacks: list[Callable[[bytearray], None]] = []

    class Leaky(base):
        async def start_notify(self, characteristic: Any, callback: Any, **kwargs: Any) -> None:
            await super().start_notify(characteristic, callback, **kwargs)
            callbacks.append(callback)

    log = Log()
    manager = keep(sim_manager(world, roster(MIXED[:1]), log, client_backend=Leaky))
    await manager.start()
    world.inject_disconnect(MM1)
    callbacks[0](bytearray(b"ghost in the gap"))
    await world.sleep(1.0)
    assert log.of(MM1) == ["connected", "lost", "reconnected"]
    callbacks[0](bytearray(b"ghost after the reconnect"))
    await world.sleep(0.1)

    received = [d for _, d in log.packets[MM1]]
    assert received and not [d for d in received if d.startswith(b"ghost")]
    assert log.violations == []


async def test_a_sensor_streaming_at_the_wrong_rate_is_still_connected(
    make_world: WorldFactory, keep: Keep
) -> None:
    # Its clock runs 1.5x slow: asked for 100 Hz, it samples at 66.7 Hz.
    world = await make_world(emulator(MM1, "metawear", clock_ppm=500_000))
    log = Log()
    manager = keep(sim_manager(world, roster(MIXED[:1]), log))
    await manager.start()
    t0 = world.now()
    await world.sleep(3.0)

    # Observed: the manager connects it and passes its data on; rate health is the
    # pipeline's job (clock sync and staleness), not the radio's.
    assert log.of(MM1) == ["connected"]
    assert manager.status() == {MM1: "streaming"}
    decoder = MetaWearDecoder(MetaWearConfig(chip="bmi270"))
    acc = [p for _, d in log.packets[MM1] if (p := decoder.decode(d)) and p.stream == "acc"]
    samples = sum(p.values.shape[0] for p in acc)
    assert samples / (world.now() - t0) == pytest.approx(100 / 1.5, rel=0.05)


async def test_roster_problems_fail_one_sensor_with_a_reason_while_the_rest_stream(
    make_world: WorldFactory, keep: Keep
) -> None:
    polar = "A0:9E:1A:00:00:05"
    impostor = "AA:BB:CC:DD:EE:01"  # a MetaMotion in the roster, something else on the air
    dot = DotEmulator(Swing(), address=DOT1)
    fake = FakeCounterDevice(address=impostor)
    world = await make_world(emulator(MM1, "metawear"), dot, fake, emulator(MM2, "metawear"))
    unsupported = SensorConfig("upper", polar, family="metawear")
    # A roster written for another build (config validates families; the manager must too).
    object.__setattr__(unsupported, "family", "polar")
    config = SessionConfig(
        "test",
        (
            AthleteConfig(
                "anna",
                (
                    SensorConfig("upper", MM1),
                    SensorConfig("sacrum", DOT1, family="dot", rate_hz=100.0),  # DOT max 60
                ),
            ),
            AthleteConfig("beth", (unsupported, SensorConfig("sacrum", impostor))),
            AthleteConfig("cara", (SensorConfig("upper", MM2),)),
        ),
    )
    log = Log()
    manager = keep(sim_manager(world, config, log))
    await manager.start()
    await world.sleep(1.0)

    assert manager.status() == {
        MM1: "streaming",
        DOT1: "failed",
        polar: "failed",
        impostor: "failed",
        MM2: "streaming",
    }
    assert "unsupported family 'polar'" in log.report(polar, "failed")[1]
    assert "rate" in log.report(DOT1, "failed")[1]
    assert "is this a MetaMotion?" in log.report(impostor, "failed")[1]
    assert not dot.connected and not dot.measuring  # refused before touching the radio
    assert len(fake.connects) == 1 and not world.is_connected(impostor)  # tried once, let go
    assert log.of(polar) == log.of(DOT1) == log.of(impostor) == ["failed"]
    for address in (MM1, MM2):
        assert log.count(address, world.now() - 1.0, world.now()) >= 60


async def test_stop_reports_nothing_and_leaves_nothing_running(
    make_world: WorldFactory, keep: Keep
) -> None:
    emulators = {a: emulator(a, f) for a, f, _, _ in MIXED}
    world = await make_world(*emulators.values())
    log = Log()
    manager = keep(sim_manager(world, roster(MIXED), log))
    await manager.start()
    await world.sleep(0.5)
    world.set_advertising(MM2, False)
    world.inject_disconnect(MM2)  # one sensor is being searched for while we stop
    await world.sleep(0.5)
    reports = len(log.states)
    packets = sum(len(p) for p in log.packets.values())

    await manager.stop()
    await world.sleep(1.0)

    assert len(log.states) == reports  # stopping is not link loss
    assert sum(len(p) for p in log.packets.values()) == packets
    assert not any(world.is_connected(a) for a in emulators)
    dot = emulators[DOT1]
    assert isinstance(dot, DotEmulator) and not dot.measuring  # told to stop first
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("liftguard")]
    await manager.stop()  # twice is harmless


# --- bleak's BlueZ backend against the bluetoothd double -------------------------------------

BlueZSpans = dict[str, list[tuple[float, float]]]


def bluez_manager(config: SessionConfig, log: Log, clock: Clock) -> ConnectionManager:
    return ConnectionManager(
        config, clock=clock, on_data=log.on_data, on_state=log.on_state, scan_timeout=3.0
    )


def spy_on(double: BluezDouble) -> BlueZSpans:
    """Record every Connect (including refused ones) and every discovery session."""
    spans: BlueZSpans = {"connect": [], "discovery": []}
    connect, start, stop = double.connect_device, double.start_discovery, double.stop_discovery
    opened: list[float] = []

    async def connect_device(device: Any) -> None:
        t = double.now()
        try:
            await connect(device)
        finally:
            spans["connect"].append((t, double.now()))

    def start_discovery() -> None:
        start()
        opened.append(double.now())

    def stop_discovery() -> None:
        stop()
        spans["discovery"].append((opened.pop(), double.now()))

    double.connect_device = connect_device  # type: ignore[method-assign]
    double.start_discovery = start_discovery  # type: ignore[method-assign]
    double.stop_discovery = stop_discovery  # type: ignore[method-assign]
    return spans


async def until(condition: Callable[[], bool], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


def data_of(double: BluezDouble, address: str) -> list[bytes]:
    """What the double sent on the stream's characteristic, without MetaWear's read replies
    (bit 7 of byte 1), which the driver keeps to itself."""
    if address in (MM1, MM2):
        return [n.data for n in double.delivered(address) if not n.data[1] & 0x80]
    return [n.data for n in double.delivered(address) if n.uuid == DOT_STREAM]


async def test_bluez_mixed_roster_connects_serially_and_never_scans_while_connecting(
    make_double: DoubleFactory, keep: Keep
) -> None:
    double = await make_double([emulator(a, f) for a, f, _, _ in MIXED], mtu=247)
    spans = spy_on(double)
    log = Log()
    manager = keep(bluez_manager(roster(MIXED), log, MonotonicClock()))
    await manager.start()
    assert [(a, s) for a, _, s, _, _ in log.states] == [(a, "connected") for a, *_ in MIXED]
    await asyncio.sleep(0.5)

    double.drop_link(MM1)
    double.drop_link(DOT1)
    await until(lambda: log.of(MM1)[-1:] == log.of(DOT1)[-1:] == ["reconnected"], 8.0)
    await asyncio.sleep(0.3)

    # BlueZ would answer a second Connect with InProgress: every Connect ran alone, six in all
    # (the refused ones are recorded too), and never during discovery.
    assert len(spans["connect"]) == 6
    assert_serial(spans["connect"])
    assert_serial(spans["connect"] + spans["discovery"])
    for address, *_ in MIXED:
        assert log.packets[address][-1][0] > log.states[-1][1]  # all streaming after it all
    assert log.violations == []


async def test_bluez_link_loss_lost_at_once_reconnected_no_duplicates(
    make_double: DoubleFactory, keep: Keep
) -> None:
    double = await make_double([emulator(MM1, "metawear"), emulator(MM2, "metawear")], record=True)
    clock = MonotonicClock()
    log = Log()
    config = roster([(MM1, "metawear", "anna", "upper"), (MM2, "metawear", "anna", "sacrum")])
    manager = keep(bluez_manager(config, log, clock))
    await manager.start()
    await asyncio.sleep(0.5)

    t_drop = clock.now()
    double.drop_link(MM1)
    await until(lambda: "lost" in log.of(MM1), 1.0)
    assert log.report(MM1, "lost")[0] - t_drop < 0.25  # "at once": one D-Bus signal later
    await until(lambda: "reconnected" in log.of(MM1), 5.0)
    t_back, _, chip = log.report(MM1, "reconnected")
    assert chip == "bmi270"
    await asyncio.sleep(1.0)
    await manager.stop()
    await asyncio.sleep(0.1)

    assert log.of(MM1) == ["connected", "lost", "reconnected"]
    assert log.of(MM2) == ["connected"]
    assert double.link_stats(MM1).connects == 2
    assert log.count(MM1, t_drop, t_back) == 0
    rate = log.count(MM1, t_back + 0.2, t_back + 1.0) / 0.8
    assert rate == pytest.approx(MM_NOTIFICATIONS_HZ, rel=0.2)
    for address in (MM1, MM2):
        received = [d for _, d in log.packets[address]]
        sent = data_of(double, address)
        assert len(set(received)) == len(received), address  # nothing twice ...
        assert is_subsequence(received, sent), address  # ... and all of it real
        assert len(received) >= len(sent) - 3, address  # at most what was in flight at stop
    assert log.violations == []


async def test_bluez_transient_connect_failures_are_retried_and_succeed(
    make_double: DoubleFactory, keep: Keep
) -> None:
    double = await make_double([emulator(MM1, "metawear"), emulator(MM2, "metawear")])
    # bleak retries an abort inside connect() (firing the disconnected callback meanwhile);
    # establish_connection retries InProgress after a short backoff.
    double.fail_next_connect(MM1, FAILED)
    double.fail_next_connect(MM1, IN_PROGRESS)
    double.fail_next_connect(MM2, IN_PROGRESS)
    double.fail_next_connect(MM2, FAILED)
    log = Log()
    config = roster([(MM1, "metawear", "anna", "upper"), (MM2, "metawear", "anna", "sacrum")])
    manager = keep(bluez_manager(config, log, MonotonicClock()))
    await manager.start()

    assert log.of(MM1) == log.of(MM2) == ["connected"]
    assert double.link_stats(MM1).connects == double.link_stats(MM2).connects == 1

    # The same while reconnecting: one "lost", then one "reconnected", nothing in between.
    double.fail_next_connect(MM1, FAILED)
    double.fail_next_connect(MM1, IN_PROGRESS)
    double.drop_link(MM1)
    await until(lambda: "reconnected" in log.of(MM1), 8.0)
    await asyncio.sleep(0.3)
    assert log.of(MM1) == ["connected", "lost", "reconnected"]
    assert double.link_stats(MM1).connects == 2
    assert log.count(MM1, log.report(MM1, "reconnected")[0], math.inf) > 0
    assert log.violations == []


async def test_bluez_sensor_gone_then_back_reconnects_while_the_other_streams_on(
    make_double: DoubleFactory, keep: Keep
) -> None:
    double = await make_double([emulator(MM1, "metawear"), emulator(MM2, "metawear")])
    clock = MonotonicClock()
    log = Log()
    config = roster([(MM1, "metawear", "anna", "upper"), (MM2, "metawear", "anna", "sacrum")])
    manager = keep(bluez_manager(config, log, clock))
    await manager.start()
    await asyncio.sleep(0.5)

    t_gone = clock.now()
    double.set_advertising(MM1, False)
    double.drop_link(MM1)
    await asyncio.sleep(2.0)
    assert manager.status()[MM1] == "reconnecting"
    assert double.link_stats(MM1).connects == 1  # no Connect to a sensor nobody hears
    t_return = clock.now()
    double.set_advertising(MM1, True)
    await until(lambda: "reconnected" in log.of(MM1), 4.0)
    t_back = log.report(MM1, "reconnected")[0]
    await asyncio.sleep(0.6)
    t_end = clock.now()

    assert t_return < t_back < t_return + 2.5
    assert log.count(MM1, t_gone, t_return) == 0
    for t in np.arange(t_gone - 0.5, t_end - 0.5, 0.5):
        assert log.count(MM2, t, t + 0.5) >= 0.7 * MM_NOTIFICATIONS_HZ * 0.5, t
    assert log.violations == []


async def test_bluez_delayed_and_duplicated_notifications_pass_through_harmlessly(
    make_double: DoubleFactory, keep: Keep
) -> None:
    double = await make_double(
        [emulator(MM1, "metawear"), emulator(DOT1, "dot")], mtu=247, record=True
    )
    double.set_notification_faults(MM1, delay_s=0.2, duplicate_every=5)
    double.set_notification_faults(DOT1, duplicate_every=3)
    log = Log()
    manager = keep(bluez_manager(roster(MIXED[:2]), log, MonotonicClock()))
    await manager.start()
    await asyncio.sleep(1.5)
    await manager.stop()

    assert log.of(MM1) == log.of(DOT1) == ["connected"]
    for address in (MM1, DOT1):
        assert double.link_stats(address).duplicated > 0
        received = [d for _, d in log.packets[address]]
        # Observed: link-layer duplicates reach on_data as they came (the manager cannot tell
        # them from data); the decoders and clock sync downstream see them.
        assert len(set(received)) < len(received)
        assert is_subsequence(received, data_of(double, address))
    assert log.violations == []


@pytest.mark.parametrize("setup", ["no adapter", "adapter off", "no bluetoothd", "no bus"])
async def test_no_bluetooth_is_bluetooth_unavailable_from_start(
    setup: str,
    dbus_bus: PrivateBus,
    make_double: DoubleFactory,
    keep: Keep,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if setup == "no adapter":
        await make_double([emulator(MM1, "metawear")], adapter=False)
    elif setup == "adapter off":
        await make_double([emulator(MM1, "metawear")], powered=False)
    elif setup == "no bus":
        monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/system_bus_socket")
    log = Log()
    manager = keep(bluez_manager(roster(MIXED[:1]), log, MonotonicClock()))
    with pytest.raises(BluetoothUnavailableError):
        await manager.start()
    assert log.states == []


async def test_bluez_stop_is_not_link_loss(make_double: DoubleFactory, keep: Keep) -> None:
    double = await make_double([emulator(MM1, "metawear"), emulator(DOT1, "dot")], mtu=247)
    log = Log()
    manager = keep(bluez_manager(roster(MIXED[:2]), log, MonotonicClock()))
    await manager.start()
    await asyncio.sleep(0.3)
    await manager.stop()
    await asyncio.sleep(0.2)
    assert [s for _, _, s, _, _ in log.states] == ["connected", "connected"]
    assert not double.is_connected(MM1) and not double.is_connected(DOT1)
