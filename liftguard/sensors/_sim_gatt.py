"""GATT tables for the simulated backend: an emulator's specs as a bleak service collection."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import cast, get_args

from bleak.assigned_numbers import CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.uuids import normalize_uuid_16, normalize_uuid_str

from liftguard.firmware_bridge.emulation import CharacteristicSpec, ServiceSpec

#: ATT MTU in bytes. BlueZ reports the default 23 unless the MTU is explicitly acquired, and the
#: simulator models what production code will actually see.
ATT_MTU = 23
#: Largest write-without-response / notification payload in bytes (MTU minus the 3-byte header).
MAX_ATT_PAYLOAD = ATT_MTU - 3

_PROPERTY_NAMES: frozenset[str] = frozenset(get_args(CharacteristicPropertyName))
_CCCD_UUID = normalize_uuid_16(0x2902)


def _max_write_without_response_size() -> int:
    return MAX_ATT_PAYLOAD


def _properties(spec: CharacteristicSpec) -> list[CharacteristicPropertyName]:
    unknown = [p for p in spec.properties if p not in _PROPERTY_NAMES]
    if unknown:
        # A typo here would otherwise surface much later as "write not permitted".
        raise ValueError(f"characteristic {spec.uuid}: unknown GATT properties {unknown}")
    return cast(list[CharacteristicPropertyName], list(spec.properties))


def build_service_collection(
    specs: Sequence[ServiceSpec], *, requested: Collection[str] | None = None
) -> BleakGATTServiceCollection:
    """Lay ``specs`` out as an ATT table and wrap it the way bleak's backends do.

    Handles follow a real ATT server: service declaration, then per characteristic a declaration
    (the handle bleak reports), its value, and a CCCD descriptor if it can notify or indicate.
    ``requested`` (normalised service UUIDs) filters the services like BleakClient's ``services=``;
    filtered-out services still consume handles, so handles never depend on the filter.
    Each characteristic's ``obj`` is its :class:`CharacteristicSpec`.
    """
    collection = BleakGATTServiceCollection()
    handle = 0  # ATT handle 0 is reserved, so the first attribute gets 1
    for service_spec in specs:
        handle += 1
        service = BleakGATTService(service_spec, handle, normalize_uuid_str(service_spec.uuid))
        keep = requested is None or service.uuid in requested
        if keep:
            collection.add_service(service)
        for char_spec in service_spec.characteristics:
            properties = _properties(char_spec)
            handle += 1
            characteristic = BleakGATTCharacteristic(
                char_spec,
                handle,
                normalize_uuid_str(char_spec.uuid),
                properties,
                _max_write_without_response_size,
                service,
            )
            handle += 1  # the value attribute
            if keep:
                collection.add_characteristic(characteristic)
            if "notify" in properties or "indicate" in properties:
                handle += 1
                if keep:
                    collection.add_descriptor(
                        BleakGATTDescriptor(None, handle, _CCCD_UUID, characteristic)
                    )
    return collection
