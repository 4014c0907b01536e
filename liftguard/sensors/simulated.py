"""Emulated sensors behind bleak's public API: the mock transport that ships with the library.

Driver code is the same for real and emulated hardware; only the backend class differs::

    world = SimulatedWorld([device_a, device_b], speed=math.inf)
    await world.start()
    found = await BleakScanner.discover(timeout=0.1, backend=world.scanner_backend)
    async with BleakClient(found[0], backend=world.client_backend) as client:
        ...

The world is a discrete-event simulation on its own clock (:meth:`SimulatedWorld.now`, seconds
since :meth:`SimulatedWorld.start`). A pump task processes events in time order, setting the clock
to each event's time before running it, so results do not depend on machine load:

* every connection has connection events every ``connection_interval_s``, from a seeded anchor;
  at each one the device is advanced to that instant and everything it emitted since the last one
  is sent, each packet arriving after a small seeded jitter, in FIFO order per connection.
  A notification emitted at ``t`` arrives within ``[t, t + connection_interval_s + jitter_s]``.
* notifications of characteristics without a subscription when they are emitted are lost, as on
  hardware; so are notifications in flight when the link drops or the subscription is stopped.
* :meth:`SimulatedWorld.sleep` wakes its caller at exactly the requested simulated time.
* optionally (``loss=BleLossModel()``), streamed notifications are lost on the way: a few per
  thousand at random, all of them during short burst outages, and, rarely, a whole sensor for
  tens of seconds. Lost notifications are never delivered; :meth:`SimulatedWorld.losses` says
  which were lost and when the outages were.

The pump paces simulated time to ``speed`` × real time in steps of 10 ms simulated time; with
``speed=math.inf`` it only yields to the event loop between steps.

Real-time interplay is the one source of nondeterminism: anything the test awaits in *real* time
(e.g. ``BleakScanner.discover``'s timeout) lets an unknown amount of simulated time pass. Code that
waits with :meth:`SimulatedWorld.sleep` / :meth:`SimulatedWorld.run_until` is reproducible.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import logging
import math
import random
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import cast

from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bleak.uuids import normalize_uuid_str

from liftguard.firmware_bridge.emulation import EmulatedDevice, Notification
from liftguard.sensors._sim_backends import SimulatedBleakClient, SimulatedBleakScanner
from liftguard.sensors._sim_gatt import build_service_collection

__all__ = ["BleLossModel", "LossReport", "Outage", "SimulatedWorld"]

_logger = logging.getLogger(__name__)

#: Pump step in simulated seconds: the pacing granularity, not a resolution limit (events
#: inside a step still run at their exact times).
_STEP_S = 0.010

#: An event: runs at the current clock; returns True when the loop should run woken tasks
#: before the next event, so they observe this event's time.
_Action = Callable[[], bool]


def _address_key(address: str) -> str:
    return address.upper()


@dataclass(frozen=True)
class BleLossModel:
    """How streamed notifications get lost between a sensor and the host (sheet §6 "Simulator
    BLE model", A; field reports of 1 % to 50 % loss, Tipparaju et al. 2021 and GitHub issues).

    Per device, drawn once from the world's seed:

    * ``baseline``: i.i.d. loss probability per notification, uniform in this range
      (0.1–1 %);
    * bursts: a Poisson process of outages at ``burst_rate_per_10min`` (0.5–3 per 10 min, the
      rate itself drawn per device), each lasting ``burst_s`` (0.2–2 s): every notification
      transmitted inside one is lost;
    * ``dropout_probability``: chance that the device drops out once during the first
      ``horizon_s`` seconds, for ``dropout_s`` (10–60 s). The sheet says ≤ 1 % per session.

    Outages are scheduled over ``[0, horizon_s]`` of world time. Command replies (notifications
    caused by a write) are never lost: they are rare and small, and the link layer retries them.
    """

    baseline: tuple[float, float] = (0.001, 0.01)
    burst_rate_per_10min: tuple[float, float] = (0.5, 3.0)
    burst_s: tuple[float, float] = (0.2, 2.0)
    dropout_probability: float = 0.01
    dropout_s: tuple[float, float] = (10.0, 60.0)
    horizon_s: float = 3600.0

    def __post_init__(self) -> None:
        lo, hi = self.baseline
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f"baseline must be 0 <= low <= high <= 1, got {self.baseline}")
        for name in ("burst_rate_per_10min", "burst_s", "dropout_s"):
            a, b = getattr(self, name)
            if not (0.0 <= a <= b < math.inf):
                raise ValueError(f"{name} must be 0 <= low <= high < inf, got {(a, b)}")
        if not 0.0 <= self.dropout_probability <= 1.0:
            raise ValueError(
                f"dropout_probability must be in [0, 1], got {self.dropout_probability}"
            )
        if not (0.0 < self.horizon_s < math.inf):
            raise ValueError(f"horizon_s must be > 0, got {self.horizon_s}")


@dataclass(frozen=True)
class Outage:
    """A span of world time ``[start, end)`` (s) in which a device's notifications are lost;
    ``kind`` is ``"burst"`` or ``"dropout"``."""

    kind: str
    start: float
    end: float


@dataclass(frozen=True)
class LossReport:
    """What the radio lost of one device's stream.

    ``count``: notifications lost in all, ``random`` of them by the i.i.d. baseline;
    ``times``: their emission times (device seconds, in order); ``outages``: the device's
    scheduled outages that had begun by now; ``probability``: its i.i.d. loss probability.
    """

    address: str
    count: int
    random: int
    times: tuple[float, ...]
    outages: tuple[Outage, ...]
    probability: float


class _DeviceLoss:
    """One device's loss schedule and record; seeded by world seed and address."""

    def __init__(self, model: BleLossModel, seed: int, key: str) -> None:
        plan = random.Random(f"{seed}:{key}:loss-plan")
        self.iid = random.Random(f"{seed}:{key}:loss-iid")
        self.probability = plan.uniform(*model.baseline)
        rate = plan.uniform(*model.burst_rate_per_10min) / 600.0
        outages: list[Outage] = []
        t = 0.0
        while rate > 0.0:
            t += plan.expovariate(rate)
            if t >= model.horizon_s:
                break
            outages.append(Outage("burst", t, t + plan.uniform(*model.burst_s)))
        if plan.random() < model.dropout_probability:
            length = plan.uniform(*model.dropout_s)
            start = plan.uniform(0.0, max(model.horizon_s - length, 0.0))
            outages.append(Outage("dropout", start, start + length))
        self.outages = sorted(outages, key=lambda o: o.start)
        self._starts = [o.start for o in self.outages]
        self.lost_times: list[float] = []
        self.random_lost = 0

    def lost(self, t_tx: float, t_emitted: float) -> bool:
        """Decide (and record) whether a notification transmitted at ``t_tx`` is lost."""
        # The i.i.d. draw happens for every notification so outages never shift it.
        unlucky = self.iid.random() < self.probability
        k = bisect.bisect_right(self._starts, t_tx)
        # Outages may overlap (a burst inside a dropout); check every one begun so far.
        hit = any(o.start <= t_tx < o.end for o in self.outages[:k])
        if hit or unlucky:
            self.lost_times.append(t_emitted)
            self.random_lost += 0 if hit else 1
            return True
        return False


class _Link:
    """One connection: the device's radio queue and the host's subscriptions."""

    def __init__(
        self,
        world: SimulatedWorld,
        device: EmulatedDevice,
        services: BleakGATTServiceCollection,
        rng: random.Random,
        anchor: float,
        on_lost: Callable[[], None],
    ) -> None:
        self.world = world
        self.device = device
        self.services = services
        self.rng = rng
        self.anchor = anchor  # time of connection event 0, s
        self.on_lost = on_lost
        self.active = True
        # normalised characteristic UUID → callback; doubles as the device's CCCD state
        self.subscriptions: dict[str, NotifyCallback] = {}
        # emitted, not yet sent: (notification, characteristic key, may be lost)
        self.radio: deque[tuple[Notification, str, bool]] = deque()
        self.last_delivery = -math.inf  # s; keeps deliveries FIFO despite jitter
        self._uuid_keys: dict[str, str] = {}

    def key(self, uuid: str) -> str:
        key = self._uuid_keys.get(uuid)
        if key is None:
            key = self._uuid_keys[uuid] = normalize_uuid_str(uuid)
        return key

    def enqueue(self, notifications: Iterable[Notification], *, lossy: bool = True) -> None:
        # The device only sends what the central has subscribed to at emission time.
        for n in notifications:
            key = self.key(n.uuid)
            if key in self.subscriptions:
                self.radio.append((n, key, lossy))

    def pull(self) -> None:
        """Advance the device to now, so it never sees time go backwards between interactions."""
        self.enqueue(self.device.advance(self.world.now()))

    def read(self, uuid: str) -> bytes:
        self.pull()
        return self.device.read(uuid, self.world.now())

    def write(self, uuid: str, data: bytes) -> None:
        self.pull()
        self.enqueue(self.device.write(uuid, data, self.world.now()), lossy=False)

    def subscribe(self, key: str, callback: NotifyCallback) -> None:
        # Pull first: what was emitted before this instant stays unsubscribed.
        self.pull()
        self.subscriptions[key] = callback

    def unsubscribe(self, key: str) -> None:
        self.pull()
        self.subscriptions.pop(key, None)


class SimulatedWorld:
    """Emulated devices, the radio between them and the host, and the simulated host clock.

    Args:
        devices: the emulators; addresses must be unique (compared case-insensitively).
        speed: simulated seconds per real second; ``math.inf`` runs as fast as possible.
        seed: seeds connection anchors and delivery jitter; same seed, same delivery times.
        connection_interval_s: BLE connection interval, s (7.5 ms is the minimum BLE allows).
        connect_time_s: simulated time a connect takes, s.
        jitter_s: upper bound of the extra per-packet delivery delay after a connection event, s.
        advertising_interval_s: how often running scanners see each advertising device, s.
        loss: optional :class:`BleLossModel`; ``None`` (default) delivers every notification.
    """

    def __init__(
        self,
        devices: Sequence[EmulatedDevice],
        *,
        speed: float = 1.0,
        seed: int = 0,
        connection_interval_s: float = 0.0075,
        connect_time_s: float = 0.25,
        jitter_s: float = 0.001,
        advertising_interval_s: float = 0.1,
        loss: BleLossModel | None = None,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0 (math.inf allowed), got {speed}")
        if not (0 < connection_interval_s < math.inf):
            raise ValueError(f"connection_interval_s must be > 0, got {connection_interval_s}")
        if not (0 <= connect_time_s < math.inf):
            raise ValueError(f"connect_time_s must be >= 0, got {connect_time_s}")
        if not (0 <= jitter_s < math.inf):
            raise ValueError(f"jitter_s must be >= 0, got {jitter_s}")
        if not (0 < advertising_interval_s < math.inf):
            raise ValueError(f"advertising_interval_s must be > 0, got {advertising_interval_s}")

        self._devices: dict[str, EmulatedDevice] = {}
        for device in devices:
            key = _address_key(device.address)
            if key in self._devices:
                raise ValueError(f"duplicate device address {device.address}")
            self._devices[key] = device
        self._advertising = dict.fromkeys(self._devices, True)
        self._connection_counts = dict.fromkeys(self._devices, 0)
        self._links: dict[str, _Link] = {}
        self._scanners: dict[SimulatedBleakScanner, None] = {}  # insertion-ordered set

        self._speed = speed
        self._seed = seed
        self._connection_interval_s = connection_interval_s
        self._connect_time_s = connect_time_s
        self._jitter_s = jitter_s
        self._advertising_interval_s = advertising_interval_s
        self._loss_model = loss
        self._losses: dict[str, _DeviceLoss] = {}

        self._now = 0.0
        self._steps = 0  # completed pump steps; the clock is at least _steps * _STEP_S
        self._queue: list[tuple[float, int, _Action]] = []
        self._sequence = itertools.count()  # tie-break: equal times run in scheduling order
        self._waiters: set[asyncio.Future[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._schedule(0.0, partial(self._advertising_event, 0))

        # bleak instantiates the backend class itself, so the world travels as a class attribute.
        self.scanner_backend: type[BaseBleakScanner] = cast(
            "type[BaseBleakScanner]",
            type("SimulatedBleakScanner", (SimulatedBleakScanner,), {"_world": self}),
        )
        self.client_backend: type[BaseBleakClient] = cast(
            "type[BaseBleakClient]",
            type("SimulatedBleakClient", (SimulatedBleakClient,), {"_world": self}),
        )

    # -- public API --------------------------------------------------------------------------

    def now(self) -> float:
        """The simulated host clock: seconds since :meth:`start` (0 before it)."""
        return self._now

    @property
    def devices(self) -> tuple[EmulatedDevice, ...]:
        """The emulated devices, in construction order."""
        return tuple(self._devices.values())

    def device(self, address: str) -> EmulatedDevice:
        """The emulated device with ``address`` (case-insensitive); KeyError if unknown."""
        try:
            return self._devices[_address_key(address)]
        except KeyError:
            raise KeyError(f"no emulated device with address {address}") from None

    def is_connected(self, address: str) -> bool:
        """Whether a client currently holds a connection to the device at ``address``."""
        self.device(address)
        return _address_key(address) in self._links

    def losses(self, address: str) -> LossReport:
        """What the radio has lost of ``address``'s stream so far (nothing without a loss
        model). KeyError if the address is unknown."""
        self.device(address)
        key = _address_key(address)
        record = self._device_loss(key)
        if record is None:
            return LossReport(address, 0, 0, (), (), 0.0)
        begun = tuple(o for o in record.outages if o.start <= self._now)
        return LossReport(
            address,
            len(record.lost_times),
            record.random_lost,
            tuple(record.lost_times),
            begun,
            record.probability,
        )

    def loss_reports(self) -> dict[str, LossReport]:
        """:meth:`losses` of every device, by address (as given to the world)."""
        return {d.address: self.losses(d.address) for d in self._devices.values()}

    def _device_loss(self, key: str) -> _DeviceLoss | None:
        if self._loss_model is None:
            return None
        record = self._losses.get(key)
        if record is None:
            record = self._losses[key] = _DeviceLoss(self._loss_model, self._seed, key)
        return record

    async def start(self) -> None:
        """Start the pump (no-op if running). The clock runs from where it stands (0 at first)."""
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.get_running_loop().create_task(
            self._pump(), name="SimulatedWorld pump"
        )
        self._task.add_done_callback(self._pump_finished)

    async def stop(self) -> None:
        """Stop the pump and cancel every pending :meth:`sleep`; links stay as they are.

        Re-raises the exception that killed the pump, if one did (an emulator bug).
        """
        task, self._task = self._task, None
        try:
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise
        finally:
            for waiter in list(self._waiters):
                waiter.cancel()

    async def __aenter__(self) -> SimulatedWorld:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def sleep(self, dt: float) -> None:
        """Wait ``dt`` simulated seconds; the caller resumes with ``now()`` exactly ``+ dt``.

        ``dt <= 0`` only yields to the event loop, like ``asyncio.sleep(0)`` (the pump may run).

        Raises:
            RuntimeError: the world is not running (nothing would ever advance the clock).
        """
        if math.isnan(dt):
            raise ValueError("dt is NaN")
        if self._task is None or self._task.done():
            raise RuntimeError("SimulatedWorld is not running: await world.start() first")
        if dt <= 0:
            await asyncio.sleep(0)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        self._schedule(self._now + dt, partial(self._wake, waiter))
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)

    async def run_until(self, t: float) -> None:
        """Wait until the simulated clock reads ``t`` seconds.

        If it already has, returns without yielding, so no simulated time passes.
        """
        if t > self._now:
            await self.sleep(t - self._now)

    def inject_disconnect(self, address: str) -> None:
        """Link loss now: the device is disconnected, the client's ``is_connected`` turns False,
        its disconnected callback fires (once), and notifications in flight are lost.

        A no-op if the device is not connected. The device keeps advertising; combine with
        :meth:`set_advertising` to model walking out of range.
        """
        self.device(address)
        link = self._links.get(_address_key(address))
        if link is not None:
            self._close_link(link)

    def set_advertising(self, address: str, on: bool) -> None:
        """Put a device in range (``True``) or out of range (``False``).

        Out of range it is not found by scans and connects to it fail. An existing connection is
        not affected (use :meth:`inject_disconnect` for that).
        """
        self.device(address)
        self._advertising[_address_key(address)] = on

    # -- for the backends --------------------------------------------------------------------

    def _is_advertising(self, key: str) -> bool:
        # Our sensors accept one central and stop advertising while connected.
        return self._advertising[key] and key not in self._links

    def _resolve(self, address: str, details: object) -> EmulatedDevice:
        if details is not None:
            for device in self._devices.values():
                if device is details:
                    return device
            raise BleakDeviceNotFoundError(
                address, f"BLEDevice {address} is not a device of this SimulatedWorld"
            )
        try:
            return self._devices[_address_key(address)]
        except KeyError:
            raise BleakDeviceNotFoundError(
                address, f"Device with address {address} was not found."
            ) from None

    async def _open_link(
        self,
        device: EmulatedDevice,
        *,
        on_lost: Callable[[], None],
        timeout: float,
        requested_services: Collection[str] | None,
    ) -> _Link:
        if self._connect_time_s > timeout:
            await self.sleep(timeout)
            raise TimeoutError(f"connecting to {device.address} timed out after {timeout} s")
        await self.sleep(self._connect_time_s)
        key = _address_key(device.address)
        if key in self._links:
            raise BleakError(f"{device.address} is already connected to another client")
        if not self._advertising[key]:
            raise BleakDeviceNotFoundError(
                device.address, f"{device.address} is not advertising (out of range)"
            )
        services = build_service_collection(device.services, requested=requested_services)
        now = self._now
        device.connect(now)
        self._connection_counts[key] += 1
        # Seeded per device and connection, so one device's traffic never shifts another's.
        rng = random.Random(f"{self._seed}:{key}:{self._connection_counts[key]}")
        anchor = now + rng.uniform(0.0, self._connection_interval_s)
        link = _Link(self, device, services, rng, anchor, on_lost)
        self._links[key] = link
        self._schedule(anchor, partial(self._connection_event, link, 0))
        return link

    def _close_link(self, link: _Link) -> None:
        if not link.active:
            return
        link.pull()  # keeps the device's notion of time consistent; what it emitted is lost
        link.active = False
        link.radio.clear()
        del self._links[_address_key(link.device.address)]
        link.device.disconnect(self._now)
        link.on_lost()

    def _scanner_started(self, scanner: SimulatedBleakScanner) -> None:
        self._scanners[scanner] = None
        self._advertise_to((scanner,))

    def _scanner_stopped(self, scanner: SimulatedBleakScanner) -> None:
        self._scanners.pop(scanner, None)

    def _invoke_user_callback(self, callback: Callable[[], None], what: str) -> None:
        # A failing user callback must not kill the pump (on BlueZ it would not kill the D-Bus
        # reader either); report it the way asyncio reports a failing loop callback.
        try:
            callback()
        except Exception as exc:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                _logger.exception("simulated bleak backend: %s raised", what)
                return
            loop.call_exception_handler(
                {"message": f"simulated bleak backend: {what} raised", "exception": exc}
            )

    # -- the event machinery -----------------------------------------------------------------

    def _schedule(self, t: float, action: _Action) -> None:
        heapq.heappush(self._queue, (max(t, self._now), next(self._sequence), action))

    async def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        real_origin = loop.time()
        sim_origin = self._now
        while True:
            horizon = max((self._steps + 1) * _STEP_S, self._now)
            while self._queue and self._queue[0][0] <= horizon:
                t, _, action = heapq.heappop(self._queue)
                self._now = t
                if action():
                    await asyncio.sleep(0)
            self._now = horizon
            self._steps += 1
            if math.isinf(self._speed):
                await asyncio.sleep(0)
            else:
                # The only place the simulator reads real time: pacing, never results.
                lag = real_origin + (horizon - sim_origin) / self._speed - loop.time()
                await asyncio.sleep(max(lag, 0.0))

    def _pump_finished(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        for waiter in list(self._waiters):
            if not waiter.done():
                error = RuntimeError("SimulatedWorld pump failed")
                error.__cause__ = task.exception()
                waiter.set_exception(error)

    def _wake(self, waiter: asyncio.Future[None]) -> bool:
        if waiter.done():  # cancelled while asleep
            return False
        waiter.set_result(None)
        return True

    def _connection_event(self, link: _Link, index: int) -> bool:
        if not link.active:
            return False
        now = self._now
        link.pull()
        loss = self._device_loss(_address_key(link.device.address))
        while link.radio:
            notification, key, lossy = link.radio.popleft()
            if lossy and loss is not None and loss.lost(now, notification.t):
                continue
            t = max(now, notification.t) + link.rng.uniform(0.0, self._jitter_s)
            t = max(t, link.last_delivery)
            link.last_delivery = t
            self._schedule(t, partial(self._deliver, link, key, notification.data))
        # Index-based, so event times do not accumulate rounding error.
        next_index = index + 1
        self._schedule(
            link.anchor + next_index * self._connection_interval_s,
            partial(self._connection_event, link, next_index),
        )
        return False

    def _deliver(self, link: _Link, key: str, data: bytes) -> bool:
        callback = link.subscriptions.get(key) if link.active else None
        if callback is None:
            return False
        self._invoke_user_callback(partial(callback, bytearray(data)), "notification callback")
        # Let tasks the callback woke (queue consumers, bleak's tasks for async callbacks) run
        # while the clock still reads this receive time.
        return True

    def _advertising_event(self, index: int) -> bool:
        self._advertise_to(tuple(self._scanners))
        next_index = index + 1
        self._schedule(
            next_index * self._advertising_interval_s,
            partial(self._advertising_event, next_index),
        )
        return False

    def _advertise_to(self, scanners: Sequence[SimulatedBleakScanner]) -> None:
        if not scanners:
            return
        for key, device in self._devices.items():
            if not self._is_advertising(key):
                continue
            advertisement = _advertisement_data(device)
            for scanner in scanners:
                self._invoke_user_callback(
                    partial(scanner._report, device, advertisement), "detection callback"
                )


def _advertisement_data(device: EmulatedDevice) -> AdvertisementData:
    advertisement = device.advertisement()
    return AdvertisementData(
        local_name=advertisement.local_name,
        manufacturer_data=dict(advertisement.manufacturer_data),
        service_data={},
        service_uuids=[normalize_uuid_str(u) for u in advertisement.service_uuids],
        tx_power=None,
        rssi=advertisement.rssi,
        platform_data=(),
    )
