"""WitMotion notifications → samples.

One ``55 61`` frame is one complete sample (acc, gyro and the device's angles together), so the
assembler only has to recover frames from the byte stream and decode them. The stream carries
no device clock: ``t_device`` is None and the pipeline stamps samples from host receive time and
the nominal rate (:class:`liftguard.signal.clock_sync.HostClockSync`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from liftguard._types import FloatArray
from liftguard.config import SensorConfig
from liftguard.firmware_bridge.stream import RawSamples, feed_one_by_one, join_packets
from liftguard.samples import FLAG_CLIPPED

from ._constants import FLAG_DATA
from .codec import FrameReassembler, WitConfig, decode_frames

if TYPE_CHECKING:
    from liftguard.firmware_bridge.stream import Assembler

__all__ = ["WitAssembler"]


class WitAssembler:
    """Decodes one WT901BLE's notification stream.

    Args:
        config: the wire configuration the sensor was set to (its rate).
        device_orientation: also give the device's own orientation (``RawSamples.quat``,
            from its Euler angles); the pipeline, which runs its own filter, does without.

    ``feed`` never raises on bad bytes: bytes that cannot start a frame are skipped and each
    run of them counts once in :attr:`malformed`. Register replies (``55 71``) are skipped
    without counting.
    """

    def __init__(self, config: WitConfig | None = None, *, device_orientation: bool = True) -> None:
        self.config = config or WitConfig()
        self.device_orientation = device_orientation
        self.rate_hz = self.config.rate_hz
        self.reassembler = FrameReassembler()

    @classmethod
    def for_sensor(cls, sensor: SensorConfig, *, device_orientation: bool = True) -> WitAssembler:
        """An assembler for a roster sensor; ConfigError if it is not a usable WitMotion."""
        return cls(WitConfig.for_sensor(sensor), device_orientation=device_orientation)

    @property
    def malformed(self) -> int:
        """Runs of garbage bytes skipped (each corrupted stretch of the stream counts once)."""
        return self.reassembler.garbage_runs

    def feed(self, host_time: float, data: bytes | bytearray) -> RawSamples | None:
        """One notification received at ``host_time`` (session s) in; the samples whose frames
        it completes out (None if it completes none)."""
        frames = self.reassembler.feed(data)
        if frames.shape[0] == 0:
            return None
        samples = decode_frames(frames, quat=self.device_orientation)
        if len(samples) == 0:
            return None
        flags = np.where(samples.clipped, FLAG_CLIPPED, 0).astype(np.uint8)
        return RawSamples(
            host_time=host_time,
            acc=samples.acc,
            gyr=samples.gyr,
            flags=flags,
            t_device=None,
            quat=samples.quat,
        )

    def feed_batch(self, host_times: FloatArray, packets: Sequence[bytes]) -> RawSamples | None:
        """Many notifications at once (replay): the same samples, and the same state left
        behind, as :meth:`feed` on each, from one scan and one vectorised decode.

        ``host_times`` ``(m,)`` session s, one per notification. The result's
        ``packet_host_times``/``packet_counts`` say which notification completed which samples.
        """
        m = len(packets)
        if m == 0:
            return None
        joined = join_packets(packets)
        if joined is None:
            return feed_one_by_one(self, host_times, packets)
        frames, index = self.reassembler.feed_many(packets, joined=joined)
        is_data = frames[:, 1] == FLAG_DATA
        if not is_data.any():
            return None
        samples = decode_frames(frames, quat=self.device_orientation)
        counts = np.bincount(index[is_data], minlength=m).astype(np.int64)
        return RawSamples(
            host_time=float(host_times[-1]),
            acc=samples.acc,
            gyr=samples.gyr,
            flags=np.where(samples.clipped, FLAG_CLIPPED, 0).astype(np.uint8),
            t_device=None,
            quat=samples.quat,
            packet_host_times=np.asarray(host_times, dtype=np.float64),
            packet_counts=counts,
        )


if TYPE_CHECKING:

    def _conforms(assembler: WitAssembler) -> Assembler:
        # mypy proves the assembler satisfies the Assembler protocol here.
        return assembler
