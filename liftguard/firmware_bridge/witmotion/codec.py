"""WitMotion WT901BLE wire format: commands out, frames in.

The sensor streams a *byte stream* on NOTIFY_CHAR, not self-contained packets: 20-byte frames
``55 61`` + 9 little-endian int16 (acc x y z, gyro x y z, roll pitch yaw) at the configured rate,
and ``55 71`` register-read replies in between. A notification may carry part of a frame or
several frames, and nothing (no checksum, no counter, no timestamp) marks a frame except its
2-byte header. :class:`FrameReassembler` recovers the frames; :func:`decode_frames` turns data
frames into SI samples; :func:`decode_stream` does both over a whole recording at once.

Commands are ``FF AA reg lo hi`` (16-bit register value, little-endian) written to WRITE_CHAR.
Register writes only take effect within 10 s of an unlock (``FF AA 69 88 B5``); reads
(``FF AA 27 reg 00``) need no unlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge.stream import join_packets

from ._constants import (
    ACC_FULL_SCALE_G,
    ACC_SI_PER_LSB,
    ANGLE_SI_PER_LSB,
    COMMAND_PREFIX,
    FLAG_DATA,
    FLAG_REGISTERS,
    FRAME_BYTES,
    GYR_SI_PER_LSB,
    GYRO_FULL_SCALE_DPS,
    HEADER,
    HEADER_BYTES,
    INT16_MAX,
    INT16_MIN,
    RATE_CODE_HZ,
    REG_KEY,
    REG_RATE,
    REG_READ,
    REG_SAVE,
    REGISTERS_PER_REPLY,
    SAVE_CURRENT,
    SUPPORTED_RATE_HZ,
    UNLOCK_KEY,
    VALUES_PER_FRAME,
)

__all__ = [
    "FrameReassembler",
    "StreamDecode",
    "WitConfig",
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

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Int16Array = npt.NDArray[np.int16]
ByteArray = npt.NDArray[np.uint8]

# Little-endian int16 regardless of host byte order: the wire is little-endian.
_LE_INT16 = np.dtype("<i2")
_DATA_HEADER = bytes((HEADER, FLAG_DATA))
_REPLY_HEADER = bytes((HEADER, FLAG_REGISTERS))
_FRAME_COLUMNS = np.arange(FRAME_BYTES)


# --- configuration -------------------------------------------------------------------------


def rate_code(rate_hz: float) -> int:
    """RATE register code for ``rate_hz`` (Hz): 0x06 = 10, 0x07 = 20, 0x08 = 50, 0x09 = 100,
    0x0B = 200 Hz.

    Raises :class:`~liftguard.errors.ConfigError` for any rate outside
    :data:`SUPPORTED_RATE_HZ` (including booleans, NaN and non-numbers).
    """
    ok = False
    if not isinstance(rate_hz, bool):
        try:
            ok = float(rate_hz) in SUPPORTED_RATE_HZ
        except (TypeError, ValueError):
            ok = False
    if not ok:
        allowed = ", ".join(f"{r:g}" for r in SUPPORTED_RATE_HZ)
        raise ConfigError(
            f"WitMotion rate_hz must be one of {allowed} Hz, got {rate_hz!r}", reason="bad_value"
        )
    return next(code for code, hz in RATE_CODE_HZ.items() if hz == float(rate_hz))


@dataclass(frozen=True)
class WitConfig:
    """What to stream from one WT901BLE sensor.

    Attributes:
        rate_hz: output rate of the ``55 61`` frames, one of 10, 20, 50, 100, 200 Hz. The
            measuring ranges are fixed on this family (±16 g, ±2000 °/s).
    """

    rate_hz: float = 100.0

    def __post_init__(self) -> None:
        rate_code(self.rate_hz)
        object.__setattr__(self, "rate_hz", float(self.rate_hz))

    @property
    def rate_code(self) -> int:
        """The RATE register value for :attr:`rate_hz`."""
        return rate_code(self.rate_hz)

    @classmethod
    def for_sensor(cls, sensor: SensorConfig) -> WitConfig:
        """The wire configuration of a roster sensor.

        Raises :class:`~liftguard.errors.ConfigError` when the sensor is not a WitMotion or asks
        for ranges this family cannot give (its frames are always scaled for ±16 g and
        ±2000 °/s, so another range would be decoded wrongly without a word).
        """
        if sensor.family != "witmotion":
            raise ConfigError(
                f"sensor {sensor.address}: family {sensor.family!r} is not 'witmotion'",
                reason="bad_value",
            )
        if sensor.acc_range_g != ACC_FULL_SCALE_G or sensor.gyro_range_dps != GYRO_FULL_SCALE_DPS:
            raise ConfigError(
                f"sensor {sensor.address}: WitMotion ranges are fixed at ±16 g and ±2000 °/s, "
                f"got ±{sensor.acc_range_g} g and ±{sensor.gyro_range_dps} °/s",
                reason="bad_value",
            )
        try:
            return cls(rate_hz=sensor.rate_hz)
        except ConfigError as exc:
            raise ConfigError(f"sensor {sensor.address}: {exc}", reason=exc.reason) from None


# --- commands ------------------------------------------------------------------------------


def write_register_command(register: int, value: int) -> bytes:
    """``FF AA reg lo hi``: write ``value`` (0-65535) to ``register`` (0-255).

    Takes effect on the device only within 10 s after :func:`unlock_command`.
    """
    if not 0 <= register <= 0xFF:
        raise ValueError(f"register must be 0..255, got {register}")
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"register value must be 0..65535, got {value}")
    return COMMAND_PREFIX + bytes((register, value & 0xFF, value >> 8))


def unlock_command() -> bytes:
    """``FF AA 69 88 B5``: unlock register writes for the next 10 s."""
    return write_register_command(REG_KEY, UNLOCK_KEY)


def save_command() -> bytes:
    """``FF AA 00 00 00``: save the current configuration to the device's flash."""
    return write_register_command(REG_SAVE, SAVE_CURRENT)


def rate_command(rate_hz: float) -> bytes:
    """``FF AA 03 code 00``: set the output rate (Hz; see :func:`rate_code`)."""
    return write_register_command(REG_RATE, rate_code(rate_hz))


def read_register_command(register: int) -> bytes:
    """``FF AA 27 reg 00``: ask for a ``55 71`` reply with registers ``register`` … ``+7``."""
    return write_register_command(REG_READ, register)


def configure_commands(config: WitConfig) -> list[bytes]:
    """The writes that put the sensor at ``config``: ``[unlock, rate]``, in this order.

    Not saved: the device falls back to its saved rate at power-up unless :func:`save_command`
    follows (within the unlock's 10 s).
    """
    return [unlock_command(), rate_command(config.rate_hz)]


# --- frame reassembly ----------------------------------------------------------------------


def _is_header(b0: int, b1: int) -> bool:
    return b0 == HEADER and b1 in (FLAG_DATA, FLAG_REGISTERS)


class _Finder:
    """Next header position at or after ``start`` in one buffer, remembering earlier searches
    so that a scan full of garbage stays linear in the buffer length."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        # per header: (searched from, result); result -1 = absent from there to the end
        self._cache: dict[bytes, tuple[int, int]] = {}

    def _find(self, header: bytes, start: int) -> int:
        cached = self._cache.get(header)
        if cached is not None:
            origin, hit = cached
            if start >= origin and (hit == -1 or hit >= start):
                return hit
        hit = self.buf.find(header, start)
        self._cache[header] = (start, hit)
        return hit

    def next(self, start: int) -> int:
        """Smallest ``j >= start`` where a frame may begin: a full header, or a lone 0x55 as the
        buffer's last byte (its flag byte may still arrive). ``len(buf)`` if there is none."""
        n = len(self.buf)
        best = n - 1 if n - 1 >= start and self.buf[n - 1] == HEADER else n
        for header in (_DATA_HEADER, _REPLY_HEADER):
            hit = self._find(header, start)
            if 0 <= hit < best:
                best = hit
        return best


@dataclass
class _Scan:
    starts: IntArray  # frame start offsets in the scanned buffer
    consumed: int  # bytes before this offset are done with; the rest must wait
    garbage_bytes: int
    garbage_runs: int
    discarding: bool


def _scan(buf: bytes, discarding: bool) -> _Scan:
    """Greedy frame recovery over ``buf``.

    At each position: a header with 20 bytes available is a frame (taken whole, then scanning
    resumes right after it); a header with fewer bytes is a partial frame and waits; anything
    else is garbage, skipped up to the next header. The rules look only at the bytes, never at
    where notifications began or ended, so every chunking of a stream gives the same frames.
    Runs of aligned frames are taken with one numpy comparison, so a clean stream costs a few
    array operations however long it is.

    ``discarding`` says whether the byte before ``buf`` was skipped as garbage, so a garbage
    run that spans two calls counts once.
    """
    a = np.frombuffer(buf, dtype=np.uint8)
    n = len(buf)
    finder = _Finder(buf)
    pieces: list[IntArray] = []
    pos = 0
    garbage = runs = 0
    while n - pos >= HEADER_BYTES:
        if _is_header(buf[pos], buf[pos + 1]):
            avail = (n - pos) // FRAME_BYTES
            if avail == 0:
                break  # a partial frame waits for the rest
            take, window = 0, 64
            while take < avail:
                m = min(window, avail - take)
                base = pos + take * FRAME_BYTES
                stop = base + m * FRAME_BYTES
                h0 = a[base:stop:FRAME_BYTES]
                h1 = a[base + 1 : stop : FRAME_BYTES]
                ok = (h0 == HEADER) & ((h1 == FLAG_DATA) | (h1 == FLAG_REGISTERS))
                if ok.all():
                    take += m
                    window *= 4
                    continue
                take += int(np.argmin(ok))  # first frame position without a header
                break
            pieces.append(np.arange(pos, pos + take * FRAME_BYTES, FRAME_BYTES, dtype=np.int64))
            pos += take * FRAME_BYTES
            discarding = False
            continue
        nxt = finder.next(pos + 1)
        garbage += nxt - pos
        if not discarding:
            runs += 1
            discarding = True
        pos = nxt
    if n - pos == 1 and buf[pos] != HEADER:
        garbage += 1
        if not discarding:
            runs += 1
            discarding = True
        pos = n
    starts = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    return _Scan(starts, pos, garbage, runs, discarding)


def _gather(buf: bytes, starts: IntArray) -> ByteArray:
    """``(m, 20)`` uint8 copy of the frames beginning at ``starts`` in ``buf``."""
    if starts.size == 0:
        return np.zeros((0, FRAME_BYTES), dtype=np.uint8)
    a = np.frombuffer(buf, dtype=np.uint8)
    first, m = int(starts[0]), starts.shape[0]
    if int(starts[-1]) - first == (m - 1) * FRAME_BYTES:
        # Back-to-back frames (frames never overlap, so the span proves it): one slice.
        return a[first : first + m * FRAME_BYTES].reshape(m, FRAME_BYTES).copy()
    frames: ByteArray = a[starts[:, None] + _FRAME_COLUMNS]
    return frames


class FrameReassembler:
    """Recovers whole 20-byte frames from a WitMotion notification stream, one sensor each.

    Frames may arrive split across notifications or several in one; a partial frame waits for
    the rest; bytes that cannot start a frame are skipped up to the next ``55 61`` / ``55 71``
    header and counted, never raised. Whatever the chunking, the same byte stream gives the same
    frames and the same counts.

    Attributes:
        frames: whole frames recovered so far (data and register replies).
        garbage_bytes: bytes skipped because no frame could start there.
        garbage_runs: maximal runs of skipped bytes (one corrupted or foreign stretch of the
            stream counts once, however many notifications it spans).
    """

    def __init__(self) -> None:
        self._pending = b""
        self._discarding = False
        self.frames = 0
        self.garbage_bytes = 0
        self.garbage_runs = 0

    @property
    def pending(self) -> int:
        """Bytes held back as the start of a frame whose rest has not arrived."""
        return len(self._pending)

    def reset(self) -> None:
        """Forget held-back bytes (after a reconnect, the next byte starts a new stream)."""
        self._pending = b""
        self._discarding = False

    def feed(self, data: bytes | bytearray | memoryview) -> ByteArray:
        """One notification in; the frames it completes out, ``(m, 20)`` uint8, in order."""
        return self.feed_located(data)[0]

    def feed_located(self, data: bytes | bytearray | memoryview) -> tuple[ByteArray, IntArray]:
        """Like :meth:`feed`, plus where each frame ends in ``data``.

        Returns ``(frames, ends)``: ``frames`` ``(m, 20)`` uint8 and ``ends`` ``(m,)`` int64,
        the offset in ``data`` just past each frame's last byte (1 … ``len(data)``). Anything
        that is not a bytes-like object counts as one garbage run.
        """
        try:
            chunk = memoryview(data).cast("B").tobytes()
        except (TypeError, ValueError):
            self.garbage_runs += 1
            return np.zeros((0, FRAME_BYTES), dtype=np.uint8), np.zeros(0, dtype=np.int64)
        held = len(self._pending)
        if not held and len(chunk) == FRAME_BYTES and _is_header(chunk[0], chunk[1]):
            # The usual notification: exactly one whole frame, nothing held back (the same
            # outcome the scan below would reach, minus its overhead).
            self._discarding = False
            self.frames += 1
            frame = np.frombuffer(chunk, dtype=np.uint8).reshape(1, FRAME_BYTES).copy()
            return frame, np.array([FRAME_BYTES], dtype=np.int64)
        buf = self._pending + chunk if held else chunk
        scan = _scan(buf, self._discarding)
        self._discarding = scan.discarding
        self._pending = buf[scan.consumed :]
        self.garbage_bytes += scan.garbage_bytes
        self.garbage_runs += scan.garbage_runs
        self.frames += int(scan.starts.size)
        return _gather(buf, scan.starts), scan.starts + (FRAME_BYTES - held)

    def feed_many(
        self,
        packets: Sequence[bytes | bytearray],
        *,
        joined: tuple[bytes, IntArray] | None = None,
    ) -> tuple[ByteArray, IntArray]:
        """Many notifications at once, in arrival order: exactly what :meth:`feed` on each
        would give and leave behind, found with one scan over the joined bytes.

        Returns ``(frames, packet_index)``: ``frames`` ``(m, 20)`` uint8 and ``packet_index``
        ``(m,)`` int64, the index in ``packets`` of the notification that completed each frame.
        ``joined``: :func:`~liftguard.firmware_bridge.stream.join_packets` of ``packets``, if
        the caller has it. Raises TypeError if they are not all plain bytes (feed such a batch
        one by one: :meth:`feed` counts what is not bytes as garbage).
        """
        if joined is None:
            joined = join_packets(packets)
            if joined is None:
                raise TypeError("feed_many takes bytes-like notifications only")
        blob, lens = joined
        held = len(self._pending)
        buf = self._pending + blob
        scan = _scan(buf, self._discarding)
        self._discarding = scan.discarding
        self._pending = buf[scan.consumed :]
        self.garbage_bytes += scan.garbage_bytes
        self.garbage_runs += scan.garbage_runs
        self.frames += int(scan.starts.size)
        # A frame's last byte is never among the held-back bytes (they are under one frame).
        ends = held + np.cumsum(lens)
        last_byte = scan.starts + (FRAME_BYTES - 1)
        packet_index = np.searchsorted(ends, last_byte, side="right").astype(np.int64)
        return _gather(buf, scan.starts), packet_index


# --- decoding ------------------------------------------------------------------------------


# eq=False: numpy arrays make the generated __eq__ ambiguous; compare fields explicitly.
@dataclass(frozen=True, eq=False)
class WitSamples:
    """Samples decoded from ``55 61`` frames.

    Attributes:
        acc: ``(n, 3)`` specific force, m/s² (1 g = 9.80665 m/s²), sensor frame.
        gyr: ``(n, 3)`` angular rate, rad/s, sensor frame.
        angles: ``(n, 3)`` the device's roll, pitch, yaw in rad (Z-Y-X Euler angles of the
            sensor in the device's z-up world frame).
        quat: ``(n, 4)`` the same orientation as ``[w, x, y, z]`` sensor-to-world, ``w >= 0``
            (None when the decoder was asked not to compute it).
        clipped: ``(n,)`` True where an acc or gyro axis sat at int16 full scale (±16 g,
            ±2000 °/s): that sample's magnitude is only a lower bound.
        raw: ``(n, 9)`` int16 counts as received.
    """

    acc: FloatArray
    gyr: FloatArray
    angles: FloatArray
    quat: FloatArray | None
    clipped: BoolArray
    raw: Int16Array

    def __len__(self) -> int:
        return int(self.acc.shape[0])


def euler_to_quat(angles: npt.ArrayLike) -> FloatArray:
    """Z-Y-X Euler angles → quaternions.

    ``angles`` ``(n, 3)`` roll (about x), pitch (about y), yaw (about z) in rad, read as the
    WT901BLECL datasheet defines them: the sensor is turned first about the world's z by yaw,
    then about y by pitch, then about x by roll, i.e. ``q = qz(yaw) ⊗ qy(pitch) ⊗ qx(roll)``.
    Returns ``(n, 4)`` ``[w, x, y, z]`` sensor-to-world, Hamilton, with ``w >= 0``.
    """
    e = np.asarray(angles, dtype=np.float64)
    if e.ndim != 2 or e.shape[1] != 3:
        raise ValueError(f"angles must have shape (n, 3), got {e.shape}")
    return _half_euler_to_quat(0.5 * e)


def _half_euler_to_quat(half: FloatArray) -> FloatArray:
    # Called once per notification on the live path, so written for few numpy calls: the
    # product qz ⊗ qy ⊗ qx expanded, sharing the roll-pitch partial products.
    c = np.cos(half)
    s = np.sin(half)
    cr, cp, cy = c[:, 0], c[:, 1], c[:, 2]
    sr, sp, sy = s[:, 0], s[:, 1], s[:, 2]
    cc, ss, cs, sc = cr * cp, sr * sp, cr * sp, sr * cp
    q = np.empty((half.shape[0], 4))
    q[:, 0] = cc * cy + ss * sy
    q[:, 1] = sc * cy - cs * sy
    q[:, 2] = cs * cy + sc * sy
    q[:, 3] = cc * sy - ss * cy
    np.negative(q, out=q, where=q[:, :1] < 0.0)  # q and -q are one rotation; keep w >= 0
    return q


def quat_to_euler(quat: npt.ArrayLike) -> FloatArray:
    """Quaternions ``(n, 4)`` ``[w, x, y, z]`` sensor-to-world → ``(n, 3)`` roll, pitch, yaw
    in rad (Z-Y-X, as :func:`euler_to_quat`): roll and yaw in [-π, π], pitch in [-π/2, π/2]."""
    q = np.asarray(quat, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != 4:
        raise ValueError(f"quat must have shape (n, 4), got {q.shape}")
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    roll = np.arctan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y))
    pitch = np.arcsin(np.clip(2.0 * (w * y - z * x), -1.0, 1.0))
    yaw = np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    out: FloatArray = np.stack([roll, pitch, yaw], axis=1)
    return out


#: Per-column scale of the nine counts: m/s², rad/s, and *half* angles in rad (the quaternion
#: wants half angles; the angles are doubled back, exactly, by one multiplication).
_HALF_SCALE = np.array([ACC_SI_PER_LSB] * 3 + [GYR_SI_PER_LSB] * 3 + [0.5 * ANGLE_SI_PER_LSB] * 3)


def _decode_raw(raw: Int16Array, *, quat: bool = True) -> WitSamples:
    scaled = raw * _HALF_SCALE
    half = scaled[:, 6:9]
    sensed = raw[:, 0:6]
    end = (sensed == INT16_MIN) | (sensed == INT16_MAX)
    # Column by column: numpy's reductions over a last axis of only 6 are slow.
    clipped = end[:, 0] | end[:, 1] | end[:, 2] | end[:, 3] | end[:, 4] | end[:, 5]
    return WitSamples(
        acc=scaled[:, 0:3],
        gyr=scaled[:, 3:6],
        angles=half * 2.0,
        quat=_half_euler_to_quat(half) if quat else None,
        clipped=clipped,
        raw=raw,
    )


def decode_frames(frames: npt.ArrayLike, *, quat: bool = True) -> WitSamples:
    """Decode the ``55 61`` rows of ``frames`` ``(m, 20)`` uint8 (as :class:`FrameReassembler`
    returns them); other rows (register replies) are skipped. One vectorised pass.

    ``quat=False`` leaves the device's angles as angles (``quat`` None): converting them costs
    a sine and a cosine per angle, and a pipeline that estimates orientation itself skips it.
    """
    f = np.asarray(frames, dtype=np.uint8)
    if f.ndim != 2 or f.shape[1] != FRAME_BYTES:
        raise ValueError(f"frames must have shape (m, {FRAME_BYTES}), got {f.shape}")
    data = f[(f[:, 0] == HEADER) & (f[:, 1] == FLAG_DATA)]
    raw: Int16Array = np.ascontiguousarray(data[:, HEADER_BYTES:]).view(_LE_INT16)
    return _decode_raw(raw.reshape(-1, VALUES_PER_FRAME), quat=quat)


def decode_frame(frame: bytes | bytearray) -> WitSamples:
    """Decode exactly one ``55 61`` frame (20 bytes) into a one-sample :class:`WitSamples`.

    Raises :class:`~liftguard.errors.ProtocolError` (reason ``"not_a_data_frame"``) for
    anything else; use :class:`FrameReassembler` for notification streams.
    """
    data = bytes(frame)
    if len(data) != FRAME_BYTES or data[:HEADER_BYTES] != _DATA_HEADER:
        raise ProtocolError(
            f"not a WitMotion data frame (need 20 bytes starting 55 61): {data[:24].hex(' ')}",
            reason="not_a_data_frame",
        )
    return decode_frames(np.frombuffer(data, dtype=np.uint8).reshape(1, FRAME_BYTES))


def parse_register_reply(
    frame: bytes | bytearray | npt.NDArray[np.uint8],
) -> tuple[int, Int16Array] | None:
    """A ``55 71`` frame → ``(start register, (8,) int16 values of registers start … start+7)``.

    None for anything that is not a 20-byte register reply.
    """
    data = bytes(frame)
    if len(data) != FRAME_BYTES or data[:HEADER_BYTES] != _REPLY_HEADER:
        return None
    start = data[2] | data[3] << 8
    values: Int16Array = np.frombuffer(data, dtype=_LE_INT16, offset=4).astype(np.int16)
    return start, values


@dataclass(frozen=True, eq=False)
class StreamDecode:
    """A whole notification stream decoded at once (:func:`decode_stream`).

    Attributes:
        samples: every data sample, in stream order.
        packet_index: ``(n,)`` int64, for each sample the index of the notification that
            completed its frame (so replay can give it that notification's receive time).
        replies: register replies in order, as :func:`parse_register_reply` returns them.
        garbage_bytes: bytes skipped because no frame could start there.
        garbage_runs: maximal runs of skipped bytes.
        trailing: bytes at the end that began a frame whose rest never came.
    """

    samples: WitSamples
    packet_index: IntArray
    replies: list[tuple[int, Int16Array]]
    garbage_bytes: int
    garbage_runs: int
    trailing: int


def decode_stream(packets: Sequence[bytes | bytearray]) -> StreamDecode:
    """Decode a sensor's notifications in one go (replay, import, benchmarks).

    Gives exactly the samples a :class:`FrameReassembler` fed the same notifications one by one
    would give, and the same garbage counts: the notifications are joined into one byte string,
    frames are found with the same scan (a clean stream costs a few numpy operations), and all
    samples are decoded with one ``np.frombuffer`` view.
    """
    reassembler = FrameReassembler()
    frames, index = reassembler.feed_many(packets)
    is_data = frames[:, 1] == FLAG_DATA
    replies = [r for r in map(parse_register_reply, frames[~is_data]) if r is not None]
    return StreamDecode(
        samples=decode_frames(frames),
        packet_index=index[is_data],
        replies=replies,
        garbage_bytes=reassembler.garbage_bytes,
        garbage_runs=reassembler.garbage_runs,
        trailing=reassembler.pending,
    )


# --- encoding (the device side; the emulator uses these) ----------------------------------


def encode_data_frames(raw: npt.ArrayLike) -> bytes:
    """The ``55 61`` frames for ``raw`` ``(n, 9)`` integer counts, joined (``20 n`` bytes).

    Raises ValueError on a bad shape, non-integer dtype or values outside int16.
    """
    arr = np.asarray(raw)
    if arr.ndim != 2 or arr.shape[1] != VALUES_PER_FRAME:
        raise ValueError(f"raw must have shape (n, {VALUES_PER_FRAME}), got {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"raw must hold integer counts, got dtype {arr.dtype}")
    if arr.size and (arr.min() < INT16_MIN or arr.max() > INT16_MAX):
        raise ValueError("raw counts must fit in int16")
    n = arr.shape[0]
    frames = np.empty((n, FRAME_BYTES), dtype=np.uint8)
    frames[:, 0] = HEADER
    frames[:, 1] = FLAG_DATA
    frames[:, HEADER_BYTES:] = np.ascontiguousarray(arr, dtype=_LE_INT16).view(np.uint8)
    return frames.tobytes()


def encode_register_reply(start: int, values: Sequence[int]) -> bytes:
    """The ``55 71`` frame answering a read of ``start``: 8 register values (int16 or uint16)."""
    if not 0 <= start <= 0xFFFF:
        raise ValueError(f"start register must be 0..65535, got {start}")
    if len(values) != REGISTERS_PER_REPLY:
        raise ValueError(f"a reply carries {REGISTERS_PER_REPLY} registers, got {len(values)}")
    words = np.array([int(v) & 0xFFFF for v in values], dtype="<u2")
    return _REPLY_HEADER + bytes((start & 0xFF, start >> 8)) + words.tobytes()
