"""Movella DOT wire format: commands out, measurement payloads in, device time unwrapped.

Every measurement notification is one sample: a little-endian u32 microsecond timestamp
followed by the payload mode's fields as float32 (Spec Table 15/17). The four modes LiftGuard
uses are all "medium" payloads, notified on :data:`MEDIUM_PAYLOAD_CHAR` as a 40-byte value whose
unused tail is zero (Spec §3.3)::

    mode  2 Extended (Quaternion)  t u32 | quat w,x,y,z f32 | free acc x,y,z f32 | status u16
                                   | clip count acc u8 | clip count gyr u8        (36 B)
    mode  3 Complete (Quaternion)  t | quat | free acc                            (32 B)
    mode 20 Rate quantities w/ mag t | acc x,y,z f32 | gyr x,y,z f32 (°/s) | mag x,y,z i16 (34 B)
    mode 21 Rate quantities        t | acc | gyr                                  (28 B)

Offsets agree with Xsens' own example server (``xsens_dot_server/bleHandler.js``: quaternion
@4, free acceleration @20, status @32, clip counters @34/@35; acc @4, gyr @16, mag @28).
Decoded values are SI: m/s², rad/s (the wire carries °/s); the magnetometer stays in the
firmware's arbitrary units (int16 / 2¹²; the user manual puts 1 a.u. at roughly the field in
Xsens' calibration lab, ~40 µT, which is no calibration LiftGuard can convert with).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError
from liftguard.firmware_bridge.stream import join_packets

from ._constants import (
    ACTION_START,
    ACTION_STOP,
    CONTROL_TYPE_MEASUREMENT,
    DC_OUTPUT_RATE_OFFSET,
    DC_VISIT_OFFSET,
    DEFAULT_MODE,
    DEFAULT_RATE_HZ,
    DEVICE_CONTROL_LEN,
    HEADING_RESET,
    HEADING_REVERT,
    MAG_COUNTS_PER_AU,
    MEDIUM_PAYLOAD_CHAR,
    MEDIUM_PAYLOAD_LEN,
    MODE_COMPLETE_QUATERNION,
    MODE_EXTENDED_QUATERNION,
    MODE_NAMES,
    MODE_RATE_QUANTITIES,
    MODE_RATE_QUANTITIES_WITH_MAG,
    PAYLOAD_SIZE,
    QUATERNION_MODES,
    STATUS_CLIP_ACC,
    STATUS_CLIP_GYR,
    STREAMING_RATES_HZ,
    SUPPORTED_MODES,
    TIMESTAMP_WRAP,
    VISIT_OUTPUT_RATE,
)

__all__ = [
    "DecodedPacket",
    "DotConfig",
    "DotDecoder",
    "TimestampUnwrapper",
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

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_DEG = math.pi / 180.0
#: A float32 unit quaternion is unit to ~1e-7; anything further than this from |q| = 1 is not a
#: quaternion at all (typically another mode's bytes), so the packet is counted as malformed.
_QUAT_NORM_TOL = 1e-2

# One little-endian record type per mode: np.frombuffer turns whole batches into fields at once.
_F3 = ("<f4", (3,))
_DTYPES: dict[int, np.dtype[Any]] = {
    MODE_EXTENDED_QUATERNION: np.dtype(
        [
            ("t", "<u4"),
            ("quat", "<f4", (4,)),
            ("free_acc", *_F3),
            ("status", "<u2"),
            ("clip_acc", "u1"),
            ("clip_gyr", "u1"),
        ]
    ),
    MODE_COMPLETE_QUATERNION: np.dtype([("t", "<u4"), ("quat", "<f4", (4,)), ("free_acc", *_F3)]),
    MODE_RATE_QUANTITIES_WITH_MAG: np.dtype(
        [("t", "<u4"), ("acc", *_F3), ("gyr", *_F3), ("mag", "<i2", (3,))]
    ),
    MODE_RATE_QUANTITIES: np.dtype([("t", "<u4"), ("acc", *_F3), ("gyr", *_F3)]),
}
assert all(_DTYPES[m].itemsize == PAYLOAD_SIZE[m] for m in SUPPORTED_MODES)


def _check_rate(rate_hz: object) -> int:
    """``rate_hz`` as the integer Hz the wire carries; ConfigError unless a streaming rate."""
    # A bool is an int to Python, but `rate_hz=True` is a caller bug, not 1 Hz.
    ok = (
        isinstance(rate_hz, numbers.Real)
        and not isinstance(rate_hz, bool)
        and float(rate_hz) in STREAMING_RATES_HZ
    )
    if not ok:
        allowed = ", ".join(str(r) for r in STREAMING_RATES_HZ)
        raise ConfigError(
            f"DOT rate_hz must be one of {allowed} Hz, got {rate_hz!r}", reason="bad_value"
        )
    return int(float(rate_hz))  # type: ignore[arg-type]


@dataclass(frozen=True)
class DotConfig:
    """What to stream from one Movella DOT.

    Attributes:
        mode: payload mode — 2 Extended (Quaternion), 3 Complete (Quaternion), 20 Rate
            quantities (with mag) or 21 Rate quantities (the default: acc + gyro, no fusion).
        rate_hz: output rate in Hz, one of 1, 4, 10, 12, 15, 20, 30, 60 (the streaming rates;
            120 Hz exists for on-board recording only).
    """

    mode: int = DEFAULT_MODE
    rate_hz: float = float(DEFAULT_RATE_HZ)

    def __post_init__(self) -> None:
        mode_ok = (
            isinstance(self.mode, numbers.Integral)
            and not isinstance(self.mode, bool)
            and int(self.mode) in SUPPORTED_MODES
        )
        if not mode_ok:
            supported = ", ".join(f"{m} {MODE_NAMES[m]}" for m in SUPPORTED_MODES)
            raise ConfigError(
                f"DOT payload mode must be one of {supported}; got {self.mode!r}",
                reason="bad_value",
            )
        object.__setattr__(self, "mode", int(self.mode))
        object.__setattr__(self, "rate_hz", float(_check_rate(self.rate_hz)))

    @classmethod
    def for_sensor(cls, sensor: SensorConfig) -> DotConfig:
        """The wire configuration of a roster sensor (``mode`` None → 21 Rate quantities).

        Raises :class:`~liftguard.errors.ConfigError` naming the sensor for a bad mode or rate.
        """
        try:
            return cls(
                mode=DEFAULT_MODE if sensor.mode is None else sensor.mode,
                rate_hz=sensor.rate_hz,
            )
        except ConfigError as exc:
            raise ConfigError(f"sensor {sensor.address}: {exc}", reason=exc.reason) from None

    @property
    def rate_code(self) -> int:
        """The output rate as the u16 the device-control characteristic carries, Hz."""
        return int(self.rate_hz)

    @property
    def payload_size(self) -> int:
        """Bytes of payload before zero padding (28-36)."""
        return PAYLOAD_SIZE[self.mode]

    @property
    def notify_char(self) -> str:
        """The characteristic this mode's samples are notified on (medium payload)."""
        return MEDIUM_PAYLOAD_CHAR

    @property
    def has_quat(self) -> bool:
        """True for the quaternion modes (2, 3): the device's orientation + free acceleration."""
        return self.mode in QUATERNION_MODES

    @property
    def has_mag(self) -> bool:
        """True for mode 20."""
        return self.mode == MODE_RATE_QUANTITIES_WITH_MAG

    @property
    def has_status(self) -> bool:
        """True for mode 2 (status word and clip counters)."""
        return self.mode == MODE_EXTENDED_QUATERNION


# eq=False: numpy arrays make the generated __eq__ ambiguous; compare fields explicitly.
@dataclass(frozen=True, eq=False)
class DecodedPacket:
    """Samples of one payload mode, one row per notification.

    Fields a mode does not carry are None. With ``n`` samples:

    Attributes:
        mode: the payload mode.
        t_us: ``(n,)`` uint32, the device's raw microsecond timestamps (wrapping at 2³²; see
            :class:`TimestampUnwrapper`).
        quat: ``(n, 4)`` orientation ``[w, x, y, z]``, sensor-to-earth, as sent (modes 2, 3).
        free_acc: ``(n, 3)`` m/s², earth frame, gravity removed (modes 2, 3).
        acc: ``(n, 3)`` m/s², sensor frame, calibrated specific force (modes 20, 21).
        gyr: ``(n, 3)`` rad/s, sensor frame (modes 20, 21; the wire carries °/s).
        mag: ``(n, 3)`` magnetic field in the firmware's arbitrary units (mode 20).
        status: ``(n,)`` uint16 status word, Spec §3.5.1 bits (mode 2).
        clip_acc, clip_gyr: ``(n,)`` uint8 counts of clipped accelerometer / gyroscope samples
            behind this packet (mode 2).
    """

    mode: int
    t_us: npt.NDArray[np.uint32]
    quat: FloatArray | None = None
    free_acc: FloatArray | None = None
    acc: FloatArray | None = None
    gyr: FloatArray | None = None
    mag: FloatArray | None = None
    status: npt.NDArray[np.uint16] | None = None
    clip_acc: npt.NDArray[np.uint8] | None = None
    clip_gyr: npt.NDArray[np.uint8] | None = None

    def __len__(self) -> int:
        return int(self.t_us.shape[0])

    @property
    def clipped(self) -> BoolArray:
        """``(n,)`` True where the device reported accelerometer or gyroscope clipping.

        Only mode 2 carries clipping information (status bits or a non-zero clip counter; the
        counters are read as per-packet counts); other modes give all False.
        """
        if self.status is None or self.clip_acc is None or self.clip_gyr is None:
            return np.zeros(len(self), dtype=bool)
        bits = (self.status & (STATUS_CLIP_ACC | STATUS_CLIP_GYR)) != 0
        return bits | (self.clip_acc > 0) | (self.clip_gyr > 0)


def _fields(rec: np.ndarray) -> tuple[dict[str, Any], BoolArray]:
    """SI fields of records ``rec`` ``(n,)`` and which rows are plausible samples."""
    names = rec.dtype.names or ()
    out: dict[str, Any] = {"t_us": rec["t"].astype(np.uint32)}
    valid = np.ones(rec.shape[0], dtype=bool)
    # Arbitrary bytes make NaNs (even signalling ones) and overflows: judged below, not warned.
    with np.errstate(invalid="ignore", over="ignore"):
        for name in ("quat", "free_acc", "acc", "gyr"):
            if name in names:
                values = rec[name].astype(np.float64)
                finite = np.isfinite(values)
                # Column by column: numpy's reductions over a last axis of 3-4 are slow.
                for k in range(finite.shape[1]):
                    valid &= finite[:, k]
                out[name] = values * _DEG if name == "gyr" else values
        if "quat" in out:
            norm = np.sqrt(np.einsum("ij,ij->i", out["quat"], out["quat"]))
            valid &= np.abs(norm - 1.0) <= _QUAT_NORM_TOL
    if "mag" in names:
        out["mag"] = rec["mag"].astype(np.float64) / MAG_COUNTS_PER_AU
    if "status" in names:
        out["status"] = rec["status"].astype(np.uint16)
        out["clip_acc"] = rec["clip_acc"].astype(np.uint8)
        out["clip_gyr"] = rec["clip_gyr"].astype(np.uint8)
    return out, valid


def _select(mode: int, fields: dict[str, Any], keep: BoolArray) -> DecodedPacket:
    if keep.all():
        return DecodedPacket(mode=mode, **fields)
    return DecodedPacket(mode=mode, **{k: v[keep] for k, v in fields.items()})


class DotDecoder:
    """Turns measurement notifications of one payload mode into SI samples.

    A notification is accepted when it is exactly the mode's payload size or the 40-byte padded
    value with an all-zero tail, and its floats are finite (and, for the quaternion modes, the
    quaternion has unit norm within 1 %). The zero-tail and unit-norm checks also catch a
    sensor streaming a different mode than configured for most mode pairs.

    Attributes:
        config: the wire configuration the sensor was started with.
        malformed: count of notifications skipped as invalid (wrong length, non-zero padding,
            non-finite values, non-unit quaternion, not bytes at all).
    """

    def __init__(self, config: DotConfig) -> None:
        self.config = config
        self.malformed = 0
        self._mode = config.mode
        self._size = config.payload_size
        self._dtype = _DTYPES[config.mode]

    def decode(self, data: bytes | bytearray) -> DecodedPacket | None:
        """Decode one notification into a one-sample packet, or None (counted) if invalid.

        Never raises.
        """
        try:
            buf = memoryview(data).cast("B")
        except (TypeError, ValueError):
            self.malformed += 1
            return None
        n = len(buf)
        if n not in (self._size, MEDIUM_PAYLOAD_LEN) or any(buf[self._size :]):
            self.malformed += 1
            return None
        rec = np.frombuffer(buf, dtype=self._dtype, count=1)
        fields, valid = _fields(rec)
        if not valid[0]:
            self.malformed += 1
            return None
        return DecodedPacket(mode=self._mode, **fields)

    def decode_batch(self, packets: Sequence[bytes]) -> DecodedPacket | None:
        """Decode many notifications at once (replay): all valid samples in arrival order.

        Returns None if none was valid. Invalid packets are counted in :attr:`malformed`
        exactly as :meth:`decode` would count them. Vectorised over the joined bytes: a few
        numpy operations plus one ``len`` per packet.
        """
        return self.decode_indexed(packets)[0]

    def decode_indexed(
        self, packets: Sequence[bytes]
    ) -> tuple[DecodedPacket | None, npt.NDArray[np.int64]]:
        """:meth:`decode_batch`, and which notification each sample came from.

        Returns ``(packet, index)``: ``index`` ``(n,)`` int64, increasing, the position in
        ``packets`` of each of the ``n`` valid samples (empty, with ``packet`` None, if none was
        valid). The samples, and what is counted in :attr:`malformed`, are exactly those of
        :meth:`decode` on each notification in turn.
        """
        count = len(packets)
        none = np.zeros(0, dtype=np.int64)
        if count == 0:
            return None, none
        joined = join_packets(packets)
        if joined is None:
            # Not all plain bytes (see join_packets): the careful per-packet path.
            index: list[int] = []
            decoded: list[DecodedPacket] = []
            for i, data in enumerate(packets):
                if (pkt := self.decode(data)) is not None:
                    index.append(i)
                    decoded.append(pkt)
            return _concat(self._mode, decoded), np.array(index, dtype=np.int64)
        size = self._size
        blob, lens = joined
        buf = np.frombuffer(blob, dtype=np.uint8)
        width = int(lens[0])
        if width in (size, MEDIUM_PAYLOAD_LEN) and bool(np.all(lens == width)):
            # The usual case: every notification the same accepted length (all padded to 40 B,
            # or all bare payloads), so the joined bytes are a (count, width) table.
            frames = buf.reshape(count, width)
            tails = frames[:, size:]
            # One reduction over all the padding first: row by row is slow, and rarely needed.
            ok = np.ones(count, dtype=bool) if not tails.any() else ~tails.any(axis=1)
            take = np.flatnonzero(ok)
            rows = frames[take, :size] if take.size < count else frames[:, :size]
        else:
            starts = np.cumsum(lens) - lens
            ok = (lens == size) | (lens == MEDIUM_PAYLOAD_LEN)
            padded = np.flatnonzero(ok & (lens > size))
            if padded.size:
                tail = buf[starts[padded, None] + np.arange(size, MEDIUM_PAYLOAD_LEN)]
                ok[padded[tail.any(axis=1)]] = False
            take = np.flatnonzero(ok)
            rows = buf[starts[take, None] + np.arange(size)]
        if take.size == 0:
            self.malformed += count
            return None, none
        rec = np.ascontiguousarray(rows).view(self._dtype).reshape(-1)
        fields, valid = _fields(rec)
        self.malformed += count - int(np.count_nonzero(valid))
        if not valid.any():
            return None, none
        return _select(self._mode, fields, valid), take[valid].astype(np.int64)


def _concat(mode: int, packets: list[DecodedPacket]) -> DecodedPacket | None:
    if not packets:
        return None
    names = ("t_us", "quat", "free_acc", "acc", "gyr", "mag", "status", "clip_acc", "clip_gyr")
    joined: dict[str, Any] = {}
    for name in names:
        parts = [getattr(p, name) for p in packets]
        joined[name] = None if parts[0] is None else np.concatenate(parts)
    return DecodedPacket(mode=mode, **joined)


# --- encoding (emulator, tests) -----------------------------------------------------------


def encode_packets(
    mode: int,
    t_us: npt.ArrayLike,
    *,
    quat: npt.ArrayLike | None = None,
    free_acc: npt.ArrayLike | None = None,
    acc: npt.ArrayLike | None = None,
    gyr: npt.ArrayLike | None = None,
    mag: npt.ArrayLike | None = None,
    status: npt.ArrayLike | None = None,
    clip_acc: npt.ArrayLike | None = None,
    clip_gyr: npt.ArrayLike | None = None,
    padded: bool = True,
) -> list[bytes]:
    """Notification values the firmware would send for ``n`` samples of payload ``mode``.

    ``t_us`` ``(n,)`` device microseconds (taken modulo 2³²); ``quat`` ``(n, 4)``; ``free_acc``,
    ``acc`` ``(n, 3)`` m/s²; ``gyr`` ``(n, 3)`` rad/s (sent as °/s); ``mag`` ``(n, 3)`` a.u.
    (sent as int16 × 2¹², saturating); ``status`` ``(n,)`` u16; ``clip_acc``/``clip_gyr``
    ``(n,)`` u8 (saturating). Floats are rounded to float32. Each value is the mode's payload
    zero-padded to 40 bytes (``padded=False``: the bare payload). Raises ValueError for an
    unsupported mode, a missing field or a bad shape.
    """
    if mode not in SUPPORTED_MODES:
        raise ValueError(f"unsupported payload mode {mode!r}")
    dtype = _DTYPES[mode]
    t = np.asarray(t_us, dtype=np.int64).reshape(-1)
    n = t.shape[0]
    rec = np.zeros(n, dtype=dtype)
    rec["t"] = np.mod(t, TIMESTAMP_WRAP).astype(np.uint32)
    given = {
        "quat": quat,
        "free_acc": free_acc,
        "acc": acc,
        "gyr": gyr,
        "mag": mag,
        "status": status,
        "clip_acc": clip_acc,
        "clip_gyr": clip_gyr,
    }
    for name in dtype.names or ():
        if name == "t":
            continue
        value = given[name]
        if value is None:
            raise ValueError(f"mode {mode} needs {name}")
        shape = dtype[name].shape
        arr = np.asarray(value, dtype=np.float64)
        if arr.shape != (n, *shape):
            raise ValueError(f"{name} must have shape {(n, *shape)}, got {arr.shape}")
        if name == "gyr":
            arr = arr / _DEG
        elif name == "mag":
            arr = np.clip(np.rint(arr * MAG_COUNTS_PER_AU), -32768, 32767)
        elif name in ("clip_acc", "clip_gyr"):
            arr = np.clip(arr, 0, 255)
        rec[name] = arr
    size = dtype.itemsize
    width = MEDIUM_PAYLOAD_LEN if padded else size
    frames = np.zeros((n, width), dtype=np.uint8)
    frames[:, :size] = rec.view(np.uint8).reshape(n, size)
    blob = frames.tobytes()
    return [blob[i : i + width] for i in range(0, n * width, width)]


# --- commands -----------------------------------------------------------------------------


def start_command(config: DotConfig) -> bytes:
    """Control-characteristic value that starts measurement in ``config.mode``.

    ``[type 1 = measurement, action 1 = start, payload mode]`` (Spec Table 13; the server's
    ``enableSensor`` writes the same three bytes). Enable notifications on
    :attr:`DotConfig.notify_char` first: the spec's best practice, and anything notified
    before the subscription is lost.
    """
    return bytes((CONTROL_TYPE_MEASUREMENT, ACTION_START, config.mode))


def stop_command(config: DotConfig) -> bytes:
    """Control-characteristic value that stops measurement: ``[1, 0, mode]``.

    The mode byte is ignored on stop (Spec: applied on start only); the current mode is sent,
    as Xsens' server does.
    """
    return bytes((CONTROL_TYPE_MEASUREMENT, ACTION_STOP, config.mode))


def output_rate_command(rate_hz: float) -> bytes:
    """Device-control value (32 bytes) that sets the output rate and nothing else.

    Visit index = 0x10 (bit 4: output rate), u16 rate at offset 24, every other byte 0 — the
    firmware ignores fields whose visit bit is clear (Spec Table 7). The rate cannot change
    while measuring, so send this before :func:`start_command`. Raises
    :class:`~liftguard.errors.ConfigError` for a rate that is not a streaming rate.
    """
    rate = _check_rate(rate_hz)
    value = bytearray(DEVICE_CONTROL_LEN)
    value[DC_VISIT_OFFSET] = VISIT_OUTPUT_RATE
    value[DC_OUTPUT_RATE_OFFSET : DC_OUTPUT_RATE_OFFSET + 2] = rate.to_bytes(2, "little")
    return bytes(value)


def heading_reset_command() -> bytes:
    """Orientation-reset-control value that resets the heading: u16 0x0001 (Spec Table 18).

    Only valid while measuring; a second reset needs a revert first. The result is readable
    from the orientation-reset-status characteristic (1 success, 0 fail).
    """
    return HEADING_RESET.to_bytes(2, "little")


def heading_revert_command() -> bytes:
    """Orientation-reset-control value that reverts the heading to default: u16 0x0007."""
    return HEADING_REVERT.to_bytes(2, "little")


def parse_control(data: bytes | bytearray) -> tuple[int, int, int] | None:
    """A control-characteristic read as ``(type, action, mode)``; None unless 3 bytes."""
    if len(data) != 3:
        return None
    return data[0], data[1], data[2]


def parse_battery(data: bytes | bytearray) -> tuple[int, bool] | None:
    """A battery read or notification as ``(level %, charging)``; None if not 2 valid bytes."""
    if len(data) != 2 or data[0] > 100 or data[1] > 1:
        return None
    return data[0], bool(data[1])


def parse_output_rate(device_control: bytes | bytearray) -> int | None:
    """The output rate (Hz) in a 32-byte device-control read; None if not 32 bytes."""
    if len(device_control) != DEVICE_CONTROL_LEN:
        return None
    lo = DC_OUTPUT_RATE_OFFSET
    return int.from_bytes(device_control[lo : lo + 2], "little")


# --- device time --------------------------------------------------------------------------


class TimestampUnwrapper:
    """Device timestamps (u32 µs, wrapping at 2³² µs ≈ 71.6 min) → monotonic device seconds.

    The first timestamp ``r`` maps to ``r / 1e6`` s; every later one is placed relative to the
    newest one seen so far (the *head*) by the signed modular difference ``d``:

    * ``0 ≤ d < 2³¹`` µs — forward, including across the wrap: the head advances by ``d``.
    * ``-max_reorder_s ≤ d < 0`` — an out-of-order (late) packet: it gets its true, earlier
      time ``head + d`` and the head stays where it is (counted in :attr:`reordered`). Callers
      that need strictly increasing times drop these.
    * anything else is a **reset**: the device rebooted (its counter restarts at 0, Manual
      §4.2.5) or the stream is not continuous. Device time cannot bridge a reset, so the head
      moves on by the host time elapsed since the head's packet (at least 1 µs) and the new
      timestamp becomes the new reference (counted in :attr:`resets`).

    With host receive times the wrap count is chosen to agree best with the host time elapsed
    since the head, so gaps longer than 2³¹ µs (35.8 min) unwrap correctly, and a forward jump
    larger than the elapsed host time plus ``max_lead_s`` — a reboot that lands ahead of the old
    counter — is recognised as a reset too. Without host times those two cases are
    indistinguishable from ordinary forward steps.

    Args:
        max_reorder_s: largest backward step still taken as a late packet, s.
        max_lead_s: slack for BLE latency when comparing device and host elapsed times, s.
    """

    def __init__(self, *, max_reorder_s: float = 1.0, max_lead_s: float = 1.0) -> None:
        if not max_reorder_s >= 0 or not max_lead_s >= 0:
            raise ValueError("max_reorder_s and max_lead_s must be >= 0")
        self._max_back_us = round(max_reorder_s * 1e6)
        self._max_lead_us = round(max_lead_s * 1e6)
        self._head_raw: int | None = None
        self._head_us = 0  # unwrapped µs of the head (a Python int: never overflows)
        self._head_host: float | None = None
        #: Backward steps beyond ``max_reorder_s`` or impossible forward jumps seen.
        self.resets = 0
        #: Late packets placed before the head.
        self.reordered = 0

    def reset(self) -> None:
        """Forget everything: the next timestamp starts a new time line."""
        self._head_raw = None
        self._head_host = None
        self._head_us = 0

    def unwrap(self, t_us: int, host_time: float | None = None) -> float:
        """Device seconds of raw timestamp ``t_us`` (0 … 2³²−1) received at ``host_time`` (s)."""
        raw = int(t_us) % TIMESTAMP_WRAP
        if self._head_raw is None:
            self._head_raw, self._head_us, self._head_host = raw, raw, host_time
            return raw / 1e6
        d = (raw - self._head_raw) % TIMESTAMP_WRAP
        host_dt = None
        if host_time is not None and self._head_host is not None:
            host_dt = host_time - self._head_host
            # The wrap count that makes device elapsed time closest to host elapsed time.
            step = d + TIMESTAMP_WRAP * round((host_dt * 1e6 - d) / TIMESTAMP_WRAP)
        else:
            step = d if d < TIMESTAMP_WRAP // 2 else d - TIMESTAMP_WRAP
        if step < 0 and -step <= self._max_back_us:
            self.reordered += 1
            return (self._head_us + step) / 1e6
        forward_ok = step >= 0 and (host_dt is None or step <= host_dt * 1e6 + self._max_lead_us)
        if forward_ok:
            self._head_us += step
        else:
            self.resets += 1
            self._head_us += max(round(max(host_dt or 0.0, 0.0) * 1e6), 1)
        self._head_raw = raw
        if host_time is not None:
            self._head_host = host_time
        return self._head_us / 1e6

    def unwrap_many(
        self, t_us: npt.ArrayLike, host_time: npt.ArrayLike | None = None
    ) -> FloatArray:
        """:meth:`unwrap` for ``(n,)`` timestamps (and ``(n,)`` host times), same results.

        Runs of ordinary forward steps (the usual replay case) are vectorised; each other step
        (the first timestamp, a late packet, a reset, a host-time anomaly) takes the per-sample
        rule, and the vectorised runs resume after it.
        """
        raw = np.mod(np.asarray(t_us, dtype=np.int64).reshape(-1), TIMESTAMP_WRAP)
        n = raw.shape[0]
        host = None if host_time is None else np.asarray(host_time, dtype=np.float64).reshape(-1)
        if host is not None and host.shape != (n,):
            raise ValueError(f"host_time must have shape ({n},), got {host.shape}")
        out = np.empty(n, dtype=np.float64)
        i = 0
        window = _UNWRAP_WINDOW_MIN * 64
        while i < n:
            if self._head_raw is None:
                out[i] = self.unwrap(int(raw[i]), None if host is None else float(host[i]))
                i += 1
                continue
            j = min(n, i + window)
            if window <= _UNWRAP_WINDOW_MIN:
                # Right after a step that was not ordinary, a few steps one by one: such steps
                # tend to come in clusters, where setting up vectors would not pay.
                for k in range(i, j):
                    out[k] = self.unwrap(int(raw[k]), None if host is None else float(host[k]))
                window *= 4
            else:
                done = self._unwrap_forward(raw[i:j], None if host is None else host[i:j], out[i:j])
                if done == j - i:
                    window = min(window * 4, _UNWRAP_WINDOW_MAX)
                else:
                    j = i + done + 1
                    out[j - 1] = self.unwrap(
                        int(raw[j - 1]), None if host is None else float(host[j - 1])
                    )
                    window = _UNWRAP_WINDOW_MIN
            i = j
        return out

    def _unwrap_forward(
        self, raw: npt.NDArray[np.int64], host: FloatArray | None, out: FloatArray
    ) -> int:
        """Unwrap the leading run of ordinary forward steps of ``raw`` into ``out``, vectorised;
        returns its length (the head must be set)."""
        assert self._head_raw is not None
        if host is not None and self._head_host is None:
            return 0
        d = np.mod(raw - np.concatenate([[self._head_raw], raw[:-1]]), TIMESTAMP_WRAP)
        fast = d < TIMESTAMP_WRAP // 2
        if host is not None:
            assert self._head_host is not None
            host_dt = host - np.concatenate([[self._head_host], host[:-1]])
            # Host steps in [0, 1000) s keep the wrap count rule at 0 (agreeing with `d`), and
            # a forward step within host elapsed time + max_lead is no reset.
            with np.errstate(invalid="ignore"):
                fast &= (host_dt >= 0) & (host_dt < 1000.0)
                fast &= d <= host_dt * 1e6 + self._max_lead_us
        done = raw.shape[0] if fast.all() else int(np.argmin(fast))
        if done:
            us = self._head_us + np.cumsum(d[:done])
            out[:done] = us.astype(np.float64) / 1e6
            self._head_us = int(us[-1])
            self._head_raw = int(raw[done - 1])
            if host is not None:
                self._head_host = float(host[done - 1])
        return done


#: Sizes of the vectorised runs of :meth:`TimestampUnwrapper.unwrap_many` (grown ×4 while
#: every step is ordinary; at the minimum, steps are taken one by one).
_UNWRAP_WINDOW_MIN = 16
_UNWRAP_WINDOW_MAX = 1 << 16


# --- quaternion helpers shared by the assembler and the emulator ---------------------------


def quat_mul(p: FloatArray, q: FloatArray) -> FloatArray:
    """Hamilton product ``p ⊗ q`` of ``(n, 4)`` (or broadcastable) ``[w, x, y, z]`` arrays."""
    pw, px, py, pz = p[..., 0], p[..., 1], p[..., 2], p[..., 3]
    qw, qx, qy, qz = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack(
        (
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ),
        axis=-1,
    )


def quat_rotate(q: FloatArray, v: FloatArray, *, inverse: bool = False) -> FloatArray:
    """Rotate ``(n, 3)`` vectors by ``(n, 4)`` unit quaternions (``inverse``: by ``q*``).

    For sensor-to-earth ``q``: forward takes sensor-frame vectors to the earth frame, inverse
    takes earth-frame vectors into the sensor frame.
    """
    w = q[..., :1]
    u = -q[..., 1:] if inverse else q[..., 1:]
    t = 2.0 * np.cross(u, v)
    out: FloatArray = v + w * t + np.cross(u, t)
    return out


def quat_to_rotvec(q: FloatArray) -> FloatArray:
    """Rotation vectors (axis × angle in rad, angle ≤ π) of ``(n, 4)`` unit quaternions."""
    sign = np.where(q[..., :1] < 0.0, -1.0, 1.0)
    w = sign[..., 0] * q[..., 0]
    u = sign * q[..., 1:]
    n = np.linalg.norm(u, axis=-1)
    small = n <= 1e-12
    # angle / |u| → 2 / w as the angle vanishes; switch before the division loses precision.
    scale = np.where(
        small, 2.0 / np.maximum(w, 1e-300), 2.0 * np.arctan2(n, w) / np.where(small, 1.0, n)
    )
    out: FloatArray = u * scale[..., None]
    return out
