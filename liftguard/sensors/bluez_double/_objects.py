"""The ``org.bluez`` D-Bus objects of the double, as dbus-fast service interfaces.

Each class mirrors one BlueZ interface (``doc/org.bluez.*.rst`` in BlueZ) with the properties
and methods bleak's BlueZ backend reads or calls, and nothing it does not. The objects hold
state only; every method that changes the world is delegated to a :class:`Host` (the double),
which owns time, the emulators and the fault injection.

Properties live in a plain ``props`` dict keyed by their D-Bus names; :meth:`_Props.update`
changes values and emits one ``PropertiesChanged`` signal for what actually changed, which is
how bluetoothd reports every state change (bleak waits on those signals, never polls).
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol, cast

from dbus_fast import DBusError, PropertyAccess, Variant
from dbus_fast.annotations import (
    DBusBool,
    DBusBytes,
    DBusDict,
    DBusDouble,
    DBusInt16,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
    DBusUInt16,
    DBusUInt32,
)
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property

__all__ = [
    "ADAPTER_INTERFACE",
    "CCCD_UUID",
    "CONTROL_BUS_NAME",
    "CONTROL_INTERFACE",
    "CONTROL_PATH",
    "DEVICE_INTERFACE",
    "GATT_CHARACTERISTIC_INTERFACE",
    "GATT_DESCRIPTOR_INTERFACE",
    "GATT_SERVICE_INTERFACE",
    "Adapter1",
    "Control",
    "ControlHost",
    "Device1",
    "GattCharacteristic1",
    "GattDescriptor1",
    "GattService1",
    "Host",
    "bluez_error",
]

ADAPTER_INTERFACE = "org.bluez.Adapter1"
DEVICE_INTERFACE = "org.bluez.Device1"
GATT_SERVICE_INTERFACE = "org.bluez.GattService1"
GATT_CHARACTERISTIC_INTERFACE = "org.bluez.GattCharacteristic1"
GATT_DESCRIPTOR_INTERFACE = "org.bluez.GattDescriptor1"
CONTROL_INTERFACE = "io.liftguard.TestControl1"
#: Well-known bus name and object path of the test-control interface.
CONTROL_BUS_NAME = "io.liftguard.TestControl"
CONTROL_PATH = "/io/liftguard/TestControl"
#: Client Characteristic Configuration descriptor, present on every notify/indicate characteristic.
CCCD_UUID = "00002902-0000-1000-8000-00805f9b34fb"

#: A method that returns nothing. ``-> None`` cannot be used: with postponed annotations
#: dbus-fast reads the string "None" as a missing signature and refuses the method.
DBusNoReply = Annotated[None, DBusSignature("")]
DBusStrList = Annotated[list[str], DBusSignature("as")]
DBusPathList = Annotated[list[str], DBusSignature("ao")]
DBusManufacturerData = Annotated[dict[int, Variant], DBusSignature("a{qv}")]

#: bluetoothd's own messages for its error names (src/error.c), used when a fault names none.
_DEFAULT_MESSAGES = {
    "org.bluez.Error.InProgress": "In Progress",
    "org.bluez.Error.Failed": "le-connection-abort-by-local",
    "org.bluez.Error.NotReady": "Resource Not Ready",
    "org.bluez.Error.NotPermitted": "Not permitted",
    "org.bluez.Error.NotSupported": "Operation is not supported",
    "org.bluez.Error.DoesNotExist": "Does Not Exist",
    "org.bluez.Error.AlreadyConnected": "Already Connected",
    "org.bluez.Error.NotConnected": "Not Connected",
}


def bluez_error(name: str, message: str | None = None) -> DBusError:
    """A D-Bus error as bluetoothd sends it; ``message`` defaults to bluetoothd's text."""
    return DBusError(name, message if message is not None else _DEFAULT_MESSAGES.get(name, name))


class Host(Protocol):
    """What the objects delegate to: the double's world (time, emulators, faults)."""

    def start_discovery(self) -> None: ...

    def stop_discovery(self) -> None: ...

    def set_discovery_filter(self, filters: dict[str, Any]) -> None: ...

    def remove_device(self, path: str) -> None: ...

    async def connect_device(self, device: Device1) -> None: ...

    async def disconnect_device(self, device: Device1) -> None: ...

    async def pair_device(self, device: Device1) -> None: ...

    def read_characteristic(self, char: GattCharacteristic1) -> bytes: ...

    def write_characteristic(self, char: GattCharacteristic1, data: bytes, kind: str) -> None: ...

    def start_notify(self, char: GattCharacteristic1) -> None: ...

    def stop_notify(self, char: GattCharacteristic1) -> None: ...


class _Props(ServiceInterface):
    """A service interface whose properties are the entries of :attr:`props`."""

    def __init__(self, name: str, path: str, host: Host, props: dict[str, Any]) -> None:
        super().__init__(name)
        self.path = path
        self.host = host
        self.props = props

    def update(self, **changes: Any) -> None:
        """Set properties; emit one ``PropertiesChanged`` with those whose value changed."""
        changed = {k: v for k, v in changes.items() if self.props.get(k) != v}
        if not changed:
            return
        self.props.update(changed)
        self.emit_properties_changed(changed)


class Adapter1(_Props):
    """``/org/bluez/hci0``: the controller, and discovery."""

    def __init__(self, path: str, host: Host, *, address: str, powered: bool) -> None:
        super().__init__(
            ADAPTER_INTERFACE,
            path,
            host,
            {
                "Address": address,
                "AddressType": "public",
                "Name": "liftguard-double",
                "Alias": "liftguard-double",
                "Class": 0,
                "Powered": powered,
                "Discoverable": False,
                "Pairable": True,
                "Discovering": False,
                "UUIDs": [],
                # bleak's get_default_adapter() only picks adapters with the LE central role.
                "Roles": ["central", "peripheral"],
            },
        )

    @dbus_property(PropertyAccess.READ, name="Address")
    def address(self) -> DBusStr:
        return cast(str, self.props["Address"])

    @dbus_property(PropertyAccess.READ, name="AddressType")
    def address_type(self) -> DBusStr:
        return cast(str, self.props["AddressType"])

    @dbus_property(PropertyAccess.READ, name="Name")
    def local_name(self) -> DBusStr:
        return cast(str, self.props["Name"])

    @dbus_property(PropertyAccess.READ, name="Alias")
    def alias(self) -> DBusStr:
        return cast(str, self.props["Alias"])

    @dbus_property(PropertyAccess.READ, name="Class")
    def device_class(self) -> DBusUInt32:
        return cast(int, self.props["Class"])

    @dbus_property(PropertyAccess.READWRITE, name="Powered")
    def powered(self) -> DBusBool:
        return cast(bool, self.props["Powered"])

    @powered.setter
    def powered_setter(self, value: DBusBool) -> None:
        self.update(Powered=value)

    @dbus_property(PropertyAccess.READ, name="Discoverable")
    def discoverable(self) -> DBusBool:
        return cast(bool, self.props["Discoverable"])

    @dbus_property(PropertyAccess.READ, name="Pairable")
    def pairable(self) -> DBusBool:
        return cast(bool, self.props["Pairable"])

    @dbus_property(PropertyAccess.READ, name="Discovering")
    def discovering(self) -> DBusBool:
        return cast(bool, self.props["Discovering"])

    @dbus_property(PropertyAccess.READ, name="UUIDs")
    def uuids(self) -> DBusStrList:
        return cast(list[str], self.props["UUIDs"])

    @dbus_property(PropertyAccess.READ, name="Roles")
    def roles(self) -> DBusStrList:
        return cast(list[str], self.props["Roles"])

    @dbus_method(name="SetDiscoveryFilter")
    def set_discovery_filter(self, filters: DBusDict) -> DBusNoReply:
        self.host.set_discovery_filter({k: v.value for k, v in filters.items()})

    @dbus_method(name="GetDiscoveryFilters")
    def get_discovery_filters(self) -> DBusStrList:
        return ["UUIDs", "RSSI", "Pathloss", "Transport", "DuplicateData", "Discoverable"]

    @dbus_method(name="StartDiscovery")
    def start_discovery(self) -> DBusNoReply:
        self.host.start_discovery()

    @dbus_method(name="StopDiscovery")
    def stop_discovery(self) -> DBusNoReply:
        self.host.stop_discovery()

    @dbus_method(name="RemoveDevice")
    def remove_device(self, device: DBusObjectPath) -> DBusNoReply:
        self.host.remove_device(device)


class Device1(_Props):
    """``/org/bluez/hci0/dev_XX_…``: one remote device, as bluetoothd knows it."""

    def __init__(self, path: str, host: Host, props: dict[str, Any]) -> None:
        super().__init__(DEVICE_INTERFACE, path, host, props)

    @dbus_property(PropertyAccess.READ, name="Address")
    def address(self) -> DBusStr:
        return cast(str, self.props["Address"])

    @dbus_property(PropertyAccess.READ, name="AddressType")
    def address_type(self) -> DBusStr:
        return cast(str, self.props["AddressType"])

    @dbus_property(PropertyAccess.READ, name="Name")
    def local_name(self) -> DBusStr:
        return cast(str, self.props["Name"])

    @dbus_property(PropertyAccess.READ, name="Alias")
    def alias(self) -> DBusStr:
        return cast(str, self.props["Alias"])

    @dbus_property(PropertyAccess.READ, name="Adapter")
    def adapter(self) -> DBusObjectPath:
        return cast(str, self.props["Adapter"])

    @dbus_property(PropertyAccess.READ, name="Paired")
    def paired(self) -> DBusBool:
        return cast(bool, self.props["Paired"])

    @dbus_property(PropertyAccess.READ, name="Bonded")
    def bonded(self) -> DBusBool:
        return cast(bool, self.props["Bonded"])

    # Writable: bleak's pair() sets Trusted through org.freedesktop.DBus.Properties.Set first.
    @dbus_property(PropertyAccess.READWRITE, name="Trusted")
    def trusted(self) -> DBusBool:
        return cast(bool, self.props["Trusted"])

    @trusted.setter
    def trusted_setter(self, value: DBusBool) -> None:
        self.update(Trusted=value)

    @dbus_property(PropertyAccess.READ, name="Blocked")
    def blocked(self) -> DBusBool:
        return cast(bool, self.props["Blocked"])

    @dbus_property(PropertyAccess.READ, name="LegacyPairing")
    def legacy_pairing(self) -> DBusBool:
        return cast(bool, self.props["LegacyPairing"])

    @dbus_property(PropertyAccess.READ, name="Connected")
    def connected(self) -> DBusBool:
        return cast(bool, self.props["Connected"])

    @dbus_property(PropertyAccess.READ, name="ServicesResolved")
    def services_resolved(self) -> DBusBool:
        return cast(bool, self.props["ServicesResolved"])

    @dbus_property(PropertyAccess.READ, name="RSSI")
    def rssi(self) -> DBusInt16:
        return cast(int, self.props["RSSI"])

    @dbus_property(PropertyAccess.READ, name="UUIDs")
    def uuids(self) -> DBusStrList:
        return cast(list[str], self.props["UUIDs"])

    @dbus_property(PropertyAccess.READ, name="ManufacturerData")
    def manufacturer_data(self) -> DBusManufacturerData:
        return cast(dict[int, Variant], self.props["ManufacturerData"])

    @dbus_property(PropertyAccess.READ, name="ServiceData")
    def service_data(self) -> DBusDict:
        return cast(dict[str, Variant], self.props["ServiceData"])

    @dbus_method(name="Connect")
    async def connect(self) -> DBusNoReply:
        await self.host.connect_device(self)

    @dbus_method(name="Disconnect")
    async def disconnect(self) -> DBusNoReply:
        await self.host.disconnect_device(self)

    @dbus_method(name="Pair")
    async def pair(self) -> DBusNoReply:
        await self.host.pair_device(self)

    @dbus_method(name="CancelPairing")
    def cancel_pairing(self) -> DBusNoReply:
        raise bluez_error("org.bluez.Error.DoesNotExist")


class GattService1(_Props):
    """``…/serviceXXXX``: one primary service of a connected device."""

    def __init__(self, path: str, host: Host, *, uuid: str, device: str) -> None:
        super().__init__(
            GATT_SERVICE_INTERFACE,
            path,
            host,
            {"UUID": uuid, "Device": device, "Primary": True, "Includes": []},
        )

    @dbus_property(PropertyAccess.READ, name="UUID")
    def uuid(self) -> DBusStr:
        return cast(str, self.props["UUID"])

    @dbus_property(PropertyAccess.READ, name="Device")
    def device(self) -> DBusObjectPath:
        return cast(str, self.props["Device"])

    @dbus_property(PropertyAccess.READ, name="Primary")
    def primary(self) -> DBusBool:
        return cast(bool, self.props["Primary"])

    @dbus_property(PropertyAccess.READ, name="Includes")
    def includes(self) -> DBusPathList:
        return cast(list[str], self.props["Includes"])


class GattCharacteristic1(_Props):
    """``…/serviceXXXX/charYYYY``: one characteristic; notifications are ``Value`` changes."""

    def __init__(
        self,
        path: str,
        host: Host,
        *,
        uuid: str,
        service: str,
        flags: list[str],
        mtu: int,
        device_address: str,
    ) -> None:
        super().__init__(
            GATT_CHARACTERISTIC_INTERFACE,
            path,
            host,
            {
                "UUID": uuid,
                "Service": service,
                "Value": b"",
                "Notifying": False,
                "Flags": flags,
                "MTU": mtu,
            },
        )
        self.device_address = device_address

    @property
    def char_uuid(self) -> str:
        """The characteristic's 128-bit UUID, lower case."""
        return cast(str, self.props["UUID"])

    @property
    def flags(self) -> list[str]:
        """bleak / BlueZ property names (``read``, ``write``, ``notify`` …)."""
        return cast(list[str], self.props["Flags"])

    @property
    def notifying(self) -> bool:
        """True between StartNotify and StopNotify (or the link going down)."""
        return cast(bool, self.props["Notifying"])

    @dbus_property(PropertyAccess.READ, name="UUID")
    def uuid(self) -> DBusStr:
        return cast(str, self.props["UUID"])

    @dbus_property(PropertyAccess.READ, name="Service")
    def service(self) -> DBusObjectPath:
        return cast(str, self.props["Service"])

    @dbus_property(PropertyAccess.READ, name="Value")
    def value(self) -> DBusBytes:
        return cast(bytes, self.props["Value"])

    @dbus_property(PropertyAccess.READ, name="Notifying")
    def notifying_property(self) -> DBusBool:
        return cast(bool, self.props["Notifying"])

    @dbus_property(PropertyAccess.READ, name="Flags")
    def flags_property(self) -> DBusStrList:
        return cast(list[str], self.props["Flags"])

    @dbus_property(PropertyAccess.READ, name="MTU")
    def mtu(self) -> DBusUInt16:
        return cast(int, self.props["MTU"])

    @dbus_method(name="ReadValue")
    def read_value(self, options: DBusDict) -> DBusBytes:
        return self.host.read_characteristic(self)

    @dbus_method(name="WriteValue")
    def write_value(self, value: DBusBytes, options: DBusDict) -> DBusNoReply:
        # bleak always says which: "request" (write with response) or "command" (without).
        kind = options["type"].value if "type" in options else ""
        self.host.write_characteristic(self, bytes(value), str(kind))

    @dbus_method(name="StartNotify")
    def start_notify(self) -> DBusNoReply:
        self.host.start_notify(self)

    @dbus_method(name="StopNotify")
    def stop_notify(self) -> DBusNoReply:
        self.host.stop_notify(self)


class GattDescriptor1(_Props):
    """``…/charYYYY/descZZZZ``: the CCCD of a notify characteristic (read-only here)."""

    def __init__(
        self, path: str, host: Host, *, uuid: str, characteristic: GattCharacteristic1
    ) -> None:
        super().__init__(
            GATT_DESCRIPTOR_INTERFACE,
            path,
            host,
            {"UUID": uuid, "Characteristic": characteristic.path, "Value": b"", "Flags": ["read"]},
        )
        self.characteristic = characteristic

    @dbus_property(PropertyAccess.READ, name="UUID")
    def uuid(self) -> DBusStr:
        return cast(str, self.props["UUID"])

    @dbus_property(PropertyAccess.READ, name="Characteristic")
    def characteristic_path(self) -> DBusObjectPath:
        return cast(str, self.props["Characteristic"])

    @dbus_property(PropertyAccess.READ, name="Value")
    def value(self) -> DBusBytes:
        return cast(bytes, self.props["Value"])

    @dbus_property(PropertyAccess.READ, name="Flags")
    def flags_property(self) -> DBusStrList:
        return cast(list[str], self.props["Flags"])

    @dbus_method(name="ReadValue")
    def read_value(self, options: DBusDict) -> DBusBytes:
        # The CCCD mirrors the subscription: 0x0001 = notifications on.
        value = b"\x01\x00" if self.characteristic.notifying else b"\x00\x00"
        self.update(Value=value)
        return value

    @dbus_method(name="WriteValue")
    def write_value(self, value: DBusBytes, options: DBusDict) -> DBusNoReply:
        # bluetoothd owns the CCCD: clients subscribe with StartNotify, never by writing it.
        raise bluez_error("org.bluez.Error.NotPermitted", "Write not permitted")


class ControlHost(Protocol):
    """What the test-control interface drives (the double's fault-injection API)."""

    def drop_link(self, address: str) -> bool: ...

    def drop_all_links(self) -> int: ...

    def set_advertising(self, address: str, on: bool) -> None: ...

    def fail_next_connect(self, address: str, error_name: str, message: str | None = None) -> None:
        """Queue one failure for the next Connect of ``address``."""

    def set_notification_faults(
        self, address: str, *, delay_s: float, duplicate_every: int, drop_every: int
    ) -> None:
        """Per-device delivery faults."""

    def stats(self, address: str) -> dict[str, int]: ...


class Control(ServiceInterface):
    """``io.liftguard.TestControl1``: fault injection for a double running in another process.

    Served on its own bus connection under the name ``io.liftguard.TestControl`` at path
    :data:`CONTROL_PATH`, so ``org.bluez``'s object tree stays exactly BlueZ's.
    """

    def __init__(self, host: ControlHost) -> None:
        super().__init__(CONTROL_INTERFACE)
        self.host = host

    @dbus_method(name="DropLink")
    def drop_link(self, address: DBusStr) -> DBusBool:
        return self.host.drop_link(address)

    @dbus_method(name="DropAllLinks")
    def drop_all_links(self) -> DBusUInt32:
        return self.host.drop_all_links()

    @dbus_method(name="SetAdvertising")
    def set_advertising(self, address: DBusStr, on: DBusBool) -> DBusNoReply:
        self.host.set_advertising(address, on)

    @dbus_method(name="FailNextConnect")
    def fail_next_connect(self, address: DBusStr, error: DBusStr) -> DBusNoReply:
        # "org.bluez.Error.Failed" or "org.bluez.Error.Failed: some message".
        name, _, message = error.partition(":")
        self.host.fail_next_connect(address, name.strip(), message.strip() or None)

    @dbus_method(name="SetNotificationFaults")
    def set_notification_faults(
        self,
        address: DBusStr,
        delay_s: DBusDouble,
        duplicate_every: DBusUInt32,
        drop_every: DBusUInt32,
    ) -> DBusNoReply:
        self.host.set_notification_faults(
            address, delay_s=delay_s, duplicate_every=duplicate_every, drop_every=drop_every
        )

    @dbus_method(name="GetStats")
    def get_stats(self, address: DBusStr) -> DBusDict:
        return {k: Variant("t", v) for k, v in self.host.stats(address).items()}
