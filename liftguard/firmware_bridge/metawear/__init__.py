"""MbientLab MetaMotion (MetaWear firmware): acc + gyro wire format and a byte-exact emulator.

:mod:`.codec` builds the commands and decodes the notifications; :mod:`.emulator` is the board's
firmware for tests and the simulator; :mod:`._constants` holds the protocol numbers and the SDK
sources they come from.
"""

from __future__ import annotations

from ._constants import (
    COMMAND_CHAR,
    DIS_SERVICE,
    FIRMWARE_CHAR,
    MANUFACTURER_CHAR,
    METAWEAR_SERVICE,
    MODEL_CHAR,
    MODEL_METAMOTION_S,
    MODULE_ABSENT,
    MODULE_ACCELEROMETER,
    MODULE_GYRO,
    NOTIFY_CHAR,
    SUPPORTED_ODR_HZ,
)
from .assembler import MetaWearAssembler
from .codec import (
    DecodedPacket,
    MetaWearConfig,
    MetaWearDecoder,
    chip_from_module_info,
    configure_commands,
    encode_samples,
    module_info_request,
    odr_code,
    parse_module_info,
    start_commands,
    stop_commands,
)
from .emulator import MetaMotionEmulator

__all__ = [
    "COMMAND_CHAR",
    "DIS_SERVICE",
    "FIRMWARE_CHAR",
    "MANUFACTURER_CHAR",
    "METAWEAR_SERVICE",
    "MODEL_CHAR",
    "MODEL_METAMOTION_S",
    "MODULE_ABSENT",
    "MODULE_ACCELEROMETER",
    "MODULE_GYRO",
    "NOTIFY_CHAR",
    "SUPPORTED_ODR_HZ",
    "DecodedPacket",
    "MetaMotionEmulator",
    "MetaWearAssembler",
    "MetaWearConfig",
    "MetaWearDecoder",
    "chip_from_module_info",
    "configure_commands",
    "encode_samples",
    "module_info_request",
    "odr_code",
    "parse_module_info",
    "start_commands",
    "stop_commands",
]
