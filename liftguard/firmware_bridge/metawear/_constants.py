"""MetaWear firmware numbers: GATT UUIDs, module and register ids, scale tables.

Sources: LiftGuard's REFERENCE §3 and the MbientLab C++ SDK (``mbientlab/MetaWear-SDK-Cpp``).
What the SDK settled that REFERENCE left open:

* ``src/metawear/sensor/cpp/gyro_bosch_register.h`` lists the gyro registers for both chips:
  power mode 0x01, data-interrupt enable 0x02 and config 0x03 on BMI160 *and* BMI270; data 0x05 /
  packed 0x07 on BMI160, data 0x04 / packed 0x05 on BMI270. ``gyro_bosch.cpp`` sends the same
  start ``[0x13, 0x01, 1]``, stop ``[0x13, 0x01, 0]``, enable ``[0x13, 0x02, 1, 0]`` and disable
  ``[0x13, 0x02, 0, 1]`` for either chip, and its config struct puts the ODR in bits 0-3 and the
  bandwidth (default 2, hence the 0x20) in bits 4-5 of the first byte, the range in the second.
* ``accelerometer_bosch.cpp``: the single-sample acceleration register (0x04) is shared by
  BMI160 and BMI270; the BMI270 config byte 0 carries a performance bit 7 on top of bandwidth 2.
* ``src/metawear/core/cpp/moduleinfo.cpp``: a module-info reply is ``[module, 0x80, impl, rev,
  extra…]``; a reply of only two bytes means the module is absent (the SDK then records
  implementation and revision as 0xFF). The packed data registers need module revision ≥ 1.
* ``metawearboard.cpp``: the DIS model-number string "8" is a MetaMotion S.
"""

from __future__ import annotations

from typing import Final, Literal

Chip = Literal["bmi160", "bmi270"]
Stream = Literal["acc", "gyr"]

# --- GATT ---------------------------------------------------------------------------------
METAWEAR_SERVICE: Final = "326a9000-85cb-9195-d9dd-464cfbbae75a"
COMMAND_CHAR: Final = "326a9001-85cb-9195-d9dd-464cfbbae75a"
NOTIFY_CHAR: Final = "326a9006-85cb-9195-d9dd-464cfbbae75a"
DIS_SERVICE: Final = "0000180a-0000-1000-8000-00805f9b34fb"
MODEL_CHAR: Final = "00002a24-0000-1000-8000-00805f9b34fb"
FIRMWARE_CHAR: Final = "00002a26-0000-1000-8000-00805f9b34fb"
MANUFACTURER_CHAR: Final = "00002a29-0000-1000-8000-00805f9b34fb"

#: DIS model-number string of a MetaMotion S, as the SDK maps it.
MODEL_METAMOTION_S: Final = "8"

# --- modules ------------------------------------------------------------------------------
MODULE_ACCELEROMETER: Final = 0x03
MODULE_DATA_PROCESSOR: Final = 0x09
MODULE_SETTINGS: Final = 0x11
MODULE_GYRO: Final = 0x13
MODULE_MAGNETOMETER: Final = 0x15
MODULE_SENSOR_FUSION: Final = 0x19

# --- registers ----------------------------------------------------------------------------
#: ``register | READ_BIT`` reads a register; replies carry the same header.
READ_BIT: Final = 0x80
#: Register 0 read = module discovery, so the request is ``[module, 0x80]``.
REG_MODULE_INFO: Final = 0x00
REG_POWER: Final = 0x01
REG_INTERRUPT_ENABLE: Final = 0x02
REG_CONFIG: Final = 0x03

ACC_DATA_REGISTER: Final[dict[str, int]] = {"bmi160": 0x04, "bmi270": 0x04}
ACC_PACKED_REGISTER: Final[dict[str, int]] = {"bmi160": 0x1C, "bmi270": 0x05}
GYRO_DATA_REGISTER: Final[dict[str, int]] = {"bmi160": 0x05, "bmi270": 0x04}
GYRO_PACKED_REGISTER: Final[dict[str, int]] = {"bmi160": 0x07, "bmi270": 0x05}

# --- module discovery ---------------------------------------------------------------------
ACC_IMPLEMENTATION: Final[dict[str, int]] = {"bmi160": 1, "bmi270": 4}
GYRO_IMPLEMENTATION: Final[dict[str, int]] = {"bmi160": 0, "bmi270": 1}
#: Implementation/revision the SDK records for a module whose info reply is empty.
MODULE_ABSENT: Final = 0xFF

# --- config bytes -------------------------------------------------------------------------
#: ODR code of 100 Hz; each step up doubles the rate (code = 8 + log2(odr / 100 Hz)).
ODR_CODE_100HZ: Final = 8
#: Rates LiftGuard configures (the chips offer more; these share one code for acc and gyro).
SUPPORTED_ODR_HZ: Final = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0)
#: Bandwidth field value 2 (normal filter) in bits 4-6 of config byte 0, both sensors.
CONFIG_BANDWIDTH_NORMAL: Final = 0x20
#: BMI270 accelerometer "filter performance" bit in config byte 0.
BMI270_ACC_PERFORMANCE: Final = 0x80
#: ODR codes each sensor accepts in config byte 0 (emulator validation): 0.78-1600 Hz for the
#: accelerometers, 25-3200 Hz for the gyros.
ACC_ODR_CODES: Final = range(1, 13)
GYRO_ODR_CODES: Final = range(6, 14)

# --- scales -------------------------------------------------------------------------------
STANDARD_GRAVITY: Final = 9.80665  # m/s² per g
ACC_RANGE_CODE: Final[dict[str, dict[int, int]]] = {
    "bmi160": {2: 0x3, 4: 0x5, 8: 0x8, 16: 0xC},
    "bmi270": {2: 0x0, 4: 0x1, 8: 0x2, 16: 0x3},
}
ACC_LSB_PER_G: Final[dict[int, float]] = {2: 16384.0, 4: 8192.0, 8: 4096.0, 16: 2048.0}
GYRO_RANGE_CODE: Final[dict[int, int]] = {2000: 0, 1000: 1, 500: 2, 250: 3, 125: 4}
GYRO_LSB_PER_DPS: Final[dict[int, float]] = {
    2000: 16.4,
    1000: 32.8,
    500: 65.6,
    250: 131.2,
    125: 262.4,
}

# --- packet geometry ----------------------------------------------------------------------
HEADER_BYTES: Final = 2
SAMPLE_BYTES: Final = 6  # int16 x, y, z
PACKED_SAMPLES: Final = 3
INT16_MIN: Final = -32768
INT16_MAX: Final = 32767
