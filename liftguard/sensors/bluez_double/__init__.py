"""A test double of BlueZ's ``bluetoothd`` on a private D-Bus: bleak's real backend, no radio.

bleak's Linux backend is the production path; the simulated backend
(:mod:`liftguard.sensors.simulated`) replaces it. This double keeps it: it owns ``org.bluez`` on a
private ``dbus-daemon`` and serves the same byte-exact emulators through the BlueZ D-Bus API, so
``BleakScanner``/``BleakClient`` with *no* ``backend=`` run unchanged in CI::

    with start_private_bus() as bus:
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address  # bleak uses the *system* bus
        async with BluezDouble(emulators, bus_address=bus.address) as double:
            devices = await BleakScanner.discover(timeout=1.0)
            ...
            double.drop_link(address)  # faults are methods (or io.liftguard.TestControl1)

What it models (each as bluetoothd shows it on D-Bus):

* the adapter ``/org/bluez/hci0`` (or none: ``adapter=False``); discovery sessions and filters;
* devices appear as ``…/dev_AA_BB_…`` objects when discovery hears them, get fresh RSSI every
  ``advertising_interval_s`` while advertising (a connected device does not advertise), and are
  removed ``temporary_timeout_s`` after they were last heard unless connected or paired;
* ``Connect`` brings the link up after ``connect_delay_s`` (waiting while the device is not
  advertising), exports the emulator's GATT table, then sets ``Connected`` and
  ``ServicesResolved``; a Connect while another is pending fails with ``InProgress``
  (``serialize_connects``), the pitfall the drivers are written around;
* time is the wall clock: a pump task advances every connected emulator on
  ``time.monotonic()`` since :meth:`BluezDouble.start` every ``connection_interval_s`` and sends
  what it produced, in order, as ``PropertiesChanged(Value)`` on characteristics with an active
  ``StartNotify`` (others are lost, as on hardware); payloads are cut to ``mtu - 3`` bytes.

Fault injection: :meth:`BluezDouble.drop_link`, :meth:`~BluezDouble.set_advertising`,
:meth:`~BluezDouble.fail_next_connect`, :meth:`~BluezDouble.set_notification_faults`; the same
over D-Bus for a double in another process (``python -m liftguard.sensors.bluez_double``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from operator import attrgetter
from types import TracebackType
from typing import Any

from dbus_fast import Message, NameFlag, RequestNameReply, Variant
from dbus_fast.aio import MessageBus

from liftguard.errors import ProtocolError
from liftguard.firmware_bridge.emulation import EmulatedDevice, Notification

from ._daemon import DBusDaemonMissingError, PrivateBus, start_private_bus
from ._objects import (
    CCCD_UUID,
    CONTROL_BUS_NAME,
    CONTROL_PATH,
    GATT_CHARACTERISTIC_INTERFACE,
    Adapter1,
    Control,
    Device1,
    GattCharacteristic1,
    GattDescriptor1,
    GattService1,
    bluez_error,
)

__all__ = [
    "ABORT_BY_LOCAL",
    "ADAPTER_PATH",
    "BLUEZ_BUS_NAME",
    "CONTROL_BUS_NAME",
    "CONTROL_PATH",
    "BluezDouble",
    "DBusDaemonMissingError",
    "LinkStats",
    "NotificationFaults",
    "PrivateBus",
    "device_path",
    "start_private_bus",
]

log = logging.getLogger(__name__)

BLUEZ_BUS_NAME = "org.bluez"
ADAPTER_PATH = "/org/bluez/hci0"
#: The transient connect failure bleak retries by itself (``org.bluez.Error.Failed``).
ABORT_BY_LOCAL = "le-connection-abort-by-local"
ERROR_FAILED = "org.bluez.Error.Failed"

#: A documentation-range MAC (RFC 7042), so the double's adapter never looks like real hardware.
_ADAPTER_ADDRESS = "00:00:5E:00:53:01"
#: First attribute handle of a device's GATT table; bleak parses handles from object paths.
_FIRST_HANDLE = 0x000A
#: SetDiscoveryFilter keys bluetoothd accepts (others are InvalidArguments there too).
_FILTER_KEYS = {
    "UUIDs",
    "RSSI",
    "Pathloss",
    "Transport",
    "DuplicateData",
    "Discoverable",
    "Pattern",
}


def device_path(address: str, adapter_path: str = ADAPTER_PATH) -> str:
    """bluetoothd's object path for ``address``: ``/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF``."""
    return f"{adapter_path}/dev_{address.upper().replace(':', '_')}"


@dataclass(frozen=True)
class NotificationFaults:
    """Delivery faults on one device's notifications.

    ``delay_s``: extra latency added to every notification (order is kept);
    ``duplicate_every``: every N-th notification is delivered twice (0 = never);
    ``drop_every``: every N-th notification is lost on the air (0 = never).
    """

    delay_s: float = 0.0
    duplicate_every: int = 0
    drop_every: int = 0

    def __post_init__(self) -> None:
        if not self.delay_s >= 0:
            raise ValueError(f"delay_s must be >= 0, got {self.delay_s!r}")
        if self.duplicate_every < 0 or self.drop_every < 0:
            raise ValueError("duplicate_every and drop_every must be >= 0")


@dataclass
class LinkStats:
    """What happened to one device's notifications since the double started (all counts)."""

    connects: int = 0  #: links brought up
    link_losses: int = 0  #: links that went down (either side)
    produced: int = 0  #: notifications the emulator produced while connected
    sent: int = 0  #: delivered as PropertiesChanged(Value) signals (duplicates included)
    unsubscribed: int = 0  #: produced for a characteristic without StartNotify: lost
    dropped: int = 0  #: lost to the ``drop_every`` fault
    duplicated: int = 0  #: extra copies from the ``duplicate_every`` fault
    in_flight_lost: int = 0  #: still queued (delayed) when the link went down
    truncated: int = 0  #: longer than ``mtu - 3`` and cut, as the ATT layer does


@dataclass
class _Link:
    """One connection: the exported GATT objects and the device's radio queue."""

    objects: list[GattService1 | GattCharacteristic1 | GattDescriptor1]
    chars: dict[str, GattCharacteristic1]  # uuid -> characteristic
    replies: list[Notification] = field(default_factory=list)
    queue: deque[tuple[float, str, bytes]] = field(default_factory=deque)
    produced: int = 0


@dataclass
class _Entry:
    """One emulated device as bluetoothd knows it."""

    device: EmulatedDevice
    iface: Device1
    advertising: bool = True
    exported: bool = False
    last_seen: float = 0.0
    link: _Link | None = None
    connect_abort: asyncio.Event | None = None
    failures: deque[tuple[str, str | None]] = field(default_factory=deque)
    faults: NotificationFaults = field(default_factory=NotificationFaults)
    stats: LinkStats = field(default_factory=LinkStats)
    delivered: list[Notification] = field(default_factory=list)
    written: list[tuple[float, str, bytes]] = field(default_factory=list)


class BluezDouble:
    """bluetoothd's D-Bus face, serving emulated devices on a private bus.

    Args:
        devices: the emulators to serve (distinct addresses).
        bus_address: the private bus (``PrivateBus.address``).
        adapter: False for a machine without a Bluetooth adapter (no ``hci0`` at all).
        powered: the adapter's ``Powered``; StartDiscovery fails with NotReady when off.
        connection_interval_s: pump period: how often connected emulators are advanced and
            what they produced is sent (BLE connection interval, 7.5 ms - 15 ms typical).
        advertising_interval_s: how often discovery hears each advertising device.
        connect_delay_s: link set-up time of a Connect.
        temporary_timeout_s: an unconnected, unpaired device object is removed this long after
            it was last heard (bluetoothd's TemporaryTimeout, 30 s by default).
        serialize_connects: a Connect while another device's Connect is pending fails with
            ``org.bluez.Error.InProgress``.
        mtu: the ATT MTU after BlueZ's exchange on connect (bluetoothd asks for 517 and takes
            what the peripheral accepts; 247 is common). Pass 23 to model a peripheral that
            refuses the exchange: longer notifications are then cut, as the ATT layer does.
        record: keep every delivered notification and accepted write (:meth:`delivered`,
            :meth:`written`).
        seed: RSSI jitter.
    """

    def __init__(
        self,
        devices: Iterable[EmulatedDevice],
        *,
        bus_address: str,
        adapter: bool = True,
        powered: bool = True,
        connection_interval_s: float = 0.0075,
        advertising_interval_s: float = 0.1,
        connect_delay_s: float = 0.03,
        temporary_timeout_s: float = 30.0,
        serialize_connects: bool = True,
        mtu: int = 247,
        record: bool = False,
        seed: int = 0,
    ) -> None:
        if not 0.001 <= connection_interval_s <= 4.0:
            raise ValueError(f"connection_interval_s out of range: {connection_interval_s!r}")
        if mtu < 23:
            raise ValueError(f"mtu must be >= 23, got {mtu!r}")
        self.bus_address = bus_address
        self.has_adapter = adapter
        self.connection_interval_s = connection_interval_s
        self.advertising_interval_s = advertising_interval_s
        self.connect_delay_s = connect_delay_s
        self.temporary_timeout_s = temporary_timeout_s
        self.serialize_connects = serialize_connects
        self.mtu = mtu
        self.record = record
        self.errors: list[BaseException] = []
        self._rng = random.Random(seed)
        self._adapter = Adapter1(ADAPTER_PATH, self, address=_ADAPTER_ADDRESS, powered=powered)
        self._entries: dict[str, _Entry] = {}
        self._by_path: dict[str, _Entry] = {}
        for device in devices:
            key = device.address.upper()
            if key in self._entries:
                raise ValueError(f"two devices with address {key}")
            entry = _Entry(device, Device1(device_path(key), self, {}))
            self._entries[key] = entry
            self._by_path[entry.iface.path] = entry
        self._bus: MessageBus | None = None
        self._control_bus: MessageBus | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._t0 = time.monotonic()
        self._discovery_sessions = 0
        self._filter_uuids: set[str] = set()
        self._next_advertising = 0.0

    # --- life cycle ----------------------------------------------------------------------

    def now(self) -> float:
        """Device time: seconds of wall clock since :meth:`start` (emulators run on it)."""
        return time.monotonic() - self._t0

    async def start(self, *, control: bool = True) -> None:
        """Connect to the bus, export the adapter, own ``org.bluez``, start the pump.

        ``control``: also serve ``io.liftguard.TestControl1`` (on a second connection, so
        ``org.bluez``'s object tree holds only what bluetoothd would export).

        Raises:
            RuntimeError: ``org.bluez`` (or the control name) is already owned on that bus.
        """
        if self._bus is not None:
            raise RuntimeError("the double is already started")
        self._t0 = time.monotonic()
        bus = await MessageBus(bus_address=self.bus_address).connect()
        self._bus = bus
        try:
            # Objects first, name second: a client that sees org.bluez appear can rely on
            # GetManagedObjects already holding the adapter.
            if self.has_adapter:
                bus.export(ADAPTER_PATH, self._adapter)
            await self._own(bus, BLUEZ_BUS_NAME)
            if control:
                self._control_bus = await MessageBus(bus_address=self.bus_address).connect()
                self._control_bus.export(CONTROL_PATH, Control(self))
                await self._own(self._control_bus, CONTROL_BUS_NAME)
        except BaseException:
            await self.stop()
            raise
        self._pump_task = asyncio.create_task(self._pump(), name="bluez-double-pump")

    @staticmethod
    async def _own(bus: MessageBus, name: str) -> None:
        reply = await bus.request_name(name, NameFlag.DO_NOT_QUEUE)
        if reply is not RequestNameReply.PRIMARY_OWNER:
            raise RuntimeError(f"{name} is already owned on this bus ({reply.name})")

    async def stop(self) -> None:
        """Stop the pump, drop every link (clients see the disconnect) and leave the bus."""
        if self._pump_task is not None:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump_task
            self._pump_task = None
        if self._bus is not None and self._bus.connected:
            self.drop_all_links()
        for bus in (self._control_bus, self._bus):
            if bus is not None:
                bus.disconnect()
                with contextlib.suppress(Exception):
                    await bus.wait_for_disconnect()
        self._bus = self._control_bus = None

    async def __aenter__(self) -> BluezDouble:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- inspection ------------------------------------------------------------------------

    @property
    def devices(self) -> tuple[EmulatedDevice, ...]:
        """The served emulators."""
        return tuple(e.device for e in self._entries.values())

    def is_connected(self, address: str) -> bool:
        """True while ``address`` has a link."""
        return self._entry(address).link is not None

    def link_stats(self, address: str) -> LinkStats:
        """Counts for ``address`` (a live object: it keeps counting)."""
        return self._entry(address).stats

    def stats(self, address: str) -> dict[str, int]:
        """:meth:`link_stats` as a dict (what the control interface's GetStats returns)."""
        return asdict(self._entry(address).stats)

    def delivered(self, address: str) -> list[Notification]:
        """Notifications sent for ``address``, stamped with the double's time of sending.

        Only with ``record=True``; duplicates appear twice, dropped ones not at all.
        """
        return list(self._entry(address).delivered)

    def written(self, address: str) -> list[tuple[float, str, bytes]]:
        """``(device time, uuid, data)`` of every write the emulator accepted (``record=True``).

        With :meth:`delivered`, enough to replay a session on a fresh emulator offline.
        """
        return list(self._entry(address).written)

    # --- fault injection -----------------------------------------------------------------

    def drop_link(self, address: str) -> bool:
        """Link loss (e.g. supervision timeout): ServicesResolved and Connected go false and
        the GATT objects are removed. Returns False when ``address`` had no link."""
        entry = self._entry(address)
        if entry.link is None:
            return False
        self._teardown(entry)
        return True

    def drop_all_links(self) -> int:
        """:meth:`drop_link` for every connected device; returns how many links dropped."""
        return sum(self.drop_link(key) for key, e in self._entries.items() if e.link is not None)

    def set_advertising(self, address: str, on: bool) -> None:
        """Device in range and advertising (True) or gone (False).

        A gone device is no longer heard by discovery, a Connect to it waits until it is back,
        and its object is removed after ``temporary_timeout_s``. An existing link is not
        touched: drop it with :meth:`drop_link` to model walking out of range.
        """
        self._entry(address).advertising = on

    def fail_next_connect(self, address: str, error_name: str, message: str | None = None) -> None:
        """Make the next Connect of ``address`` fail with ``error_name`` (queued, one per call).

        ``org.bluez.Error.Failed`` with the default message ``le-connection-abort-by-local``
        behaves like bluetoothd: the link comes up and drops (Connected true then false) before
        the error; bleak retries that one by itself. Any other error is returned at once.
        """
        if not error_name.startswith("org.bluez.Error."):
            raise ValueError(f"not a BlueZ error name: {error_name!r}")
        self._entry(address).failures.append((error_name, message))

    def set_notification_faults(
        self,
        address: str,
        *,
        delay_s: float = 0.0,
        duplicate_every: int = 0,
        drop_every: int = 0,
    ) -> None:
        """Delay, duplicate or drop ``address``'s notifications from now on."""
        self._entry(address).faults = NotificationFaults(delay_s, duplicate_every, drop_every)

    # --- Host: what the D-Bus objects delegate to -------------------------------------------

    def set_discovery_filter(self, filters: dict[str, Any]) -> None:
        unknown = set(filters) - _FILTER_KEYS
        if unknown:
            raise bluez_error(
                "org.bluez.Error.InvalidArguments", "Invalid arguments in method call"
            )
        self._filter_uuids = {str(u).lower() for u in filters.get("UUIDs", [])}

    def start_discovery(self) -> None:
        if not self._adapter.props["Powered"]:
            raise bluez_error("org.bluez.Error.NotReady")
        self._discovery_sessions += 1
        self._adapter.update(Discovering=True)
        self._next_advertising = self.now()  # the first advertisements are heard at once

    def stop_discovery(self) -> None:
        if self._discovery_sessions == 0:
            raise bluez_error(ERROR_FAILED, "No discovery started")
        self._discovery_sessions -= 1
        if self._discovery_sessions == 0:
            self._adapter.update(Discovering=False)

    def remove_device(self, path: str) -> None:
        entry = self._by_path.get(path)
        if entry is None or not entry.exported:
            raise bluez_error("org.bluez.Error.DoesNotExist")
        if entry.link is not None:
            self._teardown(entry)
        self._unexport_device(entry)

    async def connect_device(self, device: Device1) -> None:
        entry = self._by_path[device.path]
        if entry.link is not None:
            return
        if entry.connect_abort is not None or (
            self.serialize_connects
            and any(e.connect_abort is not None for e in self._entries.values())
        ):
            raise bluez_error("org.bluez.Error.InProgress")
        failure = entry.failures.popleft() if entry.failures else None
        if failure is not None and not _is_abort(failure):
            raise bluez_error(*failure)
        abort = entry.connect_abort = asyncio.Event()
        try:
            # LE connections are initiated on hearing an advertisement: wait for one.
            while not entry.advertising:
                await self._abortable_sleep(abort, self.connection_interval_s)
            await self._abortable_sleep(abort, self.connect_delay_s)
            if failure is not None:
                # What bluetoothd shows for this error: the link came up and went down again,
                # and bleak waits for that Connected=false before it retries.
                device.update(Connected=True)
                await self._abortable_sleep(abort, self.connection_interval_s)
                device.update(Connected=False)
                raise bluez_error(ERROR_FAILED, failure[1] or ABORT_BY_LOCAL)
            self._open_link(entry)
        finally:
            entry.connect_abort = None

    @staticmethod
    async def _abortable_sleep(abort: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(abort.wait(), seconds)
        if abort.is_set():
            raise bluez_error(ERROR_FAILED, "Software caused connection abort")

    async def disconnect_device(self, device: Device1) -> None:
        entry = self._by_path[device.path]
        if entry.connect_abort is not None:
            entry.connect_abort.set()  # cancels the pending Connect, as bluetoothd does
        if entry.link is not None:
            self._teardown(entry)

    async def pair_device(self, device: Device1) -> None:
        entry = self._by_path[device.path]
        if entry.iface.props["Paired"]:
            raise bluez_error("org.bluez.Error.AlreadyExists", "Already Exists")
        if entry.link is None:
            await self.connect_device(device)  # Pair connects first, like bluetoothd
        device.update(Paired=True, Bonded=True)

    def read_characteristic(self, char: GattCharacteristic1) -> bytes:
        entry, _link = self._linked(char)
        if "read" not in char.flags:
            raise bluez_error("org.bluez.Error.NotPermitted", "Read not permitted")
        try:
            value = entry.device.read(char.char_uuid, self.now())
        except ProtocolError:
            raise bluez_error("org.bluez.Error.NotPermitted", "Read not permitted") from None
        # bluetoothd stores what it read in Value and announces it: a client that also
        # notifies on this characteristic sees the read as a notification (a known pitfall).
        char.update(Value=value)
        return value

    def write_characteristic(self, char: GattCharacteristic1, data: bytes, kind: str) -> None:
        entry, link = self._linked(char)
        if not kind:
            kind = "request" if "write" in char.flags else "command"
        needed = {"request": "write", "command": "write-without-response"}.get(kind)
        if needed is None:
            raise bluez_error("org.bluez.Error.InvalidArguments", "Invalid arguments")
        if needed not in char.flags:
            raise bluez_error("org.bluez.Error.NotSupported")
        if kind == "command" and len(data) > self.mtu - 3:
            # A write without response must fit one ATT packet; only requests are split.
            raise bluez_error("org.bluez.Error.InvalidArguments", "Invalid Length")
        now = self.now()
        try:
            replies = entry.device.write(char.char_uuid, data, now)
        except ProtocolError:
            raise bluez_error("org.bluez.Error.NotPermitted", "Write not permitted") from None
        if self.record:
            entry.written.append((now, char.char_uuid, data))
        # Replies go out with the next connection event, in time order with the stream.
        link.replies.extend(replies)

    def start_notify(self, char: GattCharacteristic1) -> None:
        self._linked(char)
        if not {"notify", "indicate"} & set(char.flags):
            raise bluez_error("org.bluez.Error.NotSupported")
        char.update(Notifying=True)

    def stop_notify(self, char: GattCharacteristic1) -> None:
        self._linked(char)
        if not char.notifying:
            raise bluez_error(ERROR_FAILED, "No notify session started")
        char.update(Notifying=False)

    # --- internals ----------------------------------------------------------------------

    def _entry(self, address: str) -> _Entry:
        try:
            return self._entries[address.upper()]
        except KeyError:
            raise KeyError(f"the double serves no device {address}") from None

    def _linked(self, char: GattCharacteristic1) -> tuple[_Entry, _Link]:
        entry = self._entries[char.device_address]
        if entry.link is None or entry.link.chars.get(char.char_uuid) is not char:
            raise bluez_error(ERROR_FAILED, "Not connected")
        return entry, entry.link

    @property
    def _live_bus(self) -> MessageBus:
        if self._bus is None:
            raise RuntimeError("the double is not started")
        return self._bus

    def _device_props(self, entry: _Entry, rssi: int) -> dict[str, Any]:
        adv = entry.device.advertisement()
        address = entry.device.address.upper()
        # Random static addresses have the two top bits set (Core spec Vol 6 Part B 1.3.2.1).
        random_static = int(address[:2], 16) >> 6 == 0b11
        return {
            "Address": address,
            "AddressType": "random" if random_static else "public",
            "Name": adv.local_name,
            "Alias": adv.local_name or address.replace(":", "-"),
            "Adapter": ADAPTER_PATH,
            "Paired": False,
            "Bonded": False,
            "Trusted": False,
            "Blocked": False,
            "LegacyPairing": False,
            "Connected": False,
            "ServicesResolved": False,
            "RSSI": rssi,
            "UUIDs": [u.lower() for u in adv.service_uuids],
            "ManufacturerData": {
                k: Variant("ay", bytes(v)) for k, v in adv.manufacturer_data.items()
            },
            "ServiceData": {},
        }

    def _hear(self, entry: _Entry, now: float) -> None:
        """Discovery heard an advertisement: the object appears, or its RSSI changes."""
        base = entry.device.advertisement().rssi
        rssi = base + self._rng.randint(-3, 3)
        if entry.exported and rssi == entry.iface.props["RSSI"]:
            # bluetoothd only signals changes; keep every advertisement visible to scanners.
            rssi = rssi + 1 if rssi < base else rssi - 1
        entry.last_seen = now
        if not entry.exported:
            entry.iface.props.clear()
            entry.iface.props.update(self._device_props(entry, rssi))
            self._live_bus.export(entry.iface.path, entry.iface)
            entry.exported = True
        else:
            entry.iface.update(RSSI=rssi)

    def _unexport_device(self, entry: _Entry) -> None:
        self._live_bus.unexport(entry.iface.path, entry.iface)
        entry.exported = False

    def _open_link(self, entry: _Entry) -> None:
        device = entry.device
        now = self.now()
        device.connect(now)
        objects: list[GattService1 | GattCharacteristic1 | GattDescriptor1] = []
        chars: dict[str, GattCharacteristic1] = {}
        handle = _FIRST_HANDLE
        for spec in device.services:
            service = GattService1(
                f"{entry.iface.path}/service{handle:04x}",
                self,
                uuid=spec.uuid.lower(),
                device=entry.iface.path,
            )
            objects.append(service)
            handle += 1
            for cspec in spec.characteristics:
                char = GattCharacteristic1(
                    f"{service.path}/char{handle:04x}",
                    self,
                    uuid=cspec.uuid.lower(),
                    service=service.path,
                    flags=list(cspec.properties),
                    mtu=self.mtu,
                    device_address=device.address.upper(),
                )
                objects.append(char)
                chars[char.char_uuid] = char
                handle += 2  # declaration + value
                if {"notify", "indicate"} & set(cspec.properties):
                    desc_path = f"{char.path}/desc{handle:04x}"
                    objects.append(
                        GattDescriptor1(desc_path, self, uuid=CCCD_UUID, characteristic=char)
                    )
                    handle += 1
        entry.link = _Link(objects, chars)
        entry.stats.connects += 1
        bus = self._live_bus
        # bluetoothd's order: connected, then service discovery fills the tree, then resolved.
        entry.iface.update(Connected=True)
        for obj in objects:
            bus.export(obj.path, obj)
        uuids = sorted({*entry.iface.props["UUIDs"], *(s.uuid.lower() for s in device.services)})
        entry.iface.update(ServicesResolved=True, UUIDs=uuids)

    def _teardown(self, entry: _Entry) -> None:
        link = entry.link
        assert link is not None
        entry.link = None
        now = self.now()
        entry.device.disconnect(now)
        entry.stats.link_losses += 1
        entry.stats.in_flight_lost += len(link.queue)
        entry.last_seen = now
        entry.iface.update(ServicesResolved=False)
        bus = self._live_bus
        for obj in reversed(link.objects):
            bus.unexport(obj.path, obj)
        # Last, so a disconnected-callback that reconnects at once finds a clean device.
        entry.iface.update(Connected=False)

    async def _pump(self) -> None:
        """The radio: connection events and advertisements, on the wall clock."""
        period = self.connection_interval_s
        next_tick = time.monotonic()
        while True:
            try:
                self._tick(self.now())
            except Exception as exc:  # keep serving; the test sees it in .errors
                log.exception("bluez double: pump step failed")
                self.errors.append(exc)
            next_tick += period
            delay = next_tick - time.monotonic()
            if delay < -period:
                next_tick = time.monotonic()  # far behind (loaded machine): do not burst
                delay = 0.0
            await asyncio.sleep(max(delay, 0.0))

    def _tick(self, now: float) -> None:
        for entry in self._entries.values():
            if entry.link is None:
                continue
            try:
                self._connection_event(entry, entry.link, now)
            except Exception as exc:
                log.exception("bluez double: %s failed; dropping its link", entry.device.address)
                self.errors.append(exc)
                if entry.link is not None:
                    self._teardown(entry)
        if self._discovery_sessions and now >= self._next_advertising:
            self._next_advertising = now + self.advertising_interval_s
            for entry in self._entries.values():
                if self._audible(entry):
                    self._hear(entry, now)
        for entry in self._entries.values():
            if (
                entry.exported
                and entry.link is None
                and entry.connect_abort is None
                and not entry.iface.props["Paired"]
                and now - entry.last_seen > self.temporary_timeout_s
            ):
                self._unexport_device(entry)

    def _audible(self, entry: _Entry) -> bool:
        if not entry.advertising or entry.link is not None:
            return False  # a connected peripheral stops advertising
        if not self._filter_uuids:
            return True
        return bool(
            self._filter_uuids & {u.lower() for u in entry.device.advertisement().service_uuids}
        )

    def _connection_event(self, entry: _Entry, link: _Link, now: float) -> None:
        produced = link.replies + entry.device.advance(now)
        link.replies = []
        # Command replies and stream samples leave in the order the firmware made them.
        produced.sort(key=attrgetter("t"))
        faults = entry.faults
        stats = entry.stats
        for note in produced:
            stats.produced += 1
            link.produced += 1
            if faults.drop_every and link.produced % faults.drop_every == 0:
                stats.dropped += 1
                continue
            deliver_at = now + faults.delay_s
            link.queue.append((deliver_at, note.uuid, note.data))
            if faults.duplicate_every and link.produced % faults.duplicate_every == 0:
                stats.duplicated += 1
                link.queue.append((deliver_at, note.uuid, note.data))
        bus = self._live_bus
        limit = self.mtu - 3
        while link.queue and link.queue[0][0] <= now:
            _, uuid, data = link.queue.popleft()
            char = link.chars.get(uuid.lower())
            if char is None or not char.notifying:
                stats.unsubscribed += 1
                continue
            if len(data) > limit:
                stats.truncated += 1
                data = data[:limit]
            char.props["Value"] = data
            # Sent directly rather than through emit_properties_changed, which searches every
            # exported object for the path: this is the hot path (hundreds per second).
            bus.send(
                Message.new_signal(
                    path=char.path,
                    interface="org.freedesktop.DBus.Properties",
                    member="PropertiesChanged",
                    signature="sa{sv}as",
                    body=[GATT_CHARACTERISTIC_INTERFACE, {"Value": Variant("ay", data)}, []],
                )
            )
            stats.sent += 1
            if self.record:
                entry.delivered.append(Notification(now, uuid, data))


def _is_abort(failure: tuple[str, str | None]) -> bool:
    name, message = failure
    return name == ERROR_FAILED and message in (None, ABORT_BY_LOCAL)
