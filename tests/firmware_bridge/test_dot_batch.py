"""Movella DOT replay path: ``feed_batch`` gives what ``feed`` on each notification gives, bit
for bit — samples, flags, device times, arrivals (clock-sync inputs), counters and the state
left for the next notification — across random cuts, timestamp wraps, reboots, late and
duplicated packets, gaps and malformed notifications."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.firmware_bridge.dot import (
    CONTROL_CHAR,
    DEVICE_CONTROL_CHAR,
    MEDIUM_PAYLOAD_CHAR,
    DotAssembler,
    DotConfig,
    DotDecoder,
    DotEmulator,
    TimestampUnwrapper,
    output_rate_command,
    start_command,
)
from liftguard.firmware_bridge.dot._constants import ACC_RANGE_MS2, GYR_RANGE_DPS
from liftguard.firmware_bridge.dot.codec import encode_packets
from liftguard.firmware_bridge.stream import RawSamples, feed_one_by_one
from liftguard.samples import FLAG_CLIPPED, FLAG_INTERPOLATED

WRAP = 1 << 32
MODES = (2, 3, 20, 21)
RATES = (1, 10, 30, 60)
FIELDS = ("acc", "gyr", "flags", "t_device", "quat", "packet_host_times", "packet_counts")


# --- comparing -----------------------------------------------------------------------------


def assert_same_bits(a: np.ndarray | None, b: np.ndarray | None, name: str) -> None:
    if a is None or b is None:
        assert a is None and b is None, name
        return
    assert a.dtype == b.dtype and a.shape == b.shape, name
    assert a.tobytes() == b.tobytes(), name  # bitwise: tells -0.0 from 0.0, NaN payloads apart


def assert_same_samples(live: RawSamples | None, batch: RawSamples | None) -> None:
    if live is None or batch is None:
        assert live is None and batch is None
        return
    assert type(batch.host_time) is type(live.host_time) and batch.host_time == live.host_time
    for name in FIELDS:
        assert_same_bits(getattr(live, name), getattr(batch, name), name)


def assert_same_state(live: DotAssembler, batch: DotAssembler) -> None:
    counters = ("malformed", "out_of_order", "device_resets")
    assert [getattr(live, c) for c in counters] == [getattr(batch, c) for c in counters]
    assert live._clock.reordered == batch._clock.reordered
    clock = ("_head_raw", "_head_us", "_head_host")
    assert [getattr(live._clock, c) for c in clock] == [getattr(batch._clock, c) for c in clock]
    assert live._last_t == batch._last_t
    assert_same_bits(live._last_quat, batch._last_quat, "_last_quat")


def replay_both(
    config: DotConfig, hosts: np.ndarray, packets: Sequence[Any], cuts: Sequence[int]
) -> tuple[DotAssembler, DotAssembler]:
    """Feed the stream cut at ``cuts``: batch by batch to one assembler, notification by
    notification (the reference) to the other, comparing after every batch."""
    live, batch = DotAssembler(config), DotAssembler(config)
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(packets)}), len(packets)]
    for a, b in itertools.pairwise(bounds):
        expected = feed_one_by_one(live, hosts[a:b], packets[a:b])
        got = batch.feed_batch(hosts[a:b], packets[a:b])
        assert_same_samples(expected, got)
        assert_same_state(live, batch)
    return live, batch


# --- streams -------------------------------------------------------------------------------

#: What happens before each notification; "normal" is most likely.
EVENTS = ("normal",) * 12 + (
    "gap",  # some samples lost: > 4 periods, no body rate across it
    "late",  # an earlier sample arrives now
    "duplicate",  # the same sample again
    "rewind",  # a run of earlier samples again (several late ones in a row)
    "reboot",  # the counter restarts near 0
    "reboot_ahead",  # a restart that lands ahead of the old counter (host time tells)
    "long_gap",  # 40 min of nothing: more than half a wrap
    "host_back",  # host time steps backwards
    "host_lag",  # host receive time late by seconds
    "flip",  # quaternion sign flip (same rotation)
)

#: Malformed notifications (all counted, all skipped) and odd-but-valid ones.
JUNK = (
    b"",
    b"\x03\x1c\x00",  # short
    bytes(41),  # too long
    bytes(39) + b"\x01",  # non-zero padding
)


def _unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = v / np.linalg.norm(v, axis=-1, keepdims=True)
    return out


@st.composite
def streams(draw: st.DrawFn) -> tuple[DotConfig, np.ndarray, list[Any], list[int]]:
    mode = draw(st.sampled_from(MODES))
    rate = draw(st.sampled_from(RATES))
    config = DotConfig(mode=mode, rate_hz=rate)
    n = draw(st.integers(1, 90))
    period_us = round(1e6 / rate)
    near_wrap = WRAP - draw(st.integers(0, 8)) * period_us - draw(st.integers(0, period_us))
    t = draw(st.one_of(st.just(near_wrap), st.integers(0, WRAP - 1)))
    host = draw(st.floats(0.0, 5000.0))
    events = draw(st.lists(st.sampled_from(EVENTS), min_size=n, max_size=n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    t_us: list[int] = []
    hosts: list[float] = []
    flips: list[bool] = []
    for event in events:
        step = period_us
        host_step = period_us / 1e6 + float(rng.uniform(0.0, 0.004))
        stamp = None
        if event == "gap":
            step *= int(rng.integers(2, 12))
            host_step += step / 1e6
        elif event in ("late", "duplicate") and t_us:
            stamp = t_us[-1] - (period_us * int(rng.integers(1, 4)) if event == "late" else 0)
            step = 0
        elif event == "rewind":
            step = -period_us * int(rng.integers(2, 6))
        elif event == "reboot":
            t = int(rng.integers(0, 3_000_000))
            step = 0
        elif event == "reboot_ahead":
            step = 5_000_000
        elif event == "long_gap":
            step = 40 * 60 * 1_000_000
            host_step = step / 1e6
        elif event == "host_back":
            host_step = -float(rng.uniform(0.0, 0.5))
        elif event == "host_lag":
            host_step += float(rng.uniform(0.5, 3.0))
        t += step
        host += host_step
        t_us.append((stamp if stamp is not None else t) % WRAP)
        hosts.append(host)
        flips.append(event == "flip")
    fields: dict[str, Any] = {}
    if mode in (2, 3):
        q = _unit(rng.normal(size=(1, 4)) + np.cumsum(rng.normal(0, 0.05, (n, 4)), axis=0))
        q[np.array(flips)] *= -1.0
        fields["quat"] = q
        fields["free_acc"] = rng.normal(0, 3, (n, 3))
        if mode == 2:
            fields["status"] = rng.choice([0, 0, 0, 1, 0x08, 0x200], size=n)
            fields["clip_acc"] = rng.choice([0, 0, 0, 1, 3], size=n)
            fields["clip_gyr"] = rng.choice([0, 0, 0, 2], size=n)
    else:
        fields["acc"] = rng.normal(0, 20, (n, 3))
        fields["gyr"] = rng.normal(0, 3, (n, 3))
        near = rng.random(n) < 0.15  # some at (or past) full scale
        fields["acc"][near, 0] = ACC_RANGE_MS2 * rng.uniform(0.985, 1.0, near.sum())
        fields["gyr"][near, 2] = -math.radians(GYR_RANGE_DPS) * rng.uniform(0.985, 1.0, near.sum())
        if mode == 20:
            fields["mag"] = rng.normal(0, 1, (n, 3))
    packets: list[Any] = list(encode_packets(mode, t_us, padded=draw(st.booleans()), **fields))
    if draw(st.booleans()):  # a few bare payloads among padded ones (both valid)
        for i in range(0, n, 7):
            packets[i] = packets[i][: config.payload_size]
    # Malformed notifications mixed in, and corrupted samples.
    inserts = draw(st.lists(st.tuples(st.integers(0, n), st.sampled_from(JUNK)), max_size=6))
    for at, junk in sorted(inserts, key=lambda x: x[0], reverse=True):
        packets.insert(at, junk)
        hosts.insert(at, hosts[min(at, len(hosts) - 1)])
    for i in draw(st.lists(st.integers(0, len(packets) - 1), max_size=4)):
        p = bytearray(packets[i])
        if len(p) >= 8:
            p[4:8] = np.float32(np.nan).tobytes()  # non-finite value
        packets[i] = bytes(p)
    cuts = draw(st.lists(st.integers(0, len(packets)), max_size=10))
    return config, np.array(hosts, dtype=np.float64), packets, cuts


# --- property tests ------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(stream=streams())
def test_batched_equals_one_by_one_to_the_bit_over_random_cuts(
    stream: tuple[DotConfig, np.ndarray, list[Any], list[int]],
) -> None:
    config, hosts, packets, cuts = stream
    live, batch = replay_both(config, hosts, packets, cuts)
    # The state left behind is the same: the next notification comes out the same.
    extra = encode_packets(
        config.mode,
        [(int(batch._clock._head_raw or 0) + 16_667) % WRAP],
        quat=[[1.0, 0.0, 0.0, 0.0]],
        free_acc=[[0.0, 0.0, 0.0]],
        acc=[[0.0, 0.0, 9.81]],
        gyr=[[0.1, 0.0, 0.0]],
        mag=[[0.0, 0.0, 0.0]],
        status=[0],
        clip_acc=[0],
        clip_gyr=[0],
    )[0]
    h = float(hosts[-1]) + 0.02
    assert_same_samples(live.feed(h, extra), batch.feed(h, extra))


@settings(max_examples=100, deadline=None)
@given(stream=streams(), where=st.lists(st.integers(0, 200), min_size=1, max_size=3))
def test_non_bytes_notifications_take_the_careful_path_with_the_same_result(
    stream: tuple[DotConfig, np.ndarray, list[Any], list[int]], where: list[int]
) -> None:
    config, hosts, packets, cuts = stream
    packets = list(packets)
    for i in where:
        k, i = i % 5, i % len(packets)
        data = packets[i]
        if isinstance(data, bytes):
            # A str or None is malformed; a bytearray (or a byte memoryview) is as good as
            # bytes; a memoryview of int16 has the bytes but a len() that counts items.
            items = memoryview(data).cast("h") if len(data) % 2 == 0 else None
            packets[i] = ("junk", bytearray(data), memoryview(data), None, items)[k]
    replay_both(config, hosts, packets, cuts)


@settings(max_examples=200, deadline=None)
@given(
    raw=st.lists(st.one_of(st.integers(0, WRAP - 1), st.integers(-3, 3)), min_size=1, max_size=400),
    start=st.integers(0, WRAP - 1),
    host_steps=st.one_of(
        st.none(),
        st.lists(
            st.one_of(st.just(1 / 60), st.floats(-1.0, 5000.0)),
            min_size=400,
            max_size=400,
        ),
    ),
    regular=st.booleans(),
)
def test_unwrap_many_equals_the_scalar_rule_on_long_mixed_streams(
    raw: list[int], start: int, host_steps: list[float] | None, regular: bool
) -> None:
    # Mostly ordinary 60 Hz steps (vectorised runs), interrupted by arbitrary timestamps
    # (small values: steps; large ones: absolute readings → late packets, resets, wraps).
    t, stamps = start, []
    for r in raw:
        if regular or -3 <= r <= 3:
            t += 16_667 * (1 if regular else r)
            stamps.append(t % WRAP)
        else:
            stamps.append(r)
    host = None if host_steps is None else np.cumsum(host_steps)[: len(stamps)]
    scalar = TimestampUnwrapper()
    expected = [
        scalar.unwrap(r, None if host is None else float(host[i])) for i, r in enumerate(stamps)
    ]
    vector = TimestampUnwrapper()
    mid = len(stamps) // 2
    out = np.concatenate(
        [
            vector.unwrap_many(stamps[:mid], None if host is None else host[:mid]),
            vector.unwrap_many(stamps[mid:], None if host is None else host[mid:]),
        ]
    )
    assert out.tobytes() == np.array(expected, dtype=np.float64).tobytes()
    assert (vector.resets, vector.reordered) == (scalar.resets, scalar.reordered)
    assert (vector._head_raw, vector._head_us) == (scalar._head_raw, scalar._head_us)
    assert vector._head_host == scalar._head_host or (
        vector._head_host is not None
        and scalar._head_host is not None
        and math.isnan(vector._head_host)
        and math.isnan(scalar._head_host)
    )


@settings(max_examples=100, deadline=None)
@given(
    mode=st.sampled_from(MODES),
    lens=st.lists(st.sampled_from([0, 3, 28, 32, 34, 36, 39, 40, 41]), min_size=1, max_size=30),
)
def test_decode_indexed_says_which_notification_each_sample_came_from(
    mode: int, lens: list[int]
) -> None:
    config = DotConfig(mode=mode)
    good = encode_packets(
        mode,
        [5],
        quat=[[1.0, 0.0, 0.0, 0.0]],
        free_acc=[[0.0, 0.0, 0.0]],
        acc=[[0.0, 0.0, 9.81]],
        gyr=[[0.0, 0.0, 0.0]],
        mag=[[0.0, 0.0, 0.0]],
        status=[0],
        clip_acc=[0],
        clip_gyr=[0],
    )[0]
    packets = [good[:k] if k <= 40 else good + bytes(k - 40) for k in lens]
    single = DotDecoder(config)
    expected = [i for i, p in enumerate(packets) if single.decode(p) is not None]
    batch = DotDecoder(config)
    pkt, index = batch.decode_indexed(packets)
    assert index.dtype == np.int64 and index.tolist() == expected
    assert (0 if pkt is None else len(pkt)) == len(expected)
    assert batch.malformed == single.malformed


# --- realistic streams and edge cases ------------------------------------------------------


class Swing:
    """Rotation about a tilted axis with a hard, clipping knock now and then."""

    def imu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        acc = np.stack([2 * np.sin(t), np.cos(3 * t), 9.81 + np.sin(7 * t)], axis=1)
        gyr = np.stack([np.sin(2 * t), 0.5 * np.cos(t), 3 * np.sin(0.5 * t)], axis=1)
        knock = (t % 2.0) < 0.05
        acc[knock, 0] = 200.0
        gyr[knock, 1] = 40.0
        return acc, gyr


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rate", [60, 12])
def test_an_emulated_session_across_the_wrap_decodes_the_same_both_ways(
    mode: int, rate: int
) -> None:
    emu = DotEmulator(Swing(), address="D4:22:CD:00:00:01", clock_offset_us=WRAP - 3_000_000)
    emu.connect(0.0)
    config = DotConfig(mode=mode, rate_hz=rate)
    emu.write(DEVICE_CONTROL_CHAR, output_rate_command(rate), 0.0)
    emu.write(CONTROL_CHAR, start_command(config), 0.0)
    notes = [n for n in emu.advance(8.0) if n.uuid == MEDIUM_PAYLOAD_CHAR]
    packets = [n.data for n in notes]
    hosts = np.array([n.t for n in notes]) + 0.012
    live, _ = replay_both(config, hosts, packets, [len(packets) // 3, len(packets) // 2])
    assert live.device_resets == 0 and live.malformed == 0 and live.out_of_order == 0
    out = DotAssembler(config).feed_batch(hosts, packets)
    assert out is not None and out.t_device is not None and len(out) == len(packets)
    assert np.all(np.diff(out.t_device) > 0)  # across the wrap
    if mode in (2, 20, 21):
        assert np.any(out.flags & FLAG_CLIPPED)
    if mode in (2, 3):
        assert out.flags[0] & FLAG_INTERPOLATED and not np.any(out.flags[1:] & FLAG_INTERPOLATED)


def test_empty_all_malformed_and_all_late_batches_return_none_and_count() -> None:
    config = DotConfig(mode=21, rate_hz=60)
    live, batch = DotAssembler(config), DotAssembler(config)
    assert batch.feed_batch(np.zeros(0), []) is None
    packets = encode_packets(21, [1_000_000, 2_000_000], acc=np.zeros((2, 3)), gyr=np.zeros((2, 3)))
    hosts = np.array([1.0, 2.0])
    for h, p in [(np.array([0.5]), [b"abc"]), (hosts, packets), (hosts + 0.01, packets)]:
        assert_same_samples(feed_one_by_one(live, h, p), batch.feed_batch(h, p))
        assert_same_state(live, batch)
    assert (batch.malformed, batch.out_of_order) == (1, 2)


def test_host_times_that_are_not_a_float_array_of_the_right_length_behave_as_before() -> None:
    config = DotConfig(mode=21, rate_hz=60)
    packets = encode_packets(21, [10, 20_000], acc=np.zeros((2, 3)), gyr=np.zeros((2, 3)))
    for hosts in (np.array([1.0]), np.array([1.0, 2.0, 3.0])):
        with pytest.raises(ValueError):
            DotAssembler(config).feed_batch(hosts, packets)
    live, batch = DotAssembler(config), DotAssembler(config)
    ints = np.array([1, 2])
    assert_same_samples(feed_one_by_one(live, ints, packets), batch.feed_batch(ints, packets))
    assert_same_state(live, batch)
