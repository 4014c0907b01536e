"""Movella DOT measurement notifications → :class:`~liftguard.firmware_bridge.stream.RawSamples`.

Every notification is one complete sample with its own device timestamp, so there is nothing to
pair: each valid notification becomes one sample with ``t_device`` from the unwrapped u32
microsecond counter (:class:`~.codec.TimestampUnwrapper`, fed the host receive time so long gaps
and reboots are handled).

Rate-quantity modes (20, 21) carry acc and gyro directly. Quaternion modes (2, 3) carry the
device's orientation ``q`` and free acceleration instead, and the sensor-frame quantities are
reconstructed:

* acc = ``R(q)ᵀ · (free_acc + [0, 0, 9.81])`` — exact up to float32, given the firmware removed
  the same gravity (9.81 m/s² is assumed; the spec does not state it);
* gyr = ``rotvec(q_prev* ⊗ q) / Δt``, the mean body rate over the interval since the previous
  sample, with ``Δt`` from the device timestamps. It lags by half a sample period, includes
  the fusion filter's own corrections, and cannot be formed for the first sample or after a gap
  of more than four periods: those samples get zero and ``FLAG_INTERPOLATED``. A heading reset
  shows up as one spurious rotation about the vertical in the sample after it.

Clipping: mode 2's status bits and clip counters set ``FLAG_CLIPPED``. Modes 20 and 21 carry no
clip information; a value within 1 % of the (assumed) ±16 g / ±2000 °/s full scale is flagged
as clipped instead. Mode 3 has none. The magnetometer of mode 20 is decoded but not passed on
(RawSamples has no magnetometer field).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from liftguard.config import SensorConfig
from liftguard.firmware_bridge.stream import RawSamples, feed_one_by_one
from liftguard.samples import FLAG_CLIPPED, FLAG_INTERPOLATED

from ._constants import ACC_RANGE_MS2, FREE_ACC_GRAVITY, GYR_RANGE_DPS
from .codec import (
    DecodedPacket,
    DotConfig,
    DotDecoder,
    TimestampUnwrapper,
    quat_mul,
    quat_rotate,
    quat_to_rotvec,
)

__all__ = ["DotAssembler"]

#: Fraction of full scale from which a rate-mode value counts as clipped.
_FULL_SCALE_FRACTION = 0.99
#: Largest interval, in sample periods, across which a body rate is derived from quaternions.
_MAX_DERIVATIVE_PERIODS = 4.0


class DotAssembler:
    """One DOT's notifications → samples with device time.

    Args:
        config: the wire configuration the sensor was started with (mode and rate).

    Attributes:
        rate_hz: the output rate, Hz.
        out_of_order: notifications dropped because their device time was not after the
            previous sample's (late or duplicated packets), so ``t_device`` stays increasing.
    """

    def __init__(self, config: DotConfig) -> None:
        self.config = config
        self.rate_hz = config.rate_hz
        self._decoder = DotDecoder(config)
        self._clock = TimestampUnwrapper()
        self._last_t: float | None = None
        self._last_quat: np.ndarray | None = None
        self.out_of_order = 0

    @classmethod
    def for_sensor(cls, sensor: SensorConfig) -> DotAssembler:
        """An assembler for a roster sensor (mode and rate from its configuration)."""
        return cls(DotConfig.for_sensor(sensor))

    @property
    def malformed(self) -> int:
        """Notifications that were not valid samples of the configured mode."""
        return self._decoder.malformed

    @property
    def device_resets(self) -> int:
        """Times the device clock jumped in a way only a reboot explains."""
        return self._clock.resets

    def feed_batch(
        self, host_times: npt.NDArray[np.float64], packets: Sequence[bytes]
    ) -> RawSamples | None:
        """Many notifications at once (replay): the same samples, counters and state left
        behind as :meth:`feed` on each (bit for bit), from one vectorised decode.

        ``host_times`` ``(m,)`` float64 session s, one per notification. The result's
        ``packet_host_times``/``packet_counts`` say which notification gave which sample (one
        each for valid, in-order ones; zero for the rest).
        """
        m = len(packets)
        if (
            not isinstance(host_times, np.ndarray)
            or host_times.dtype != np.float64
            or host_times.shape != (m,)
        ):
            # Not what the vectorised path assumes: the per-packet path decides (and fails) as
            # it always has.
            return feed_one_by_one(self, host_times, packets)
        if m == 0:
            return None
        pkt, index = self._decoder.decode_indexed(packets)
        if pkt is None:
            return None
        # The clock sees every valid notification, late ones included (as in feed).
        t = self._clock.unwrap_many(pkt.t_us, host_times[index])
        # feed drops a sample unless it is after the newest one kept: kept samples increase,
        # and a dropped one is not after that, so "newest kept" is the running maximum.
        newest = np.maximum.accumulate(t)
        keep = np.empty(t.shape[0], dtype=bool)
        keep[0] = self._last_t is None or t[0] > self._last_t
        keep[1:] = t[1:] > newest[:-1]
        if self._last_t is not None:
            keep[1:] &= t[1:] > self._last_t
        n = int(np.count_nonzero(keep))
        self.out_of_order += t.shape[0] - n
        if n == 0:
            return None
        all_kept = n == t.shape[0]
        t = t if all_kept else t[keep]
        index = index if all_kept else index[keep]
        flags = np.zeros(n, dtype=np.uint8)
        quat = None
        if pkt.quat is not None:
            assert pkt.free_acc is not None
            quat_raw = pkt.quat if all_kept else pkt.quat[keep]
            free_acc = pkt.free_acc if all_kept else pkt.free_acc[keep]
            quat, acc, gyr, interpolated = self._from_quaternions(quat_raw, free_acc, t)
            flags[interpolated] |= FLAG_INTERPOLATED
        else:
            assert pkt.acc is not None and pkt.gyr is not None
            acc = pkt.acc if all_kept else pkt.acc[keep]
            gyr = pkt.gyr if all_kept else pkt.gyr[keep]
            flags[_near_full_scale_rows(acc, gyr)] |= FLAG_CLIPPED
        if pkt.status is not None:  # the only mode with clip information
            clipped = pkt.clipped if all_kept else pkt.clipped[keep]
            flags[clipped] |= FLAG_CLIPPED
        self._last_t = float(t[-1])
        counts = np.zeros(m, dtype=np.int64)
        counts[index] = 1
        return RawSamples(
            host_time=float(host_times[-1]),
            acc=acc,
            gyr=gyr,
            flags=flags,
            t_device=t,
            quat=quat,
            packet_host_times=np.asarray(host_times, dtype=np.float64),
            packet_counts=counts,
        )

    def feed(self, host_time: float, data: bytes | bytearray) -> RawSamples | None:
        """One notification in (received at ``host_time``, session s); its sample out."""
        pkt = self._decoder.decode(data)
        if pkt is None:
            return None
        t = self._clock.unwrap(int(pkt.t_us[0]), host_time)
        if self._last_t is not None and t <= self._last_t:
            self.out_of_order += 1
            return None
        flags = np.zeros(1, dtype=np.uint8)
        quat = None
        if pkt.quat is not None:
            quat, acc, gyr, interpolated = self._from_quaternion(pkt, t)
            if interpolated:
                flags |= FLAG_INTERPOLATED
        else:
            assert pkt.acc is not None and pkt.gyr is not None
            acc, gyr = pkt.acc, pkt.gyr
            if _near_full_scale(acc, gyr):
                flags |= FLAG_CLIPPED
        if pkt.clipped[0]:
            flags |= FLAG_CLIPPED
        self._last_t = t
        return RawSamples(
            host_time=host_time,
            acc=acc,
            gyr=gyr,
            flags=flags,
            t_device=np.array([t]),
            quat=quat,
        )

    def _from_quaternions(
        self, quat: np.ndarray, free_acc: np.ndarray, t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, npt.NDArray[np.bool_]]:
        """:meth:`_from_quaternion` for ``(n,)`` kept samples in a row (device times ``t``):
        ``(q, acc, gyr, interpolated)``, and the state left as after the last of them."""
        n = t.shape[0]
        q = quat / np.linalg.norm(quat, axis=1, keepdims=True)
        specific = free_acc.copy()
        specific[:, 2] += FREE_ACC_GRAVITY
        acc = quat_rotate(q, specific, inverse=True)
        prev, prev_t = self._last_quat, self._last_t
        first_ok = prev is not None and prev_t is not None
        prev_q = np.concatenate([prev if prev is not None else q[:1], q[:-1]])
        dt = t - np.concatenate([[prev_t if prev_t is not None else t[0] - 1.0], t[:-1]])
        interpolated = dt > _MAX_DERIVATIVE_PERIODS / self.rate_hz
        if not first_ok:
            interpolated[0] = True
        delta = quat_mul(prev_q * np.array([1.0, -1.0, -1.0, -1.0]), q)
        gyr = quat_to_rotvec(delta) / dt[:, None]
        gyr[interpolated] = 0.0
        self._last_quat = q[n - 1 :].copy()
        return q, acc, gyr, interpolated

    def _from_quaternion(
        self, pkt: DecodedPacket, t: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        assert pkt.quat is not None and pkt.free_acc is not None
        q = pkt.quat / np.linalg.norm(pkt.quat, axis=1, keepdims=True)
        specific = pkt.free_acc.copy()
        specific[:, 2] += FREE_ACC_GRAVITY
        acc = quat_rotate(q, specific, inverse=True)
        prev, prev_t = self._last_quat, self._last_t
        self._last_quat = q
        if prev is None or prev_t is None or t - prev_t > _MAX_DERIVATIVE_PERIODS / self.rate_hz:
            return q, acc, np.zeros((1, 3)), True
        # quat_to_rotvec takes the short way, so a sign flip between q and −q costs nothing.
        delta = quat_mul(prev * np.array([1.0, -1.0, -1.0, -1.0]), q)
        return q, acc, quat_to_rotvec(delta) / (t - prev_t), False


def _near_full_scale(acc: np.ndarray, gyr: np.ndarray) -> bool:
    acc_limit = _FULL_SCALE_FRACTION * ACC_RANGE_MS2
    gyr_limit = _FULL_SCALE_FRACTION * math.radians(GYR_RANGE_DPS)
    return bool(np.any(np.abs(acc) >= acc_limit) or np.any(np.abs(gyr) >= gyr_limit))


def _near_full_scale_rows(acc: np.ndarray, gyr: np.ndarray) -> npt.NDArray[np.bool_]:
    """:func:`_near_full_scale` of each row of ``(n, 3)`` ``acc`` and ``gyr``."""
    acc_limit = _FULL_SCALE_FRACTION * ACC_RANGE_MS2
    gyr_limit = _FULL_SCALE_FRACTION * math.radians(GYR_RANGE_DPS)
    a = np.abs(acc) >= acc_limit
    g = np.abs(gyr) >= gyr_limit
    # Column by column: numpy's reductions over a last axis of only 3 are slow.
    near: npt.NDArray[np.bool_] = a[:, 0] | a[:, 1] | a[:, 2] | g[:, 0] | g[:, 1] | g[:, 2]
    return near
