"""The connection manager: every roster sensor connected, streaming, and back after a drop.

One :class:`ConnectionManager` owns the radio for a session::

    manager = ConnectionManager(config, clock=clock, on_data=session.packet, on_state=show)
    await manager.start()   # scan once, connect one at a time, report who is missing
    ...                     # data flows to on_data; drops and returns flow to on_state
    await manager.stop()    # stop streaming, disconnect; nothing reported as lost

How it treats BlueZ (REFERENCE §4), and why:

* **One scan, then ``BLEDevice`` objects.** :meth:`~ConnectionManager.start` scans once for the
  whole roster and connects the scanned objects; BlueZ cannot connect an address it has not
  just heard.
* **One radio operation at a time.** BlueZ refuses a second Connect (or a Connect during
  discovery) with ``org.bluez.Error.InProgress``, so each connect attempt and each scan window
  takes one :class:`asyncio.Lock`. It is held only while the radio is busy — never while
  backing off (neither ours nor bleak-retry-connector's between its attempts), nor while a
  driver configures a connected sensor — and streaming sensors do not need it, so a sensor
  that is reconnecting never stalls the others.
* **Retries.** Each connection round is bleak-retry-connector's ``establish_connection``
  (it retries ``InProgress`` and ``le-connection-abort-by-local`` with short backoffs); rounds
  that still fail are repeated with exponential backoff on the injected ``sleep``.
* **A fresh client per connection.** Every ``establish_connection`` round makes a new
  ``BleakClient`` (it reuses it only across that round's failed attempts, which never
  subscribed); a client is never reused after a disconnect (reused ones can deliver every
  notification twice). Data of an abandoned connection is never forwarded.
* **Subscribe, then start.** Each family's ``start_*`` driver subscribes before it sends the
  start command; packets that arrive while it finishes are held back and forwarded right after
  the ``connected``/``reconnected`` report, so a consumer always knows a sensor (and its chip)
  before it sees the sensor's data.
* **Intentional is not lost.** BlueZ fires the disconnected callback for our own
  ``disconnect()`` and for bleak's internal retries of a transient abort; only the drop of a
  connection that was streaming, while not closing it, is reported as ``lost`` — at once,
  stamped with the session clock.
* **Back by itself.** A lost sensor is searched for by a background scanner (a device that
  was gone must be heard again to get a fresh ``BLEDevice``) and reconnected in a task of its
  own. The gap in between is just the absence of packets; nothing is interpolated here.

States reported through ``on_state(address, t, state, detail, chip)``: ``connected``,
``missing`` (not found by the scan; searched for in the background), ``lost``,
``reconnected``, ``failed`` (never retried: unsupported family, bad configuration, or a device
that does not answer like its family).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import BleakError
from bleak_retry_connector import BleakClientWithServiceCache, establish_connection

from liftguard.config import SensorConfig, SessionConfig
from liftguard.errors import BluetoothUnavailableError, ConfigError, ProtocolError
from liftguard.sensors._unavailable import bluetooth_unavailable
from liftguard.sensors.clock import Clock
from liftguard.sensors.connect import Started, check_sensor, start_sensor

__all__ = [
    "FAILED",
    "MISSING",
    "RECONNECTING",
    "STREAMING",
    "ConnectionManager",
    "StateCallback",
]

log = logging.getLogger(__name__)

#: ``on_state(address, t, state, detail, chip)``: ``t`` in session seconds (the manager's
#: clock); ``chip`` is MetaMotion's IMU on ``connected``/``reconnected``, else ``None``.
StateCallback = Callable[[str, float, str, str, str | None], None]
DataCallback = Callable[[str, float, bytearray], None]
Sleep = Callable[[float], Awaitable[None]]

# What status() says about a sensor.
STREAMING = "streaming"
RECONNECTING = "reconnecting"
MISSING = "missing"
FAILED = "failed"

#: Connect attempts inside one ``establish_connection`` round (its own short backoffs apply).
_CONNECT_ATTEMPTS = 3
#: Real-time cap on one connect attempt. bleak-retry-connector passes bleak a 20 s timeout per
#: attempt; a device that vanished between scan and connect must not hold the radio that long.
_ATTEMPT_S = 10.0
#: Longest a background scan holds the radio before letting queued connects in, s.
_SEARCH_WINDOW_S = 1.0
#: Pause between background scans, s: lets a just-found sensor's connect take the radio.
_SEARCH_PAUSE_S = 0.25
#: Backoff between failed rounds: the first pause and the longest, s.
_BACKOFF_FIRST_S = 0.5
_BACKOFF_MAX_S = 8.0


def _backoff(failures: int) -> float:
    """Pause after the ``failures``-th failed round in a row (1, 2, …), s."""
    return min(_BACKOFF_MAX_S, _BACKOFF_FIRST_S * 2.0 ** (failures - 1))


class _RadioClient(BleakClientWithServiceCache):
    """A client that holds the manager's radio lock for each connect attempt, and only then.

    ``establish_connection`` sleeps between its attempts (0.1-4 s, by error); taking the lock
    around the whole call would hold the radio through those sleeps and stall every other
    sensor's reconnect.
    """

    def __init__(self, *args: Any, liftguard_radio: asyncio.Lock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._liftguard_radio = liftguard_radio

    async def connect(self, **kwargs: Any) -> None:
        """One connect attempt, alone on the radio and capped at ``_ATTEMPT_S``."""
        async with self._liftguard_radio, asyncio.timeout(_ATTEMPT_S):
            await super().connect(**kwargs)


class _LinkDroppedError(Exception):
    """The link went down while the sensor's stream was being started (worth retrying)."""


class _Link:
    """One connection round to one sensor and, once it streams, the connection.

    ``client`` stays ``None`` until ``establish_connection`` has returned: disconnected
    callbacks before that are bleak retrying a transient abort, not a lost link.
    """

    def __init__(self, slot: _Slot) -> None:
        self.slot = slot
        self.client: BleakClient | None = None
        self.started: Started | None = None
        self.streaming = False  # reported connected; data goes straight to on_data
        self.closing = False  # we are disconnecting it: its disconnect is not news
        self.dropped = asyncio.Event()
        self.backlog: list[tuple[float, bytearray]] = []


class _Slot:
    """One roster sensor: its state and its current link."""

    def __init__(self, sensor: SensorConfig) -> None:
        self.sensor = sensor
        self.key = sensor.address.upper()
        self.state = MISSING
        self.link: _Link | None = None
        self.streamed = False  # has streamed before: the next connection is a reconnection
        self.recovery: asyncio.Task[None] | None = None


class ConnectionManager:
    """Connects a session's roster, keeps it streaming, and says what happens to each sensor.

    Args:
        config: the roster; every sensor is managed, keyed by its address as written there.
        clock: session clock: stamps notifications (via the drivers) and state reports.
        on_data: ``(address, host_time, data)`` for every data notification of a streaming
            sensor, ``address`` as written in the roster.
        on_state: see :data:`StateCallback`; the states are listed in the module docstring.
        scanner_backend: bleak scanner backend class; ``None`` for the real radio.
        client_backend: bleak client backend class; ``None`` for the real radio.
        scan_timeout: how long the start-up scan looks for the roster, s (on ``sleep``'s clock).
        sleep: waits for scan windows and backoff; pass the simulator's ``world.sleep`` so they
            run on simulated time. Default :func:`asyncio.sleep`.

    Callbacks run on the event loop and must not block. After :meth:`stop` has begun nothing
    more is reported or forwarded.
    """

    def __init__(
        self,
        config: SessionConfig,
        *,
        clock: Clock,
        on_data: DataCallback,
        on_state: StateCallback,
        scanner_backend: type[BaseBleakScanner] | None = None,
        client_backend: type[BaseBleakClient] | None = None,
        scan_timeout: float = 10.0,
        sleep: Sleep | None = None,
    ) -> None:
        if not scan_timeout > 0:
            raise ConfigError(f"scan_timeout must be > 0 s, got {scan_timeout!r}")
        self._clock = clock
        self._on_data = on_data
        self._on_state = on_state
        self._scanner_backend = scanner_backend
        self._client_backend = client_backend
        self._scan_timeout = scan_timeout
        self._sleep: Sleep = asyncio.sleep if sleep is None else sleep
        self._slots = {slot.key: slot for slot in (_Slot(s) for _, s in config.sensors())}
        self._radio = asyncio.Lock()
        self._wanted: dict[str, asyncio.Future[BLEDevice]] = {}
        self._searcher: asyncio.Task[None] | None = None
        self._started = False
        self._stopping = False

    # -- public API ----------------------------------------------------------------------

    def status(self) -> dict[str, str]:
        """Roster address → ``"streaming"``, ``"reconnecting"``, ``"missing"`` or ``"failed"``.

        ``missing`` covers every sensor that has not streamed yet (not found, or found but not
        connected yet); after :meth:`stop` each keeps its last state.
        """
        return {slot.sensor.address: slot.state for slot in self._slots.values()}

    async def start(self) -> None:
        """Scan once for the roster, then connect the sensors found, one at a time.

        Returns when every found sensor streams or has failed. Sensors not found are reported
        ``missing`` and searched for in the background, as are found ones that could not be
        connected (transport errors after all retries).

        Raises:
            BluetoothUnavailableError: no Bluetooth on this machine (no system bus, no
                adapter or adapter off, bluetoothd not running).
            RuntimeError: called twice.
        """
        if self._started:
            raise RuntimeError("ConnectionManager.start() may be called only once")
        self._started = True
        candidates: list[_Slot] = []
        for slot in self._slots.values():
            try:
                check_sensor(slot.sensor)
            except ConfigError as exc:
                self._fail(slot, str(exc))
            else:
                candidates.append(slot)
        if not candidates:
            return
        async with self._radio:
            found = await self._scan(
                {s.key for s in candidates}, self._scan_timeout, first_only=False
            )
        for slot in candidates:
            if slot.key not in found:
                self._report(
                    slot, "missing", f"not found in a {self._scan_timeout:g} s scan; searching"
                )
        for slot in candidates:
            device = found.get(slot.key)
            if device is None or self._stopping:
                continue
            try:
                await self._connect(slot, device)
            except Exception as exc:
                if self._permanent(slot, exc):
                    self._fail(slot, str(exc))
                else:
                    log.warning("%s: could not connect: %s", slot.sensor.address, exc)
                    self._report(slot, "missing", f"found but could not connect ({exc}); searching")
        for slot in candidates:
            if slot.state == MISSING:
                self._recover(slot)

    async def stop(self) -> None:
        """Stop streaming and disconnect every sensor; cancel the background search.

        Intentional: nothing is reported (in particular not as ``lost``) from here on.
        """
        self._stopping = True
        tasks = [
            task
            for task in (self._searcher, *(s.recovery for s in self._slots.values()))
            if task is not None and not task.done()
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for future in self._wanted.values():
            future.cancel()
        self._wanted.clear()
        for slot in self._slots.values():
            link, slot.link = slot.link, None
            if link is not None:
                await self._close(link)

    async def __aenter__(self) -> ConnectionManager:
        try:
            await self.start()
        except BaseException:
            await self.stop()  # __aexit__ will not run: close what start() opened
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- connecting ----------------------------------------------------------------------

    async def _connect(self, slot: _Slot, device: BLEDevice) -> bool:
        """One connection round: connect, start the stream, report it.

        Returns True once the sensor streams (reported ``connected``/``reconnected``), False if
        :meth:`stop` began meanwhile (the new link is closed again, silently).

        Raises whatever made the round fail; the link is closed again by then.
        """
        link = _Link(slot)
        slot.link = link
        try:
            client = await self._establish(link, device)
            started = await self._start_stream(link, client)
        except BaseException:
            if slot.link is link:
                slot.link = None
            await self._close(link)
            raise
        if self._stopping or slot.link is not link:
            if slot.link is link:
                slot.link = None
            await self._close(link)
            return False
        self._went_live(link, started)
        return True

    async def _establish(self, link: _Link, device: BLEDevice) -> BleakClient:
        """Connect ``device`` with bleak-retry-connector (a fresh client, its retries).

        The radio lock is taken per attempt, inside :class:`_RadioClient`.
        """
        sensor = link.slot.sensor

        def disconnected(_client: BleakClient) -> None:
            self._disconnected(link)

        kwargs: dict[str, Any] = {"liftguard_radio": self._radio}
        if self._client_backend is not None:
            kwargs["backend"] = self._client_backend
        client = await establish_connection(
            _RadioClient,
            device,
            f"{sensor.placement} {sensor.address}",
            disconnected_callback=disconnected,
            max_attempts=_CONNECT_ATTEMPTS,
            # Always resolve services afresh: bleak's cache may describe a previous firmware
            # (or a previous emulator), and the saving is a fraction of a second.
            use_services_cache=False,
            **kwargs,
        )
        link.client = client
        return client

    async def _start_stream(self, link: _Link, client: BleakClient) -> Started:
        """The family driver's set-up on the connected ``client``, abandoned if the link drops."""

        def data(_address: str, host_time: float, payload: bytearray) -> None:
            self._data(link, host_time, payload)

        setup = asyncio.ensure_future(
            start_sensor(client, link.slot.sensor, clock=self._clock, on_data=data)
        )
        dropped = asyncio.ensure_future(link.dropped.wait())
        try:
            # A drop would otherwise surface only at the driver's reply timeout (seconds).
            await asyncio.wait((setup, dropped), return_when=asyncio.FIRST_COMPLETED)
        finally:
            dropped.cancel()
            if not setup.done():
                setup.cancel()
                with contextlib.suppress(BaseException):
                    await setup
        if link.dropped.is_set() or not client.is_connected:
            if not setup.cancelled():
                setup.exception()  # retrieved: the drop is the reason
            raise _LinkDroppedError(
                f"{link.slot.sensor.address}: link lost while starting the stream"
            )
        return setup.result()

    def _went_live(self, link: _Link, started: Started) -> None:
        slot = link.slot
        link.started = started
        again = slot.streamed
        slot.streamed = True
        slot.state = STREAMING
        log.info(
            "%s: %s (%s)",
            slot.sensor.address,
            "reconnected" if again else "connected",
            started.detail,
        )
        self._report(slot, "reconnected" if again else "connected", started.detail, started.chip)
        # What arrived while the driver finished goes out after the report, in order.
        backlog, link.backlog = link.backlog, []
        link.streaming = True
        for host_time, payload in backlog:
            self._on_data(slot.sensor.address, host_time, payload)

    async def _close(self, link: _Link) -> None:
        """Close ``link`` on purpose (stop streaming where possible); never raises."""
        link.closing = True
        try:
            if link.started is not None:
                await link.started.connection.close()
            elif link.client is not None:
                await link.client.disconnect()
        except Exception as exc:
            # Closing is best effort: the link may already be gone.
            log.warning("%s: error while disconnecting: %s", link.slot.sensor.address, exc)

    @staticmethod
    def _permanent(slot: _Slot, exc: BaseException) -> bool:
        """Is ``exc`` a reason never to retry (rather than bad luck on the radio)?

        A configuration the driver refuses, or a device that never yet answered like its
        family. Once a sensor has streamed, a protocol hiccup on reconnecting is retried.
        """
        if isinstance(exc, ConfigError):
            return True
        return isinstance(exc, ProtocolError) and exc.reason != "link_lost" and not slot.streamed

    # -- callbacks from bleak -----------------------------------------------------------

    def _data(self, link: _Link, host_time: float, payload: bytearray) -> None:
        slot = link.slot
        if slot.link is not link or self._stopping:
            return  # a connection we gave up on or are closing: never forwarded
        if not link.streaming:
            link.backlog.append((host_time, payload))
            return
        self._on_data(slot.sensor.address, host_time, payload)

    def _disconnected(self, link: _Link) -> None:
        if link.client is None:
            return  # bleak retrying a transient abort inside establish_connection
        link.dropped.set()
        slot = link.slot
        if not link.streaming or link.closing or self._stopping or slot.link is not link:
            return
        slot.link = None
        slot.state = RECONNECTING
        log.warning("%s: link lost", slot.sensor.address)
        self._report(slot, "lost", "link lost", None)
        self._recover(slot)

    # -- coming back ---------------------------------------------------------------------

    def _recover(self, slot: _Slot) -> None:
        """Make sure a task is bringing ``slot`` (missing or reconnecting) back."""
        if self._stopping or (slot.recovery is not None and not slot.recovery.done()):
            return
        slot.recovery = asyncio.get_running_loop().create_task(
            self._recovery(slot), name=f"liftguard reconnect {slot.sensor.address}"
        )

    async def _recovery(self, slot: _Slot) -> None:
        """Rediscover and reconnect ``slot`` until it streams (or fails for good)."""
        failures = 0
        # Checked on every turn: the sensor may be lost again before this task has ended.
        while not self._stopping and slot.state in (MISSING, RECONNECTING):
            device = await self._discover(slot)
            try:
                await self._connect(slot, device)
            except Exception as exc:
                if self._permanent(slot, exc):
                    self._fail(slot, str(exc))
                    return
                failures += 1
                delay = _backoff(failures)
                log.warning(
                    "%s: reconnect failed (%s); next try in %g s", slot.sensor.address, exc, delay
                )
                await self._sleep(delay)
            else:
                failures = 0

    async def _discover(self, slot: _Slot) -> BLEDevice:
        """A freshly scanned ``BLEDevice`` for ``slot``, from the background search."""
        future = self._wanted.get(slot.key)
        if future is None or future.done():
            future = asyncio.get_running_loop().create_future()
            self._wanted[slot.key] = future
        if self._searcher is None or self._searcher.done():
            self._searcher = asyncio.get_running_loop().create_task(
                self._search(), name="liftguard sensor search"
            )
        try:
            return await future
        finally:
            if self._wanted.get(slot.key) is future:
                del self._wanted[slot.key]

    async def _search(self) -> None:
        """Scan in short windows while any sensor is wanted; hand out what is heard."""
        failures = 0
        while self._wanted and not self._stopping:
            try:
                async with self._radio:
                    found = await self._scan(set(self._wanted), _SEARCH_WINDOW_S, first_only=True)
            except (BluetoothUnavailableError, BleakError, OSError) as exc:
                # E.g. the adapter was unplugged: keep trying, the sensors stay reported lost.
                failures += 1
                log.warning("background scan failed: %s", exc)
                await self._sleep(_backoff(failures))
                continue
            failures = 0
            for key, device in found.items():
                future = self._wanted.pop(key, None)
                if future is not None and not future.done():
                    future.set_result(device)
            await self._sleep(_SEARCH_PAUSE_S)

    async def _scan(
        self, wanted: set[str], timeout: float, *, first_only: bool
    ) -> dict[str, BLEDevice]:
        """Scan for ``wanted`` (upper-case addresses) for up to ``timeout`` s on ``sleep``.

        Stops early when all are heard, or (``first_only``) when any is.

        Raises:
            BluetoothUnavailableError: no Bluetooth on this machine.
        """
        found: dict[str, BLEDevice] = {}
        enough = asyncio.Event()

        def seen(device: BLEDevice, _adv: AdvertisementData) -> None:
            key = device.address.upper()
            if key in wanted and key not in found:
                found[key] = device
                if first_only or len(found) == len(wanted):
                    enough.set()

        kwargs: dict[str, Any] = (
            {} if self._scanner_backend is None else {"backend": self._scanner_backend}
        )
        try:
            async with BleakScanner(seen, **kwargs):
                await self._wait(enough, timeout)
        except (FileNotFoundError, BleakError) as exc:
            unavailable = bluetooth_unavailable(exc)
            if unavailable is None:
                raise
            raise unavailable from exc
        return found

    async def _wait(self, event: asyncio.Event, timeout: float) -> None:
        """Until ``event`` is set or ``timeout`` s have passed on the injected clock."""
        waiter = asyncio.ensure_future(event.wait())
        timer = asyncio.ensure_future(self._sleep(timeout))
        try:
            await asyncio.wait((waiter, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            timer.cancel()

    # -- reporting -----------------------------------------------------------------------

    def _fail(self, slot: _Slot, reason: str) -> None:
        slot.state = FAILED
        log.error("%s: failed: %s", slot.sensor.address, reason)
        self._report(slot, "failed", reason, None)

    def _report(self, slot: _Slot, state: str, detail: str, chip: str | None = None) -> None:
        if self._stopping:
            return
        try:
            self._on_state(slot.sensor.address, self._clock.now(), state, detail, chip)
        except Exception:
            # A broken consumer must not stop the reconnect machinery; make it loud instead.
            log.exception("%s: on_state callback raised on %r", slot.sensor.address, state)
