"""Which assembler decodes which sensor family."""

from __future__ import annotations

from collections.abc import Sequence

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError
from liftguard.firmware_bridge.dot._constants import MEASUREMENT_SERVICE as DOT_MEASUREMENT_SERVICE
from liftguard.firmware_bridge.dot._constants import MOVELLA_COMPANY_ID
from liftguard.firmware_bridge.dot.assembler import DotAssembler
from liftguard.firmware_bridge.metawear._constants import METAWEAR_SERVICE
from liftguard.firmware_bridge.metawear.assembler import MetaWearAssembler
from liftguard.firmware_bridge.stream import Assembler
from liftguard.firmware_bridge.witmotion._constants import WIT_SERVICE
from liftguard.firmware_bridge.witmotion.assembler import WitAssembler

__all__ = ["assembler_for", "identify"]


def assembler_for(
    sensor: SensorConfig, *, chip: str | None = None, device_orientation: bool = True
) -> Assembler:
    """A fresh assembler for ``sensor``'s family and wire configuration.

    ``chip`` is what module discovery reported on connect (MetaMotion: ``"bmi160"`` or
    ``"bmi270"``); before a connection it defaults to the family's most common chip. A
    MetaMotion's rates are ``rate_hz`` (accelerometer) and ``gyro_rate_hz`` (gyro, if
    different); its assembler merges them at ``sensor.stream_rate_hz``. Other families take
    everything from the roster entry (rate, mode; :class:`SensorConfig` refuses a separate gyro
    rate for them).

    ``device_orientation=False``: the samples need not carry the device's own orientation
    estimate where it is only an extra (WitMotion's angles; a DOT's quaternion modes still
    need theirs to give acc and gyro).
    """
    if sensor.family == "metawear":
        return MetaWearAssembler.for_sensor(sensor, chip=chip or "bmi160")
    if sensor.family == "witmotion":
        return WitAssembler.for_sensor(sensor, device_orientation=device_orientation)
    if sensor.family == "dot":
        return DotAssembler.for_sensor(sensor)
    raise ConfigError(f"sensor {sensor.address}: no decoder for family {sensor.family!r}")


def identify(
    name: str | None, service_uuids: Sequence[str], manufacturer_ids: Sequence[int]
) -> str | None:
    """Which supported family an advertisement belongs to (``None``: not one we support).

    MetaMotions and WitMotions advertise their vendor service; Movella DOTs advertise
    Movella's company id (and their name).
    """
    uuids = {u.lower() for u in service_uuids}
    if METAWEAR_SERVICE in uuids:
        return "metawear"
    if WIT_SERVICE in uuids:
        return "witmotion"
    if MOVELLA_COMPANY_ID in manufacturer_ids or DOT_MEASUREMENT_SERVICE in uuids:
        return "dot"
    lowered = (name or "").lower()
    if lowered.startswith("metawear"):
        return "metawear"
    if "dot" in lowered and ("xsens" in lowered or "movella" in lowered):
        return "dot"
    if lowered.startswith(("wt901", "bwt901")):
        return "witmotion"
    return None
