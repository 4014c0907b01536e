"""MetaMotion accelerometer + gyro notifications → paired samples.

The firmware streams the accelerometer and the gyroscope as two independent notification
streams at the same rate, with no timestamp. Sample ``k`` of one stream and sample ``k`` of the
other were taken at (nearly) the same instant, so samples are paired by order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from liftguard._types import FloatArray
from liftguard.config import SensorConfig
from liftguard.firmware_bridge.metawear.codec import MetaWearConfig, MetaWearDecoder
from liftguard.firmware_bridge.stream import RawSamples, feed_one_by_one
from liftguard.samples import FLAG_CLIPPED

__all__ = ["MetaWearAssembler"]

# More than this many samples of one stream without its partner means the other stream lost
# packets; the oldest unpaired samples are dropped rather than paired with the wrong instant.
_MAX_BACKLOG = 30


class MetaWearAssembler:
    """Pairs a MetaMotion's acc and gyro samples.

    Args:
        config: the wire configuration the sensor was started with (chip, ranges, rate, packing).
    """

    def __init__(self, config: MetaWearConfig) -> None:
        self.config = config
        self.rate_hz = config.odr_hz
        self._decoder = MetaWearDecoder(config)
        self._acc: list[np.ndarray] = []
        self._acc_clip: list[np.ndarray] = []
        self._gyr: list[np.ndarray] = []
        self._gyr_clip: list[np.ndarray] = []
        #: Samples dropped because their partner stream never delivered the matching ones.
        self.unpaired = 0

    @classmethod
    def for_sensor(cls, sensor: SensorConfig, chip: str = "bmi160") -> MetaWearAssembler:
        """An assembler for a roster sensor (ranges and rate from its configuration)."""
        return cls(
            MetaWearConfig(
                chip=chip,  # type: ignore[arg-type]
                acc_range_g=sensor.acc_range_g,
                gyro_range_dps=sensor.gyro_range_dps,
                odr_hz=sensor.rate_hz,
            )
        )

    @property
    def malformed(self) -> int:
        """Notifications that were not valid MetaWear data, counted and skipped."""
        return self._decoder.malformed

    def feed(self, host_time: float, data: bytes | bytearray) -> RawSamples | None:
        """One notification in; the samples it completes (acc and gyro paired) out."""
        pkt = self._decoder.decode(data)
        if pkt is None:
            return None
        if pkt.stream == "acc":
            self._acc.append(pkt.values)
            self._acc_clip.append(pkt.clipped)
        else:
            self._gyr.append(pkt.values)
            self._gyr_clip.append(pkt.clipped)
        acc, acc_clip = _join(self._acc, self._acc_clip)
        gyr, gyr_clip = _join(self._gyr, self._gyr_clip)
        n = min(acc.shape[0], gyr.shape[0])
        self._acc, self._acc_clip = _keep(acc[n:], acc_clip[n:], self)
        self._gyr, self._gyr_clip = _keep(gyr[n:], gyr_clip[n:], self)
        if n == 0:
            return None
        flags = np.where(acc_clip[:n] | gyr_clip[:n], FLAG_CLIPPED, 0).astype(np.uint8)
        return RawSamples(host_time=host_time, acc=acc[:n], gyr=gyr[:n], flags=flags)

    def feed_batch(self, host_times: FloatArray, packets: Sequence[bytes]) -> RawSamples | None:
        """Many notifications at once (replay): the same samples and state as :meth:`feed` on
        each, decoded with one vectorised pass."""
        m = len(packets)
        if m == 0:
            return None
        malformed_before = self._decoder.malformed
        acc_new, gyr_new = self._decoder.decode_batch(packets)
        acc_bl, acc_bl_clip = _join(self._acc, self._acc_clip)
        gyr_bl, gyr_bl_clip = _join(self._gyr, self._gyr_clip)
        zeros = np.zeros(m, dtype=np.int64)
        ca = acc_new.counts if acc_new is not None and acc_new.counts is not None else zeros
        cg = gyr_new.counts if gyr_new is not None and gyr_new.counts is not None else zeros
        cum_a = acc_bl.shape[0] + np.cumsum(ca)
        cum_g = gyr_bl.shape[0] + np.cumsum(cg)
        if np.any(np.abs(cum_a - cum_g) > _MAX_BACKLOG):
            # A stream fell behind far enough that feed() would drop samples midway; take
            # the exact slow path rather than model the drops here.
            self._decoder.malformed = malformed_before
            return feed_one_by_one(self, host_times, packets)
        paired = np.minimum(cum_a, cum_g)
        counts = np.diff(paired, prepend=0).astype(np.int64)
        acc = np.concatenate([acc_bl] + ([acc_new.values] if acc_new is not None else []))
        acc_clip = np.concatenate(
            [acc_bl_clip] + ([acc_new.clipped] if acc_new is not None else [])
        )
        gyr = np.concatenate([gyr_bl] + ([gyr_new.values] if gyr_new is not None else []))
        gyr_clip = np.concatenate(
            [gyr_bl_clip] + ([gyr_new.clipped] if gyr_new is not None else [])
        )
        n = int(paired[-1])
        self._acc, self._acc_clip = _keep(acc[n:], acc_clip[n:], self)
        self._gyr, self._gyr_clip = _keep(gyr[n:], gyr_clip[n:], self)
        if n == 0:
            return None
        flags = np.where(acc_clip[:n] | gyr_clip[:n], FLAG_CLIPPED, 0).astype(np.uint8)
        return RawSamples(
            host_time=float(host_times[-1]),
            acc=acc[:n],
            gyr=gyr[:n],
            flags=flags,
            packet_host_times=np.asarray(host_times, dtype=np.float64),
            packet_counts=counts,
        )


def _join(values: list[np.ndarray], clips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    if not values:
        return np.zeros((0, 3)), np.zeros(0, bool)
    if len(values) == 1:
        return values[0], clips[0]
    return np.concatenate(values), np.concatenate(clips)


def _keep(
    values: np.ndarray, clips: np.ndarray, owner: MetaWearAssembler
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if values.shape[0] > _MAX_BACKLOG:
        drop = values.shape[0] - _MAX_BACKLOG
        owner.unpaired += drop
        values, clips = values[drop:], clips[drop:]
    return ([values], [clips]) if values.shape[0] else ([], [])
