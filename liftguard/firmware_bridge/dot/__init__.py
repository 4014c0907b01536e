"""Movella (Xsens) DOT: measurement-service wire format, assembler and a byte-exact emulator.

:mod:`.codec` builds the commands, decodes the measurement payloads and unwraps the device's
microsecond clock; :mod:`.assembler` turns notifications into samples; :mod:`.emulator` is the
sensor's firmware for tests and the simulator; :mod:`._constants` holds the protocol numbers
and the documents they come from.
"""

from __future__ import annotations

from ._constants import (
    ADVERTISED_NAME,
    BATTERY_CHAR,
    BATTERY_SERVICE,
    CONFIGURATION_SERVICE,
    CONTROL_CHAR,
    DEVICE_CONTROL_CHAR,
    DEVICE_INFO_CHAR,
    DEVICE_REPORT_CHAR,
    LONG_PAYLOAD_CHAR,
    MEASUREMENT_SERVICE,
    MEDIUM_PAYLOAD_CHAR,
    MODE_COMPLETE_QUATERNION,
    MODE_EXTENDED_QUATERNION,
    MODE_NAMES,
    MODE_RATE_QUANTITIES,
    MODE_RATE_QUANTITIES_WITH_MAG,
    MOVELLA_COMPANY_ID,
    ORIENTATION_RESET_CONTROL_CHAR,
    ORIENTATION_RESET_STATUS_CHAR,
    SHORT_PAYLOAD_CHAR,
    STREAMING_RATES_HZ,
    SUPPORTED_MODES,
    dot_uuid,
)
from .assembler import DotAssembler
from .codec import (
    DecodedPacket,
    DotConfig,
    DotDecoder,
    TimestampUnwrapper,
    encode_packets,
    heading_reset_command,
    heading_revert_command,
    output_rate_command,
    parse_battery,
    parse_control,
    parse_output_rate,
    start_command,
    stop_command,
)
from .emulator import DotEmulator

__all__ = [
    "ADVERTISED_NAME",
    "BATTERY_CHAR",
    "BATTERY_SERVICE",
    "CONFIGURATION_SERVICE",
    "CONTROL_CHAR",
    "DEVICE_CONTROL_CHAR",
    "DEVICE_INFO_CHAR",
    "DEVICE_REPORT_CHAR",
    "LONG_PAYLOAD_CHAR",
    "MEASUREMENT_SERVICE",
    "MEDIUM_PAYLOAD_CHAR",
    "MODE_COMPLETE_QUATERNION",
    "MODE_EXTENDED_QUATERNION",
    "MODE_NAMES",
    "MODE_RATE_QUANTITIES",
    "MODE_RATE_QUANTITIES_WITH_MAG",
    "MOVELLA_COMPANY_ID",
    "ORIENTATION_RESET_CONTROL_CHAR",
    "ORIENTATION_RESET_STATUS_CHAR",
    "SHORT_PAYLOAD_CHAR",
    "STREAMING_RATES_HZ",
    "SUPPORTED_MODES",
    "DecodedPacket",
    "DotAssembler",
    "DotConfig",
    "DotDecoder",
    "DotEmulator",
    "TimestampUnwrapper",
    "dot_uuid",
    "encode_packets",
    "heading_reset_command",
    "heading_revert_command",
    "output_rate_command",
    "parse_battery",
    "parse_control",
    "parse_output_rate",
    "start_command",
    "stop_command",
]
