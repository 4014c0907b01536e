"""Pairing a MetaMotion's acc and gyro streams: live (per packet) and replay (batched) agree."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.firmware_bridge.metawear import (
    COMMAND_CHAR,
    MetaMotionEmulator,
    MetaWearAssembler,
    MetaWearConfig,
    configure_commands,
    start_commands,
)
from liftguard.signal.clock_sync import HostClockSync


class Wave:
    def imu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        acc = np.stack([np.sin(t), np.cos(2 * t), 9.81 + 0 * t], axis=1)
        gyr = np.stack([0.1 * t, np.sin(3 * t), -np.cos(t)], axis=1)
        return acc, gyr


def stream(chip: str, seconds: float = 3.0) -> list[bytes]:
    emu = MetaMotionEmulator(Wave(), address="AA:BB:CC:DD:EE:01", chip=chip)  # type: ignore[arg-type]
    cfg = MetaWearConfig(chip=chip)  # type: ignore[arg-type]
    emu.connect(0.0)
    for cmd in configure_commands(cfg) + start_commands(cfg):
        emu.write(COMMAND_CHAR, cmd, 0.0)
    return [n.data for n in emu.advance(seconds)]


def run_live(asm: MetaWearAssembler, hosts: np.ndarray, packets: list[bytes]):
    sync = HostClockSync(100.0)
    acc, t = [], []
    for h, p in zip(hosts, packets, strict=True):
        raw = asm.feed(float(h), p)
        if raw is not None:
            acc.append(raw.acc)
            t.append(sync.stamp_packets(*raw.arrivals()))
    return np.concatenate(acc), np.concatenate(t)


def run_batched(asm: MetaWearAssembler, hosts: np.ndarray, packets: list[bytes], cuts: list[int]):
    sync = HostClockSync(100.0)
    acc, t = [], []
    bounds = [0, *sorted(set(cuts)), len(packets)]
    for a, b in itertools.pairwise(bounds):
        raw = asm.feed_batch(hosts[a:b], packets[a:b])
        if raw is not None:
            acc.append(raw.acc)
            t.append(sync.stamp_packets(*raw.arrivals()))
    return np.concatenate(acc), np.concatenate(t)


@settings(max_examples=40, deadline=None)
@given(
    chip=st.sampled_from(["bmi160", "bmi270"]),
    cuts=st.lists(st.integers(0, 199), max_size=12),
    garbage_at=st.lists(st.integers(0, 199), max_size=5),
)
def test_batched_decoding_equals_packet_by_packet_to_the_bit(
    chip: str, cuts: list[int], garbage_at: list[int]
) -> None:
    packets = stream(chip)[:200]
    for i in sorted(set(garbage_at), reverse=True):
        packets.insert(i, b"\x03\x1c\x00")  # truncated: counted and skipped
    hosts = np.cumsum(np.full(len(packets), 0.015))
    live_asm, batch_asm = (
        MetaWearAssembler(MetaWearConfig(chip=chip)),
        MetaWearAssembler(  # type: ignore[arg-type]
            MetaWearConfig(chip=chip)  # type: ignore[arg-type]
        ),
    )
    acc_l, t_l = run_live(live_asm, hosts, packets)
    acc_b, t_b = run_batched(batch_asm, hosts, packets, [c for c in cuts if c < len(packets)])
    assert np.array_equal(acc_l, acc_b)
    assert np.array_equal(t_l, t_b)
    assert live_asm.malformed == batch_asm.malformed == len(set(garbage_at))


def test_a_stream_far_behind_drops_unpaired_samples_the_same_way_in_both_paths() -> None:
    packets = stream("bmi160")
    acc_only = [p for p in packets if p[0] == 0x03][:20] + packets
    hosts = np.cumsum(np.full(len(acc_only), 0.01))
    a, b = MetaWearAssembler(MetaWearConfig()), MetaWearAssembler(MetaWearConfig())
    acc_l, t_l = run_live(a, hosts, acc_only)
    acc_b, t_b = run_batched(b, hosts, acc_only, [37, 90])
    assert a.unpaired == b.unpaired > 0
    assert np.array_equal(acc_l, acc_b)
    assert np.array_equal(t_l, t_b)
