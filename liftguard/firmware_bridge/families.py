"""Which assembler decodes which sensor family."""

from __future__ import annotations

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError
from liftguard.firmware_bridge.metawear.assembler import MetaWearAssembler
from liftguard.firmware_bridge.stream import Assembler

__all__ = ["assembler_for"]


def assembler_for(sensor: SensorConfig, *, chip: str | None = None) -> Assembler:
    """A fresh assembler for ``sensor``'s family and wire configuration.

    ``chip`` is what module discovery reported on connect (MetaMotion: ``"bmi160"`` or
    ``"bmi270"``); before a connection it defaults to the family's most common chip.
    """
    if sensor.family == "metawear":
        return MetaWearAssembler.for_sensor(sensor, chip=chip or "bmi160")
    raise ConfigError(f"sensor {sensor.address}: no decoder for family {sensor.family!r}")
