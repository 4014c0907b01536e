"""A MetaMotion whose accelerometer and gyroscope run at different output data rates.

Config bytes (each sensor's own ODR code), the emulator (each sensor's samples at its own
times), and the assembler's merge onto the faster sensor's sample times: values against the
emulated motion, flags, causality, clock bookkeeping, and live (per packet) == replay (batched).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError
from liftguard.firmware_bridge.emulation import Notification
from liftguard.firmware_bridge.metawear import (
    COMMAND_CHAR,
    MetaMotionEmulator,
    MetaWearAssembler,
    MetaWearConfig,
    MetaWearDecoder,
    configure_commands,
    encode_samples,
    start_commands,
    stop_commands,
)
from liftguard.firmware_bridge.metawear.resample import interpolate_onto
from liftguard.samples import FLAG_CLIPPED, FLAG_INTERPOLATED
from liftguard.signal.clock_sync import HostClockSync

G = 9.80665
#: (acc Hz, gyro Hz) pairs: either sensor faster, ratios 2 to 8, and the equal case.
RATE_PAIRS = [(100.0, 200.0), (200.0, 100.0), (50.0, 100.0), (25.0, 200.0), (800.0, 100.0)]
ALL_PAIRS = [*RATE_PAIRS, (100.0, 100.0)]


class Smooth:
    """Known motion: smooth sinusoids on every axis; records the times of every call."""

    def __init__(self) -> None:
        self.calls: list[np.ndarray] = []

    def imu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append(np.array(t))
        acc = np.stack([np.sin(t), 3 * np.cos(2 * t), G + 0.5 * np.sin(3 * t)], axis=1)
        gyr = np.stack([0.3 * np.sin(2 * t), np.cos(t), -0.5 * np.sin(1.5 * t)], axis=1)
        return acc, gyr

    #: Largest |second derivative| over the axes, for the linear-interpolation error bound.
    ACC_CURVATURE = 12.0  # 3·cos(2t)'' = −12 cos(2t)
    GYR_CURVATURE = 1.2  # 0.3·sin(2t)'' and 0.5·sin(1.5t)'' ≤ 1.2, cos(t)'' ≤ 1


def config(
    acc_hz: float, gyr_hz: float, chip: str = "bmi160", packed: bool = True
) -> MetaWearConfig:
    return MetaWearConfig(
        chip=chip,  # type: ignore[arg-type]
        acc_range_g=2,
        gyro_range_dps=125,
        odr_hz=acc_hz,
        gyr_odr_hz=gyr_hz,
        packed=packed,
    )


def emulate(
    cfg: MetaWearConfig, seconds: float, motion: Smooth | None = None, t0: float = 0.0
) -> list[Notification]:
    """The driver's configure + start at ``t0``, then everything streamed until ``seconds``."""
    emu = MetaMotionEmulator(motion or Smooth(), address="C4:5A:1B:00:00:01", chip=cfg.chip)
    emu.connect(t0)
    for cmd in configure_commands(cfg) + start_commands(cfg):
        assert emu.write(COMMAND_CHAR, cmd, t0) == []
    return emu.advance(seconds)


# --- config and commands ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chip", "acc_hz", "gyr_hz", "range_g", "dps", "expected"),
    [
        # BMI160: acc b0 = code | 0x20 (0x28 = 100 Hz), ±16 g = 0x0C; gyro b0 = code | 0x20.
        ("bmi160", 100.0, 200.0, 16, 2000, ["0303280c", "13032900"]),
        ("bmi160", 200.0, 100.0, 16, 2000, ["0303290c", "13032800"]),
        # BMI270: acc b0 | 0x80 (performance); 50 Hz = code 7, ±8 g = 2; 800 Hz = code 11,
        # ±500 °/s = 2.
        ("bmi270", 50.0, 800.0, 8, 500, ["0303a702", "13032b02"]),
        ("bmi270", 25.0, 100.0, 16, 2000, ["0303a603", "13032800"]),
    ],
)
def test_configure_commands_set_each_sensors_own_odr(
    chip: str, acc_hz: float, gyr_hz: float, range_g: int, dps: int, expected: list[str]
) -> None:
    cfg = MetaWearConfig(
        chip=chip,  # type: ignore[arg-type]
        acc_range_g=range_g,
        gyro_range_dps=dps,
        odr_hz=acc_hz,
        gyr_odr_hz=gyr_hz,
    )
    assert [c.hex() for c in configure_commands(cfg)] == expected


@pytest.mark.parametrize("chip", ["bmi160", "bmi270"])
@pytest.mark.parametrize("rate", [25.0, 100.0, 800.0])
def test_omitted_or_equal_gyro_rate_gives_the_equal_rate_bytes(chip: str, rate: float) -> None:
    base = MetaWearConfig(chip=chip, odr_hz=rate)  # type: ignore[arg-type]
    same = MetaWearConfig(chip=chip, odr_hz=rate, gyr_odr_hz=rate)  # type: ignore[arg-type]
    assert base.gyr_odr_hz is None
    assert configure_commands(base) == configure_commands(same)
    assert start_commands(base) == start_commands(same)
    assert stop_commands(base) == stop_commands(same)
    acc_cfg, gyr_cfg = configure_commands(base)
    assert acc_cfg[2] & 0x0F == gyr_cfg[2] & 0x0F


def test_the_default_config_bytes_are_unchanged() -> None:
    assert [c.hex() for c in configure_commands(MetaWearConfig())] == ["0303280c", "13032800"]


def test_start_and_stop_commands_do_not_depend_on_the_rates() -> None:
    for chip, packed in itertools.product(("bmi160", "bmi270"), (False, True)):
        a = config(100.0, 100.0, chip, packed)
        b = config(25.0, 800.0, chip, packed)
        assert start_commands(a) == start_commands(b)
        assert stop_commands(a) == stop_commands(b)


@pytest.mark.parametrize("bad", [True, 0, 0.0, 300.0, 1600.0, 12.5, "200", -100.0])
def test_gyro_rate_is_validated_like_odr_hz(bad: object) -> None:
    with pytest.raises(ConfigError, match="gyr_odr_hz") as err:
        MetaWearConfig(gyr_odr_hz=bad)  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


def test_per_stream_rates_and_the_merged_rate() -> None:
    cfg = MetaWearConfig(odr_hz=50.0, gyr_odr_hz=200.0)
    assert (cfg.odr("acc"), cfg.odr("gyr"), cfg.stream_rate_hz) == (50.0, 200.0, 200.0)
    cfg = MetaWearConfig(odr_hz=400.0, gyr_odr_hz=100.0)
    assert (cfg.odr("acc"), cfg.odr("gyr"), cfg.stream_rate_hz) == (400.0, 100.0, 400.0)
    cfg = MetaWearConfig(odr_hz=200.0)
    assert (cfg.odr("acc"), cfg.odr("gyr"), cfg.stream_rate_hz) == (200.0, 200.0, 200.0)


def test_config_for_a_roster_sensor_carries_both_rates() -> None:
    sensor = SensorConfig(
        placement="upper", address="A", rate_hz=100, gyro_rate_hz=200, acc_range_g=8
    )
    cfg = MetaWearConfig.for_sensor(sensor, "bmi270")
    assert cfg == MetaWearConfig(chip="bmi270", acc_range_g=8, odr_hz=100.0, gyr_odr_hz=200.0)
    asm = MetaWearAssembler.for_sensor(sensor, chip="bmi270")
    assert asm.config == cfg and asm.rate_hz == 200.0
    plain = MetaWearConfig.for_sensor(SensorConfig(placement="upper", address="A"))
    assert plain == MetaWearConfig()


# --- emulator ------------------------------------------------------------------------------


def stream_of(note: Notification) -> str:
    return "acc" if note.data[0] == 0x03 else "gyr"


@pytest.mark.parametrize(("acc_hz", "gyr_hz"), RATE_PAIRS)
def test_single_mode_notifies_each_sensor_at_its_own_odr(acc_hz: float, gyr_hz: float) -> None:
    notes = emulate(config(acc_hz, gyr_hz, packed=False), 0.2, t0=1.0)
    notes = emulate(config(acc_hz, gyr_hz, packed=False), 1.2, t0=1.0)
    for stream, hz in (("acc", acc_hz), ("gyr", gyr_hz)):
        times = [n.t for n in notes if stream_of(n) == stream]
        assert times == pytest.approx([1.0 + k / hz for k in range(round(0.2 * hz) + 1)])
    # Time order, acc first where both sample the same instant.
    keys = [(n.t, stream_of(n) == "gyr") for n in notes]
    assert keys == sorted(keys)


@pytest.mark.parametrize(("acc_hz", "gyr_hz"), RATE_PAIRS)
def test_packed_notifications_come_at_each_sensors_third_sample(
    acc_hz: float, gyr_hz: float
) -> None:
    notes = emulate(config(acc_hz, gyr_hz), 0.5)
    for stream, hz in (("acc", acc_hz), ("gyr", gyr_hz)):
        times = [n.t for n in notes if stream_of(n) == stream]
        assert all(len(n.data) == 20 for n in notes)
        assert times == pytest.approx([(3 * k + 2) / hz for k in range(len(times))])
        assert len(times) == math.floor(0.5 * hz + 1e-9 + 1) // 3


def test_config_read_back_shows_each_sensors_own_rate() -> None:
    emu = MetaMotionEmulator(Smooth(), address="A", chip="bmi270")
    emu.connect(0.0)
    for cmd in configure_commands(config(50.0, 400.0, "bmi270")):
        emu.write(COMMAND_CHAR, cmd, 0.0)
    (acc,) = emu.write(COMMAND_CHAR, bytes((0x03, 0x83)), 0.0)
    (gyr,) = emu.write(COMMAND_CHAR, bytes((0x13, 0x83)), 0.0)
    assert acc.data.hex() == "0383a700"  # 50 Hz (code 7) | 0x20 | 0x80, ±2 g
    assert gyr.data.hex() == "13832a04"  # 400 Hz (code 10) | 0x20, ±125 °/s


@settings(max_examples=25, deadline=None)
@given(
    rates=st.sampled_from(RATE_PAIRS),
    chip=st.sampled_from(["bmi160", "bmi270"]),
    packed=st.booleans(),
    t0=st.floats(0.0, 5.0),
)
def test_emulated_bytes_decode_to_the_motion_at_each_sensors_own_times(
    rates: tuple[float, float], chip: str, packed: bool, t0: float
) -> None:
    acc_hz, gyr_hz = rates
    cfg = config(acc_hz, gyr_hz, chip, packed)
    motion = Smooth()
    notes = emulate(cfg, t0 + 0.3, motion, t0=t0)
    decoder = MetaWearDecoder(cfg)
    acc_lsb, gyr_lsb = cfg.acc_si_per_lsb, cfg.gyr_si_per_lsb
    for stream, hz, lsb in (("acc", acc_hz, acc_lsb), ("gyr", gyr_hz, gyr_lsb)):
        packets = [decoder.decode(n.data) for n in notes if stream_of(n) == stream]
        values = np.concatenate([p.values for p in packets if p is not None])
        t = t0 + np.arange(values.shape[0]) / hz
        truth = Smooth().imu(t)[0 if stream == "acc" else 1]
        np.testing.assert_allclose(values, truth, atol=lsb / 2 + 1e-12)
    # One motion call per advance, strictly increasing, each instant once.
    joined = np.concatenate(motion.calls)
    assert np.all(np.diff(joined) > 0)


# --- merging -------------------------------------------------------------------------------


def merged_live(asm: MetaWearAssembler, notes: list[Notification]):
    parts = [r for n in notes if (r := asm.feed(n.t, n.data)) is not None]
    acc = np.concatenate([r.acc for r in parts])
    gyr = np.concatenate([r.gyr for r in parts])
    flags = np.concatenate([r.flags for r in parts])
    return acc, gyr, flags


@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.parametrize("chip", ["bmi160", "bmi270"])
@pytest.mark.parametrize(("acc_hz", "gyr_hz"), ALL_PAIRS)
def test_merged_stream_is_the_motion_at_the_faster_sensors_times(
    acc_hz: float, gyr_hz: float, chip: str, packed: bool
) -> None:
    cfg = config(acc_hz, gyr_hz, chip, packed)
    notes = emulate(cfg, 2.0)
    asm = MetaWearAssembler(cfg)
    acc, gyr, flags = merged_live(asm, notes)
    fast_hz, slow_hz = max(acc_hz, gyr_hz), min(acc_hz, gyr_hz)
    ratio = round(fast_hz / slow_hz)
    assert asm.rate_hz == fast_hz
    n = acc.shape[0]
    assert n > 1.9 * fast_hz - 3 * ratio - 3
    t = np.arange(n) / fast_hz
    acc_true, gyr_true = Smooth().imu(t)
    # Quantisation (half a count) for both; the slower one also the linear-interpolation error
    # h²/8 · max|f''| with h its sample period.
    h = 1.0 / slow_hz
    acc_tol = cfg.acc_si_per_lsb / 2 + (h * h / 8 * Smooth.ACC_CURVATURE if acc_hz < gyr_hz else 0)
    gyr_tol = cfg.gyr_si_per_lsb / 2 + (h * h / 8 * Smooth.GYR_CURVATURE if gyr_hz < acc_hz else 0)
    np.testing.assert_allclose(acc, acc_true, atol=acc_tol + 1e-12)
    np.testing.assert_allclose(gyr, gyr_true, atol=gyr_tol + 1e-12)
    # Interpolated exactly where the slower sensor took no sample of its own.
    own = np.arange(n) % ratio == 0
    assert np.array_equal((flags & FLAG_INTERPOLATED) != 0, ~own)
    assert not np.any(flags & FLAG_CLIPPED)
    # Where it did, the value is its measured sample, bit for bit.
    slow_stream = "acc" if acc_hz < gyr_hz else "gyr"
    decoder = MetaWearDecoder(cfg)
    slow = np.concatenate(
        [p.values for nt in notes if (p := decoder.decode(nt.data)) and p.stream == slow_stream]
    )
    merged_slow = acc if slow_stream == "acc" else gyr
    assert np.array_equal(merged_slow[own], slow[: own.sum()])


@pytest.mark.parametrize(("acc_hz", "gyr_hz"), ALL_PAIRS)
@pytest.mark.parametrize("packed", [True, False])
def test_a_fast_sample_goes_out_as_soon_as_the_slow_sensor_has_one_at_or_after_it(
    acc_hz: float, gyr_hz: float, packed: bool
) -> None:
    cfg = config(acc_hz, gyr_hz, packed=packed)
    notes = emulate(cfg, 1.0)
    asm = MetaWearAssembler(cfg)
    decoder = MetaWearDecoder(cfg)
    fast_hz, slow_hz = max(acc_hz, gyr_hz), min(acc_hz, gyr_hz)
    fast = "gyr" if gyr_hz > acc_hz else "acc"
    got = {"acc": 0, "gyr": 0}
    emitted = 0
    for note in notes:
        raw = asm.feed(note.t, note.data)
        pkt = decoder.decode(note.data)
        assert pkt is not None
        got[pkt.stream] += pkt.values.shape[0]
        emitted += 0 if raw is None else len(raw)
        n_fast, n_slow = got[fast], got["acc" if fast == "gyr" else "gyr"]
        last_slow_t = (n_slow - 1) / slow_hz if n_slow else -math.inf
        # Every fast sample received at or before the newest slow sample, and no other.
        expected = sum(1 for k in range(n_fast) if k / fast_hz <= last_slow_t + 1e-12)
        assert emitted == expected
        # Never held back by more than one slow period (plus the pack being filled).
        if n_fast:
            assert (n_fast - 1) / fast_hz - (emitted - 1) / fast_hz <= 3 / slow_hz + 3 / fast_hz


def test_a_clipped_slow_sample_flags_every_merged_sample_it_contributes_to() -> None:
    cfg = config(100.0, 200.0, packed=False)  # acc slow (ratio 2), gyro fast
    acc_raw = np.full((6, 3), 100, dtype=np.int16)
    acc_raw[2, 0] = 32767  # slow sample 2 sits at fast position 4
    gyr_raw = np.full((11, 3), -50, dtype=np.int16)
    gyr_raw[7, 1] = -32768
    acc_pk = encode_samples(cfg, "acc", acc_raw)
    gyr_pk = encode_samples(cfg, "gyr", gyr_raw)
    packets = [p for i in range(6) for p in (acc_pk[i], *gyr_pk[2 * i : 2 * i + 2])]
    asm = MetaWearAssembler(cfg)
    flags = np.concatenate([r.flags for p in packets if (r := asm.feed(0.0, p)) is not None])
    assert flags.size == 11
    clipped = np.nonzero(flags & FLAG_CLIPPED)[0].tolist()
    assert clipped == [3, 4, 5, 7]
    interpolated = np.nonzero(flags & FLAG_INTERPOLATED)[0].tolist()
    assert interpolated == [1, 3, 5, 7, 9]


def test_the_merge_helper_is_the_metabase_import_one() -> None:
    # Slow samples at 0, 2, 4 interpolated at 0..4: own where they coincide.
    values, own = interpolate_onto(np.arange(5), [0.0, 2.0, 4.0], [[0.0], [2.0], [8.0]])
    assert values[:, 0].tolist() == [0.0, 1.0, 2.0, 5.0, 8.0]
    assert own.tolist() == [True, False, True, False, True]


# --- live == replay ------------------------------------------------------------------------


def run_live(asm: MetaWearAssembler, hosts: np.ndarray, packets: list[bytes]):
    sync = HostClockSync(asm.rate_hz)
    out = []
    for h, p in zip(hosts.tolist(), packets, strict=True):
        raw = asm.feed(h, p)
        if raw is not None:
            out.append((raw, sync.stamp_packets(*raw.arrivals())))
    return out


def run_batched(asm: MetaWearAssembler, hosts: np.ndarray, packets: list[bytes], cuts: list[int]):
    sync = HostClockSync(asm.rate_hz)
    out = []
    bounds = [0, *sorted({c for c in cuts if 0 < c < len(packets)}), len(packets)]
    for a, b in itertools.pairwise(bounds):
        raw = asm.feed_batch(hosts[a:b], packets[a:b])
        if raw is not None:
            assert raw.arrivals()[1].size == b - a
            out.append((raw, sync.stamp_packets(*raw.arrivals())))
    return out


def joined(out):
    if not out:
        return [np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0, np.uint8), np.zeros(0)]
    return [
        np.concatenate([r.acc for r, _ in out]),
        np.concatenate([r.gyr for r, _ in out]),
        np.concatenate([r.flags for r, _ in out]),
        np.concatenate([t for _, t in out]),
    ]


def assert_same(live, batched) -> None:
    for a, b in zip(joined(live), joined(batched), strict=True):
        assert a.dtype == b.dtype
        assert np.array_equal(a, b)


@settings(max_examples=60, deadline=None)
@given(
    rates=st.sampled_from(ALL_PAIRS),
    chip=st.sampled_from(["bmi160", "bmi270"]),
    packed=st.booleans(),
    cuts=st.lists(st.integers(0, 400), max_size=15),
    garbage_at=st.lists(st.integers(0, 300), max_size=4),
    skip=st.integers(0, 5),
)
def test_batched_merge_equals_packet_by_packet_to_the_bit(
    rates: tuple[float, float],
    chip: str,
    packed: bool,
    cuts: list[int],
    garbage_at: list[int],
    skip: int,
) -> None:
    cfg = config(*rates, chip, packed)
    notes = emulate(cfg, 1.5)
    # Join the stream anywhere (the first packets of either sensor may be missing).
    packets = [n.data for n in notes][skip : skip + 300]
    for i in sorted(set(garbage_at), reverse=True):
        packets.insert(min(i, len(packets)), b"\x13\x07\x00")  # truncated: counted, skipped
    hosts = 0.02 + np.cumsum(np.full(len(packets), 0.004))
    live_asm, batch_asm = MetaWearAssembler(cfg), MetaWearAssembler(cfg)
    live = run_live(live_asm, hosts, packets)
    batched = run_batched(batch_asm, hosts, packets, cuts)
    assert_same(live, batched)
    assert live_asm.malformed == batch_asm.malformed == len(set(garbage_at))
    assert live_asm.unpaired == batch_asm.unpaired
    # Both left the same state behind: the rest of the stream merges the same way.
    rest = [n.data for n in emulate(cfg, 2.0)][skip + 300 :]
    more = hosts[-1] + np.cumsum(np.full(len(rest), 0.004))
    assert_same(run_live(live_asm, more, rest), run_live(batch_asm, more, rest))


@pytest.mark.parametrize(("acc_hz", "gyr_hz"), RATE_PAIRS)
@pytest.mark.parametrize("ahead", ["acc", "gyr"])
def test_a_stream_far_ahead_drops_unmatched_samples_the_same_way_in_both_paths(
    acc_hz: float, gyr_hz: float, ahead: str
) -> None:
    cfg = config(acc_hz, gyr_hz)
    packets = [n.data for n in emulate(cfg, 3.0)]
    module = 0x03 if ahead == "acc" else 0x13
    # More than 30 slow-sensor periods of samples the other stream never matches.
    ratio = round(max(acc_hz, gyr_hz) / min(acc_hz, gyr_hz))
    fast_ahead = (acc_hz > gyr_hz) == (ahead == "acc")
    extra = [p for p in packets if p[0] == module][: 11 * ratio if fast_ahead else 11]
    packets = extra + packets
    hosts = np.cumsum(np.full(len(packets), 0.005))
    a, b = MetaWearAssembler(cfg), MetaWearAssembler(cfg)
    live = run_live(a, hosts, packets)
    batched = run_batched(b, hosts, packets, [17, 60, 61, 200])
    assert a.unpaired == b.unpaired > 0
    assert_same(live, batched)
    assert len(live) > 0


@pytest.mark.parametrize(("acc_hz", "gyr_hz"), ALL_PAIRS)
def test_session_times_of_the_merged_stream_are_its_sample_times_plus_latency(
    acc_hz: float, gyr_hz: float
) -> None:
    """Stamped from arrivals at the merged rate, a sample's session time is when it was taken
    plus the fastest link latency; holding samples back for the slower sensor adds at most a
    fast packet's span, never a drift."""
    cfg = config(acc_hz, gyr_hz)
    notes = emulate(cfg, 30.0, t0=2.0)
    rng = np.random.default_rng(1)
    lat_min, lat_max = 0.0075, 0.030
    hosts = np.maximum.accumulate(
        np.array([n.t for n in notes]) + rng.uniform(lat_min, lat_max, len(notes))
    )
    asm = MetaWearAssembler(cfg)
    t = joined(run_live(asm, hosts, [n.data for n in notes]))[3]
    true = 2.0 + np.arange(t.size) / asm.rate_hz
    err = (t - true)[t.size // 3 :]  # once the 10 s envelope window has filled
    assert err.min() >= lat_min - 1e-6
    assert err.max() <= lat_min + 3 / asm.rate_hz + 0.002
    assert np.ptp(err) < 0.002
