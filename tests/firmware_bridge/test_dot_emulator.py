"""Movella DOT emulator: GATT table, control, output rate, device clock, fusion, bytes."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge import EmulatedDevice, Notification
from liftguard.firmware_bridge.dot import (
    BATTERY_CHAR,
    BATTERY_SERVICE,
    CONFIGURATION_SERVICE,
    CONTROL_CHAR,
    DEVICE_CONTROL_CHAR,
    DEVICE_INFO_CHAR,
    MEASUREMENT_SERVICE,
    MEDIUM_PAYLOAD_CHAR,
    ORIENTATION_RESET_CONTROL_CHAR,
    ORIENTATION_RESET_STATUS_CHAR,
    DotAssembler,
    DotConfig,
    DotDecoder,
    DotEmulator,
    TimestampUnwrapper,
    heading_reset_command,
    heading_revert_command,
    output_rate_command,
    start_command,
    stop_command,
)
from liftguard.samples import FLAG_CLIPPED, FLAG_INTERPOLATED

G = 9.81  # what the firmware (and so the emulator) removes from free acceleration
WRAP = 1 << 32
ADDRESS = "D4:22:CD:00:00:01"


def h(text: str) -> bytes:
    return bytes.fromhex(text)


class LinearMotion:
    """acc = acc0 + acc_rate·t, gyr = gyr0 (constant); records every call's times."""

    def __init__(
        self,
        acc0: tuple[float, float, float] = (0.0, 0.0, 9.81),
        gyr0: tuple[float, float, float] = (0.0, 0.0, 0.0),
        acc_rate: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> None:
        self.acc0, self.gyr0, self.acc_rate = np.array(acc0), np.array(gyr0), np.array(acc_rate)
        self.calls: list[np.ndarray] = []

    def imu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append(np.array(t))
        n = len(t)
        return self.acc0 + self.acc_rate * t[:, None], np.tile(self.gyr0, (n, 1))


class TiltedSpin:
    """A sensor tilted by ``tilt`` about x, spinning at ``rate`` rad/s about the vertical.

    Physically consistent with constant outputs: the vertical, seen from the sensor, does not
    change while it turns about it.
    """

    def __init__(self, tilt: float = 0.5, rate: float = 1.0) -> None:
        up = np.array([0.0, math.sin(tilt), math.cos(tilt)])  # world z in sensor frame
        self.acc = 9.81 * up
        self.gyr = rate * up

    def imu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(t)
        return np.tile(self.acc, (n, 1)), np.tile(self.gyr, (n, 1))


def make(motion: object | None = None, **kw: object) -> DotEmulator:
    emu = DotEmulator(motion or LinearMotion(), address=ADDRESS, **kw)  # type: ignore[arg-type]
    emu.connect(0.0)
    return emu


def start(emu: DotEmulator, mode: int, now: float, rate: int | None = None) -> DotConfig:
    config = DotConfig(mode=mode, rate_hz=rate or emu.output_rate)
    if rate is not None:
        assert emu.write(DEVICE_CONTROL_CHAR, output_rate_command(rate), now) == []
    assert emu.write(CONTROL_CHAR, start_command(config), now) == []
    return config


def timestamps(notes: list[Notification]) -> list[int]:
    return [struct.unpack_from("<I", n.data)[0] for n in notes]


# --- identity and GATT ---------------------------------------------------------------------


def test_gatt_table_has_configuration_measurement_and_battery_services() -> None:
    emu = make()
    table = {s.uuid: {c.uuid: c.properties for c in s.characteristics} for s in emu.services}
    assert set(table) == {CONFIGURATION_SERVICE, MEASUREMENT_SERVICE, BATTERY_SERVICE}
    assert table[MEASUREMENT_SERVICE][CONTROL_CHAR] == ("read", "write")
    assert table[MEASUREMENT_SERVICE][MEDIUM_PAYLOAD_CHAR] == ("notify",)
    assert table[MEASUREMENT_SERVICE][ORIENTATION_RESET_STATUS_CHAR] == ("read",)
    assert table[CONFIGURATION_SERVICE][DEVICE_CONTROL_CHAR] == ("read", "write")
    assert table[BATTERY_SERVICE][BATTERY_CHAR] == ("read", "notify")


def test_advertises_name_and_movella_company_id() -> None:
    emu = DotEmulator(LinearMotion(), address=ADDRESS, rssi=-70)
    ad = emu.advertisement()
    assert ad.local_name == "Movella DOT"
    assert list(ad.manufacturer_data) == [2182]
    assert ad.rssi == -70
    device: EmulatedDevice = emu
    assert (device.family, device.address, device.name) == ("dot", ADDRESS, "Movella DOT")


def test_device_info_is_34_bytes_with_mac_lsb_first_and_product_code() -> None:
    info = make(firmware=(2, 6, 1)).read(DEVICE_INFO_CHAR, 0.0)
    assert len(info) == 34
    assert info[:6] == h("010000cd22d4")
    assert tuple(info[6:9]) == (2, 6, 1)
    assert info[-6:] == b"XS-T02"


def test_device_control_reads_defaults_60_hz_and_the_tag() -> None:
    value = make().read(DEVICE_CONTROL_CHAR, 0.0)
    assert len(value) == 32
    assert value[0] == 0
    assert tuple(value[3:7]) == (10, 0, 30, 0)
    assert value[7] == len(b"Movella DOT") and value[8:19] == b"Movella DOT"
    assert struct.unpack_from("<H", value, 24) == (60,)


def test_unreadable_and_unwritable_characteristics_raise_protocol_error() -> None:
    emu = make()
    with pytest.raises(ProtocolError):
        emu.read(MEDIUM_PAYLOAD_CHAR, 0.0)
    with pytest.raises(ProtocolError):
        emu.write(BATTERY_CHAR, h("0100"), 0.0)
    with pytest.raises(ProtocolError):
        emu.write(MEDIUM_PAYLOAD_CHAR, h("010115"), 0.0)


def test_bad_constructor_values_raise_config_error() -> None:
    for kw in ({"clock_ppm": math.inf}, {"battery_percent": 101}, {"clock_offset_us": WRAP}):
        with pytest.raises(ConfigError):
            DotEmulator(LinearMotion(), address=ADDRESS, **kw)  # type: ignore[arg-type]


def test_clock_offset_is_drawn_from_the_seed() -> None:
    a, b, c = (DotEmulator(LinearMotion(), address=ADDRESS, seed=s) for s in (1, 1, 2))
    assert a.clock_offset_us == b.clock_offset_us != c.clock_offset_us
    assert 0 <= a.clock_offset_us < WRAP


# --- control -------------------------------------------------------------------------------


def test_streams_only_after_start_and_stops_on_stop() -> None:
    emu = make()
    assert emu.read(CONTROL_CHAR, 0.0) == h("010015")
    assert emu.advance(1.0) == []
    config = start(emu, 21, 1.0)
    assert emu.read(CONTROL_CHAR, 1.0) == h("010115")
    out = emu.advance(1.5)
    assert len(out) == 31  # 1.0, 1.0167, ..., 1.5 at 60 Hz
    assert {n.uuid for n in out} == {MEDIUM_PAYLOAD_CHAR}
    assert all(len(n.data) == 40 for n in out)
    emu.write(CONTROL_CHAR, stop_command(config), 1.5)
    assert emu.read(CONTROL_CHAR, 1.5) == h("010015")
    assert emu.advance(3.0) == []


def test_samples_due_before_a_stop_are_still_delivered_and_a_stop_acts_first() -> None:
    emu = make()
    config = start(emu, 21, 0.0, rate=10)
    emu.write(CONTROL_CHAR, stop_command(config), 0.3)  # samples at 0, .1, .2 were taken
    assert [n.t for n in emu.advance(1.0)] == pytest.approx([0.0, 0.1, 0.2])


@pytest.mark.parametrize(
    "command",
    ["010101", "010105", "010110", "010163", "020115", "0101", "01011500", "", "010215"],
)
def test_unsupported_or_malformed_control_writes_do_not_start(command: str) -> None:
    emu = make()
    emu.write(CONTROL_CHAR, h(command), 0.0)
    assert emu.advance(1.0) == []
    assert not emu.measuring


def test_a_second_start_does_not_restart_the_clock_or_change_mode() -> None:
    emu = make(clock_offset_us=0)
    start(emu, 21, 0.0, rate=10)
    emu.advance(0.15)
    emu.write(CONTROL_CHAR, start_command(DotConfig(mode=20)), 0.15)
    out = emu.advance(0.3)
    assert [n.t for n in out] == pytest.approx([0.2, 0.3])
    assert timestamps(out) == [200_000, 300_000]
    assert emu.read(CONTROL_CHAR, 0.3) == h("010115")


# --- output rate ---------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [1, 4, 10, 12, 15, 20, 30, 60])
def test_streams_at_the_configured_output_rate(rate: int) -> None:
    emu = make(clock_offset_us=1_000)
    start(emu, 21, 2.0, rate=rate)
    out = emu.advance(4.0)
    assert len(out) == 2 * rate + 1
    assert [n.t for n in out] == pytest.approx([2.0 + k / rate for k in range(2 * rate + 1)])
    steps = np.diff(timestamps(out))
    assert np.all(np.abs(steps - 1e6 / rate) <= 1)
    assert timestamps(out)[0] == 1_000 + 2_000_000


def test_rate_write_while_measuring_is_ignored_and_applies_after_restart() -> None:
    emu = make()
    config = start(emu, 21, 0.0, rate=20)
    emu.write(DEVICE_CONTROL_CHAR, output_rate_command(4), 0.5)
    assert struct.unpack_from("<H", emu.read(DEVICE_CONTROL_CHAR, 0.5), 24) == (20,)
    assert len(emu.advance(1.0)) == 21
    emu.write(CONTROL_CHAR, stop_command(config), 1.0)
    emu.write(DEVICE_CONTROL_CHAR, output_rate_command(4), 1.0)
    emu.write(CONTROL_CHAR, start_command(config), 1.0)
    assert [n.t for n in emu.advance(2.0)] == pytest.approx([1.0, 1.25, 1.5, 1.75, 2.0])


@pytest.mark.parametrize(
    "value",
    [
        bytes([0x10]) + bytes(23) + struct.pack("<H", 50) + bytes(6),  # not a DOT rate
        bytes([0x00]) + bytes(23) + struct.pack("<H", 10) + bytes(6),  # visit bit clear
        bytes([0x10]) + bytes(23) + struct.pack("<H", 10) + bytes(5),  # 31 bytes
    ],
)
def test_invalid_or_unvisited_rate_writes_are_ignored(value: bytes) -> None:
    emu = make()
    emu.write(DEVICE_CONTROL_CHAR, value, 0.0)
    assert emu.output_rate == 60


def test_tag_and_filter_profile_follow_their_visit_bits() -> None:
    emu = make()
    value = bytearray(32)
    value[0] = 0x08 | 0x20
    value[7] = 4
    value[8:12] = b"left"
    value[26] = 1
    emu.write(DEVICE_CONTROL_CHAR, bytes(value), 0.0)
    read = emu.read(DEVICE_CONTROL_CHAR, 0.0)
    assert (read[7], read[8:12], read[26]) == (4, b"left", 1)
    assert struct.unpack_from("<H", read, 24) == (60,)  # visit bit 4 clear: rate untouched


# --- device clock --------------------------------------------------------------------------


def test_device_timestamps_wrap_at_2_pow_32_and_unwrap_to_a_regular_clock() -> None:
    emu = make(clock_offset_us=WRAP - 1_000_000)  # wraps 1 s after emulator time 0
    start(emu, 21, 0.5, rate=60)
    out = emu.advance(2.0)
    raw = timestamps(out)
    assert raw[0] == WRAP - 500_000
    assert any(r < 1_000_000 for r in raw)  # wrapped
    t = TimestampUnwrapper().unwrap_many(raw)
    np.testing.assert_allclose(np.diff(t), 1 / 60, atol=1.1e-6)
    assert emu.device_time_us(1.0) == 0


def test_clock_ppm_stretches_sample_times_but_not_timestamp_steps() -> None:
    emu = make(clock_offset_us=0, clock_ppm=1000.0)
    start(emu, 21, 0.0, rate=10)
    out = emu.advance(1.0005)
    assert len(out) == 10  # the tenth period ends at 1.001 s
    assert out[-1].t == pytest.approx(0.9 * 1.001)
    assert timestamps(out) == [100_000 * k for k in range(10)]
    assert emu.device_time_us(1.001) == 1_000_000


# --- values --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from([20, 21]),
    rate=st.sampled_from([1, 10, 15, 60]),
    acc=st.tuples(*[st.floats(-150.0, 150.0)] * 3),
    gyr=st.tuples(*[st.floats(-30.0, 30.0)] * 3),
    t0=st.floats(0.0, 5000.0),
    offset=st.integers(0, WRAP - 1),
)
def test_rate_quantities_decode_to_the_motion_in_float32(
    mode: int,
    rate: int,
    acc: tuple[float, float, float],
    gyr: tuple[float, float, float],
    t0: float,
    offset: int,
) -> None:
    emu = make(LinearMotion(acc0=acc, gyr0=gyr), clock_offset_us=offset)
    config = start(emu, mode, t0, rate=rate)
    notes = emu.advance(t0 + 1.0)
    decoder = DotDecoder(config)
    pkt = decoder.decode_batch([n.data for n in notes])
    assert pkt is not None and pkt.acc is not None and pkt.gyr is not None
    assert len(pkt) == rate + 1 and decoder.malformed == 0
    np.testing.assert_array_equal(
        pkt.acc, np.tile(np.float32(acc).astype(np.float64), (rate + 1, 1))
    )
    np.testing.assert_allclose(pkt.gyr, np.tile(gyr, (rate + 1, 1)), rtol=2e-7, atol=1e-12)
    if mode == 20:
        assert pkt.mag is not None
        np.testing.assert_allclose(np.linalg.norm(pkt.mag, axis=1), 1.0, atol=2e-3)


@pytest.mark.parametrize("mode", [2, 3])
def test_quaternion_modes_carry_a_fused_orientation_consistent_with_the_motion(mode: int) -> None:
    motion = TiltedSpin(tilt=0.5, rate=1.0)
    emu = make(motion)
    config = start(emu, mode, 0.0, rate=60)
    notes = emu.advance(3.0)
    pkt = DotDecoder(config).decode_batch([n.data for n in notes])
    assert pkt is not None and pkt.quat is not None and pkt.free_acc is not None
    np.testing.assert_allclose(np.linalg.norm(pkt.quat, axis=1), 1.0, atol=1e-6)
    # The estimate's vertical, seen from the sensor, is the tilted one: free acc ≈ 0.
    np.testing.assert_allclose(pkt.free_acc, 0.0, atol=0.05)
    # Heading grows at the spin rate.
    q = pkt.quat
    yaw = np.unwrap(
        np.arctan2(
            2 * (q[:, 0] * q[:, 3] + q[:, 1] * q[:, 2]), 1 - 2 * (q[:, 2] ** 2 + q[:, 3] ** 2)
        )
    )
    assert (yaw[-1] - yaw[0]) == pytest.approx(3.0, rel=0.02)
    # Through the assembler: acc reconstructed in the sensor frame, gyr from the quaternions.
    asm = DotAssembler(config)
    out = [asm.feed(n.t + 0.005, n.data) for n in notes]
    assert all(o is not None for o in out)
    acc = np.concatenate([o.acc for o in out if o is not None])
    gyr = np.concatenate([o.gyr for o in out if o is not None])
    flags = np.concatenate([o.flags for o in out if o is not None])
    np.testing.assert_allclose(acc, np.tile(motion.acc, (len(out), 1)), atol=1e-4)
    assert flags[0] == FLAG_INTERPOLATED and not flags[1:].any()
    np.testing.assert_allclose(gyr[60:], np.tile(motion.gyr, (len(out) - 60, 1)), atol=0.02)


def test_extended_mode_reports_clipping_per_axis_and_counts_since_the_last_packet() -> None:
    # 20 g on x, -2500 °/s on z: both beyond the full scale, for every sample.
    motion = LinearMotion(acc0=(20 * 9.80665, 0.0, 9.81), gyr0=(0.0, 0.0, -math.radians(2500)))
    emu = make(motion)
    config = start(emu, 2, 0.0, rate=15)  # four 60 Hz samples per notification
    notes = emu.advance(0.2)
    pkt = DotDecoder(config).decode_batch([n.data for n in notes])
    assert pkt is not None and pkt.status is not None
    assert pkt.status.tolist() == [0x0001 | 0x0020] * 4
    assert pkt.clip_acc.tolist() == [1, 4, 4, 4]  # type: ignore[union-attr]
    assert pkt.clip_gyr.tolist() == [1, 4, 4, 4]  # type: ignore[union-attr]
    assert pkt.clipped.all()
    out = DotAssembler(config).feed(0.01, notes[1].data)
    assert out is not None and out.flags[0] & FLAG_CLIPPED


def test_rate_modes_saturate_at_full_scale_and_the_assembler_flags_it() -> None:
    motion = LinearMotion(acc0=(0.0, -200.0, 9.81), gyr0=(0.0, math.radians(3000), 0.0))
    emu = make(motion)
    config = start(emu, 21, 0.0, rate=60)
    [note] = emu.advance(0.0)
    expected = struct.pack("<3f3f", 0.0, -16 * 9.80665, 9.81, 0.0, 2000.0, 0.0)
    assert note.data[4:28] == expected
    out = DotAssembler(config).feed(0.01, note.data)
    assert out is not None and out.flags.tolist() == [FLAG_CLIPPED]


def test_unclipped_extended_packets_carry_zero_status() -> None:
    emu = make()
    config = start(emu, 2, 0.0, rate=30)
    pkt = DotDecoder(config).decode_batch([n.data for n in emu.advance(0.5)])
    assert pkt is not None and pkt.status is not None
    assert not pkt.status.any() and not pkt.clipped.any()


# --- heading reset -------------------------------------------------------------------------


def _yaw(data: bytes) -> float:
    w, x, y, z = struct.unpack_from("<4f", data, 4)
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def test_heading_reset_zeroes_heading_needs_a_revert_and_survives_a_disconnect() -> None:
    emu = make(TiltedSpin(tilt=0.0, rate=1.0))
    assert emu.read(ORIENTATION_RESET_CONTROL_CHAR, 0.0) == h("0800")
    emu.write(ORIENTATION_RESET_CONTROL_CHAR, heading_reset_command(), 0.0)
    assert emu.read(ORIENTATION_RESET_STATUS_CHAR, 0.0) == h("00")  # not measuring: fails
    start(emu, 3, 0.0, rate=60)
    emu.advance(1.0)  # heading ≈ 1 rad
    emu.write(ORIENTATION_RESET_CONTROL_CHAR, heading_reset_command(), 1.001)
    assert emu.read(ORIENTATION_RESET_STATUS_CHAR, 1.001) == h("01")
    assert emu.read(ORIENTATION_RESET_CONTROL_CHAR, 1.001) == h("0100")
    # VQF's estimate after sample j has integrated that sample's rate: heading (j + 1) / 60.
    [note] = emu.advance(1.02)  # j = 61, one sample after the reset at j = 60
    assert _yaw(note.data) == pytest.approx(1 / 60, abs=1e-3)
    emu.write(ORIENTATION_RESET_CONTROL_CHAR, heading_reset_command(), 1.02)
    assert emu.read(ORIENTATION_RESET_STATUS_CHAR, 1.02) == h("00")  # second reset refused
    emu.write(ORIENTATION_RESET_CONTROL_CHAR, heading_revert_command(), 1.02)
    assert emu.read(ORIENTATION_RESET_STATUS_CHAR, 1.02) == h("01")
    [note] = emu.advance(1.034)  # j = 62
    assert _yaw(note.data) == pytest.approx(63 / 60, abs=1e-3)
    emu.write(ORIENTATION_RESET_CONTROL_CHAR, heading_reset_command(), 1.034)
    emu.disconnect(1.1)
    emu.connect(1.2)
    assert emu.read(ORIENTATION_RESET_CONTROL_CHAR, 1.2) == h("0100")


# --- battery, link -------------------------------------------------------------------------


def test_battery_reads_level_and_charging_and_notifies_level_changes_only() -> None:
    emu = make(battery_percent=87)
    assert emu.read(BATTERY_CHAR, 0.0) == h("5700")
    emu.set_battery(87, True, 1.0)
    assert emu.advance(1.0) == []
    assert emu.read(BATTERY_CHAR, 1.0) == h("5701")
    emu.set_battery(86, True, 2.0)
    assert emu.advance(2.0) == [Notification(2.0, BATTERY_CHAR, h("5601"))]


def test_disconnect_stops_measurement_and_drops_unsent_samples_but_keeps_the_rate() -> None:
    emu = make()
    start(emu, 21, 0.0, rate=30)
    emu.disconnect(0.5)
    emu.connect(0.6)
    assert emu.advance(2.0) == []
    assert emu.read(CONTROL_CHAR, 2.0) == h("010015")
    assert struct.unpack_from("<H", emu.read(DEVICE_CONTROL_CHAR, 2.0), 24) == (30,)


def test_motion_source_sees_strictly_increasing_times_in_one_call_per_advance() -> None:
    motion = LinearMotion()
    emu = make(motion)
    start(emu, 21, 0.0, rate=12)
    for step in range(1, 40):
        emu.advance(step * 0.05)
    joined = np.concatenate(motion.calls)
    assert np.all(np.diff(joined) > 0)
    assert len(motion.calls) == 39
    assert joined.size == 118  # the 60 Hz grid from 0 to 1.95 s


@pytest.mark.parametrize("mode", [2, 21])
def test_chunking_of_advance_calls_does_not_change_the_bytes(mode: int) -> None:
    # Clipping on alternate half-seconds, so status and counters change between packets.
    class Bursts:
        def imu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            hot = (np.floor(t * 2) % 2 == 1)[:, None]
            acc = np.where(hot, [200.0, 0.0, 9.81], [0.0, 0.0, 9.81])
            return acc, np.where(hot, [0.0, 40.0, 0.0], [0.0, 0.4, 0.0])

    def run(steps: np.ndarray) -> list[tuple[float, bytes]]:
        emu = make(Bursts(), seed=1)
        start(emu, mode, 0.0, rate=12)
        return [(n.t, n.data) for now in steps for n in emu.advance(float(now))]

    whole = run(np.array([3.0]))
    assert len(whole) == 37
    assert run(np.linspace(0.0, 3.0, 181)) == whole
    assert run(np.arange(1, 31) * 0.1) == whole


def test_same_inputs_give_the_same_bytes() -> None:
    def run() -> list[tuple[float, bytes]]:
        emu = make(TiltedSpin(0.3, 0.7), seed=4, clock_ppm=-40.0)
        start(emu, 2, 0.123, rate=30)
        return [(n.t, n.data) for k in range(40) for n in emu.advance(0.123 + k * 0.0371)]

    assert run() == run()
