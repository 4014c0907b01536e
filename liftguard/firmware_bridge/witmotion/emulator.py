"""A byte-exact WitMotion WT901BLECL emulator: the sensor's firmware behind its GATT table.

The firmware model:

* the sensor streams ``55 61`` frames from power-up at the configured rate, factory default
  10 Hz (code 0x06), whether or not anyone has asked; frames produced while no central is
  connected are lost. Sample ``k`` after the last rate change (or power-up) at ``t0`` is taken at
  ``t0 + k / rate × (1 + clock_ppm·1e-6)``;
* register writes ``FF AA reg lo hi`` act only within 10 s of an unlock ``FF AA 69 88 B5``
  (WitMotion: "Unlock (useful for 10 seconds)"); outside that window they are ignored. The
  window runs from the unlock and is not extended by later writes. Reads ``FF AA 27 reg 00``
  need no unlock and are answered at once with a ``55 71`` frame;
* RATE (0x03) accepts the codes of the WT901BLECL table (0.2-200 Hz, no 0x0A); other values
  are ignored. A new rate restarts the sample clock at the write; writing the current rate
  changes nothing;
* SAVE (0x00) value 0 stores the current rate as the power-up rate; value 1 restores the factory
  rate (10 Hz) and stores it. Nothing is stored otherwise, so :meth:`power_cycle` brings back
  the saved rate. Value 0xFF (reboot) and every other register are not modelled (ignored);
* a command written at ``t`` acts before a sample taken at exactly ``t``; a write may carry
  several 5-byte commands, each found by its ``FF AA`` prefix (the written bytes reach the
  sensor's MCU as one serial stream);
* register reads answer RATE with the current code; every other register reads 0 (the
  emulator models no battery, temperature, version or magnetometer).

Angles: the real sensor runs its own fusion on its 1 kHz internal samples (6-axis by default on
the BLE 5.0 parts, so yaw is relative and drifts). The emulator stands in for it with
:class:`vqf.VQF` (6D) updated at :data:`FUSION_RATE_HZ` on the motion's specific force and angular
rate, aligned to gravity at its first sample (a sensor that has been on for a while has already
converged), and reports that estimate as roll, pitch, yaw in the datasheet's Z-Y-X convention.
Fusion keeps running across disconnects (it catches up when the next central connects).
No anti-alias filter is modelled: frames carry point samples, quantised to int16 counts and
saturated at ±16 g and ±2000 °/s; angles wrap at ±180°.

Packetisation: "Bluetooth uploads up to 20 bytes per data" (datasheet) and a frame is 20 bytes,
so at the default ATT MTU of 23 every notification is exactly one frame. Above 50 Hz the family
sends "packed" output: with a larger ``mtu`` the emulator joins ``round(rate / 50)`` frames per
notification (as many as fit), sent when the group's last frame is taken. For tests,
``chunk_sizes`` instead cuts the outgoing byte stream at arbitrary points: consecutive
notifications take those sizes in turn, each sent when its last byte has been produced, so
frames come split across and joined within notifications.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
    ACC_SI_PER_LSB,
    ANGLE_SI_PER_LSB,
    COMMAND_BYTES,
    COMMAND_PREFIX,
    DEFAULT_NAME,
    DEFAULT_RATE_CODE,
    FRAME_BYTES,
    GYR_SI_PER_LSB,
    INT16_MAX,
    INT16_MIN,
    NOTIFY_CHAR,
    PACKED_ABOVE_HZ,
    RATE_CODE_HZ,
    REG_KEY,
    REG_RATE,
    REG_READ,
    REG_SAVE,
    REGISTERS_PER_REPLY,
    SAVE_CURRENT,
    SAVE_FACTORY_DEFAULTS,
    UNLOCK_KEY,
    UNLOCK_WINDOW_S,
    WIT_SERVICE,
    WRITE_CHAR,
)
from .codec import encode_data_frames, encode_register_reply, quat_to_euler

if TYPE_CHECKING:
    from liftguard.firmware_bridge.emulation import EmulatedDevice

__all__ = ["FUSION_RATE_HZ", "WitMotionEmulator"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Rate of the emulator's internal orientation filter, Hz. Every output rate of the table
#: divides it, so each output sample coincides with a filter step.
FUSION_RATE_HZ = 200.0
#: Slack, in filter steps, when deciding whether a step is due: a `now` computed by the caller
#: as t0 + k/rate must count step k as due despite float rounding.
_DUE_SLACK = 1e-6
#: BLE's minimum and maximum ATT MTU, bytes; the ATT header takes 3 of them.
_MIN_MTU, _MAX_MTU, _ATT_HEADER = 23, 517, 3
#: A frame per this many Hz above PACKED_ABOVE_HZ (50 Hz → 1, 100 Hz → 2, 200 Hz → 4).
_PACK_HZ_PER_FRAME = PACKED_ABOVE_HZ


def _counts(values: FloatArray, si_per_lsb: float) -> npt.NDArray[np.int64]:
    """SI values → int16 counts, rounded and saturated like the sensor's ADC."""
    return np.clip(np.rint(values / si_per_lsb), INT16_MIN, INT16_MAX).astype(np.int64)


def _angle_counts(angles: FloatArray) -> npt.NDArray[np.int64]:
    """Angles (rad) → int16 counts; +180° wraps to -32768 like any angle past the range."""
    raw = np.rint(angles / ANGLE_SI_PER_LSB).astype(np.int64)
    return (raw - INT16_MIN) % 65536 + INT16_MIN


def _gravity_alignment(acc: FloatArray) -> FloatArray:
    """Shortest rotation ``[w, x, y, z]`` taking the measured up direction ``acc`` onto world z."""
    norm = float(np.linalg.norm(acc))
    if not norm > 1e-6:
        return np.array([1.0, 0.0, 0.0, 0.0])
    a = acc / norm
    axis = np.cross(a, [0.0, 0.0, 1.0])
    s = float(np.linalg.norm(axis))
    if s < 1e-9:
        return np.array([1.0, 0.0, 0.0, 0.0]) if a[2] > 0 else np.array([0.0, 1.0, 0.0, 0.0])
    angle = math.atan2(s, float(a[2]))
    return np.concatenate([[math.cos(angle / 2)], math.sin(angle / 2) * axis / s])


class WitMotionEmulator:
    """A WT901BLECL's firmware: ``55 61`` streaming, unlock / rate / save, register reads.

    Args:
        motion: what the sensor physically experiences.
        address: BLE address, e.g. ``"D8:76:A8:00:00:01"``.
        name: advertised local name.
        rssi: advertised signal strength, dBm.
        clock_ppm: sensor clock error in parts per million; sample times are the nominal ones
            scaled by ``1 + clock_ppm·1e-6`` (positive = slower sampling).
        mtu: ATT MTU of the link (23-517 bytes); a notification carries ``mtu - 3`` bytes.
        chunk_sizes: test knob: cut the outgoing byte stream into notifications of these sizes
            (cycled; each 1 … ``mtu - 3``) instead of the sensor's frame-aligned packets.

    Deterministic: the same calls at the same times give the same bytes.
    """

    family = "witmotion"

    def __init__(
        self,
        motion: MotionSource,
        *,
        address: str,
        name: str = DEFAULT_NAME,
        rssi: int = -60,
        clock_ppm: float = 0.0,
        mtu: int = _MIN_MTU,
        chunk_sizes: Sequence[int] | None = None,
    ) -> None:
        if not math.isfinite(clock_ppm) or abs(clock_ppm) >= 1e6:
            raise ConfigError(f"clock_ppm must be finite and within ±1e6, got {clock_ppm!r}")
        if isinstance(mtu, bool) or not isinstance(mtu, int) or not _MIN_MTU <= mtu <= _MAX_MTU:
            raise ConfigError(f"mtu must be an integer {_MIN_MTU}..{_MAX_MTU}, got {mtu!r}")
        payload = mtu - _ATT_HEADER
        sizes: tuple[int, ...] | None = None
        if chunk_sizes is not None:
            sizes = tuple(chunk_sizes)
            if not sizes or any(
                isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= payload
                for s in sizes
            ):
                raise ConfigError(
                    f"chunk_sizes must be a non-empty sequence of integers 1..{payload}, "
                    f"got {chunk_sizes!r}"
                )
        self.motion = motion
        self.address = address
        self.name = name
        self.rssi = rssi
        self.clock_ppm = float(clock_ppm)
        self.mtu = mtu
        self.chunk_sizes = sizes
        self.connected = False
        self._payload = payload
        self._scale = 1.0 + self.clock_ppm * 1e-6
        self._ts = self._scale / FUSION_RATE_HZ  # filter step in world seconds
        # Registers and flash.
        self._rate_code = DEFAULT_RATE_CODE
        self._saved_rate_code = DEFAULT_RATE_CODE
        self._unlocked_until = -math.inf
        # Sample clock: filter step m at t0 + m·ts; output sample k = m / steps_per_sample.
        self._t0 = 0.0
        self._m_next: int | None = None  # None until the filter first runs
        self._t_last = -math.inf  # time of the last filter step taken
        self._vqf: VQF | None = None
        # Radio.
        self._outbox: list[Notification] = []
        self._group: list[tuple[bytes, float]] = []  # packed mode: frames of the open group
        self._carry = b""  # chunk mode: bytes produced, not yet sent
        self._carry_ends: list[tuple[int, float]] = []  # (end offset in carry, production time)
        self._chunk_index = 0

    # --- identity and GATT -------------------------------------------------------------

    @property
    def rate_hz(self) -> float:
        """Current output rate, Hz."""
        return RATE_CODE_HZ[self._rate_code]

    @property
    def saved_rate_hz(self) -> float:
        """Output rate the sensor comes back with after a power cycle, Hz."""
        return RATE_CODE_HZ[self._saved_rate_code]

    @property
    def services(self) -> tuple[ServiceSpec, ...]:
        """The vendor service 0xFFE5: notify 0xFFE4, write 0xFFE9 (write and without response)."""
        return (
            ServiceSpec(
                WIT_SERVICE,
                (
                    CharacteristicSpec(NOTIFY_CHAR, ("notify",)),
                    CharacteristicSpec(WRITE_CHAR, ("write-without-response", "write")),
                ),
            ),
        )

    def advertisement(self) -> Advertisement:
        """Local name and the vendor service UUID, at the configured RSSI."""
        return Advertisement(local_name=self.name, service_uuids=(WIT_SERVICE,), rssi=self.rssi)

    # --- link --------------------------------------------------------------------------

    def connect(self, now: float) -> None:
        """A central connected at ``now`` (s); frames from ``now`` on go out."""
        self._run(now, inclusive=False, emit=False)
        self.connected = True

    def disconnect(self, now: float) -> None:
        """The link dropped at ``now`` (s). Unsent bytes are lost; configuration stays."""
        self._run(now, inclusive=True, emit=False)
        self.connected = False
        self._outbox.clear()
        self._group.clear()
        self._carry, self._carry_ends, self._chunk_index = b"", [], 0

    def power_cycle(self, now: float) -> None:
        """Switch the sensor off and on at ``now`` (s): the saved rate comes back, the unlock
        is gone, the sample clock and the orientation filter restart. Disconnect first."""
        if self.connected:
            raise ProtocolError(
                f"{self.name}: power_cycle while connected; disconnect the link first",
                reason="connected",
            )
        self._rate_code = self._saved_rate_code
        self._unlocked_until = -math.inf
        self._t0 = float(now)
        self._m_next = None
        self._vqf = None

    def read(self, uuid: str, now: float) -> bytes:
        """No characteristic of this sensor is readable: raises ProtocolError."""
        raise ProtocolError(
            f"{self.name}: characteristic {uuid} is not readable", reason="not_readable"
        )

    # --- commands ----------------------------------------------------------------------

    def write(self, uuid: str, data: bytes, now: float) -> list[Notification]:
        """Handle bytes written to WRITE_CHAR at ``now`` (s).

        Returns the notifications the write completes at once: register-read replies, and the
        packed group a rate change cuts short. Frames due before ``now`` under the old
        configuration stay queued for :meth:`advance`. Bytes
        that are not ``FF AA`` commands, and commands the firmware would ignore, are ignored.
        Raises :class:`~liftguard.errors.ProtocolError` for a write to any other
        characteristic.
        """
        if uuid.lower() != WRITE_CHAR:
            raise ProtocolError(
                f"{self.name}: characteristic {uuid} is not writable", reason="not_writable"
            )
        data = bytes(data)
        # Frames already taken belong to the old state; a command at `now` acts before a frame
        # at exactly `now` (that also keeps motion.imu's times increasing from call to call).
        self._run(now, inclusive=False, emit=self.connected)
        mark = len(self._outbox)
        i = 0
        while i + COMMAND_BYTES <= len(data):
            if data[i : i + 2] != COMMAND_PREFIX:
                i += 1
                continue
            register, value = data[i + 2], data[i + 3] | data[i + 4] << 8
            self._command(register, value, now)
            i += COMMAND_BYTES
        replies = self._outbox[mark:]
        del self._outbox[mark:]
        return replies

    def _command(self, register: int, value: int, now: float) -> None:
        if register == REG_KEY:
            if value == UNLOCK_KEY:
                self._unlocked_until = now + UNLOCK_WINDOW_S
            return
        if register == REG_READ:
            self._reply(value, now)
            return
        if now > self._unlocked_until:
            return  # locked: the firmware ignores register writes
        if register == REG_RATE and value in RATE_CODE_HZ:
            self._set_rate(value, now)
        elif register == REG_SAVE and value == SAVE_CURRENT:
            self._saved_rate_code = self._rate_code
        elif register == REG_SAVE and value == SAVE_FACTORY_DEFAULTS:
            self._set_rate(DEFAULT_RATE_CODE, now)
            self._saved_rate_code = DEFAULT_RATE_CODE

    def _registers(self, start: int) -> list[int]:
        regs = {REG_RATE: self._rate_code}
        return [regs.get(start + i, 0) for i in range(REGISTERS_PER_REPLY)]

    def _reply(self, start: int, now: float) -> None:
        if not self.connected:
            return
        frame = encode_register_reply(start, self._registers(start))
        if self.chunk_sizes is not None:
            self._chunk([frame], [now])
        else:
            self._outbox.append(Notification(now, NOTIFY_CHAR, frame))

    def _set_rate(self, code: int, now: float) -> None:
        if code == self._rate_code:
            return
        self._flush_group(now)
        self._rate_code = code
        self._t0 = float(now)
        self._m_next = 0

    # --- streaming ---------------------------------------------------------------------

    def advance(self, now: float) -> list[Notification]:
        """Notifications of frames taken up to and including device time ``now`` (s), in time
        order, each stamped with the time its last byte was produced."""
        self._run(now, inclusive=True, emit=self.connected)
        out = sorted(self._outbox, key=attrgetter("t"))
        self._outbox.clear()
        return out

    @property
    def _steps_per_sample(self) -> int:
        return round(FUSION_RATE_HZ / RATE_CODE_HZ[self._rate_code])

    def _run(self, now: float, *, inclusive: bool, emit: bool) -> None:
        """Run the filter over every step due by ``now`` (or before it); frame the outputs."""
        x = (now - self._t0) / self._ts
        if self._m_next is None:
            # The filter starts at the first step not before the first event it sees.
            self._m_next = max(0, math.ceil(x - _DUE_SLACK))
        m_end = math.floor(x + _DUE_SLACK) if inclusive else math.ceil(x - _DUE_SLACK) - 1
        if m_end < self._m_next:
            return
        m = np.arange(self._m_next, m_end + 1, dtype=np.int64)
        self._m_next = m_end + 1
        t: FloatArray = self._t0 + m.astype(np.float64) * self._ts
        # After a rate change or power cycle at an instant whose sample was already taken,
        # the new clock's first step coincides with it: a sample is never taken twice (and
        # motion.imu sees strictly increasing times across calls).
        first = int(np.searchsorted(t, self._t_last, side="right"))
        if first:
            m, t = m[first:], t[first:]
            if m.size == 0:
                return
        self._t_last = float(t[-1])
        acc, gyr = self.motion.imu(t)
        acc = np.ascontiguousarray(acc, dtype=np.float64)
        gyr = np.ascontiguousarray(gyr, dtype=np.float64)
        if self._vqf is None:
            # Defaults widened as in liftguard.signal.orientation: parts with up to ±3 °/s of
            # gyro offset still get rest detection and bias estimation.
            self._vqf = VQF(1.0 / FUSION_RATE_HZ, biasClip=5.0, biasSigmaInit=3.0)
            state = self._vqf.state
            state["gyrQuat"] = _gravity_alignment(acc[0])
            self._vqf.state = state
        quat: FloatArray = self._vqf.updateBatch(gyr, acc)["quat6D"]
        if not emit:
            return
        out = m % self._steps_per_sample == 0
        if not out.any():
            return
        raw = np.concatenate(
            [
                _counts(acc[out], ACC_SI_PER_LSB),
                _counts(gyr[out], GYR_SI_PER_LSB),
                _angle_counts(quat_to_euler(quat[out])),
            ],
            axis=1,
        )
        blob = encode_data_frames(raw)
        frames = [blob[i : i + FRAME_BYTES] for i in range(0, len(blob), FRAME_BYTES)]
        self._send(frames, t[out].tolist(), (m[out] // self._steps_per_sample).tolist())

    def _send(self, frames: list[bytes], times: list[float], ks: list[int]) -> None:
        if self.chunk_sizes is not None:
            self._chunk(frames, times)
            return
        per = 1
        if self.rate_hz > PACKED_ABOVE_HZ:
            per = max(
                1, min(self._payload // FRAME_BYTES, round(self.rate_hz / _PACK_HZ_PER_FRAME))
            )
        if per == 1:
            self._outbox.extend(
                Notification(t, NOTIFY_CHAR, f) for f, t in zip(frames, times, strict=True)
            )
            return
        for frame, t, k in zip(frames, times, ks, strict=True):
            self._group.append((frame, t))
            if k % per == per - 1:
                self._flush_group(t)

    def _flush_group(self, t: float) -> None:
        if self._group:
            data = b"".join(f for f, _ in self._group)
            self._outbox.append(Notification(t, NOTIFY_CHAR, data))
            self._group.clear()

    def _chunk(self, items: list[bytes], times: list[float]) -> None:
        """Append ``items`` (produced at ``times``) to the byte stream and send every chunk of
        the configured sizes that is now complete, stamped with its last byte's time."""
        assert self.chunk_sizes is not None
        offset = len(self._carry)
        for item, t in zip(items, times, strict=True):
            offset += len(item)
            self._carry_ends.append((offset, t))
        stream = self._carry + b"".join(items)
        ends = np.array([e for e, _ in self._carry_ends], dtype=np.int64)
        stamps = [t for _, t in self._carry_ends]
        pos = 0
        while True:
            size = self.chunk_sizes[self._chunk_index]
            if pos + size > len(stream):
                break
            last = pos + size - 1  # the chunk leaves once its last byte exists
            t = stamps[int(np.searchsorted(ends, last, side="right"))]
            self._outbox.append(Notification(t, NOTIFY_CHAR, stream[pos : pos + size]))
            pos += size
            self._chunk_index = (self._chunk_index + 1) % len(self.chunk_sizes)
        self._carry = stream[pos:]
        self._carry_ends = [(e - pos, t) for e, t in self._carry_ends if e > pos]


if TYPE_CHECKING:

    def _conforms(device: WitMotionEmulator) -> EmulatedDevice:
        # mypy proves the emulator satisfies the EmulatedDevice protocol here.
        return device
