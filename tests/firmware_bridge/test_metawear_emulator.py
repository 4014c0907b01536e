"""MetaMotion emulator: discovery, config, the streaming state machine, timing and bytes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge import EmulatedDevice, Notification
from liftguard.firmware_bridge.metawear import (
    COMMAND_CHAR,
    DIS_SERVICE,
    FIRMWARE_CHAR,
    METAWEAR_SERVICE,
    MODEL_CHAR,
    NOTIFY_CHAR,
    MetaMotionEmulator,
    MetaWearConfig,
    MetaWearDecoder,
    chip_from_module_info,
    configure_commands,
    parse_module_info,
    start_commands,
    stop_commands,
)

G = 9.80665
DEG = math.pi / 180.0
LSB_PER_G = {2: 16384.0, 4: 8192.0, 8: 4096.0, 16: 2048.0}
LSB_PER_DPS = {2000: 16.4, 1000: 32.8, 500: 65.6, 250: 131.2, 125: 262.4}


def h(text: str) -> bytes:
    return bytes.fromhex(text)


class LinearMotion:
    """acc = acc0 + acc_rate·t, gyr = gyr0 + gyr_rate·t; records every call's times."""

    def __init__(
        self,
        acc0: tuple[float, float, float] = (0.0, 0.0, G),
        gyr0: tuple[float, float, float] = (0.0, 0.0, 0.0),
        acc_rate: tuple[float, float, float] = (0.0, 0.0, 0.0),
        gyr_rate: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> None:
        self.acc0, self.gyr0 = np.array(acc0), np.array(gyr0)
        self.acc_rate, self.gyr_rate = np.array(acc_rate), np.array(gyr_rate)
        self.calls: list[np.ndarray] = []

    def imu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append(np.array(t))
        t = t[:, None]
        return self.acc0 + self.acc_rate * t, self.gyr0 + self.gyr_rate * t

    def acc(self, t: float) -> np.ndarray:
        return self.acc0 + self.acc_rate * t

    def gyr(self, t: float) -> np.ndarray:
        return self.gyr0 + self.gyr_rate * t


def make(
    chip: str = "bmi160", motion: LinearMotion | None = None, **kw: object
) -> MetaMotionEmulator:
    emu = MetaMotionEmulator(
        motion or LinearMotion(),
        address="C4:5A:1B:00:00:01",
        chip=chip,  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    emu.connect(0.0)
    return emu


def send(emu: MetaMotionEmulator, commands: list[bytes], now: float) -> list[Notification]:
    replies: list[Notification] = []
    for cmd in commands:
        replies += emu.write(COMMAND_CHAR, cmd, now)
    return replies


def start(emu: MetaMotionEmulator, config: MetaWearConfig, now: float) -> None:
    assert send(emu, configure_commands(config) + start_commands(config), now) == []


def headers(notes: list[Notification]) -> list[bytes]:
    return [n.data[:2] for n in notes]


# --- identity and GATT ---------------------------------------------------------------------


def test_advertises_name_and_metawear_service() -> None:
    emu = MetaMotionEmulator(LinearMotion(), address="AA:BB", name="MetaWear", rssi=-71)
    ad = emu.advertisement()
    assert ad.local_name == "MetaWear"
    assert ad.service_uuids == (METAWEAR_SERVICE,)
    assert ad.rssi == -71
    assert emu.family == "metawear"
    assert emu.address == "AA:BB"


def test_gatt_table_has_command_notify_and_device_information() -> None:
    emu = make()
    table = {s.uuid: {c.uuid: c.properties for c in s.characteristics} for s in emu.services}
    assert "write-without-response" in table[METAWEAR_SERVICE][COMMAND_CHAR]
    assert table[METAWEAR_SERVICE][NOTIFY_CHAR] == ("notify",)
    assert table[DIS_SERVICE][FIRMWARE_CHAR] == ("read",)
    assert table[DIS_SERVICE][MODEL_CHAR] == ("read",)


def test_reads_firmware_and_metamotion_s_model_number() -> None:
    emu = make(firmware="1.7.3")
    assert emu.read(FIRMWARE_CHAR, 0.0) == b"1.7.3"
    assert emu.read(MODEL_CHAR.upper(), 0.0) == b"8"
    with pytest.raises(ProtocolError):
        emu.read(NOTIFY_CHAR, 0.0)


def test_write_to_other_characteristic_raises_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        make().write(NOTIFY_CHAR, h("03 80"), 0.0)


def test_bad_constructor_values_raise_config_error() -> None:
    with pytest.raises(ConfigError):
        MetaMotionEmulator(LinearMotion(), address="x", chip="bmi088")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        MetaMotionEmulator(LinearMotion(), address="x", clock_ppm=math.inf)


def test_satisfies_emulated_device_protocol_attributes() -> None:
    device: EmulatedDevice = make()
    assert (device.address, device.name, device.family) == (
        "C4:5A:1B:00:00:01",
        "MetaWear",
        "metawear",
    )


# --- discovery and config ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chip", "acc_reply", "gyro_reply"),
    [("bmi160", "03 80 01 01", "13 80 00 01"), ("bmi270", "03 80 04 01", "13 80 01 01")],
)
def test_answers_module_discovery_with_chip_implementation(
    chip: str, acc_reply: str, gyro_reply: str
) -> None:
    emu = make(chip)
    [acc] = emu.write(COMMAND_CHAR, h("03 80"), 2.5)
    [gyr] = emu.write(COMMAND_CHAR, h("13 80"), 2.5)
    assert (acc.data, gyr.data) == (h(acc_reply), h(gyro_reply))
    assert (acc.t, acc.uuid) == (2.5, NOTIFY_CHAR)
    info = parse_module_info(acc.data)
    assert info is not None
    assert chip_from_module_info(info[1]) == chip


@pytest.mark.parametrize("module", [0x01, 0x09, 0x11, 0x15, 0x19, 0xFE])
def test_absent_modules_answer_with_empty_info(module: int) -> None:
    [reply] = make().write(COMMAND_CHAR, bytes((module, 0x80)), 0.0)
    assert reply.data == bytes((module, 0x80))
    assert parse_module_info(reply.data) == (module, 0xFF, 0xFF)


def test_config_write_is_stored_and_read_back() -> None:
    emu = make("bmi270")
    send(emu, configure_commands(MetaWearConfig(chip="bmi270", acc_range_g=4, odr_hz=200.0)), 0.0)
    [acc] = emu.write(COMMAND_CHAR, h("03 83"), 0.1)
    [gyr] = emu.write(COMMAND_CHAR, h("13 83"), 0.1)
    assert acc.data == h("03 83 a9 01")
    assert gyr.data == h("13 83 29 00")


@pytest.mark.parametrize(
    ("chip", "command"),
    [
        ("bmi160", "03 03 28 04"),  # BMI160 has no range code 4
        ("bmi160", "03 03 20 03"),  # ODR code 0
        ("bmi160", "03 03 2d 03"),  # ODR code 13 beyond the accelerometer's 1600 Hz
        ("bmi160", "03 03 28"),  # short
        ("bmi160", "03 03 28 03 00"),  # long
        ("bmi270", "03 03 a8 0c"),  # BMI160's ±16 g code on a BMI270
        ("bmi160", "13 03 28 05"),  # gyro range code 5
        ("bmi160", "13 03 25 00"),  # gyro ODR code 5 (12.5 Hz) below the gyro's 25 Hz
    ],
)
def test_invalid_config_codes_are_ignored(chip: str, command: str) -> None:
    emu = make(chip)
    module = command[:2]
    [before] = emu.write(COMMAND_CHAR, h(module + "83"), 0.0)
    assert emu.write(COMMAND_CHAR, h(command), 0.0) == []
    [after] = emu.write(COMMAND_CHAR, h(module + "83"), 0.0)
    assert after.data == before.data


def test_unknown_and_malformed_commands_are_ignored() -> None:
    emu = make()
    for cmd in ["", "03", "03 01", "03 01 02", "03 02 01 00 ff", "03 99", "11 01", "030701"]:
        assert emu.write(COMMAND_CHAR, h(cmd), 0.0) == []
    assert emu.advance(5.0) == []


# --- streaming state machine ---------------------------------------------------------------


@pytest.mark.parametrize("skip", [None, 0, 1, 2])
def test_streams_only_after_subscribe_enable_and_start(skip: int | None) -> None:
    emu = make()
    config = MetaWearConfig(packed=False)
    cmds = start_commands(config)
    # Acc only: subscribe, enable, start are cmds[0], [2], [4].
    acc_steps = [cmds[0], cmds[2], cmds[4]]
    send(emu, [c for i, c in enumerate(acc_steps) if i != skip], 1.0)
    out = emu.advance(1.095)
    if skip is None:
        assert len(out) == 10
        assert set(headers(out)) == {h("03 04")}
    else:
        assert out == []


def test_subscribe_after_start_streams_from_the_running_clock() -> None:
    emu = make()
    send(emu, [h("03 02 01 00"), h("03 01 01")], 1.0)
    assert emu.advance(1.05) == []
    emu.write(COMMAND_CHAR, h("03 04 01"), 1.05)
    out = emu.advance(1.08)
    # Samples at 1.06, 1.07, 1.08: the clock started at 1.0, nothing before subscription.
    assert [n.t for n in out] == pytest.approx([1.06, 1.07, 1.08])


@pytest.mark.parametrize("which", ["stop", "disable", "unsubscribe", "all"])
def test_stop_disable_or_unsubscribe_ends_streaming(which: str) -> None:
    emu = make()
    config = MetaWearConfig(packed=True)
    start(emu, config, 0.0)
    assert len(emu.advance(0.5)) == 2 * 17  # samples 0..50 -> 17 packs of acc and of gyro
    stop = stop_commands(config)
    chosen = {
        "stop": stop[0:2],
        "disable": stop[2:4],
        "unsubscribe": stop[4:6],
        "all": stop,
    }[which]
    send(emu, chosen, 0.5)
    assert emu.advance(2.0) == []


def test_command_at_a_sample_instant_acts_before_that_sample() -> None:
    emu = make()
    config = MetaWearConfig(packed=False)
    start(emu, config, 0.0)
    send(emu, stop_commands(config)[:2], 0.03)
    out = [n.t for n in emu.advance(1.0) if n.data[:2] == h("03 04")]
    assert out == pytest.approx([0.0, 0.01, 0.02])


def test_samples_due_before_a_stop_are_still_delivered() -> None:
    emu = make()
    config = MetaWearConfig(packed=False)
    start(emu, config, 0.0)
    send(emu, stop_commands(config), 0.035)  # samples at 0, .01, .02, .03 were taken
    out = emu.advance(1.0)
    assert [n.t for n in out if n.data[:2] == h("03 04")] == pytest.approx([0, 0.01, 0.02, 0.03])


def test_second_start_does_not_restart_the_sample_clock() -> None:
    emu = make()
    start(emu, MetaWearConfig(packed=False), 0.0)
    emu.advance(0.013)
    emu.write(COMMAND_CHAR, h("03 01 01"), 0.013)
    out = [n for n in emu.advance(0.03) if n.data[:2] == h("03 04")]
    assert [n.t for n in out] == pytest.approx([0.02, 0.03])


def test_config_written_while_running_applies_at_next_start() -> None:
    emu = make()
    start(emu, MetaWearConfig(packed=False, odr_hz=100.0), 0.0)
    send(emu, configure_commands(MetaWearConfig(packed=False, odr_hz=200.0)), 0.0)
    acc = [n for n in emu.advance(0.1) if n.data[:2] == h("03 04")]
    assert len(acc) == 11  # still 100 Hz
    send(emu, [h("03 01 00"), h("03 01 01")], 0.1)
    acc = [n for n in emu.advance(0.2) if n.data[:2] == h("03 04")]
    assert len(acc) == 21  # 200 Hz from 0.1: 0.1, 0.105, ..., 0.2


def test_disconnect_tears_down_streaming_but_keeps_config() -> None:
    emu = make()
    config = MetaWearConfig(acc_range_g=8, packed=False)
    start(emu, config, 0.0)
    assert emu.advance(0.1)
    emu.disconnect(0.2)  # samples 0.11..0.2 were never fetched: lost with the link
    emu.connect(0.3)
    assert emu.advance(1.0) == []
    [reply] = emu.write(COMMAND_CHAR, h("03 83"), 1.0)
    assert reply.data == h("03 83 28 08")
    send(emu, start_commands(config), 1.0)
    out = emu.advance(1.0)
    assert [n.t for n in out] == [1.0, 1.0]


# --- timing --------------------------------------------------------------------------------


def test_single_mode_notifies_each_sample_at_t0_plus_k_over_odr() -> None:
    emu = make()
    start(emu, MetaWearConfig(packed=False, odr_hz=50.0), 2.0)
    out = emu.advance(2.1)
    acc = [n.t for n in out if n.data[:2] == h("03 04")]
    assert acc == pytest.approx([2.0 + k / 50 for k in range(6)])
    assert all(len(n.data) == 8 for n in out)


def test_packed_notification_is_emitted_at_time_of_its_third_sample() -> None:
    motion = LinearMotion(acc_rate=(1.0, 0.0, 0.0))  # x = t m/s²
    emu = make(motion=motion)
    start(emu, MetaWearConfig(packed=True, acc_range_g=16), 1.0)
    assert emu.advance(1.015) == []  # two samples taken, pack incomplete
    out = emu.advance(1.02)
    assert headers(out) == [h("03 1c"), h("13 07")]
    assert [n.t for n in out] == pytest.approx([1.02, 1.02])
    assert all(len(n.data) == 20 for n in out)
    decoded = MetaWearDecoder(MetaWearConfig()).decode(out[0].data)
    assert decoded is not None
    lsb = G / 2048
    np.testing.assert_allclose(decoded.values[:, 0], [1.0, 1.01, 1.02], atol=lsb / 2)
    out = emu.advance(1.079)
    assert [n.t for n in out] == pytest.approx([1.05, 1.05])


def test_partial_pack_is_dropped_when_streaming_stops() -> None:
    motion = LinearMotion(acc_rate=(10.0, 0.0, 0.0))
    emu = make(motion=motion)
    config = MetaWearConfig(packed=True)
    start(emu, config, 0.0)
    assert len(emu.advance(0.04)) == 2  # samples 0..4: one pack each, two pending
    send(emu, stop_commands(config), 0.045)
    assert emu.advance(1.0) == []
    send(emu, start_commands(config), 1.0)
    [acc, _gyr] = emu.advance(1.02)
    decoded = MetaWearDecoder(config).decode(acc.data)
    assert decoded is not None
    np.testing.assert_allclose(decoded.values[:, 0], [10.0, 10.1, 10.2], atol=G / 2048)


def test_clock_ppm_stretches_sample_times() -> None:
    emu = make(clock_ppm=1000.0)
    start(emu, MetaWearConfig(packed=False), 0.0)
    acc = [n.t for n in emu.advance(1.0005) if n.data[:2] == h("03 04")]
    assert len(acc) == 100  # k = 100 falls at 1.001 s
    assert acc[-1] == pytest.approx(99 * 0.01 * 1.001)
    acc = [n.t for n in emu.advance(1.001) if n.data[:2] == h("03 04")]
    assert acc == pytest.approx([1.001])


def test_acc_and_gyro_interleave_in_time_order() -> None:
    emu = make()
    config = MetaWearConfig(packed=False)
    cmds = start_commands(config)
    send(emu, [cmds[0], cmds[2], cmds[4]], 0.0)  # acc from 0.000
    send(emu, [cmds[1], cmds[3], cmds[5]], 0.005)  # gyro from 0.005
    out = emu.advance(0.05)
    times = [n.t for n in out]
    assert times == sorted(times)
    assert headers(out)[:4] == [h("03 04"), h("13 05"), h("03 04"), h("13 05")]
    assert len(out) == 11


def test_notification_times_never_exceed_now() -> None:
    emu = make()
    start(emu, MetaWearConfig(packed=False, odr_hz=800.0), 0.1)
    for step in range(1, 200):
        now = 0.1 + step * 0.00125
        assert all(n.t <= now for n in emu.advance(now))


def test_motion_source_gets_strictly_increasing_times_in_one_call_per_advance() -> None:
    motion = LinearMotion()
    emu = make(motion=motion)
    start(emu, MetaWearConfig(packed=True, odr_hz=200.0), 0.0)  # acc and gyro share instants
    for step in range(1, 30):
        emu.advance(step * 0.01)
    assert len(motion.calls) == 29
    joined = np.concatenate(motion.calls)
    assert np.all(np.diff(joined) > 0)
    assert joined.size == 59  # 0 … 0.29 s at 200 Hz, each instant once for acc and gyro


# --- values --------------------------------------------------------------------------------


def test_saturation_clips_to_int16_and_sets_clipped_flag() -> None:
    motion = LinearMotion(acc0=(200.0, -200.0, G), gyr0=(0.0, 0.0, 40.0))  # ~20 g, ~2292 °/s
    emu = make(motion=motion)
    config = MetaWearConfig(packed=False, acc_range_g=16, gyro_range_dps=2000)
    start(emu, config, 0.0)
    acc_note, gyr_note = emu.advance(0.0)
    assert acc_note.data == h("0304 ff7f 0080 0008")  # 32767, -32768, 2048 = 1 g
    assert gyr_note.data[2:] == h("0000 0000 ff7f")
    decoder = MetaWearDecoder(config)
    acc = decoder.decode(acc_note.data)
    assert acc is not None
    assert acc.clipped.tolist() == [True]
    np.testing.assert_allclose(acc.values, [[32767 * G / 2048, -32768 * G / 2048, G]])


def test_quantisation_rounds_to_nearest_count() -> None:
    # ±2 g: 16384 counts per g. 0.40 and 0.60 of a count round to 0 and 1.
    lsb = G / 16384
    motion = LinearMotion(acc0=(0.4 * lsb, 0.6 * lsb, -0.6 * lsb))
    emu = make(motion=motion)
    start(emu, MetaWearConfig(packed=False, acc_range_g=2), 0.0)
    acc = emu.advance(0.0)[0]
    assert acc.data == h("0304 0000 0100 ffff")


@settings(max_examples=40, deadline=None)
@given(
    chip=st.sampled_from(["bmi160", "bmi270"]),
    packed=st.booleans(),
    acc_range_g=st.sampled_from([2, 4, 8, 16]),
    gyro_range_dps=st.sampled_from([125, 250, 500, 1000, 2000]),
    odr_hz=st.sampled_from([25.0, 100.0, 800.0]),
    acc_frac=st.tuples(*[st.floats(-0.99, 0.99)] * 3),
    gyr_frac=st.tuples(*[st.floats(-0.99, 0.99)] * 3),
    t0=st.floats(0.0, 1000.0),
)
def test_emulator_bytes_decode_to_the_motion_within_one_lsb(
    chip: str,
    packed: bool,
    acc_range_g: int,
    gyro_range_dps: int,
    odr_hz: float,
    acc_frac: tuple[float, float, float],
    gyr_frac: tuple[float, float, float],
    t0: float,
) -> None:
    acc_true = np.array(acc_frac) * acc_range_g * G
    gyr_true = np.array(gyr_frac) * gyro_range_dps * DEG
    motion = LinearMotion(acc0=tuple(acc_true), gyr0=tuple(gyr_true))  # type: ignore[arg-type]
    emu = make(chip, motion)
    config = MetaWearConfig(
        chip=chip,  # type: ignore[arg-type]
        acc_range_g=acc_range_g,
        gyro_range_dps=gyro_range_dps,
        odr_hz=odr_hz,
        packed=packed,
    )
    start(emu, config, t0)
    notes = emu.advance(t0 + 0.25)
    acc, gyr = MetaWearDecoder(config).decode_batch([n.data for n in notes])
    assert acc is not None and gyr is not None
    n_expected = math.floor(0.25 * odr_hz + 1e-9) + 1
    if packed:
        n_expected -= n_expected % 3
    assert len(acc.values) == len(gyr.values) == n_expected
    acc_lsb = G / LSB_PER_G[acc_range_g]
    gyr_lsb = DEG / LSB_PER_DPS[gyro_range_dps]
    assert np.all(np.abs(acc.values - acc_true) <= acc_lsb)
    assert np.all(np.abs(gyr.values - gyr_true) <= gyr_lsb)
    assert not acc.clipped.any() and not gyr.clipped.any()


def test_decode_batch_equals_per_packet_decode_on_emulator_stream() -> None:
    motion = LinearMotion(acc_rate=(80.0, -5.0, 2.0), gyr_rate=(1.0, 0.5, -2.0))
    emu = make("bmi270", motion)
    config = MetaWearConfig(chip="bmi270", acc_range_g=4, gyro_range_dps=250, odr_hz=400.0)
    start(emu, config, 0.0)
    notes = [n for k in range(1, 60) for n in emu.advance(k * 0.01)]
    packets = [n.data for n in notes] + [b"", h("0305 00")]
    one = MetaWearDecoder(config)
    singles = [d for d in map(one.decode, packets) if d is not None]
    batch = MetaWearDecoder(config)
    acc, gyr = batch.decode_batch(packets)
    assert acc is not None and gyr is not None
    np.testing.assert_array_equal(
        acc.values, np.concatenate([d.values for d in singles if d.stream == "acc"])
    )
    np.testing.assert_array_equal(
        gyr.values, np.concatenate([d.values for d in singles if d.stream == "gyr"])
    )
    assert batch.malformed == one.malformed == 2
    # x ramps past ±4 g (39.2 m/s²) at 0.49 s: the clipped flags must survive batching too.
    assert acc.clipped.any() and not acc.clipped.all()


def test_same_inputs_give_the_same_bytes() -> None:
    def run() -> list[tuple[float, bytes]]:
        motion = LinearMotion(acc_rate=(1.0, 2.0, 3.0), gyr_rate=(0.1, 0.2, 0.3))
        emu = make(motion=motion, clock_ppm=-35.0)
        start(emu, MetaWearConfig(odr_hz=200.0), 0.123)
        return [(n.t, n.data) for k in range(50) for n in emu.advance(0.123 + k * 0.0097)]

    assert run() == run()
