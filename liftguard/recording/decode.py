"""Decoding a recording's sensors to samples on the session clock, as the pipeline does."""

from __future__ import annotations

from liftguard.config import AthleteConfig, SensorConfig
from liftguard.firmware_bridge.families import assembler_for
from liftguard.firmware_bridge.stream import Assembler, RawSamples, feed_one_by_one
from liftguard.recording.reader import Recording
from liftguard.samples import SampleBlock
from liftguard.signal.clock_sync import HostClockSync

__all__ = ["DecodedSensor", "decode_sensors"]


class DecodedSensor:
    """One sensor's samples (``block``) and what decoding them found."""

    def __init__(
        self,
        athlete: AthleteConfig,
        sensor: SensorConfig,
        block: SampleBlock,
        packets: int,
        assembler: Assembler,
        clock: HostClockSync,
    ) -> None:
        self.athlete = athlete
        self.sensor = sensor
        self.block = block
        self.packets = packets
        self.malformed = assembler.malformed
        self.lost_samples = clock.lost_samples
        self.gaps = clock.gaps


def decode_sensors(rec: Recording) -> list[DecodedSensor]:
    """Every roster sensor's samples, decoded by today's codecs and stamped like live.

    Imported recordings (decoded samples, no packets) give their samples as recorded.
    """
    chips = {addr.upper(): chip for _, _, addr, state, chip in rec.connections if chip}
    out = []
    for athlete, sensor in rec.config.sensors():
        batch = rec.packets_of(sensor.address)
        asm = assembler_for(sensor, chip=chips.get(sensor.address.upper()))
        clock = HostClockSync(sensor.rate_hz)
        blocks: list[SampleBlock] = [
            b for _, addr, b in rec.samples if addr.upper() == sensor.address.upper()
        ]
        if batch.packets:
            feed_batch = getattr(asm, "feed_batch", None)
            raw: RawSamples | None = (
                feed_batch(batch.t_host, batch.packets)
                if feed_batch is not None
                else feed_one_by_one(asm, batch.t_host, batch.packets)
            )
            if raw is not None and len(raw):
                t = clock.stamp_packets(*raw.arrivals())
                blocks.append(SampleBlock(t, raw.acc, raw.gyr, flags=raw.flags, quat=raw.quat))
        out.append(
            DecodedSensor(
                athlete, sensor, SampleBlock.concat(blocks), len(batch.packets), asm, clock
            )
        )
    return out
