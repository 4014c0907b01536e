"""Sample times for streams without a device clock: jitter, gaps and drift each handled."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.signal.clock_sync import DeviceClockSync, HostClockSync

RATE = 100.0


def packets(
    n_packets: int,
    per_packet: int,
    *,
    offset: float,
    ppm: float = 0.0,
    latency: np.ndarray | None = None,
) -> list[tuple[float, int]]:
    """(host receive time, samples) for packets whose last sample was taken at device time."""
    out = []
    for k in range(n_packets):
        last = (k + 1) * per_packet - 1
        t_true = offset + last / RATE * (1 + ppm * 1e-6)
        out.append((t_true + (0.0 if latency is None else latency[k]), per_packet))
    return out


def test_latency_jitter_does_not_reach_sample_times() -> None:
    rng = np.random.default_rng(0)
    lat = 0.008 + rng.uniform(0, 0.03, 500)
    sync = HostClockSync(RATE)
    times = np.concatenate([sync.stamp(h, n) for h, n in packets(500, 3, offset=2.0, latency=lat)])
    true = 2.0 + np.arange(times.size) / RATE
    # after the first second the error is the minimum latency, never the jitter
    err = times[100:] - true[100:]
    assert np.all(err >= -1e-9)
    assert np.max(err) < 0.0081 + 1e-6 + 0.001


@settings(max_examples=50, deadline=None)
@given(
    jitter=st.floats(0.0, 0.05),
    per_packet=st.integers(1, 10),
    seed=st.integers(0, 2**16),
)
def test_times_are_strictly_increasing_whatever_the_arrival_jitter(
    jitter: float, per_packet: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(0, jitter, 200) if jitter else None
    sync = HostClockSync(RATE)
    times = np.concatenate(
        [sync.stamp(h, n) for h, n in packets(200, per_packet, offset=0.5, latency=lat)]
    )
    assert np.all(np.diff(times) > 0)


def test_gap_of_lost_packets_moves_later_samples_to_their_true_time() -> None:
    sync = HostClockSync(RATE)
    pk = packets(300, 3, offset=1.0, latency=np.full(300, 0.01))
    kept = pk[:100] + pk[200:]  # packets 100-199 (3 s) lost
    times = [sync.stamp(h, n) for h, n in kept]
    after = times[100]
    true_first_after = 1.0 + 600 / RATE
    assert after[0] == pytest.approx(true_first_after, abs=1.5 / RATE)
    assert sync.gaps == 1
    assert sync.lost_samples == pytest.approx(300, abs=2)


@pytest.mark.parametrize("ppm", [-100.0, 100.0])
def test_clock_drift_of_100_ppm_is_followed(ppm: float) -> None:
    n_packets = 20 * 60 * 33  # 20 minutes of 3-sample packets
    sync = HostClockSync(RATE)
    stamped = [
        sync.stamp(h, n)
        for h, n in packets(n_packets, 3, offset=0.0, ppm=ppm, latency=np.full(n_packets, 0.01))
    ]
    last = stamped[-1][-1]
    true_last = (n_packets * 3 - 1) / RATE * (1 + ppm * 1e-6)
    # without tracking, 100 ppm over 20 min is 120 ms; the window keeps it near the latency
    assert abs(last - true_last) < 0.015


def test_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        HostClockSync(0)


def test_stamping_in_one_batch_gives_the_same_times_to_the_bit() -> None:
    rng = np.random.default_rng(5)
    lat = rng.uniform(0.005, 0.04, 400)
    pk = packets(400, 3, offset=1.0, latency=lat)
    pk = pk[:150] + pk[230:]  # with a gap
    counts = np.array([n for _, n in pk])
    # packets that completed no sample: the partner stream was behind, the next one completes them
    counts[1::7] += counts[::7][: counts[1::7].size]
    counts[::7] = 0
    hosts = np.array([h for h, _ in pk])
    one = HostClockSync(RATE)
    singly = np.concatenate([one.stamp(h, int(n)) for h, n in zip(hosts, counts, strict=True)])
    batched = HostClockSync(RATE).stamp_packets(hosts, counts)
    assert np.array_equal(singly, batched)
    assert one.gaps == 1


# --- device clocks (Movella DOT) -----------------------------------------------------------


def device_packets(
    n_packets: int,
    *,
    rate: float = 60.0,
    ppm: float = 0.0,
    offset: float = 3.0,
    jitter: float = 0.02,
    seed: int = 0,
):
    """Device seconds per sample (1 sample/packet) and host receive times."""
    rng = np.random.default_rng(seed)
    t_dev = 1000.0 + np.arange(n_packets) / rate
    true_session = offset + (t_dev - 1000.0) * (1 + ppm * 1e-6)
    hosts = true_session + 0.008 + rng.uniform(0, jitter, n_packets)
    return t_dev, hosts, true_session


def test_device_time_maps_to_session_time_without_the_jitter() -> None:
    t_dev, hosts, truth = device_packets(3000)
    got = DeviceClockSync().stamp_packets(t_dev, hosts, np.ones(3000, np.int64))
    err = got[120:] - truth[120:]
    assert np.all(err >= 0) and np.max(err) < 0.0085 + 0.002


@pytest.mark.parametrize("ppm", [-100.0, 100.0])
def test_device_clock_drift_of_100_ppm_is_followed(ppm: float) -> None:
    n = 60 * 60 * 20  # 20 minutes at 60 Hz
    t_dev, hosts, truth = device_packets(n, ppm=ppm, jitter=0.01)
    got = DeviceClockSync().stamp_packets(t_dev, hosts, np.ones(n, np.int64))
    assert abs(got[-1] - truth[-1]) < 0.02  # untracked, 100 ppm is 120 ms after 20 min


def test_device_time_gap_keeps_samples_at_their_true_time() -> None:
    t_dev, hosts, truth = device_packets(1200)
    keep = np.r_[0:300, 700:1200]
    got = DeviceClockSync().stamp_packets(t_dev[keep], hosts[keep], np.ones(keep.size, np.int64))
    assert got[300] == pytest.approx(truth[700], abs=0.011)


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(1, 499), max_size=10), seed=st.integers(0, 1000))
def test_device_stamping_is_the_same_in_any_batches_and_never_goes_back(
    cuts: list[int], seed: int
) -> None:
    t_dev, hosts, _ = device_packets(500, jitter=0.05, seed=seed)
    counts = np.ones(500, np.int64)
    whole = DeviceClockSync().stamp_packets(t_dev, hosts, counts)
    sync = DeviceClockSync()
    bounds = [0, *sorted(set(cuts)), 500]
    parts = [
        sync.stamp_packets(t_dev[a:b], hosts[a:b], counts[a:b])
        for a, b in itertools.pairwise(bounds)
        if b > a
    ]
    assert np.array_equal(np.concatenate(parts), whole)
    assert np.all(np.diff(whole) > 0)


# --- batches of any size reproduce the live, packet-by-packet times -----------------------


def _rough_stream(seed: int, n: int = 900) -> tuple[np.ndarray, np.ndarray]:
    """Host times and counts with everything at once: jitter, latency that drops (the offset
    estimate falls), lost runs of packets (gaps), packets completing no sample, long stalls."""
    rng = np.random.default_rng(seed)
    counts = rng.choice([0, 1, 2, 3], size=n, p=[0.1, 0.3, 0.3, 0.3]).astype(np.int64)
    true_last = (np.cumsum(counts) - 1) / RATE
    lat = 0.03 + rng.uniform(0, 0.04, n)
    lat[rng.random(n) < 0.03] = 0.002  # an unusually fast packet: the envelope falls
    lat[rng.random(n) < 0.01] += 0.6  # a stall longer than the gap threshold
    hosts = np.maximum.accumulate(true_last + lat)  # a host clock never goes back
    keep = rng.random(n) > 0.02
    keep[200:260] = False  # 60 packets lost
    return hosts[keep], counts[keep]


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(1, 799), max_size=8), seed=st.integers(0, 10_000))
def test_host_stamping_in_any_batches_equals_packet_by_packet_to_the_bit(
    cuts: list[int], seed: int
) -> None:
    hosts, counts = _rough_stream(seed)
    live = HostClockSync(RATE)
    expected = [live.stamp_packets(hosts[k : k + 1], counts[k : k + 1]) for k in range(len(hosts))]
    sync = HostClockSync(RATE)
    edges = [0, *sorted({c for c in cuts if c < len(hosts)}), len(hosts)]
    got = [sync.stamp_packets(hosts[a:b], counts[a:b]) for a, b in itertools.pairwise(edges)]
    assert np.array_equal(np.concatenate(got), np.concatenate(expected))
    assert (sync.gaps, sync.lost_samples) == (live.gaps, live.lost_samples)
    assert sync.offset == live.offset


def test_host_times_out_of_order_are_stamped_as_live_does() -> None:
    hosts, counts = _rough_stream(3, n=200)
    hosts = hosts.copy()
    hosts[50], hosts[51] = hosts[51], hosts[50]  # an edited recording
    live = HostClockSync(RATE)
    expected = np.concatenate([live.stamp(h, int(n)) for h, n in zip(hosts, counts, strict=True)])
    assert np.array_equal(HostClockSync(RATE).stamp_packets(hosts, counts), expected)


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(1, 999), max_size=6), seed=st.integers(0, 10_000))
def test_device_stamping_with_falling_offsets_equals_packet_by_packet_to_the_bit(
    cuts: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    t_dev, hosts, _ = device_packets(1000, jitter=0.04, seed=seed)
    fast = rng.random(1000) < 0.03
    hosts = np.maximum.accumulate(np.where(fast, hosts - 0.035, hosts))
    counts = np.ones(1000, np.int64)
    live = DeviceClockSync()
    one = [slice(k, k + 1) for k in range(1000)]
    expected = np.concatenate([live.stamp_packets(t_dev[s], hosts[s], counts[s]) for s in one])
    sync = DeviceClockSync()
    edges = [0, *sorted(set(cuts)), 1000]
    got = [
        sync.stamp_packets(t_dev[a:b], hosts[a:b], counts[a:b])
        for a, b in itertools.pairwise(edges)
    ]
    assert np.array_equal(np.concatenate(got), expected)
    assert sync.offset == live.offset
