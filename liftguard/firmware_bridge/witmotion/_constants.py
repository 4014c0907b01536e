"""WitMotion WT901BLECL / BWT901BLECL (BLE 5.0) numbers: GATT UUIDs, frame layout, registers.

Sources, checked for this module:

* WitMotion's official BLE 5.0 SDK, ``WITMOTION/WitBluetooth_BWT901BLE5_0``:
  ``Python/BWT901BLE5.0_python_sdk/device_model.py`` (UUIDs; the 20-byte ``55 61`` frame with
  scales ×16, ×2000, ×180 / 32768; unlock = write 0xB588 to register 0x69; save = write 0 to
  register 0; read = ``FF AA 27 reg 00``) and the Android example
  (``Bwt901bleResolver.java``: frames are reassembled from a byte buffer on the ``55 61``
  header, 20 bytes at a time; register reads come back as 20-byte ``55 71`` frames;
  ``Bwt901ble.java``: ``setReturnRate`` writes ``FF AA 03 rate 00``).
* The WT901BLECL datasheet (v20-0707, §6): the ``55 61`` payload order acc X Y Z, gyro X Y Z,
  roll pitch yaw, low byte first; "Bluetooth uploads up to 20 bytes per data"; ``55 71`` replies
  carry the start register and 8 registers; attitude in an east-north-up (z-up) frame with the
  Euler sequence Z-Y-X (yaw about Z, then pitch about Y, then roll about X; pitch only spans
  ±90°).
* WitMotion's protocol pages (WTVB01-BT50 manual, same BLE 5.0 command set): "Unlock (useful
  for 10 seconds) FF AA 69 88 B5", then ``FF AA reg lo hi``, then save ``FF AA 00 00 00``.

Where sources disagree:

* UUIDs. The SDK's characteristics are ``0000ffeX-0000-1000-8000-00805f9a34fb`` — note
  ``…9a34fb``, *not* the Bluetooth SIG base ``…9b34fb`` that a 16-bit UUID expands to; a BlueZ
  dump of a real WT901BLECL (``rubenmuehlhans/esphome-witmotion``, ``witmotion_ble.h``) shows the
  same. So bleak must be given the full strings below; ``"ffe4"`` would not match.
* Rate codes. The generic WIT table has 0x0A = 125 Hz and 0x0B = 200 Hz; one WT901BLECL-based
  project (``esphome-witmotion``, ``witmotion_struct.h``) maps 0x0A to 200 Hz. The BLE 5.0
  protocol table quoted by ``RGu0/WT901`` (``docs/protocol.md`` §6) has no 0x0A at all, and
  that project's rate-by-rate measurements on a WT901BLE67 give 0x09 → 99.3 Hz,
  0x0A → 99.3 Hz, 0x0B → 198.4 Hz. LiftGuard uses 0x0B for 200 Hz and never sends 0x0A.
"""

from __future__ import annotations

import math
from typing import Final

# --- GATT ---------------------------------------------------------------------------------
WIT_SERVICE: Final = "0000ffe5-0000-1000-8000-00805f9a34fb"
#: Device → host: notifications carrying the frame byte stream.
NOTIFY_CHAR: Final = "0000ffe4-0000-1000-8000-00805f9a34fb"
#: Host → device: 5-byte commands (write and write-without-response, per the BlueZ dump).
WRITE_CHAR: Final = "0000ffe9-0000-1000-8000-00805f9a34fb"
#: Default advertised name of the family (the SDK's scan example filters on "WT").
DEFAULT_NAME: Final = "WT901BLE68"

# --- frames (device → host) ---------------------------------------------------------------
HEADER: Final = 0x55
FLAG_DATA: Final = 0x61
FLAG_REGISTERS: Final = 0x71
#: Every frame is 20 bytes: header, flag, 18 payload bytes (9 int16 or reg + 8 int16).
FRAME_BYTES: Final = 20
HEADER_BYTES: Final = 2
VALUES_PER_FRAME: Final = 9
#: Registers returned by one read (``55 71 regL regH`` + 8 × int16).
REGISTERS_PER_REPLY: Final = 8
INT16_MIN: Final = -32768
INT16_MAX: Final = 32767

# --- scales (fixed on this family: ±16 g, ±2000 °/s) --------------------------------------
STANDARD_GRAVITY: Final = 9.80665  # m/s² per g
ACC_FULL_SCALE_G: Final = 16.0
GYRO_FULL_SCALE_DPS: Final = 2000.0
ANGLE_FULL_SCALE_DEG: Final = 180.0
#: m/s² per count: 16 g / 32768.
ACC_SI_PER_LSB: Final = ACC_FULL_SCALE_G * STANDARD_GRAVITY / 32768.0
#: rad/s per count: 2000 °/s / 32768.
GYR_SI_PER_LSB: Final = math.radians(GYRO_FULL_SCALE_DPS) / 32768.0
#: rad per count: 180° / 32768.
ANGLE_SI_PER_LSB: Final = math.pi / 32768.0

# --- commands (host → device): FF AA reg lo hi --------------------------------------------
COMMAND_PREFIX: Final = b"\xff\xaa"
COMMAND_BYTES: Final = 5
REG_SAVE: Final = 0x00
REG_RATE: Final = 0x03
REG_READ: Final = 0x27
REG_KEY: Final = 0x69
#: Value written to REG_KEY to unlock register writes (bytes ``88 B5``).
UNLOCK_KEY: Final = 0xB588
#: How long an unlock lasts, s ("useful for 10 seconds").
UNLOCK_WINDOW_S: Final = 10.0
#: REG_SAVE values: save the current configuration; restore factory defaults (and save).
SAVE_CURRENT: Final = 0x0000
SAVE_FACTORY_DEFAULTS: Final = 0x0001

#: RATE register code → output rate in Hz, the WT901BLECL table (0x0A deliberately absent).
RATE_CODE_HZ: Final[dict[int, float]] = {
    0x01: 0.2,
    0x02: 0.5,
    0x03: 1.0,
    0x04: 2.0,
    0x05: 5.0,
    0x06: 10.0,
    0x07: 20.0,
    0x08: 50.0,
    0x09: 100.0,
    0x0B: 200.0,
}
#: Factory default output rate: code 0x06 = 10 Hz (datasheet, SDK examples).
DEFAULT_RATE_CODE: Final = 0x06
#: Rates LiftGuard configures. Below 10 Hz a sensor would look stale (> 250 ms between samples)
#: to the session even while working, so those codes are not offered.
SUPPORTED_RATE_HZ: Final = (10.0, 20.0, 50.0, 100.0, 200.0)
#: Above this rate the BLE 5.0 family's spec table (as quoted by ``RGu0/WT901``
#: ``docs/protocol.md`` §1) says output is "packed": several frames per notification when the
#: link's MTU allows; ``esphome-witmotion`` reports seeing frames joined at high rates.
PACKED_ABOVE_HZ: Final = 50.0
