"""The bleak backend classes of the simulator.

These are the only simulator code bleak talks to. Each :class:`SimulatedWorld` makes its own
subclasses with ``_world`` set (see ``SimulatedWorld.scanner_backend``/``client_backend``), because
bleak instantiates a backend *class* and offers no way to pass it extra state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.exc import BleakError, BleakGATTProtocolError, BleakGATTProtocolErrorCode
from bleak.uuids import normalize_uuid_str

from liftguard.firmware_bridge.emulation import CharacteristicSpec, EmulatedDevice
from liftguard.sensors._sim_gatt import ATT_MTU, MAX_ATT_PAYLOAD

if TYPE_CHECKING:
    from liftguard.sensors.simulated import SimulatedWorld, _Link

#: Longest value a write request may carry (Core spec Vol 3 Part F 3.2.9), in bytes.
_MAX_ATTRIBUTE_LENGTH = 512


def _require_world(cls: type[object]) -> None:
    if getattr(cls, "_world", None) is None:
        raise TypeError(
            f"{cls.__name__} is not bound to a world: pass SimulatedWorld(...).scanner_backend / "
            ".client_backend as bleak's backend="
        )


def _spec(characteristic: BleakGATTCharacteristic) -> CharacteristicSpec:
    spec = characteristic.obj
    if not isinstance(spec, CharacteristicSpec):
        raise BleakError(f"characteristic {characteristic.uuid} does not come from the simulator")
    return spec


class SimulatedBleakScanner(BaseBleakScanner):
    """Scanner backend: reports the world's advertising devices.

    Devices are reported at :meth:`start` and then at every advertising interval of the world's
    clock while the world runs, so both ``discover`` and ``find_device_by_*`` work.
    ``BLEDevice.details`` is the :class:`EmulatedDevice` itself.
    """

    _world: ClassVar[SimulatedWorld | None] = None

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        **kwargs: Any,
    ) -> None:
        _require_world(type(self))
        # Normalised here because the base class only lower-cases, and a 16-bit filter such as
        # "180d" must still match the 128-bit form the advertisement carries.
        super().__init__(
            detection_callback,
            None if service_uuids is None else [normalize_uuid_str(u) for u in service_uuids],
        )

    @property
    def _bound_world(self) -> SimulatedWorld:
        world = self._world
        assert world is not None  # checked in __init__
        return world

    async def start(self) -> None:
        """Start scanning; clears :attr:`seen_devices` as the base class requires."""
        self.seen_devices = {}
        self._bound_world._scanner_started(self)

    async def stop(self) -> None:
        """Stop scanning; later advertisements are not reported."""
        self._bound_world._scanner_stopped(self)

    def _report(self, device: EmulatedDevice, advertisement: AdvertisementData) -> None:
        if not self.is_allowed_uuid(advertisement.service_uuids):
            return
        ble_device = self.create_or_update_device(
            device.address, device.address, device.name, device, advertisement
        )
        self.call_detection_callbacks(ble_device, advertisement)


class SimulatedBleakClient(BaseBleakClient):
    """Client backend: one connection to one emulated device of the world.

    Like BlueZ, the disconnected callback fires on intentional :meth:`disconnect` too, exactly
    once per connection. Reads and writes reach the device at once (at ``world.now()``);
    notifications arrive through the world's pump.
    """

    _world: ClassVar[SimulatedWorld | None] = None

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        services: set[str] | None = None,
        **kwargs: Any,
    ) -> None:
        _require_world(type(self))
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._details: object = (
            address_or_ble_device.details if isinstance(address_or_ble_device, BLEDevice) else None
        )
        self._requested_services = (
            None if services is None else {normalize_uuid_str(u) for u in services}
        )
        self._link: _Link | None = None
        self._device_name: str | None = None

    @property
    def _bound_world(self) -> SimulatedWorld:
        world = self._world
        assert world is not None  # checked in __init__
        return world

    # -- connection ------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The device's name (known once connected)."""
        if self._device_name is None:
            raise BleakError("Not connected")
        return self._device_name

    @property
    def mtu_size(self) -> int:
        """ATT MTU in bytes: always 23, as BlueZ reports without an explicit MTU exchange."""
        return ATT_MTU

    @property
    def is_connected(self) -> bool:
        """Whether this client's link is up."""
        return self._link is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect after ``connect_time_s`` simulated seconds; fills :attr:`services`.

        Raises:
            BleakDeviceNotFoundError: the device is unknown or not advertising.
            BleakError: already connected, or the device has another connection.
            TimeoutError: ``connect_time_s`` exceeds the client's ``timeout``.
        """
        if self._link is not None:
            raise BleakError("Client is already connected")
        world = self._bound_world
        device = world._resolve(self.address, self._details)
        link = await world._open_link(
            device,
            on_lost=self._on_link_lost,
            timeout=self._timeout,
            requested_services=self._requested_services,
        )
        self._link = link
        self.services = link.services
        self._device_name = device.name

    async def disconnect(self) -> None:
        """Disconnect; a no-op when not connected. Fires the disconnected callback."""
        if self._link is not None:
            self._bound_world._close_link(self._link)

    def _on_link_lost(self) -> None:
        # The world calls this exactly once per link, whichever side ended it.
        self._link = None
        self.services = None
        if self._disconnected_callback is not None:
            self._bound_world._invoke_user_callback(
                self._disconnected_callback, "disconnected callback"
            )

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """No-op: emulated devices need no bonding."""

    async def unpair(self) -> None:
        """No-op: emulated devices need no bonding."""

    # -- I/O -------------------------------------------------------------------------------

    def _require_link(self) -> _Link:
        if self._link is None:
            raise BleakError("Not connected")
        return self._link

    async def read_gatt_char(
        self,
        characteristic: BleakGATTCharacteristic,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """The device's current value (``use_cached`` is ignored: there is no cache)."""
        link = self._require_link()
        if "read" not in characteristic.properties:
            raise BleakGATTProtocolError(BleakGATTProtocolErrorCode.READ_NOT_PERMITTED)
        return bytearray(link.read(_spec(characteristic).uuid))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        """Hand ``data`` to the device at ``world.now()``; its replies go out like notifications."""
        link = self._require_link()
        payload = bytes(data)
        if response:
            if "write" not in characteristic.properties:
                raise BleakGATTProtocolError(BleakGATTProtocolErrorCode.WRITE_NOT_PERMITTED)
            if len(payload) > _MAX_ATTRIBUTE_LENGTH:
                raise BleakGATTProtocolError(
                    BleakGATTProtocolErrorCode.INVALID_ATTRIBUTE_VALUE_LENGTH
                )
        else:
            # A command gets no ATT error back on hardware; it is silently lost. Failing loudly
            # here points at the driver bug instead of at a sensor that "never starts".
            if "write-without-response" not in characteristic.properties:
                raise BleakError(
                    f"characteristic {characteristic.uuid} does not support write-without-response"
                )
            if len(payload) > MAX_ATT_PAYLOAD:
                raise BleakError(
                    f"write-without-response of {len(payload)} bytes exceeds "
                    f"max_write_without_response_size ({MAX_ATT_PAYLOAD})"
                )
        link.write(_spec(characteristic).uuid, payload)

    async def read_gatt_descriptor(
        self,
        descriptor: BleakGATTDescriptor,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """Not modelled."""
        raise BleakError("reading descriptors is not supported by the simulator")

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        """Not modelled."""
        raise BleakError("writing descriptors is not supported by the simulator")

    async def start_notify(
        self,
        characteristic: BleakGATTCharacteristic,
        callback: NotifyCallback,
        **kwargs: Any,
    ) -> None:
        """Subscribe; notifications emitted from ``world.now()`` on reach ``callback``.

        Subscribing again replaces the callback (as BlueZ does), so nothing is delivered twice.
        """
        link = self._require_link()
        if not {"notify", "indicate"} & set(characteristic.properties):
            raise BleakError(f"characteristic {characteristic.uuid} cannot notify or indicate")
        link.subscribe(characteristic.uuid, callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Unsubscribe; notifications still in flight are dropped too."""
        self._require_link().unsubscribe(characteristic.uuid)
