"""MetaWear wire format for accelerometer + gyroscope streaming: commands out, samples in.

Every command and notification is ``[module, register, payload…]``. Sample payloads are
little-endian int16 ``x, y, z``: one sample per notification on the data register, three on the
packed register. Which register means what depends on the IMU chip (the BMI270 gyro's packed
register has the same number as the BMI160 gyro's single-sample one), so both the decoder and
the command builders take a :class:`MetaWearConfig` whose ``chip`` comes from module discovery
(:func:`chip_from_module_info`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge.stream import join_packets

from ._constants import (
    ACC_DATA_REGISTER,
    ACC_IMPLEMENTATION,
    ACC_LSB_PER_G,
    ACC_PACKED_REGISTER,
    ACC_RANGE_CODE,
    BMI270_ACC_PERFORMANCE,
    CONFIG_BANDWIDTH_NORMAL,
    GYRO_DATA_REGISTER,
    GYRO_LSB_PER_DPS,
    GYRO_PACKED_REGISTER,
    GYRO_RANGE_CODE,
    HEADER_BYTES,
    INT16_MAX,
    INT16_MIN,
    MODULE_ABSENT,
    MODULE_ACCELEROMETER,
    MODULE_GYRO,
    ODR_CODE_100HZ,
    PACKED_SAMPLES,
    READ_BIT,
    REG_CONFIG,
    REG_INTERRUPT_ENABLE,
    REG_MODULE_INFO,
    REG_POWER,
    SAMPLE_BYTES,
    STANDARD_GRAVITY,
    SUPPORTED_ODR_HZ,
    Chip,
    Stream,
)

if TYPE_CHECKING:
    from liftguard.config import SensorConfig

__all__ = [
    "DecodedPacket",
    "MetaWearConfig",
    "MetaWearDecoder",
    "chip_from_module_info",
    "configure_commands",
    "encode_samples",
    "module_info_request",
    "odr_code",
    "parse_module_info",
    "start_commands",
    "stop_commands",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Int16Array = npt.NDArray[np.int16]

# Little-endian int16 regardless of host byte order: the wire is little-endian.
_LE_INT16 = np.dtype("<i2")


def odr_code(odr_hz: float) -> int:
    """ODR code of config byte 0 for ``odr_hz`` (Hz): 8 = 100 Hz, each step doubles.

    Raises :class:`~liftguard.errors.ConfigError` for a rate outside
    :data:`SUPPORTED_ODR_HZ` (25, 50, 100, 200, 400, 800 Hz).
    """
    try:
        ok = float(odr_hz) in SUPPORTED_ODR_HZ
    except (TypeError, ValueError):
        ok = False
    if not ok:
        allowed = ", ".join(f"{r:g}" for r in SUPPORTED_ODR_HZ)
        raise ConfigError(f"odr_hz must be one of {allowed} Hz, got {odr_hz!r}", reason="bad_value")
    return ODR_CODE_100HZ + round(math.log2(float(odr_hz) / 100.0))


def _member(value: object, table: dict[int, float]) -> bool:
    # A bool is an int to Python, but `acc_range_g=True` is a caller bug, not ±1 g.
    if isinstance(value, bool):
        return False
    try:
        return value in table
    except TypeError:  # unhashable
        return False


@dataclass(frozen=True)
class MetaWearConfig:
    """What to stream from one MetaWear board.

    Attributes:
        chip: IMU on the board, from module discovery (:func:`chip_from_module_info`).
        acc_range_g: accelerometer full scale, ±2, 4, 8 or 16 g.
        gyro_range_dps: gyro full scale, ±125, 250, 500, 1000 or 2000 °/s.
        odr_hz: output data rate of the accelerometer (and of the gyro unless ``gyr_odr_hz``
            says otherwise), 25-800 Hz in powers of two times 100 Hz.
        packed: three samples per notification (the only way past ~100 notifications/s).
        gyr_odr_hz: the gyro's own output data rate, same choices; ``None`` = ``odr_hz``.
            The Bosch chips run the two sensors at independent rates; the assembler merges
            them onto the faster one's sample times.
    """

    chip: Literal["bmi160", "bmi270"] = "bmi160"
    acc_range_g: int = 16
    gyro_range_dps: int = 2000
    odr_hz: float = 100.0
    packed: bool = True
    gyr_odr_hz: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.chip, str) or self.chip not in ACC_IMPLEMENTATION:
            raise ConfigError(
                f"chip must be 'bmi160' or 'bmi270', got {self.chip!r}", reason="bad_value"
            )
        if not _member(self.acc_range_g, ACC_LSB_PER_G):
            raise ConfigError(
                f"acc_range_g must be one of 2, 4, 8, 16, got {self.acc_range_g!r}",
                reason="bad_value",
            )
        if not _member(self.gyro_range_dps, GYRO_LSB_PER_DPS):
            raise ConfigError(
                "gyro_range_dps must be one of 125, 250, 500, 1000, 2000, "
                f"got {self.gyro_range_dps!r}",
                reason="bad_value",
            )
        if isinstance(self.odr_hz, bool):
            raise ConfigError(f"odr_hz must be a number, got {self.odr_hz!r}", reason="bad_value")
        odr_code(self.odr_hz)
        if self.gyr_odr_hz is not None:
            if isinstance(self.gyr_odr_hz, bool) or not isinstance(self.gyr_odr_hz, int | float):
                raise ConfigError(
                    f"gyr_odr_hz must be a number, got {self.gyr_odr_hz!r}", reason="bad_value"
                )
            try:
                odr_code(self.gyr_odr_hz)
            except ConfigError as exc:
                raise ConfigError(f"gyr_{exc}", reason=exc.reason) from None
        if not isinstance(self.packed, bool):
            raise ConfigError(
                f"packed must be True or False, got {self.packed!r}", reason="bad_value"
            )

    @classmethod
    def for_sensor(cls, sensor: SensorConfig, chip: str = "bmi160") -> MetaWearConfig:
        """The wire configuration of a roster sensor on a board with IMU ``chip``: ranges,
        accelerometer rate ``rate_hz`` and gyro rate ``gyro_rate_hz`` (``None``: the same)."""
        return cls(
            chip=chip,  # type: ignore[arg-type]
            acc_range_g=sensor.acc_range_g,
            gyro_range_dps=sensor.gyro_range_dps,
            odr_hz=sensor.rate_hz,
            gyr_odr_hz=sensor.gyro_rate_hz,
        )

    def odr(self, stream: Stream) -> float:
        """Output data rate of ``stream`` (``"acc"`` or ``"gyr"``), Hz."""
        if stream == "gyr" and self.gyr_odr_hz is not None:
            return float(self.gyr_odr_hz)
        return float(self.odr_hz)

    @property
    def stream_rate_hz(self) -> float:
        """Rate of the merged acc + gyro stream: the faster sensor's ODR, Hz."""
        return max(self.odr("acc"), self.odr("gyr"))

    @property
    def acc_si_per_lsb(self) -> float:
        """Accelerometer scale: m/s² per raw count at the configured range."""
        return STANDARD_GRAVITY / ACC_LSB_PER_G[self.acc_range_g]

    @property
    def gyr_si_per_lsb(self) -> float:
        """Gyro scale: rad/s per raw count at the configured range."""
        return math.radians(1.0) / GYRO_LSB_PER_DPS[self.gyro_range_dps]

    def data_register(self, stream: Stream) -> int:
        """Register the firmware notifies ``stream`` on with this config (packed or single)."""
        if stream == "acc":
            table = ACC_PACKED_REGISTER if self.packed else ACC_DATA_REGISTER
        else:
            table = GYRO_PACKED_REGISTER if self.packed else GYRO_DATA_REGISTER
        return table[self.chip]


# eq=False: numpy arrays make the generated __eq__ ambiguous; compare fields explicitly.
@dataclass(frozen=True, eq=False)
class DecodedPacket:
    """Samples of one stream decoded from one or more notifications.

    Attributes:
        stream: ``"acc"`` or ``"gyr"``.
        values: ``(n, 3)`` float64 in the sensor frame; acc in m/s² (1 g = 9.80665 m/s²),
            gyr in rad/s.
        clipped: ``(n,)`` bool, True where any axis sat at int16 full scale (the sensor's
            range end), so its magnitude is only a lower bound of the true one.
        counts: for :meth:`MetaWearDecoder.decode_batch` only, ``(m,)`` int64: how many of
            ``values`` each of the batch's ``m`` notifications carried (0 for other streams).
    """

    stream: Literal["acc", "gyr"]
    values: FloatArray
    clipped: BoolArray
    counts: npt.NDArray[np.int64] | None = None


def _layout(chip: Chip) -> dict[tuple[int, int], tuple[Stream, int]]:
    """``(module, register) -> (stream, samples per notification)`` for ``chip``."""
    return {
        (MODULE_ACCELEROMETER, ACC_DATA_REGISTER[chip]): ("acc", 1),
        (MODULE_ACCELEROMETER, ACC_PACKED_REGISTER[chip]): ("acc", PACKED_SAMPLES),
        (MODULE_GYRO, GYRO_DATA_REGISTER[chip]): ("gyr", 1),
        (MODULE_GYRO, GYRO_PACKED_REGISTER[chip]): ("gyr", PACKED_SAMPLES),
    }


def _to_si(raw: Int16Array, scale: float) -> FloatArray:
    return raw.astype(np.float64) * scale


def _clipped(raw: Int16Array) -> BoolArray:
    end = (raw <= INT16_MIN) | (raw >= INT16_MAX)
    # Column by column: numpy's reductions over a last axis of only 3 are slow.
    out: BoolArray = end[:, 0] | end[:, 1] | end[:, 2]
    return out


class MetaWearDecoder:
    """Turns notification bytes into SI samples for one board.

    Single-sample and packed notifications are both accepted whatever ``config.packed`` says
    (within one chip their registers never collide); ``config.chip`` picks the register map.

    Attributes:
        malformed: count of notifications skipped because they were empty, truncated, too
            long, or not an acc/gyro data packet of this chip. Read replies (register bit 7
            set, e.g. module info) are not counted.
    """

    def __init__(self, config: MetaWearConfig) -> None:
        self.config = config
        self.malformed = 0
        self._layout = _layout(config.chip)
        # The layout as tables indexed by (module, register): samples per notification (0 for
        # a register that carries none) and whether they are accelerometer samples.
        self._samples_per = np.zeros((256, 256), dtype=np.uint8)  # 64 KiB a sensor
        self._is_acc = np.zeros((256, 256), dtype=bool)
        for (module, register), (stream, n) in self._layout.items():
            self._samples_per[module, register] = n
            self._is_acc[module, register] = stream == "acc"
        self._scale: dict[Stream, float] = {
            "acc": config.acc_si_per_lsb,
            "gyr": config.gyr_si_per_lsb,
        }

    def decode(self, data: bytes | bytearray) -> DecodedPacket | None:
        """Decode one notification.

        Returns a packet of ``n`` = 1 or 3 samples (``values`` ``(n, 3)``), or None for read
        replies and for anything malformed, truncated or unknown (those are counted in
        :attr:`malformed`). Never raises.
        """
        try:
            buf = memoryview(data).cast("B")
        except (TypeError, ValueError):
            self.malformed += 1
            return None
        if len(buf) >= HEADER_BYTES and buf[1] & READ_BIT:
            return None
        entry = self._layout.get((buf[0], buf[1])) if len(buf) >= HEADER_BYTES else None
        if entry is None or len(buf) != HEADER_BYTES + SAMPLE_BYTES * entry[1]:
            self.malformed += 1
            return None
        stream, n = entry
        raw = np.frombuffer(buf, dtype=_LE_INT16, offset=HEADER_BYTES).reshape(n, 3)
        return DecodedPacket(stream, _to_si(raw, self._scale[stream]), _clipped(raw))

    def decode_batch(
        self,
        packets: Sequence[bytes],
        *,
        joined: tuple[bytes, npt.NDArray[np.int64]] | None = None,
    ) -> tuple[DecodedPacket | None, DecodedPacket | None]:
        """Decode many notifications at once (replay): ``(acc, gyr)``.

        Each is all samples of that stream in arrival order, ``values`` ``(m, 3)``, or None if
        the batch had none. Malformed packets are counted and skipped, read replies skipped,
        exactly as :meth:`decode` would. Vectorised over the joined bytes: cost is a few numpy
        operations plus one ``len`` per packet.

        ``joined``: :func:`~liftguard.firmware_bridge.stream.join_packets` of ``packets``, if
        the caller has it. Raises TypeError if they are not all plain bytes (the assembler
        feeds such a batch one by one instead).
        """
        count = len(packets)
        if count == 0:
            return None, None
        if joined is None:
            joined = join_packets(packets)
            if joined is None:
                raise TypeError("decode_batch takes bytes-like notifications only")
        blob, lens = joined
        buf = np.frombuffer(blob, dtype=np.uint8)
        starts = np.cumsum(lens) - lens
        has_header = lens >= HEADER_BYTES
        # Index 0 stands in for header-less packets; `has_header` masks them out below.
        mod = buf[np.where(has_header, starts, 0)] if buf.size else np.zeros(count, np.uint8)
        reg = buf[np.where(has_header, starts + 1, 0)] if buf.size else np.zeros(count, np.uint8)
        is_reply = has_header & ((reg & READ_BIT) != 0)

        out: dict[Stream, DecodedPacket | None] = {"acc": None, "gyr": None}
        width = int(lens[0])
        # The usual batch: notifications all of one length, so the joined bytes are a table
        # and every accepted one carries the same number of samples.
        frames = buf.reshape(count, width) if bool(np.all(lens == width)) else None
        n_of = self._samples_per[mod, reg].astype(np.int64)
        ok = has_header & (n_of > 0) & (lens == HEADER_BYTES + SAMPLE_BYTES * n_of)
        is_acc = self._is_acc[mod, reg]
        streams: tuple[tuple[Stream, BoolArray], ...] = (
            ("acc", ok & is_acc),
            ("gyr", ok & ~is_acc),
        )
        for stream, take in streams:
            # Per-packet sample count (0 = not this stream), from the chip's register map.
            per = np.where(take, n_of, 0)
            if not take.any():
                continue
            if frames is not None:
                rows = frames[take, HEADER_BYTES:] if not take.all() else frames[:, HEADER_BYTES:]
                raw = np.ascontiguousarray(rows).view(_LE_INT16).reshape(-1, 3)
            else:
                n_per = per[take]
                # Byte offset of every sample: payload start + 6 × index within its packet.
                first = starts[take] + HEADER_BYTES
                sample_start = np.repeat(first, n_per)
                within = np.arange(sample_start.size) - np.repeat(np.cumsum(n_per) - n_per, n_per)
                sample_start += SAMPLE_BYTES * within
                idx = sample_start[:, None] + np.arange(SAMPLE_BYTES)
                raw = buf[idx].view(_LE_INT16)  # (m, 6) uint8 -> (m, 3) int16
            out[stream] = DecodedPacket(
                stream, _to_si(raw, self._scale[stream]), _clipped(raw), counts=per
            )
        self.malformed += int(np.count_nonzero(~ok & ~is_reply))
        return out["acc"], out["gyr"]


# --- module discovery ---------------------------------------------------------------------


def module_info_request(module: int) -> bytes:
    """Discovery request for ``module`` (0-255): ``[module, 0x80]``, written to COMMAND_CHAR."""
    if not 0 <= module <= 0xFF:
        raise ValueError(f"module id must be 0..255, got {module}")
    return bytes((module, REG_MODULE_INFO | READ_BIT))


def parse_module_info(data: bytes) -> tuple[int, int, int] | None:
    """Parse a module-info reply into ``(module, implementation, revision)``.

    An absent module replies with only ``[module, 0x80]``; that parses to
    ``(module, MODULE_ABSENT, MODULE_ABSENT)`` (0xFF, as the SDK records it). Anything that is
    not a module-info reply, or is truncated, gives None.
    """
    if len(data) < HEADER_BYTES or data[1] != REG_MODULE_INFO | READ_BIT:
        return None
    if len(data) == HEADER_BYTES:
        return data[0], MODULE_ABSENT, MODULE_ABSENT
    if len(data) < 4:
        return None
    return data[0], data[2], data[3]


def chip_from_module_info(acc_impl: int) -> Literal["bmi160", "bmi270"]:
    """IMU chip from the accelerometer module's implementation byte (1 BMI160, 4 BMI270).

    Raises :class:`~liftguard.errors.ProtocolError` (reason ``"unsupported_chip"``) for any other
    value, including :data:`MODULE_ABSENT`.
    """
    if acc_impl == ACC_IMPLEMENTATION["bmi160"]:
        return "bmi160"
    if acc_impl == ACC_IMPLEMENTATION["bmi270"]:
        return "bmi270"
    raise ProtocolError(
        f"unsupported MetaWear accelerometer implementation {acc_impl} "
        "(LiftGuard supports BMI160 = 1 and BMI270 = 4)",
        reason="unsupported_chip",
    )


# --- commands -----------------------------------------------------------------------------


def configure_commands(config: MetaWearConfig) -> list[bytes]:
    """Config writes for COMMAND_CHAR: ``[acc config, gyro config]``, 4 bytes each.

    ``03 03 b0 b1`` with b0 = acc ODR code | 0x20 (| 0x80 on BMI270) and b1 the chip's range
    code; ``13 03 (gyro ODR code | 0x20) range code``. Each sensor's config byte 0 carries its
    own ODR (``config.odr("acc")``, ``config.odr("gyr")``). Send while the sensors are stopped.
    """
    acc_b0 = odr_code(config.odr("acc")) | CONFIG_BANDWIDTH_NORMAL
    if config.chip == "bmi270":
        acc_b0 |= BMI270_ACC_PERFORMANCE
    acc_b1 = ACC_RANGE_CODE[config.chip][config.acc_range_g]
    gyr_b0 = odr_code(config.odr("gyr")) | CONFIG_BANDWIDTH_NORMAL
    gyr_b1 = GYRO_RANGE_CODE[config.gyro_range_dps]
    return [
        bytes((MODULE_ACCELEROMETER, REG_CONFIG, acc_b0, acc_b1)),
        bytes((MODULE_GYRO, REG_CONFIG, gyr_b0, gyr_b1)),
    ]


def start_commands(config: MetaWearConfig) -> list[bytes]:
    """Writes that start streaming, in order: subscribe acc, gyr; enable acc, gyr; start acc, gyr.

    Subscriptions go first so no sample is produced before the firmware knows to notify it, and
    the two power-on writes are adjacent so acc and gyro clocks start as close together as the
    link allows. Enable the bleak notification on NOTIFY_CHAR before sending these.
    """
    acc_reg = config.data_register("acc")
    gyr_reg = config.data_register("gyr")
    return [
        bytes((MODULE_ACCELEROMETER, acc_reg, 1)),
        bytes((MODULE_GYRO, gyr_reg, 1)),
        bytes((MODULE_ACCELEROMETER, REG_INTERRUPT_ENABLE, 1, 0)),
        bytes((MODULE_GYRO, REG_INTERRUPT_ENABLE, 1, 0)),
        bytes((MODULE_ACCELEROMETER, REG_POWER, 1)),
        bytes((MODULE_GYRO, REG_POWER, 1)),
    ]


def stop_commands(config: MetaWearConfig) -> list[bytes]:
    """Writes that stop streaming, the reverse of :func:`start_commands`.

    Power off acc, gyr; disable acc, gyr (``[mod, 0x02, 0, 1]``: bit 0 of the *disable* mask);
    unsubscribe acc, gyr.
    """
    acc_reg = config.data_register("acc")
    gyr_reg = config.data_register("gyr")
    return [
        bytes((MODULE_ACCELEROMETER, REG_POWER, 0)),
        bytes((MODULE_GYRO, REG_POWER, 0)),
        bytes((MODULE_ACCELEROMETER, REG_INTERRUPT_ENABLE, 0, 1)),
        bytes((MODULE_GYRO, REG_INTERRUPT_ENABLE, 0, 1)),
        bytes((MODULE_ACCELEROMETER, acc_reg, 0)),
        bytes((MODULE_GYRO, gyr_reg, 0)),
    ]


# --- sample framing -----------------------------------------------------------------------


def frame_samples(module: int, register: int, raw: Int16Array, per: int) -> list[bytes]:
    """Notifications ``[module, register] + per × (x, y, z)`` for ``raw`` ``(n, 3)`` int16.

    ``n`` must be a multiple of ``per``. One vectorised pass builds every frame; the list only
    slices the joined bytes.
    """
    n = raw.shape[0]
    if n % per:
        raise ValueError(f"{n} samples do not fill whole notifications of {per}")
    m = n // per
    if m == 0:
        return []
    width = HEADER_BYTES + SAMPLE_BYTES * per
    frames = np.empty((m, width), dtype=np.uint8)
    frames[:, 0] = module
    frames[:, 1] = register
    payload = np.ascontiguousarray(raw, dtype=_LE_INT16).reshape(m, 3 * per)
    frames[:, HEADER_BYTES:] = payload.view(np.uint8)
    blob = frames.tobytes()
    return [blob[i : i + width] for i in range(0, m * width, width)]


def encode_samples(config: MetaWearConfig, stream: Stream, raw: npt.ArrayLike) -> list[bytes]:
    """Notification bytes the firmware would send for ``raw`` samples of ``stream``.

    ``raw``: ``(n, 3)`` integer counts within int16 (x, y, z). Single mode gives ``n``
    notifications of 8 bytes; packed mode ``n / 3`` of 20 bytes (``n`` must be a multiple of 3).
    Registers follow ``config.chip`` and ``config.packed``. Raises ValueError on a bad shape or
    out-of-range values.
    """
    if stream not in ("acc", "gyr"):
        raise ValueError(f"stream must be 'acc' or 'gyr', got {stream!r}")
    arr = np.asarray(raw)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"raw must have shape (n, 3), got {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"raw must hold integer counts, got dtype {arr.dtype}")
    if arr.size and (arr.min() < INT16_MIN or arr.max() > INT16_MAX):
        raise ValueError("raw counts must fit in int16")
    module = MODULE_ACCELEROMETER if stream == "acc" else MODULE_GYRO
    per = PACKED_SAMPLES if config.packed else 1
    return frame_samples(module, config.data_register(stream), arr.astype(np.int16), per)
