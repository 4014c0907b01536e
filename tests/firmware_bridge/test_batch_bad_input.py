"""A replay batch holding something that is not a notification's bytes (a str, None, a
memoryview of int16 whose len() counts items) is counted and skipped exactly as live does it,
for every family — never an exception out of the pipeline."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from liftguard.config import SensorConfig
from liftguard.firmware_bridge import assembler_for
from liftguard.firmware_bridge.dot.codec import encode_packets
from tests.firmware_bridge.test_metawear_assembler import stream as metawear_stream

RATE = {"metawear": 100.0, "witmotion": 100.0, "dot": 60.0}


def good_packets(family: str) -> list[bytes]:
    """Two seconds or so of valid notifications of ``family``."""
    if family == "metawear":
        return metawear_stream("bmi160", seconds=2.0)
    k = np.arange(120)
    if family == "dot":
        acc = np.stack([np.sin(k / 9), np.cos(k / 7), 9.81 + 0 * k], axis=1)
        gyr = np.stack([0.1 * np.sin(k / 5), 0 * k, 0.2 + 0 * k], axis=1)
        return list(encode_packets(21, 1000 + k * 16_667, acc=acc, gyr=gyr))
    # WitMotion: one 55 61 frame per notification (acc, gyro, angles as int16 counts).
    return [struct.pack("<BB9h", 0x55, 0x61, 10 * i, -i, 2048, i, 0, -i, 90 * i, 0, 0) for i in k]


def _sensor(family: str) -> SensorConfig:
    return SensorConfig("upper", "AA:00:00:00:00:01", family=family, rate_hz=RATE[family])


@pytest.mark.parametrize("family", ["metawear", "witmotion", "dot"])
@pytest.mark.parametrize("bad", ["junk", None, "int16"])
def test_a_batch_with_a_non_bytes_notification_is_decoded_as_live(family: str, bad: object) -> None:
    packets: list[object] = list(good_packets(family))
    k = len(packets) // 2
    packets[k] = memoryview(packets[k]).cast("h") if bad == "int16" else bad
    hosts = np.arange(len(packets)) * 0.01
    live, batch = assembler_for(_sensor(family)), assembler_for(_sensor(family))
    one = [live.feed(float(h), p) for h, p in zip(hosts, packets, strict=True)]  # type: ignore[arg-type]
    got = batch.feed_batch(hosts, packets)  # type: ignore[arg-type]
    want = np.concatenate([r.acc for r in one if r is not None and len(r)])
    assert got is not None and np.array_equal(got.acc, want)
    counts = [0 if r is None else len(r) for r in one]
    assert got.packet_counts is not None and got.packet_counts.tolist() == counts
    assert batch.malformed == live.malformed
