"""Sensor firmware, minus the radio: wire formats and byte-exact emulators per sensor family.

:mod:`.emulation` defines what every emulator offers (:class:`EmulatedDevice`) and what feeds it
motion (:class:`MotionSource`). Each family lives in its own subpackage with a codec (commands
out, samples in) and an emulator. Family names that cannot collide with another family's
(``MetaWear…``, ``MetaMotion…``, ``METAWEAR_SERVICE``) are re-exported here; generic ones
(``COMMAND_CHAR``, ``configure_commands``, ``DecodedPacket`` …) stay in the subpackage, e.g.
``from liftguard.firmware_bridge.metawear import configure_commands``.
"""

from __future__ import annotations

from . import metawear
from .emulation import (
    Advertisement,
    CharacteristicSpec,
    EmulatedDevice,
    MotionSource,
    Notification,
    ServiceSpec,
)
from .families import assembler_for
from .metawear import METAWEAR_SERVICE, MetaMotionEmulator, MetaWearConfig, MetaWearDecoder

__all__ = [
    "METAWEAR_SERVICE",
    "Advertisement",
    "CharacteristicSpec",
    "EmulatedDevice",
    "MetaMotionEmulator",
    "MetaWearConfig",
    "MetaWearDecoder",
    "MotionSource",
    "Notification",
    "ServiceSpec",
    "assembler_for",
    "metawear",
]
