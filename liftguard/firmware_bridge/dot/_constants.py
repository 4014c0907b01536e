"""Movella (Xsens) DOT protocol numbers: GATT UUIDs, payload modes, layouts, rates.

Sources, each fact checked against at least one of them:

* **Spec** — "Movella DOT BLE Service Specification", document XD0506P revision C (July 2023),
  the Movella-era release of "Xsens DOT BLE Services Specifications" XD0506P. LiftGuard's
  REFERENCE §3 summarises the Xsens-era rev F (not seen directly); every number it gives agrees
  with revision C. Tables cited below are revision C's: Table 2 services, Table 5
  configuration characteristics, Table 7 device control, Table 12 measurement characteristics,
  Table 13 control, Table 15 medium payloads, Table 17 measurement data types, §3.5.1 status
  bits, Table 18/19 orientation reset, Table 21 battery.
* **Server** — Xsens' own example ``xsens/xsens_dot_server`` (``bleHandler.js``): the control
  write ``[0x01, enable, mode]``, payload-mode numbers 2/16/20/22/23/24 in ``global.js``, field
  offsets of Extended (Quaternion) (quaternion @4, free acceleration @20, status @32, clip
  counters @34/@35) and Rate quantities with mag (acc @4, gyr @16, mag @28), the u32 timestamp
  at offset 0, and magnetometer int16 / 2¹².
* **SDK** — the Movella DOT SDK's recording-field enumeration: magnetic field is "3x int16 LE as
  fixed point 4.12" in arbitrary units; clip counters are uint8.
* **xdc** — ``adamkewley/xdc`` (a bleak DOT client): output-rate write = read device control,
  visit index 0x10, u16 rate after the 16-byte tag; battery = ``[level %, charging]``; heading
  reset type 1, revert 7.
* **Manual** — Xsens DOT User Manual XD0502P: streaming rates 1, 4, 10, 12, 15, 20, 30, 60 Hz
  (120 Hz for recording only); SampleTimeFine is a 1 MHz counter that starts at power-on, wraps
  at 2³² and restarts from 0 when the sensor reboots; 1 a.u. of magnetic field ≈ the field at
  Xsens' calibration lab (about 40 µT) — an approximation, not a scale, so LiftGuard keeps a.u.

Not found in any source (so modelled, and said so where used): the accelerometer and gyroscope
full-scale ranges (±16 g and ±2000 °/s are assumed), whether the clip counters count per packet
or cumulatively (per packet assumed: Table 17 says "amount of clipping samples"), the gravity
constant the firmware subtracts for free acceleration (9.81 m/s² assumed), and the advertised
manufacturer-data payload.
"""

from __future__ import annotations

from typing import Final

# --- GATT ---------------------------------------------------------------------------------


def dot_uuid(short: int) -> str:
    """Full 128-bit UUID of a DOT attribute from its 16-bit short form (Spec §1.1).

    ``dot_uuid(0x2001) == "15172001-4947-11e9-8646-d663bd873d93"`` (lower case, as bleak and the
    emulators compare them).
    """
    if not 0 <= short <= 0xFFFF:
        raise ValueError(f"short UUID must be 0..0xFFFF, got {short:#x}")
    return f"1517{short:04x}-4947-11e9-8646-d663bd873d93"


CONFIGURATION_SERVICE: Final = dot_uuid(0x1000)
#: 34 bytes, read (Spec Table 5/6).
DEVICE_INFO_CHAR: Final = dot_uuid(0x1001)
#: 32 bytes, read + write (Spec Table 5/7).
DEVICE_CONTROL_CHAR: Final = dot_uuid(0x1002)
#: 36 bytes, notify (Spec Table 5).
DEVICE_REPORT_CHAR: Final = dot_uuid(0x1004)

MEASUREMENT_SERVICE: Final = dot_uuid(0x2000)
#: 3 bytes ``[type, action, payload mode]``, read + write (Spec Table 12/13).
CONTROL_CHAR: Final = dot_uuid(0x2001)
#: Notify characteristics by payload size (Spec Table 12): long > 40 B (63-byte value), medium
#: 21-40 B (40-byte value), short ≤ 20 B (20-byte value).
LONG_PAYLOAD_CHAR: Final = dot_uuid(0x2002)
MEDIUM_PAYLOAD_CHAR: Final = dot_uuid(0x2003)
SHORT_PAYLOAD_CHAR: Final = dot_uuid(0x2004)
#: 2 bytes u16 type, read + write (Spec Table 12/18).
ORIENTATION_RESET_CONTROL_CHAR: Final = dot_uuid(0x2006)
#: 1 byte, read: 1 = success, 0 = fail (Spec Table 12/19).
ORIENTATION_RESET_STATUS_CHAR: Final = dot_uuid(0x2007)

BATTERY_SERVICE: Final = dot_uuid(0x3000)
#: 2 bytes ``[level %, charging]``, read + notify (Spec Table 20/21).
BATTERY_CHAR: Final = dot_uuid(0x3001)

LONG_PAYLOAD_LEN: Final = 63
MEDIUM_PAYLOAD_LEN: Final = 40
SHORT_PAYLOAD_LEN: Final = 20
DEVICE_INFO_LEN: Final = 34
DEVICE_CONTROL_LEN: Final = 32
DEVICE_REPORT_LEN: Final = 36

#: Bluetooth SIG company identifier of Movella Technologies B.V. (Spec §1.2): 2182 = 0x0886.
MOVELLA_COMPANY_ID: Final = 0x0886
#: Advertised local name of firmware 2.x (Spec Table 4; firmware ≤ 2.4.0 said "Xsens DOT").
ADVERTISED_NAME: Final = "Movella DOT"

# --- measurement control (Spec Table 13) --------------------------------------------------

CONTROL_TYPE_MEASUREMENT: Final = 1
ACTION_STOP: Final = 0
ACTION_START: Final = 1

MODE_EXTENDED_QUATERNION: Final = 2
MODE_COMPLETE_QUATERNION: Final = 3
MODE_RATE_QUANTITIES_WITH_MAG: Final = 20
MODE_RATE_QUANTITIES: Final = 21
#: Payload modes LiftGuard decodes (the firmware has more: Spec Table 13).
SUPPORTED_MODES: Final = (
    MODE_EXTENDED_QUATERNION,
    MODE_COMPLETE_QUATERNION,
    MODE_RATE_QUANTITIES_WITH_MAG,
    MODE_RATE_QUANTITIES,
)
MODE_NAMES: Final[dict[int, str]] = {
    MODE_EXTENDED_QUATERNION: "Extended (Quaternion)",
    MODE_COMPLETE_QUATERNION: "Complete (Quaternion)",
    MODE_RATE_QUANTITIES_WITH_MAG: "Rate quantities (with mag)",
    MODE_RATE_QUANTITIES: "Rate quantities",
}
#: Every payload mode number the firmware defines (Spec Table 13); the rest are invalid.
DEFINED_MODES: Final = frozenset((1, 2, 3, 4, 5, 6, 7, *range(16, 27)))
#: Payload size in bytes before zero padding (Spec Table 15); all four go out on the medium
#: characteristic, padded to :data:`MEDIUM_PAYLOAD_LEN`.
PAYLOAD_SIZE: Final[dict[int, int]] = {
    MODE_EXTENDED_QUATERNION: 36,  # t 4 + quat 16 + free acc 12 + status 2 + clip 1 + 1
    MODE_COMPLETE_QUATERNION: 32,  # t 4 + quat 16 + free acc 12
    MODE_RATE_QUANTITIES_WITH_MAG: 34,  # t 4 + acc 12 + gyr 12 + mag 6
    MODE_RATE_QUANTITIES: 28,  # t 4 + acc 12 + gyr 12
}
QUATERNION_MODES: Final = frozenset((MODE_EXTENDED_QUATERNION, MODE_COMPLETE_QUATERNION))
DEFAULT_MODE: Final = MODE_RATE_QUANTITIES

# --- device control (Spec Table 7) --------------------------------------------------------

#: Visit-index bits: set to make the firmware apply the matching field, clear to ignore it.
VISIT_IDENTIFY: Final = 0x01
VISIT_POWER_OFF: Final = 0x02
VISIT_POWER_SAVING: Final = 0x04
VISIT_TAG: Final = 0x08
VISIT_OUTPUT_RATE: Final = 0x10
VISIT_FILTER_PROFILE: Final = 0x20
#: Field offsets: visit 0, identify 1, power 2, power-saving X min/s 3-4 and Y min/s 5-6,
#: tag length 7, tag 8-23, output rate u16 24-25, filter profile 26, reserved 27-31.
DC_VISIT_OFFSET: Final = 0
DC_POWER_SAVING_OFFSET: Final = 3
DC_TAG_LEN_OFFSET: Final = 7
DC_TAG_OFFSET: Final = 8
DC_TAG_MAX: Final = 16
DC_OUTPUT_RATE_OFFSET: Final = 24
DC_FILTER_PROFILE_OFFSET: Final = 26
#: Output rates for real-time streaming, Hz (Spec Table 7; Manual Table 6).
STREAMING_RATES_HZ: Final = (1, 4, 10, 12, 15, 20, 30, 60)
#: Every value the output-rate field accepts: 120 Hz is for recording only.
DEVICE_RATES_HZ: Final = (*STREAMING_RATES_HZ, 120)
DEFAULT_RATE_HZ: Final = 60
#: Filter profiles (Spec Table 8): 0 General (default), 1 Dynamic.
FILTER_PROFILES: Final = (0, 1)

# --- orientation (heading) reset (Spec Table 18/19) --------------------------------------

HEADING_RESET: Final = 0x0001
HEADING_REVERT: Final = 0x0007
HEADING_DEFAULT: Final = 0x0008
RESET_FAIL: Final = 0
RESET_SUCCESS: Final = 1

# --- measurement data (Spec Table 17, §3.5.1) ---------------------------------------------

#: The device timestamp is a u32 microsecond counter; it wraps after 2³² µs ≈ 71.6 min.
TIMESTAMP_WRAP: Final = 1 << 32
#: Magnetometer fixed point 4.12: counts per arbitrary unit (SDK; Server divides by 2¹²).
MAG_COUNTS_PER_AU: Final = 4096.0
STATUS_CLIP_ACC: Final = 0x0007  # FL_ClipAccX | Y | Z
STATUS_CLIP_GYR: Final = 0x0038  # FL_ClipGyrX | Y | Z
STATUS_CLIP_MAG: Final = 0x01C0  # FL_ClipMagX | Y | Z
STATUS_MAG_IS_NEW: Final = 0x0200
#: Gravity the firmware removes from free acceleration, m/s² (not given by the spec; assumed).
FREE_ACC_GRAVITY: Final = 9.81

# --- sensor model (assumed, see module docstring) -----------------------------------------

STANDARD_GRAVITY: Final = 9.80665
ACC_RANGE_MS2: Final = 16.0 * STANDARD_GRAVITY
GYR_RANGE_DPS: Final = 2000.0
#: The DOT's strap-down integration runs at 60 Hz (Manual §3.1); every streaming rate divides it.
FUSION_RATE_HZ: Final = 60
