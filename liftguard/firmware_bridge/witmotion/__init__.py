"""WitMotion WT901BLECL / BWT901BLECL (BLE 5.0): wire format, stream assembler, emulator.

:mod:`.codec` builds the commands and recovers and decodes the ``55 61`` frames; :mod:`.assembler`
turns one sensor's notifications into samples; :mod:`.emulator` is the sensor's firmware for
tests and the simulator; :mod:`._constants` holds the protocol numbers and their sources.
"""

from __future__ import annotations

from ._constants import (
    DEFAULT_NAME,
    DEFAULT_RATE_CODE,
    FRAME_BYTES,
    NOTIFY_CHAR,
    RATE_CODE_HZ,
    SUPPORTED_RATE_HZ,
    WIT_SERVICE,
    WRITE_CHAR,
)
from .assembler import WitAssembler
from .codec import (
    FrameReassembler,
    StreamDecode,
    WitConfig,
    WitSamples,
    configure_commands,
    decode_frame,
    decode_frames,
    decode_stream,
    encode_data_frames,
    encode_register_reply,
    euler_to_quat,
    parse_register_reply,
    quat_to_euler,
    rate_code,
    rate_command,
    read_register_command,
    save_command,
    unlock_command,
    write_register_command,
)
from .emulator import FUSION_RATE_HZ, WitMotionEmulator

__all__ = [
    "DEFAULT_NAME",
    "DEFAULT_RATE_CODE",
    "FRAME_BYTES",
    "FUSION_RATE_HZ",
    "NOTIFY_CHAR",
    "RATE_CODE_HZ",
    "SUPPORTED_RATE_HZ",
    "WIT_SERVICE",
    "WRITE_CHAR",
    "FrameReassembler",
    "StreamDecode",
    "WitAssembler",
    "WitConfig",
    "WitMotionEmulator",
    "WitSamples",
    "configure_commands",
    "decode_frame",
    "decode_frames",
    "decode_stream",
    "encode_data_frames",
    "encode_register_reply",
    "euler_to_quat",
    "parse_register_reply",
    "quat_to_euler",
    "rate_code",
    "rate_command",
    "read_register_command",
    "save_command",
    "unlock_command",
    "write_register_command",
]
