"""A byte-exact Movella DOT emulator: measurement service, device control, heading, battery.

The firmware model:

* **Clock.** A u32 microsecond counter (the DOT's SampleTimeFine) that reads
  ``clock_offset_us`` at emulator time 0 and wraps at 2³²; the offset is drawn from ``seed``
  unless given, so tests can put the wrap anywhere. ``clock_ppm`` makes the crystal slow
  (positive) or fast: at true time ``t`` the counter has advanced ``t / (1 + ppm·1e-6)`` s.
* **Sampling.** While measuring, the firmware runs its inertial pipeline at 60 Hz (the rate the
  DOT's strap-down integration delivers, user manual §3.1) on a grid starting at the start
  command: sample ``j`` is taken at ``t0 + j/60 × (1 + ppm·1e-6)`` and stamped with the
  counter. Every ``60 / rate``-th sample is notified (all streaming rates divide 60). A real
  DOT integrates 800 Hz data into each output; this emulator samples the motion source at the
  grid instants instead.
* **Fusion.** The real DOT runs Xsens' own Kalman filter (XKFCore). The emulator runs a real
  estimator rather than echoing ground truth: :class:`vqf.VQF` (6D, default parameters) on the
  60 Hz samples, initialised to the first sample's inclination with zero heading, from every
  start. Modes 2 and 3 send its quaternion (after any heading reset) and free acceleration
  ``R(q)·acc − [0, 0, 9.81]``; mode 20's magnetometer is a fixed earth field ``mag_world``
  (a.u.) seen through that orientation.
* **Range.** Accelerometer and gyroscope values saturate at ±16 g and ±2000 °/s (assumed ranges,
  not in the BLE spec). Mode 2's status word gets the clip bit of every axis that clipped in
  any 60 Hz sample since the previous notification, and its counters the number of such
  samples (capped at 255); the other modes carry the saturated values only.
* **Control.** ``[1, 1, mode]`` on the control characteristic starts (ignored while measuring,
  and for modes this emulator does not produce), ``[1, 0, x]`` stops. A write at time ``t``
  acts before a sample due at exactly ``t``. The output rate and filter profile cannot change
  while measuring (Spec Table 7): such writes leave them as they were. A disconnect stops
  measurement; the output rate and heading reset survive it (Spec §3.6).
* **Heading reset.** Valid only while measuring; a second reset needs a revert first (Spec
  §3.6). Reset makes the current heading zero: later quaternions are ``q_h ⊗ q`` with ``q_h`` a
  rotation about the vertical. The status characteristic reads 1 after a successful reset or
  revert and 0 after a refused one.
* **Battery.** Readable ``[level %, charging]``; :meth:`DotEmulator.set_battery` notifies a
  change, as the firmware does when the level changes.

Not modelled: identify (LED) and power-off requests (an emulator cannot end the link through
:class:`EmulatedDevice`), the device report and message services, synchronisation, recording.
"""

from __future__ import annotations

import math
import random
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from vqf import VQF

from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge.emulation import (
    Advertisement,
    CharacteristicSpec,
    MotionSource,
    Notification,
    ServiceSpec,
)

from ._constants import (
    ACC_RANGE_MS2,
    ACTION_START,
    ACTION_STOP,
    ADVERTISED_NAME,
    BATTERY_CHAR,
    BATTERY_SERVICE,
    CONFIGURATION_SERVICE,
    CONTROL_CHAR,
    CONTROL_TYPE_MEASUREMENT,
    DC_FILTER_PROFILE_OFFSET,
    DC_OUTPUT_RATE_OFFSET,
    DC_POWER_SAVING_OFFSET,
    DC_TAG_LEN_OFFSET,
    DC_TAG_MAX,
    DC_TAG_OFFSET,
    DC_VISIT_OFFSET,
    DEFAULT_MODE,
    DEFAULT_RATE_HZ,
    DEVICE_CONTROL_CHAR,
    DEVICE_CONTROL_LEN,
    DEVICE_INFO_CHAR,
    DEVICE_INFO_LEN,
    DEVICE_RATES_HZ,
    DEVICE_REPORT_CHAR,
    FILTER_PROFILES,
    FREE_ACC_GRAVITY,
    FUSION_RATE_HZ,
    GYR_RANGE_DPS,
    HEADING_DEFAULT,
    HEADING_RESET,
    HEADING_REVERT,
    LONG_PAYLOAD_CHAR,
    MEASUREMENT_SERVICE,
    MEDIUM_PAYLOAD_CHAR,
    MOVELLA_COMPANY_ID,
    ORIENTATION_RESET_CONTROL_CHAR,
    ORIENTATION_RESET_STATUS_CHAR,
    RESET_FAIL,
    RESET_SUCCESS,
    SHORT_PAYLOAD_CHAR,
    SUPPORTED_MODES,
    TIMESTAMP_WRAP,
    VISIT_FILTER_PROFILE,
    VISIT_OUTPUT_RATE,
    VISIT_POWER_SAVING,
    VISIT_TAG,
)
from .codec import encode_packets, quat_mul, quat_rotate

if TYPE_CHECKING:
    from liftguard.firmware_bridge.emulation import EmulatedDevice

__all__ = ["DotEmulator"]

FloatArray = npt.NDArray[np.float64]

#: Slack, in sample periods, when deciding whether a sample is due: a `now` computed by the
#: caller as t0 + j/60 must count sample j as due despite float rounding.
_DUE_SLACK = 1e-6
_IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])
#: Default earth field in the world frame (z up), a.u.: 1 a.u. pointing 67° below horizontal.
_MAG_WORLD = (0.0, math.cos(math.radians(67.0)), -math.sin(math.radians(67.0)))
#: Power-saving defaults of Spec Table 7: X 10 min 0 s (advertising), Y 30 min 0 s (connected).
_POWER_SAVING_DEFAULT = (10, 0, 30, 0)
_POWER_SAVING_LIMITS = (30, 60, 30, 60)
_AXIS_BITS = np.array([1, 2, 4], dtype=np.int64)


def _gravity_alignment(acc: FloatArray) -> FloatArray:
    """Shortest rotation taking the measured up direction ``acc`` (3,) onto world +z."""
    norm = float(np.linalg.norm(acc))
    if norm < 1e-6:
        return _IDENTITY.copy()
    a = acc / norm
    axis = np.cross(a, [0.0, 0.0, 1.0])
    s = float(np.linalg.norm(axis))
    if s < 1e-9:
        return _IDENTITY.copy() if a[2] > 0 else np.array([0.0, 1.0, 0.0, 0.0])
    angle = math.atan2(s, float(a[2]))
    return np.concatenate([[math.cos(angle / 2)], math.sin(angle / 2) * axis / s])


def _yaw(q: FloatArray) -> float:
    """Heading (rad) of a sensor-to-world ``q`` in the z-y-x Euler sequence."""
    w, x, y, z = (float(c) for c in q)
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def _mac_bytes(address: str) -> bytes:
    """BD_ADDR of ``address`` least significant byte first; zeros if it is not a MAC."""
    parts = address.split(":")
    try:
        octets = bytes(int(p, 16) for p in parts)
    except ValueError:
        return bytes(6)
    return octets[::-1] if len(octets) == 6 else bytes(6)


class DotEmulator:
    """A Movella DOT's firmware behind its GATT table (see the module docstring).

    Args:
        motion: what the sensor physically experiences.
        address: BLE address, e.g. ``"D4:22:CD:00:00:01"`` (DOT v2 addresses are D4:22:CD:…).
        name: advertised local name ("Movella DOT" on firmware 2.x; "Xsens DOT" before).
        seed: draws the clock offset and serial number when not given.
        clock_offset_us: device counter at emulator time 0, µs (0 … 2³²−1).
        clock_ppm: device crystal error in parts per million (positive = slow).
        battery_percent: battery level, 0-100 %.
        charging: charging status.
        firmware: ``(major, minor, revision)`` reported in device info.
        rssi: advertised signal strength, dBm.
        mag_world: earth magnetic field in the world frame, a.u. (mode 20).

    Deterministic: the same calls with the same times give the same bytes. ``advance`` costs one
    ``motion.imu`` call and one VQF batch update however many samples are due.
    """

    family = "dot"

    def __init__(
        self,
        motion: MotionSource,
        *,
        address: str,
        name: str = ADVERTISED_NAME,
        seed: int = 0,
        clock_offset_us: int | None = None,
        clock_ppm: float = 0.0,
        battery_percent: int = 87,
        charging: bool = False,
        firmware: tuple[int, int, int] = (2, 6, 0),
        rssi: int = -60,
        mag_world: tuple[float, float, float] = _MAG_WORLD,
    ) -> None:
        if not math.isfinite(clock_ppm) or abs(clock_ppm) >= 1e6:
            raise ConfigError(f"clock_ppm must be finite and within ±1e6, got {clock_ppm!r}")
        if not 0 <= battery_percent <= 100:
            raise ConfigError(f"battery_percent must be 0..100, got {battery_percent!r}")
        rng = random.Random(seed)
        offset = rng.randrange(TIMESTAMP_WRAP) if clock_offset_us is None else clock_offset_us
        if not 0 <= offset < TIMESTAMP_WRAP:
            raise ConfigError(f"clock_offset_us must be 0..2**32-1, got {offset!r}")
        self.motion = motion
        self.address = address
        self.name = name
        self.rssi = rssi
        self.clock_offset_us = int(offset)
        self.clock_ppm = float(clock_ppm)
        self.firmware = firmware
        self.serial = rng.randrange(1 << 48)
        self.battery_percent = int(battery_percent)
        self.charging = bool(charging)
        self.mag_world = np.asarray(mag_world, dtype=np.float64)
        self.connected = False
        # Non-volatile settings (device control) and state that survives a disconnect.
        self.output_rate = DEFAULT_RATE_HZ
        self.filter_profile = 0
        self.tag = name.encode()[:DC_TAG_MAX]
        self.power_saving = _POWER_SAVING_DEFAULT
        self.heading_type = HEADING_DEFAULT
        self.heading_status = RESET_FAIL
        self._heading_q = _IDENTITY.copy()
        # Measurement state.
        self.measuring = False
        self.mode = DEFAULT_MODE
        self._t0 = 0.0
        self._start_us = 0
        self._period = 1.0 / FUSION_RATE_HZ
        self._stride = 1
        self._j_next = 0
        self._vqf: VQF | None = None
        self._last_q: FloatArray | None = None  # newest VQF estimate, before heading reset
        self._carry_bits = 0  # clip status bits and counts since the last notification
        self._carry_acc = 0
        self._carry_gyr = 0
        self._outbox: list[Notification] = []

    # --- GATT table ----------------------------------------------------------------------

    @property
    def services(self) -> tuple[ServiceSpec, ...]:
        """Configuration (0x1000), measurement (0x2000) and battery (0x3000) services."""
        rw = ("read", "write")
        return (
            ServiceSpec(
                CONFIGURATION_SERVICE,
                (
                    CharacteristicSpec(DEVICE_INFO_CHAR, ("read",)),
                    CharacteristicSpec(DEVICE_CONTROL_CHAR, rw),
                    CharacteristicSpec(DEVICE_REPORT_CHAR, ("notify",)),
                ),
            ),
            ServiceSpec(
                MEASUREMENT_SERVICE,
                (
                    CharacteristicSpec(CONTROL_CHAR, rw),
                    CharacteristicSpec(LONG_PAYLOAD_CHAR, ("notify",)),
                    CharacteristicSpec(MEDIUM_PAYLOAD_CHAR, ("notify",)),
                    CharacteristicSpec(SHORT_PAYLOAD_CHAR, ("notify",)),
                    CharacteristicSpec(ORIENTATION_RESET_CONTROL_CHAR, rw),
                    CharacteristicSpec(ORIENTATION_RESET_STATUS_CHAR, ("read",)),
                ),
            ),
            ServiceSpec(BATTERY_SERVICE, (CharacteristicSpec(BATTERY_CHAR, ("read", "notify")),)),
        )

    def advertisement(self) -> Advertisement:
        """Local name and Movella's company id (its payload is not specified; sent empty)."""
        return Advertisement(
            local_name=self.name,
            manufacturer_data={MOVELLA_COMPANY_ID: b""},
            rssi=self.rssi,
        )

    # --- clock ---------------------------------------------------------------------------

    def device_time_us(self, now: float) -> int:
        """The device's u32 microsecond counter at emulator time ``now`` (s)."""
        crystal = now / (1.0 + self.clock_ppm * 1e-6)
        return (self.clock_offset_us + math.floor(crystal * 1e6)) % TIMESTAMP_WRAP

    # --- link ----------------------------------------------------------------------------

    def connect(self, now: float) -> None:
        """A central connected at ``now`` (s); measurement starts stopped."""
        self.connected = True

    def disconnect(self, now: float) -> None:
        """The link dropped at ``now`` (s): measurement stops, unsent notifications are lost."""
        self.connected = False
        self._stop()
        self._outbox.clear()

    def set_battery(self, percent: int, charging: bool, now: float) -> None:
        """Change the battery state at ``now``; a level change is notified on BATTERY_CHAR."""
        if not 0 <= percent <= 100:
            raise ConfigError(f"battery percent must be 0..100, got {percent!r}")
        changed = percent != self.battery_percent
        self.battery_percent, self.charging = int(percent), bool(charging)
        if changed and self.connected:
            self._outbox.append(Notification(now, BATTERY_CHAR, self._battery_value()))

    # --- reads ---------------------------------------------------------------------------

    def read(self, uuid: str, now: float) -> bytes:
        """Value of a readable characteristic at ``now``.

        Raises :class:`~liftguard.errors.ProtocolError` for one that is not readable.
        """
        key = uuid.lower()
        if key == CONTROL_CHAR:
            return bytes((CONTROL_TYPE_MEASUREMENT, int(self.measuring), self.mode))
        if key == DEVICE_CONTROL_CHAR:
            return self._device_control_value()
        if key == DEVICE_INFO_CHAR:
            return self._device_info_value()
        if key == BATTERY_CHAR:
            return self._battery_value()
        if key == ORIENTATION_RESET_CONTROL_CHAR:
            return self.heading_type.to_bytes(2, "little")
        if key == ORIENTATION_RESET_STATUS_CHAR:
            return bytes((self.heading_status,))
        raise ProtocolError(
            f"{self.name}: characteristic {uuid} is not readable", reason="not_readable"
        )

    def _battery_value(self) -> bytes:
        return bytes((self.battery_percent, int(self.charging)))

    def _device_control_value(self) -> bytes:
        value = bytearray(DEVICE_CONTROL_LEN)
        value[DC_POWER_SAVING_OFFSET : DC_POWER_SAVING_OFFSET + 4] = bytes(self.power_saving)
        value[DC_TAG_LEN_OFFSET] = len(self.tag)
        value[DC_TAG_OFFSET : DC_TAG_OFFSET + len(self.tag)] = self.tag
        value[DC_OUTPUT_RATE_OFFSET : DC_OUTPUT_RATE_OFFSET + 2] = self.output_rate.to_bytes(
            2, "little"
        )
        value[DC_FILTER_PROFILE_OFFSET] = self.filter_profile
        return bytes(value)

    def _device_info_value(self) -> bytes:
        # Spec Table 6: MAC 6, version 3 × u8, build year u16 + month, day, h, min, s,
        # SoftDevice version u32, serial u64, short product code 6 ("XS-T02" = DOT v2).
        value = (
            _mac_bytes(self.address)
            + bytes(self.firmware)
            + (2023).to_bytes(2, "little")
            + bytes((7, 1, 0, 0, 0))
            + (0).to_bytes(4, "little")
            + self.serial.to_bytes(8, "little")
            + b"XS-T02"
        )
        assert len(value) == DEVICE_INFO_LEN
        return value

    # --- writes --------------------------------------------------------------------------

    def write(self, uuid: str, data: bytes, now: float) -> list[Notification]:
        """Handle a write at ``now`` (s); DOT writes cause no immediate notifications.

        Malformed values are ignored, as the firmware ignores them. Raises
        :class:`~liftguard.errors.ProtocolError` for a characteristic that is not writable.
        """
        key = uuid.lower()
        data = bytes(data)
        # Samples already due belong to the state they were taken under; a write at `now` acts
        # before a sample at exactly `now`.
        self._catch_up(now, inclusive=False)
        if key == CONTROL_CHAR:
            self._write_control(data, now)
        elif key == DEVICE_CONTROL_CHAR:
            self._write_device_control(data)
        elif key == ORIENTATION_RESET_CONTROL_CHAR:
            self._write_heading(data)
        else:
            raise ProtocolError(
                f"{self.name}: characteristic {uuid} is not writable", reason="not_writable"
            )
        return []

    def _write_control(self, data: bytes, now: float) -> None:
        if len(data) != 3 or data[0] != CONTROL_TYPE_MEASUREMENT:
            return
        action, mode = data[1], data[2]
        if action == ACTION_STOP:
            self._stop()
        elif action == ACTION_START and not self.measuring and mode in SUPPORTED_MODES:
            self._start(mode, now)

    def _write_device_control(self, data: bytes) -> None:
        if len(data) != DEVICE_CONTROL_LEN:
            return
        visit = data[DC_VISIT_OFFSET]
        if visit & VISIT_POWER_SAVING:
            values = tuple(data[DC_POWER_SAVING_OFFSET : DC_POWER_SAVING_OFFSET + 4])
            if all(v <= lim for v, lim in zip(values, _POWER_SAVING_LIMITS, strict=True)):
                self.power_saving = values  # type: ignore[assignment]
        if visit & VISIT_TAG:
            length = data[DC_TAG_LEN_OFFSET]
            if length <= DC_TAG_MAX:
                self.tag = data[DC_TAG_OFFSET : DC_TAG_OFFSET + length]
        if visit & VISIT_OUTPUT_RATE and not self.measuring:
            lo = DC_OUTPUT_RATE_OFFSET
            rate = int.from_bytes(data[lo : lo + 2], "little")
            if rate in DEVICE_RATES_HZ:
                self.output_rate = rate
        if visit & VISIT_FILTER_PROFILE and not self.measuring:
            profile = data[DC_FILTER_PROFILE_OFFSET]
            if profile in FILTER_PROFILES:
                self.filter_profile = profile

    def _write_heading(self, data: bytes) -> None:
        if len(data) != 2:
            return
        kind = int.from_bytes(data, "little")
        if kind == HEADING_RESET:
            if self.measuring and self.heading_type != HEADING_RESET and self._last_q is not None:
                yaw = _yaw(self._last_q)
                self._heading_q = np.array([math.cos(yaw / 2), 0.0, 0.0, -math.sin(yaw / 2)])
                self.heading_type = HEADING_RESET
                self.heading_status = RESET_SUCCESS
            else:
                self.heading_status = RESET_FAIL
        elif kind == HEADING_REVERT:
            if self.measuring:
                self._heading_q = _IDENTITY.copy()
                self.heading_type = HEADING_REVERT
                self.heading_status = RESET_SUCCESS
            else:
                self.heading_status = RESET_FAIL

    # --- measurement ---------------------------------------------------------------------

    def _start(self, mode: int, now: float) -> None:
        self.measuring = True
        self.mode = mode
        self._t0 = float(now)
        crystal_us = now / (1.0 + self.clock_ppm * 1e-6) * 1e6
        self._start_us = self.clock_offset_us + math.floor(crystal_us)
        self._period = (1.0 + self.clock_ppm * 1e-6) / FUSION_RATE_HZ
        # 120 Hz is a recording rate; streaming at it is not specified, so it streams at 60.
        self._stride = max(1, FUSION_RATE_HZ // self.output_rate)
        self._j_next = 0
        self._vqf = VQF(1.0 / FUSION_RATE_HZ)
        self._last_q = None
        self._carry_bits = self._carry_acc = self._carry_gyr = 0

    def _stop(self) -> None:
        self.measuring = False
        self._vqf = None
        self._last_q = None

    def advance(self, now: float) -> list[Notification]:
        """Notifications due up to and including ``now`` (s), in time order.

        Measurement samples are 40-byte values on MEDIUM_PAYLOAD_CHAR stamped with their sample
        time; battery changes go out on BATTERY_CHAR.
        """
        self._catch_up(now, inclusive=True)
        out = sorted(self._outbox, key=attrgetter("t"))
        self._outbox.clear()
        return out

    def _catch_up(self, now: float, *, inclusive: bool) -> None:
        """Take every 60 Hz sample due by ``now`` (or before it) and queue the notified ones."""
        if not self.measuring or self._vqf is None:
            return
        x = (now - self._t0) / self._period
        j_end = math.floor(x + _DUE_SLACK) if inclusive else math.ceil(x - _DUE_SLACK) - 1
        if j_end < self._j_next:
            return
        j = np.arange(self._j_next, j_end + 1, dtype=np.int64)
        self._j_next = j_end + 1
        t: FloatArray = self._t0 + j.astype(np.float64) * self._period
        acc_true, gyr_true = self.motion.imu(t)
        acc_true = np.asarray(acc_true, dtype=np.float64)
        gyr_true = np.asarray(gyr_true, dtype=np.float64)
        gyr_range = math.radians(GYR_RANGE_DPS)
        acc_clip = np.abs(acc_true) > ACC_RANGE_MS2
        gyr_clip = np.abs(gyr_true) > gyr_range
        acc = np.ascontiguousarray(np.clip(acc_true, -ACC_RANGE_MS2, ACC_RANGE_MS2))
        gyr = np.ascontiguousarray(np.clip(gyr_true, -gyr_range, gyr_range))
        q = self._fuse(acc, gyr)
        self._last_q = q[-1].copy()

        # Clipping since the previous notification, per notified sample.
        bits = acc_clip @ _AXIS_BITS | (gyr_clip @ _AXIS_BITS) << 3
        acc_any = np.cumsum(acc_clip.any(axis=1))
        gyr_any = np.cumsum(gyr_clip.any(axis=1))
        pos = np.flatnonzero(j % self._stride == 0)
        if pos.size == 0:
            self._carry_bits |= int(np.bitwise_or.reduce(bits))
            self._carry_acc += int(acc_any[-1])
            self._carry_gyr += int(gyr_any[-1])
            return
        seg_start = np.concatenate([[0], pos[:-1] + 1])
        status = np.bitwise_or.reduceat(bits[: pos[-1] + 1], seg_start)
        clip_acc = np.diff(np.concatenate([[0], acc_any[pos]]))
        clip_gyr = np.diff(np.concatenate([[0], gyr_any[pos]]))
        status[0] |= self._carry_bits
        clip_acc[0] += self._carry_acc
        clip_gyr[0] += self._carry_gyr
        tail = slice(pos[-1] + 1, None)
        self._carry_bits = int(np.bitwise_or.reduce(bits[tail])) if bits[tail].size else 0
        self._carry_acc = int(acc_any[-1] - acc_any[pos[-1]])
        self._carry_gyr = int(gyr_any[-1] - gyr_any[pos[-1]])

        q_out = quat_mul(self._heading_q[None, :], q[pos])
        free_acc = quat_rotate(q_out, acc[pos])
        free_acc[:, 2] -= FREE_ACC_GRAVITY
        mag = quat_rotate(q[pos], np.broadcast_to(self.mag_world, (pos.size, 3)), inverse=True)
        # Counter µs of sample j: the start reading plus j/60 s of crystal time.
        t_us = self._start_us + np.rint(j[pos] * (1e6 / FUSION_RATE_HZ)).astype(np.int64)
        frames = encode_packets(
            self.mode,
            t_us,
            quat=q_out,
            free_acc=free_acc,
            acc=acc[pos],
            gyr=gyr[pos],
            mag=mag,
            status=status,
            clip_acc=clip_acc,
            clip_gyr=clip_gyr,
        )
        times = np.minimum(t[pos], now).tolist()
        self._outbox.extend(
            Notification(ti, MEDIUM_PAYLOAD_CHAR, f) for ti, f in zip(times, frames, strict=True)
        )

    def _fuse(self, acc: FloatArray, gyr: FloatArray) -> FloatArray:
        """VQF 6D orientation ``(n, 4)`` for the next ``n`` samples."""
        vqf = self._vqf
        assert vqf is not None
        if self._last_q is None:
            # Start from the first sample's inclination rather than identity, as a DOT that has
            # been fusing since power-on would.
            state = vqf.state
            state["gyrQuat"] = _gravity_alignment(acc[0])
            vqf.state = state
        quat: FloatArray = vqf.updateBatch(gyr, acc)["quat6D"]
        return quat


if TYPE_CHECKING:

    def _conforms(device: DotEmulator) -> EmulatedDevice:
        # mypy proves the emulator satisfies the EmulatedDevice protocol here.
        return device
