"""MetaMotion accelerometer + gyro notifications → one merged sample stream.

The firmware streams the accelerometer and the gyroscope as two independent notification
streams, each at its own output data rate, with no timestamp. Both sample clocks start together
(the driver powers them on back to back), so sample ``k`` of a stream at ``f`` Hz was taken at
``k / f``.

The merged stream runs at the *faster* sensor's rate and sample times: its samples pass through
as measured; the slower sensor's values are linearly interpolated onto them
(:func:`.resample.interpolate_onto`) and those samples carry ``FLAG_INTERPOLATED`` — except
where both sensors sampled the same instant. At equal rates nothing is interpolated: sample
``k`` of one stream is paired with sample ``k`` of the other.

Causality: a fast sample is emitted once the slower sensor has a sample at or after it, so the
stream is held back by at most one slow sample period (plus the slow sensor's packing). The
samples a notification completes are reported against that notification's arrival, so the
session clock (:class:`~liftguard.signal.clock_sync.HostClockSync`, at the merged rate) sees
the same arrivals live and in replay; the hold-back only adds latency, which its lower envelope
of ``host_time − index / rate`` is built to ignore.

Bookkeeping is relative, so it never grows: pending fast samples ``F[0], F[1], …`` sit at fast
positions ``0, 1, …`` and buffered slow samples ``S[m]`` at ``phase + m·ratio`` with
``-ratio < phase <= 0`` (``S[0]`` is the last slow sample at or before ``F[0]``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from liftguard._types import FloatArray
from liftguard.config import SensorConfig
from liftguard.firmware_bridge.metawear.codec import MetaWearConfig, MetaWearDecoder
from liftguard.firmware_bridge.metawear.resample import interpolate_onto
from liftguard.firmware_bridge.stream import RawSamples, feed_one_by_one, join_packets
from liftguard.samples import FLAG_CLIPPED, FLAG_INTERPOLATED

__all__ = ["MetaWearAssembler"]

# More than this many slow-sensor periods of one stream without its partner means the other
# stream lost packets; the oldest unmatched samples are dropped rather than matched with the
# wrong instant (the partner's samples are taken to belong to later instants).
_MAX_BACKLOG = 30

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


class MetaWearAssembler:
    """Merges a MetaMotion's acc and gyro samples onto the faster sensor's sample times.

    Args:
        config: the wire configuration the sensor was started with (chip, ranges, rates,
            packing).

    Attributes:
        rate_hz: the merged stream's rate, the faster sensor's ODR (Hz).
        unpaired: samples dropped because the other stream never delivered their partners.
    """

    def __init__(self, config: MetaWearConfig) -> None:
        self.config = config
        self.rate_hz = config.stream_rate_hz
        acc_hz, gyr_hz = config.odr("acc"), config.odr("gyr")
        self._fast = "gyr" if gyr_hz > acc_hz else "acc"
        #: Fast samples per slow sample (1 at equal rates; the ODRs are 100 Hz × powers of two).
        self._ratio = round(max(acc_hz, gyr_hz) / min(acc_hz, gyr_hz))
        self._decoder = MetaWearDecoder(config)
        self._f: list[np.ndarray] = []
        self._f_clip: list[np.ndarray] = []
        self._s: list[np.ndarray] = []
        self._s_clip: list[np.ndarray] = []
        self._phase = 0
        self.unpaired = 0

    @classmethod
    def for_sensor(cls, sensor: SensorConfig, chip: str = "bmi160") -> MetaWearAssembler:
        """An assembler for a roster sensor (ranges and rates from its configuration)."""
        return cls(MetaWearConfig.for_sensor(sensor, chip))

    @property
    def malformed(self) -> int:
        """Notifications that were not valid MetaWear data, counted and skipped."""
        return self._decoder.malformed

    def feed(self, host_time: float, data: bytes | bytearray) -> RawSamples | None:
        """One notification in; the merged samples it completes out."""
        pkt = self._decoder.decode(data)
        if pkt is None:
            return None
        if pkt.stream == self._fast:
            self._f.append(pkt.values)
            self._f_clip.append(pkt.clipped)
        else:
            self._s.append(pkt.values)
            self._s_clip.append(pkt.clipped)
        f, f_clip = _join(self._f, self._f_clip)
        s, s_clip = _join(self._s, self._s_clip)
        have_s = s.shape[0]
        reach = max(self._phase + (have_s - 1) * self._ratio + 1, 0) if have_s else 0
        n = min(f.shape[0], reach)  # as _covered, in plain ints: this runs per notification
        merged = self._merge(f, f_clip, s, s_clip, n) if n else None
        self._advance(f, f_clip, s, s_clip, n)
        if merged is None:
            return None
        acc, gyr, flags = merged
        return RawSamples(host_time=host_time, acc=acc, gyr=gyr, flags=flags)

    def feed_batch(self, host_times: FloatArray, packets: Sequence[bytes]) -> RawSamples | None:
        """Many notifications at once (replay): the same samples and state as :meth:`feed` on
        each, decoded and merged with one vectorised pass."""
        m = len(packets)
        if m == 0:
            return None
        joined = join_packets(packets)
        if joined is None:
            return feed_one_by_one(self, host_times, packets)
        malformed_before = self._decoder.malformed
        acc_new, gyr_new = self._decoder.decode_batch(packets, joined=joined)
        fast_new, slow_new = (acc_new, gyr_new) if self._fast == "acc" else (gyr_new, acc_new)
        f_bl, f_bl_clip = _join(self._f, self._f_clip)
        s_bl, s_bl_clip = _join(self._s, self._s_clip)
        zeros = np.zeros(m, dtype=np.int64)
        cf = fast_new.counts if fast_new is not None and fast_new.counts is not None else zeros
        cs = slow_new.counts if slow_new is not None and slow_new.counts is not None else zeros
        have_f = f_bl.shape[0] + np.cumsum(cf)
        have_s = s_bl.shape[0] + np.cumsum(cs)
        done = self._covered(have_f, have_s)
        pending_f, pending_s = have_f - done, have_s - (done - self._phase) // self._ratio
        if np.any(pending_f > _MAX_BACKLOG * self._ratio) or np.any(pending_s > _MAX_BACKLOG):
            # A stream fell behind far enough that feed() would drop samples midway; take
            # the exact slow path rather than model the drops here.
            self._decoder.malformed = malformed_before
            return feed_one_by_one(self, host_times, packets)
        f = np.concatenate([f_bl] + ([fast_new.values] if fast_new is not None else []))
        f_clip = np.concatenate([f_bl_clip] + ([fast_new.clipped] if fast_new is not None else []))
        s = np.concatenate([s_bl] + ([slow_new.values] if slow_new is not None else []))
        s_clip = np.concatenate([s_bl_clip] + ([slow_new.clipped] if slow_new is not None else []))
        n = int(done[-1])
        merged = self._merge(f, f_clip, s, s_clip, n) if n else None
        self._advance(f, f_clip, s, s_clip, n)
        if merged is None:
            return None
        acc, gyr, flags = merged
        return RawSamples(
            host_time=float(host_times[-1]),
            acc=acc,
            gyr=gyr,
            flags=flags,
            packet_host_times=np.asarray(host_times, dtype=np.float64),
            packet_counts=np.diff(done, prepend=0).astype(np.int64),
        )

    # -- merging ------------------------------------------------------------------------------

    def _covered(self, have_f: IntArray, have_s: IntArray) -> IntArray:
        """How many pending fast samples can go out with ``have_f`` fast and ``have_s`` slow
        samples buffered: those with a slow sample at or after them."""
        reach = np.maximum(self._phase + (have_s - 1) * self._ratio + 1, 0)
        return np.minimum(have_f, np.where(have_s > 0, reach, 0))

    def _merge(
        self, f: np.ndarray, f_clip: BoolArray, s: np.ndarray, s_clip: BoolArray, n: int
    ) -> tuple[np.ndarray, np.ndarray, npt.NDArray[np.uint8]]:
        """``(acc, gyr, flags)`` of the first ``n`` pending fast samples."""
        if self._ratio == 1:
            slow, slow_clip = s[:n], s_clip[:n]
            interpolated = np.zeros(n, dtype=bool)
        else:
            # Clip flags ride along as a fourth column: non-zero wherever a clipped slow
            # sample has any weight in the interpolation.
            src = np.concatenate([s, s_clip[:, None]], axis=1)
            pos = self._phase + self._ratio * np.arange(s.shape[0])
            both, own = interpolate_onto(np.arange(n), pos, src)
            slow, slow_clip, interpolated = both[:, :3], both[:, 3] > 0, ~own
        flags = np.where(f_clip[:n] | slow_clip, FLAG_CLIPPED, 0) | np.where(
            interpolated, FLAG_INTERPOLATED, 0
        )
        fast = f[:n]
        acc, gyr = (fast, slow) if self._fast == "acc" else (slow, fast)
        return acc, gyr, flags.astype(np.uint8)

    def _advance(
        self, f: np.ndarray, f_clip: BoolArray, s: np.ndarray, s_clip: BoolArray, n: int
    ) -> None:
        """Forget the ``n`` emitted fast samples and the slow ones no longer needed; bound the
        buffers."""
        keep = (n - self._phase) // self._ratio  # slow samples wholly before the next fast one
        self._phase += keep * self._ratio - n
        f, f_clip, s, s_clip = f[n:], f_clip[n:], s[keep:], s_clip[keep:]
        limit_f = _MAX_BACKLOG * self._ratio
        if f.shape[0] > limit_f:
            # The slow stream lost samples: drop the oldest fast ones (whole slow periods, so
            # the sample grids stay aligned); the buffered slow samples move later with them.
            drop = -(-(f.shape[0] - limit_f) // self._ratio) * self._ratio
            self.unpaired += drop
            f, f_clip = f[drop:], f_clip[drop:]
        if s.shape[0] > _MAX_BACKLOG:
            # The fast stream lost samples: drop the oldest slow ones; the fast samples to come
            # are matched with the slow ones after them.
            drop = s.shape[0] - _MAX_BACKLOG
            self.unpaired += drop
            s, s_clip = s[drop:], s_clip[drop:]
        self._f, self._f_clip = ([f], [f_clip]) if f.shape[0] else ([], [])
        self._s, self._s_clip = ([s], [s_clip]) if s.shape[0] else ([], [])


def _join(values: list[np.ndarray], clips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if not values:
        return np.zeros((0, 3)), np.zeros(0, bool)
    if len(values) == 1:
        return values[0], clips[0]
    return np.concatenate(values), np.concatenate(clips)
