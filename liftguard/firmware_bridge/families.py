"""Which assembler decodes which sensor family."""

from __future__ import annotations

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError
from liftguard.firmware_bridge.dot.assembler import DotAssembler
from liftguard.firmware_bridge.metawear.assembler import MetaWearAssembler
from liftguard.firmware_bridge.stream import Assembler
from liftguard.firmware_bridge.witmotion.assembler import WitAssembler

__all__ = ["assembler_for"]


def assembler_for(sensor: SensorConfig, *, chip: str | None = None) -> Assembler:
    """A fresh assembler for ``sensor``'s family and wire configuration.

    ``chip`` is what module discovery reported on connect (MetaMotion: ``"bmi160"`` or
    ``"bmi270"``); before a connection it defaults to the family's most common chip. Other
    families take everything from the roster entry (rate, mode).
    """
    if sensor.family == "metawear":
        return MetaWearAssembler.for_sensor(sensor, chip=chip or "bmi160")
    if sensor.family == "witmotion":
        return WitAssembler.for_sensor(sensor)
    if sensor.family == "dot":
        return DotAssembler.for_sensor(sensor)
    raise ConfigError(f"sensor {sensor.address}: no decoder for family {sensor.family!r}")
