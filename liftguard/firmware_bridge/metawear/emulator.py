"""A byte-exact MetaMotion (MetaWear firmware) emulator: accelerometer + gyro streaming.

The firmware model, per sensor (accelerometer 0x03, gyro 0x13):

* config register 0x03 holds the last *valid* 2-byte config written (invalid ODR or range codes
  are ignored, as the firmware ignores them); it is latched when the sensor powers on, so a
  config write while running takes effect at the next start (the SDK forbids configuring an
  active Bosch sensor);
* power register 0x01 starts the sample clock: sample ``k`` is taken at device time
  ``t0 + k / odr × (1 + clock_ppm·1e-6)``, ``k = 0, 1, …``, with each sensor's own ODR from its
  own config (accelerometer and gyro may run at different rates);
* a command written at time ``t`` takes effect before a sample taken at exactly ``t``;
* a sample is notified only while its data register is subscribed (``[mod, reg, 1]``) *and* the
  data interrupt is enabled (``[mod, 0x02, 1, 0]``); samples taken otherwise are lost;
* packed registers send three samples at the time of the third; a partial pack is dropped when
  the sensor stops, its interrupt is disabled or the register is unsubscribed;
* a disconnect tears streaming down (unsubscribed, disabled, powered off); config survives.

Only the accelerometer and gyro modules report present in discovery: every other module answers
with the empty ``[mod, 0x80]`` reply of an absent module, so a driver never relies on behaviour
this emulator does not have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge.emulation import (
    Advertisement,
    CharacteristicSpec,
    MotionSource,
    Notification,
    ServiceSpec,
)

from ._constants import (
    ACC_DATA_REGISTER,
    ACC_IMPLEMENTATION,
    ACC_LSB_PER_G,
    ACC_ODR_CODES,
    ACC_PACKED_REGISTER,
    ACC_RANGE_CODE,
    COMMAND_CHAR,
    DIS_SERVICE,
    FIRMWARE_CHAR,
    GYRO_DATA_REGISTER,
    GYRO_IMPLEMENTATION,
    GYRO_LSB_PER_DPS,
    GYRO_ODR_CODES,
    GYRO_PACKED_REGISTER,
    GYRO_RANGE_CODE,
    HEADER_BYTES,
    INT16_MAX,
    INT16_MIN,
    MANUFACTURER_CHAR,
    METAWEAR_SERVICE,
    MODEL_CHAR,
    MODEL_METAMOTION_S,
    MODULE_ACCELEROMETER,
    MODULE_GYRO,
    NOTIFY_CHAR,
    ODR_CODE_100HZ,
    PACKED_SAMPLES,
    READ_BIT,
    REG_CONFIG,
    REG_INTERRUPT_ENABLE,
    REG_MODULE_INFO,
    REG_POWER,
    STANDARD_GRAVITY,
    Stream,
)
from .codec import frame_samples

if TYPE_CHECKING:
    from liftguard.firmware_bridge.emulation import EmulatedDevice

__all__ = ["MetaMotionEmulator"]

FloatArray = npt.NDArray[np.float64]
Int16Array = npt.NDArray[np.int16]

#: Module revision reported for acc and gyro: packed registers need revision ≥ 1 in the SDK.
_MODULE_REVISION = 1
#: Power-on config bytes, the SDK's defaults: 100 Hz, ±2 g (BMI160) / ±8 g (BMI270), ±2000 °/s.
_DEFAULT_ACC_CONFIG = {"bmi160": (0x28, 0x03), "bmi270": (0xA8, 0x02)}
_DEFAULT_GYRO_CONFIG = (0x28, 0x00)
#: Slack, in sample periods, when deciding whether a sample is due: `now` computed by the caller
#: as t0 + k/odr must count sample k as due despite float rounding (1e-6 × 10 ms = 10 ns).
_DUE_SLACK = 1e-6


@dataclass
class _Sensor:
    """Firmware state of one Bosch sensor (accelerometer or gyro)."""

    stream: Stream
    module: int
    implementation: int
    single_register: int
    packed_register: int
    odr_codes: range
    lsb_per_si: dict[int, float]  # range code -> counts per m/s² or per rad/s
    config: tuple[int, int]
    subscribed: set[int] = field(default_factory=set)
    enabled: bool = False
    powered: bool = False
    # Latched at power-on:
    t0: float = 0.0
    period: float = 0.01
    scale: float = 1.0
    k_next: int = 0
    # Samples of an unfinished packed notification: (p, 3) counts and (p,) times, p < 3.
    pending_raw: Int16Array = field(default_factory=lambda: np.zeros((0, 3), np.int16))
    pending_t: FloatArray = field(default_factory=lambda: np.zeros(0))

    @property
    def streaming(self) -> bool:
        return self.powered and self.enabled and bool(self.subscribed)

    def accepts(self, b0: int, b1: int) -> bool:
        return (b0 & 0x0F) in self.odr_codes and b1 in self.lsb_per_si

    def drop_pending(self) -> None:
        self.pending_raw = self.pending_raw[:0]
        self.pending_t = self.pending_t[:0]

    def reset(self) -> None:
        self.subscribed.clear()
        self.enabled = False
        self.powered = False
        self.drop_pending()


class MetaMotionEmulator:
    """A MetaMotion board's firmware for acc + gyro streaming, behind its GATT table.

    Args:
        motion: what the board physically experiences.
        address: BLE address, e.g. ``"C4:5A:1B:00:00:01"``.
        name: advertised local name.
        chip: IMU, ``"bmi160"`` (MetaMotion R/RL/C) or ``"bmi270"`` (MetaMotion S).
        firmware: DIS firmware revision string.
        model: DIS model-number string (``"8"`` is a MetaMotion S to the SDK).
        rssi: advertised signal strength, dBm.
        clock_ppm: device clock error in parts per million; sample times are the nominal
            ``k / odr`` scaled by ``1 + clock_ppm·1e-6`` (positive = slower sampling).

    Deterministic: the same calls with the same times give the same bytes. ``advance`` costs a
    handful of numpy operations and one ``motion.imu`` call however many samples are due.
    """

    family = "metawear"

    def __init__(
        self,
        motion: MotionSource,
        *,
        address: str,
        name: str = "MetaWear",
        chip: Literal["bmi160", "bmi270"] = "bmi160",
        firmware: str = "1.7.3",
        model: str = MODEL_METAMOTION_S,
        rssi: int = -60,
        clock_ppm: float = 0.0,
    ) -> None:
        if chip not in ACC_IMPLEMENTATION:
            raise ConfigError(f"chip must be 'bmi160' or 'bmi270', got {chip!r}")
        if not math.isfinite(clock_ppm) or abs(clock_ppm) >= 1e6:
            raise ConfigError(f"clock_ppm must be finite and within ±1e6, got {clock_ppm!r}")
        self.motion = motion
        self.address = address
        self.name = name
        self.chip = chip
        self.firmware = firmware
        self.model = model
        self.rssi = rssi
        self.clock_ppm = float(clock_ppm)
        self.connected = False
        acc_counts = {
            code: ACC_LSB_PER_G[g] / STANDARD_GRAVITY for g, code in ACC_RANGE_CODE[chip].items()
        }
        gyr_counts = {
            GYRO_RANGE_CODE[dps]: lsb / math.radians(1.0) for dps, lsb in GYRO_LSB_PER_DPS.items()
        }
        self._sensors: dict[int, _Sensor] = {
            MODULE_ACCELEROMETER: _Sensor(
                "acc",
                MODULE_ACCELEROMETER,
                ACC_IMPLEMENTATION[chip],
                ACC_DATA_REGISTER[chip],
                ACC_PACKED_REGISTER[chip],
                ACC_ODR_CODES,
                acc_counts,
                _DEFAULT_ACC_CONFIG[chip],
            ),
            MODULE_GYRO: _Sensor(
                "gyr",
                MODULE_GYRO,
                GYRO_IMPLEMENTATION[chip],
                GYRO_DATA_REGISTER[chip],
                GYRO_PACKED_REGISTER[chip],
                GYRO_ODR_CODES,
                gyr_counts,
                _DEFAULT_GYRO_CONFIG,
            ),
        }
        self._outbox: list[Notification] = []
        self._dis = {
            FIRMWARE_CHAR: firmware.encode(),
            MODEL_CHAR: model.encode(),
            MANUFACTURER_CHAR: b"MbientLab Inc",
        }

    # --- GATT table ----------------------------------------------------------------------

    @property
    def services(self) -> tuple[ServiceSpec, ...]:
        """MetaWear service (command, notify) and Device Information (firmware, model, maker)."""
        return (
            ServiceSpec(
                METAWEAR_SERVICE,
                (
                    CharacteristicSpec(COMMAND_CHAR, ("write-without-response", "write")),
                    CharacteristicSpec(NOTIFY_CHAR, ("notify",)),
                ),
            ),
            ServiceSpec(
                DIS_SERVICE,
                tuple(CharacteristicSpec(uuid, ("read",)) for uuid in self._dis),
            ),
        )

    def advertisement(self) -> Advertisement:
        """Local name and the MetaWear service UUID, at the configured RSSI."""
        return Advertisement(
            local_name=self.name, service_uuids=(METAWEAR_SERVICE,), rssi=self.rssi
        )

    # --- link ----------------------------------------------------------------------------

    def connect(self, now: float) -> None:
        """A central connected at device time ``now`` (s). Streaming state starts torn down."""
        self.connected = True

    def disconnect(self, now: float) -> None:
        """The link dropped at ``now`` (s): streams stop, unsent notifications are lost."""
        self.connected = False
        for sensor in self._sensors.values():
            sensor.reset()
        self._outbox.clear()

    def read(self, uuid: str, now: float) -> bytes:
        """DIS string of ``uuid`` (firmware, model, manufacturer) as UTF-8 bytes.

        Raises :class:`~liftguard.errors.ProtocolError` for a characteristic that is not
        readable.
        """
        try:
            return self._dis[uuid.lower()]
        except KeyError:
            raise ProtocolError(
                f"{self.name}: characteristic {uuid} is not readable", reason="not_readable"
            ) from None

    # --- commands ------------------------------------------------------------------------

    def write(self, uuid: str, data: bytes, now: float) -> list[Notification]:
        """Handle a command written to COMMAND_CHAR at ``now`` (s).

        Returns the immediate replies: module info for ``[mod, 0x80]``, config bytes for
        ``[mod, 0x83]`` on acc/gyro. Streaming samples due before ``now`` under the old state are
        kept for the next :meth:`advance`. Unknown or malformed commands are ignored, as the
        firmware ignores them. Raises :class:`~liftguard.errors.ProtocolError` for a write to any
        other characteristic.
        """
        if uuid.lower() != COMMAND_CHAR:
            raise ProtocolError(
                f"{self.name}: characteristic {uuid} is not writable", reason="not_writable"
            )
        data = bytes(data)
        if len(data) < HEADER_BYTES:
            return []
        module, register = data[0], data[1]
        sensor = self._sensors.get(module)
        if register == REG_MODULE_INFO | READ_BIT:
            return [Notification(now, NOTIFY_CHAR, self._module_info(module))]
        if register & READ_BIT:
            if sensor is not None and register == REG_CONFIG | READ_BIT:
                reply = bytes((module, register, *sensor.config))
                return [Notification(now, NOTIFY_CHAR, reply)]
            return []
        if sensor is None:
            return []
        # Samples already taken belong to the state they were taken under. A command at `now`
        # acts before a sample at exactly `now`, so this takes only earlier samples; that also
        # keeps the times handed to motion.imu strictly increasing from call to call.
        self._catch_up(now, inclusive=False)
        args = data[HEADER_BYTES:]
        if register == REG_POWER and len(args) == 1 and args[0] in (0, 1):
            self._power(sensor, bool(args[0]), now)
        elif register == REG_INTERRUPT_ENABLE and len(args) == 2:
            # [enable mask, disable mask]: bit 0 is the data-ready interrupt.
            if args[0] & 1:
                sensor.enabled = True
            if args[1] & 1:
                sensor.enabled = False
                sensor.drop_pending()
        elif register == REG_CONFIG and len(args) == 2:
            if sensor.accepts(args[0], args[1]):
                sensor.config = (args[0], args[1])
        elif (
            register in (sensor.single_register, sensor.packed_register)
            and len(args) == 1
            and args[0] in (0, 1)
        ):
            if args[0]:
                sensor.subscribed.add(register)
            else:
                sensor.subscribed.discard(register)
                if register == sensor.packed_register:
                    sensor.drop_pending()
        return []

    def _module_info(self, module: int) -> bytes:
        sensor = self._sensors.get(module)
        if sensor is None:
            return bytes((module, REG_MODULE_INFO | READ_BIT))
        return bytes((module, REG_MODULE_INFO | READ_BIT, sensor.implementation, _MODULE_REVISION))

    def _power(self, sensor: _Sensor, on: bool, now: float) -> None:
        if on == sensor.powered:
            return  # a second start must not restart the sample clock
        sensor.powered = on
        sensor.drop_pending()
        if on:
            odr_hz = 100.0 * 2.0 ** ((sensor.config[0] & 0x0F) - ODR_CODE_100HZ)
            sensor.t0 = float(now)
            sensor.period = (1.0 + self.clock_ppm * 1e-6) / odr_hz
            sensor.scale = sensor.lsb_per_si[sensor.config[1]]
            sensor.k_next = 0

    # --- streaming -----------------------------------------------------------------------

    def advance(self, now: float) -> list[Notification]:
        """Streaming notifications due up to and including device time ``now`` (s).

        In time order, acc and gyro interleaved (acc first on equal times), each sensor at its
        own ODR. Each is a single
        sample (8 bytes) or a packed triple (20 bytes) on NOTIFY_CHAR, stamped with the time of
        its last sample.
        """
        self._catch_up(now, inclusive=True)
        out = sorted(self._outbox, key=attrgetter("t"))
        self._outbox.clear()
        return out

    def _catch_up(self, now: float, *, inclusive: bool) -> None:
        """Take every sample due by ``now`` (or before it) and queue its notifications."""
        due: list[tuple[_Sensor, FloatArray]] = []
        for sensor in self._sensors.values():
            if not sensor.powered:
                continue
            x = (now - sensor.t0) / sensor.period
            k_end = math.floor(x + _DUE_SLACK) if inclusive else math.ceil(x - _DUE_SLACK) - 1
            if k_end < sensor.k_next:
                continue
            if sensor.streaming:
                k = np.arange(sensor.k_next, k_end + 1, dtype=np.float64)
                due.append((sensor, sensor.t0 + k * sensor.period))
            sensor.k_next = k_end + 1
        if not due:
            return
        # One imu() call for both sensors, on strictly increasing times (the MotionSource
        # contract), even when acc and gyro sample at the same instants.
        picks: list[slice | npt.NDArray[np.intp]]
        if len(due) == 1 or all(np.array_equal(due[0][1], t) for _, t in due[1:]):
            # The usual case: one sensor, or acc and gyro started together at the same ODR.
            acc, gyr = self.motion.imu(due[0][1])
            picks = [slice(None)] * len(due)
        else:
            joined = np.concatenate([t for _, t in due])
            times, inverse = np.unique(joined, return_inverse=True)
            acc, gyr = self.motion.imu(times)
            picks = list(np.split(inverse.reshape(-1), np.cumsum([t.size for _, t in due])[:-1]))
        for (sensor, t), pick in zip(due, picks, strict=True):
            si = (acc if sensor.stream == "acc" else gyr)[pick]
            raw = np.clip(np.rint(si * sensor.scale), INT16_MIN, INT16_MAX).astype(np.int16)
            self._emit(sensor, raw, np.minimum(t, now))

    def _emit(self, sensor: _Sensor, raw: Int16Array, t: FloatArray) -> None:
        if sensor.single_register in sensor.subscribed:
            frames = frame_samples(sensor.module, sensor.single_register, raw, 1)
            self._queue(frames, t)
        if sensor.packed_register in sensor.subscribed:
            if sensor.pending_t.size:
                raw = np.concatenate([sensor.pending_raw, raw])
                t = np.concatenate([sensor.pending_t, t])
            full = raw.shape[0] - raw.shape[0] % PACKED_SAMPLES
            frames = frame_samples(
                sensor.module, sensor.packed_register, raw[:full], PACKED_SAMPLES
            )
            self._queue(frames, t[PACKED_SAMPLES - 1 : full : PACKED_SAMPLES])
            sensor.pending_raw = raw[full:].copy()
            sensor.pending_t = t[full:].copy()

    def _queue(self, frames: list[bytes], t: FloatArray) -> None:
        pairs = zip(t.tolist(), frames, strict=True)
        self._outbox.extend(Notification(ti, NOTIFY_CHAR, frame) for ti, frame in pairs)


if TYPE_CHECKING:

    def _conforms(device: MetaMotionEmulator) -> EmulatedDevice:
        # mypy proves the emulator satisfies the EmulatedDevice protocol here.
        return device
