"""Movella DOT wire format: config, commands, payload decoding, device-time unwrapping.

Expected bytes are laid out by hand from the BLE service specification (XD0506P Table 13, 15,
17, 18, 21 and device control Table 7) with ``struct`` or hex literals, never produced by the
encoder under test.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError
from liftguard.firmware_bridge.dot import (
    BATTERY_CHAR,
    CONTROL_CHAR,
    DEVICE_CONTROL_CHAR,
    LONG_PAYLOAD_CHAR,
    MEDIUM_PAYLOAD_CHAR,
    ORIENTATION_RESET_CONTROL_CHAR,
    SHORT_PAYLOAD_CHAR,
    DecodedPacket,
    DotAssembler,
    DotConfig,
    DotDecoder,
    TimestampUnwrapper,
    dot_uuid,
    encode_packets,
    heading_reset_command,
    heading_revert_command,
    output_rate_command,
    parse_battery,
    parse_control,
    parse_output_rate,
    start_command,
    stop_command,
)
from liftguard.firmware_bridge.dot.codec import quat_rotate, quat_to_rotvec
from liftguard.samples import FLAG_CLIPPED, FLAG_INTERPOLATED

DEG = math.pi / 180.0
WRAP = 1 << 32
# Hand tables, independent of the package's.
SIZE = {2: 36, 3: 32, 20: 34, 21: 28}
RATES = (1, 4, 10, 12, 15, 20, 30, 60)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def pad(payload: bytes) -> bytes:
    """The medium characteristic's 40-byte value: payload then zeros."""
    return payload + bytes(40 - len(payload))


def one(decoder: DotDecoder, data: bytes) -> DecodedPacket:
    pkt = decoder.decode(data)
    assert pkt is not None
    assert len(pkt) == 1
    return pkt


# --- UUIDs, config -------------------------------------------------------------------------


def test_uuids_follow_the_dot_base_uuid() -> None:
    assert dot_uuid(0x2000) == "15172000-4947-11e9-8646-d663bd873d93"
    assert CONTROL_CHAR == "15172001-4947-11e9-8646-d663bd873d93"
    assert LONG_PAYLOAD_CHAR == "15172002-4947-11e9-8646-d663bd873d93"
    assert MEDIUM_PAYLOAD_CHAR == "15172003-4947-11e9-8646-d663bd873d93"
    assert SHORT_PAYLOAD_CHAR == "15172004-4947-11e9-8646-d663bd873d93"
    assert ORIENTATION_RESET_CONTROL_CHAR == "15172006-4947-11e9-8646-d663bd873d93"
    assert DEVICE_CONTROL_CHAR == "15171002-4947-11e9-8646-d663bd873d93"
    assert BATTERY_CHAR == "15173001-4947-11e9-8646-d663bd873d93"
    with pytest.raises(ValueError):
        dot_uuid(0x10000)


def test_config_defaults_to_rate_quantities_at_60_hz_on_the_medium_characteristic() -> None:
    config = DotConfig()
    assert (config.mode, config.rate_hz, config.rate_code) == (21, 60.0, 60)
    assert config.notify_char == MEDIUM_PAYLOAD_CHAR
    assert (config.has_quat, config.has_mag, config.has_status) == (False, False, False)
    assert DotConfig(mode=2).has_status and DotConfig(mode=2).has_quat
    assert DotConfig(mode=20).has_mag
    assert [DotConfig(mode=m).payload_size for m in (2, 3, 20, 21)] == [36, 32, 34, 28]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": 1},  # High Fidelity: SDK-only
        {"mode": 5},  # defined, not supported by LiftGuard
        {"mode": 16},
        {"mode": 99},
        {"mode": "21"},
        {"mode": 21.0},
        {"mode": True},
        {"mode": None},
        {"rate_hz": 100.0},  # SensorConfig's default is not a DOT rate
        {"rate_hz": 120},  # recording only
        {"rate_hz": 0},
        {"rate_hz": 5},
        {"rate_hz": 60.5},
        {"rate_hz": "60"},
        {"rate_hz": True},
        {"rate_hz": float("nan")},
    ],
)
def test_config_rejects_bad_values_with_one_line_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        DotConfig(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) and "\n" not in str(info.value)
    assert info.value.reason == "bad_value"


@pytest.mark.parametrize("rate", RATES)
def test_config_accepts_every_streaming_rate_as_int_or_float(rate: int) -> None:
    assert DotConfig(rate_hz=rate).rate_hz == float(rate)
    assert DotConfig(rate_hz=float(rate)).rate_code == rate


def test_config_for_sensor_uses_mode_none_as_rate_quantities_and_names_the_sensor() -> None:
    sensor = SensorConfig(placement="upper", address="D4:22:CD:00:00:01", family="dot", rate_hz=30)
    assert DotConfig.for_sensor(sensor) == DotConfig(mode=21, rate_hz=30)
    default = SensorConfig(placement="upper", address="D4:22:CD:00:00:01", family="dot", mode=2)
    assert DotConfig.for_sensor(default) == DotConfig(mode=2, rate_hz=60)  # the family default
    sensor = SensorConfig(
        placement="upper", address="D4:22:CD:00:00:01", family="dot", mode=2, rate_hz=100
    )
    with pytest.raises(ConfigError) as info:
        DotConfig.for_sensor(sensor)  # not a DOT streaming rate
    assert "D4:22:CD:00:00:01" in str(info.value) and "\n" not in str(info.value)


# --- commands ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "start", "stop"), [(2, "010102", "010002"), (21, "010115", "010015")]
)
def test_start_and_stop_are_type_action_mode(mode: int, start: str, stop: str) -> None:
    config = DotConfig(mode=mode)
    assert start_command(config) == h(start)
    assert stop_command(config) == h(stop)


@pytest.mark.parametrize("rate", RATES)
def test_output_rate_command_sets_visit_bit_4_and_u16_rate_at_offset_24(rate: int) -> None:
    expected = bytes([0x10]) + bytes(23) + struct.pack("<H", rate) + bytes(6)
    assert output_rate_command(rate) == expected
    assert len(expected) == 32


def test_output_rate_command_rejects_non_streaming_rates() -> None:
    for bad in (120, 100, 0, 2):
        with pytest.raises(ConfigError):
            output_rate_command(bad)


def test_heading_commands_are_u16_little_endian() -> None:
    assert heading_reset_command() == h("0100")
    assert heading_revert_command() == h("0700")


@pytest.mark.parametrize(
    ("data", "parsed"),
    [
        (h("5700"), (87, False)),
        (h("6401"), (100, True)),
        (h("0000"), (0, False)),
        (h("6500"), None),  # 101 %
        (h("1002"), None),  # charging status 2
        (h("57"), None),
        (h("570000"), None),
        (b"", None),
    ],
)
def test_parse_battery(data: bytes, parsed: tuple[int, bool] | None) -> None:
    assert parse_battery(data) == parsed


def test_parse_output_rate_and_control() -> None:
    value = bytearray(32)
    value[24:26] = struct.pack("<H", 15)
    assert parse_output_rate(bytes(value)) == 15
    assert parse_output_rate(bytes(31)) is None
    assert parse_control(h("010114")) == (1, 1, 20)
    assert parse_control(h("0101")) is None


# --- decoding: hand-made payloads ---------------------------------------------------------


def test_rate_quantities_hex_vector_pins_the_byte_order() -> None:
    # t = 1 µs; acc = (1.0, 0, -2.0) m/s²: 1.0f = 0x3f800000, -2.0f = 0xc0000000;
    # gyr = (0, 180 °/s, 0): 180.0f = 0x43340000.
    payload = h(
        "01000000" + "0000803f" + "00000000" + "000000c0" + "00000000" + "00003443" + "00000000"
    )
    pkt = one(DotDecoder(DotConfig(mode=21)), pad(payload))
    assert pkt.t_us.tolist() == [1]
    assert pkt.acc is not None and pkt.gyr is not None
    np.testing.assert_array_equal(pkt.acc, [[1.0, 0.0, -2.0]])
    np.testing.assert_allclose(pkt.gyr, [[0.0, math.pi, 0.0]], rtol=1e-15)
    assert pkt.quat is None and pkt.mag is None and pkt.status is None


def test_rate_quantities_decodes_acc_in_ms2_and_gyr_from_degrees_to_radians() -> None:
    payload = struct.pack("<I3f3f", 0xFEDCBA98, 1.5, -2.25, 9.75, 90.0, -45.0, 720.0)
    pkt = one(DotDecoder(DotConfig(mode=21)), pad(payload))
    assert pkt.t_us.dtype == np.uint32 and pkt.t_us.tolist() == [0xFEDCBA98]
    assert pkt.acc is not None and pkt.gyr is not None
    np.testing.assert_array_equal(pkt.acc, [[1.5, -2.25, 9.75]])
    np.testing.assert_allclose(pkt.gyr, [[math.pi / 2, -math.pi / 4, 4 * math.pi]], rtol=1e-15)
    assert not pkt.clipped.any()


def test_rate_quantities_with_mag_decodes_fixed_point_4_12_in_arbitrary_units() -> None:
    payload = struct.pack("<I3f3f3h", 7, 0.0, 0.0, 9.8125, 0.0, 0.0, 0.0, 4096, -2048, 1)
    pkt = one(DotDecoder(DotConfig(mode=20)), pad(payload))
    assert pkt.mag is not None and pkt.acc is not None
    np.testing.assert_array_equal(pkt.mag, [[1.0, -0.5, 1 / 4096]])
    np.testing.assert_array_equal(pkt.acc, [[0.0, 0.0, 9.8125]])


def test_complete_quaternion_decodes_wxyz_and_free_acceleration() -> None:
    payload = struct.pack("<I4f3f", 123456, 0.5, 0.5, -0.5, 0.5, 0.25, -1.0, 3.5)
    assert len(payload) == 32
    pkt = one(DotDecoder(DotConfig(mode=3)), pad(payload))
    assert pkt.quat is not None and pkt.free_acc is not None
    np.testing.assert_array_equal(pkt.quat, [[0.5, 0.5, -0.5, 0.5]])
    np.testing.assert_array_equal(pkt.free_acc, [[0.25, -1.0, 3.5]])
    assert pkt.acc is None and pkt.gyr is None and pkt.status is None


@pytest.mark.parametrize(
    ("status", "clip_acc", "clip_gyr", "clipped"),
    [
        (0x0000, 0, 0, False),
        (0x0012, 0, 0, True),  # acc y + gyr y out of range (the spec's own example)
        (0x0001, 0, 0, True),
        (0x0020, 0, 0, True),
        (0x0000, 3, 0, True),
        (0x0000, 0, 1, True),
        (0x01C0, 0, 0, False),  # magnetometer clipping: not acc/gyr
        (0x0200, 0, 0, False),  # FL_MagIsNew
    ],
)
def test_extended_quaternion_decodes_status_and_clip_counters(
    status: int, clip_acc: int, clip_gyr: int, clipped: bool
) -> None:
    payload = struct.pack(
        "<I4f3fHBB", 99, 1.0, 0.0, 0.0, 0.0, 0.0, 0.5, -0.5, status, clip_acc, clip_gyr
    )
    assert len(payload) == 36
    pkt = one(DotDecoder(DotConfig(mode=2)), pad(payload))
    assert pkt.status is not None and pkt.clip_acc is not None and pkt.clip_gyr is not None
    assert (int(pkt.status[0]), int(pkt.clip_acc[0]), int(pkt.clip_gyr[0])) == (
        status,
        clip_acc,
        clip_gyr,
    )
    assert pkt.clipped.tolist() == [clipped]
    assert pkt.free_acc is not None
    np.testing.assert_array_equal(pkt.free_acc, [[0.0, 0.5, -0.5]])


@pytest.mark.parametrize("mode", [2, 3, 20, 21])
def test_unpadded_payload_is_accepted_too(mode: int) -> None:
    payload = struct.pack("<I", 5) + struct.pack("<4f", 1.0, 0.0, 0.0, 0.0) + bytes(SIZE[mode] - 20)
    decoder = DotDecoder(DotConfig(mode=mode))
    assert decoder.decode(payload) is not None
    assert decoder.decode(pad(payload)) is not None
    assert decoder.malformed == 0


# --- decoding: bad input -------------------------------------------------------------------


def _rq(
    t: int = 1, acc: tuple[float, ...] = (0.0, 0.0, 9.8), gyr: tuple[float, ...] = (0, 0, 0)
) -> bytes:
    return struct.pack("<I3f3f", t, *acc, *gyr)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x01",
        _rq()[:27],  # truncated payload
        _rq() + b"\x00",  # 29 bytes: neither payload nor padded value
        pad(_rq())[:39],
        pad(_rq()) + b"\x00",  # 41
        pad(_rq()) + bytes(23),  # 63: a long payload
        _rq()[:20],  # a short payload
        pad(_rq())[:-1] + b"\x01",  # non-zero padding
        _rq(acc=(math.nan, 0.0, 0.0)),
        _rq(gyr=(0.0, math.inf, 0.0)),
        pad(_rq(acc=(0.0, -math.inf, 0.0))),
        pad(struct.pack("<I3f3f3h", 1, 0.0, 0.0, 9.8, 0.0, 0.0, 0.0, 10, 20, 30)),  # mode 20
    ],
)
def test_malformed_rate_quantities_are_counted_not_raised(data: bytes) -> None:
    decoder = DotDecoder(DotConfig(mode=21))
    assert decoder.decode(data) is None
    assert decoder.malformed == 1


@pytest.mark.parametrize(
    "quat",
    [(0.0, 0.0, 0.0, 0.0), (2.0, 0.0, 0.0, 0.0), (0.9, 0.0, 0.0, 0.0), (math.nan, 0.0, 0.0, 1.0)],
)
def test_non_unit_or_non_finite_quaternions_are_malformed(quat: tuple[float, ...]) -> None:
    decoder = DotDecoder(DotConfig(mode=3))
    assert decoder.decode(pad(struct.pack("<I4f3f", 1, *quat, 0.0, 0.0, 0.0))) is None
    assert decoder.malformed == 1


def test_another_modes_bytes_are_rejected_by_the_quaternion_decoder() -> None:
    # A sensor streaming rate quantities while LiftGuard expects Complete (Quaternion): the
    # "quaternion" is (acc x, y, z, gyr x) with norm ~9.8.
    decoder = DotDecoder(DotConfig(mode=3))
    assert decoder.decode(pad(_rq(acc=(0.1, 0.2, 9.8)))) is None
    assert decoder.malformed == 1


def test_decode_survives_non_bytes() -> None:
    decoder = DotDecoder(DotConfig())
    assert decoder.decode("not bytes") is None  # type: ignore[arg-type]
    assert decoder.decode(None) is None  # type: ignore[arg-type]
    assert decoder.decode(bytearray(pad(_rq()))) is not None
    assert decoder.decode(memoryview(pad(_rq()))) is not None  # type: ignore[arg-type]
    assert decoder.malformed == 2


@settings(max_examples=400, deadline=None)
@given(
    mode=st.sampled_from([2, 3, 20, 21]),
    data=st.one_of(
        st.binary(max_size=64),
        st.binary(min_size=28, max_size=40),
        st.binary(min_size=28, max_size=36).map(pad),
    ),
)
def test_random_bytes_never_raise_and_every_skip_is_counted(mode: int, data: bytes) -> None:
    decoder = DotDecoder(DotConfig(mode=mode))
    out = decoder.decode(data)
    if out is None:
        assert decoder.malformed == 1
    else:
        assert decoder.malformed == 0
        assert len(data) in (SIZE[mode], 40)
        assert len(out) == 1


# --- encoder and batch decoding ------------------------------------------------------------


def test_encoder_output_matches_the_hand_layout() -> None:
    frames = encode_packets(
        2,
        [WRAP + 5],  # taken modulo 2³²
        quat=[[0.5, -0.5, 0.5, -0.5]],
        free_acc=[[1.0, 2.0, -3.0]],
        status=[0x0009],
        clip_acc=[300],  # saturates at 255
        clip_gyr=[2],
    )
    expected = struct.pack("<I4f3fHBB", 5, 0.5, -0.5, 0.5, -0.5, 1.0, 2.0, -3.0, 9, 255, 2)
    assert frames == [pad(expected)]
    [bare] = encode_packets(
        21, [1], acc=[[1.0, 0.0, -2.0]], gyr=[[0.0, math.pi, 0.0]], padded=False
    )
    assert bare == struct.pack("<I3f3f", 1, 1.0, 0.0, -2.0, 0.0, 180.0, 0.0)


def test_encoder_rejects_missing_fields_bad_shapes_and_modes() -> None:
    with pytest.raises(ValueError):
        encode_packets(21, [1], acc=[[0.0, 0.0, 9.8]])  # no gyr
    with pytest.raises(ValueError):
        encode_packets(21, [1, 2], acc=np.zeros((1, 3)), gyr=np.zeros((2, 3)))
    with pytest.raises(ValueError):
        encode_packets(5, [1])


f32 = st.floats(-1e4, 1e4, allow_nan=False, width=32)
vec3 = st.tuples(f32, f32, f32)


@st.composite
def samples(draw: st.DrawFn, mode: int) -> dict[str, np.ndarray]:
    n = draw(st.integers(0, 5))
    out: dict[str, np.ndarray] = {
        "t_us": np.array(draw(st.lists(st.integers(0, WRAP - 1), min_size=n, max_size=n)))
    }
    if mode in (2, 3):
        quats = draw(st.lists(st.tuples(*[st.floats(-1, 1)] * 4), min_size=n, max_size=n))
        q = np.array(quats, dtype=np.float64).reshape(n, 4)
        q[np.linalg.norm(q, axis=1) < 0.1] = [1.0, 0.0, 0.0, 0.0]
        out["quat"] = q / np.linalg.norm(q, axis=1, keepdims=True)
        out["free_acc"] = np.array(draw(st.lists(vec3, min_size=n, max_size=n))).reshape(n, 3)
    else:
        out["acc"] = np.array(draw(st.lists(vec3, min_size=n, max_size=n))).reshape(n, 3)
        out["gyr"] = np.array(draw(st.lists(vec3, min_size=n, max_size=n))).reshape(n, 3)
    if mode == 20:
        mags = st.lists(st.tuples(*[st.integers(-32768, 32767)] * 3), min_size=n, max_size=n)
        out["mag"] = np.array(draw(mags)).reshape(n, 3) / 4096.0
    if mode == 2:
        out["status"] = np.array(draw(st.lists(st.integers(0, 0xFFFF), min_size=n, max_size=n)))
        out["clip_acc"] = np.array(draw(st.lists(st.integers(0, 255), min_size=n, max_size=n)))
        out["clip_gyr"] = np.array(draw(st.lists(st.integers(0, 255), min_size=n, max_size=n)))
    return out


@settings(max_examples=150, deadline=None)
@given(data=st.data(), mode=st.sampled_from([2, 3, 20, 21]))
def test_encode_then_decode_gives_the_values_in_float32(data: st.DataObject, mode: int) -> None:
    fields = data.draw(samples(mode))
    packets = encode_packets(mode, **fields)
    assert all(len(p) == 40 for p in packets)
    decoder = DotDecoder(DotConfig(mode=mode))
    decoded = [decoder.decode(p) for p in packets]
    assert decoder.malformed == 0
    for i, pkt in enumerate(decoded):
        assert pkt is not None
        assert int(pkt.t_us[0]) == int(fields["t_us"][i])
        for name in ("quat", "free_acc", "acc"):
            if name in fields:
                expected = fields[name][i].astype(np.float32).astype(np.float64)
                np.testing.assert_array_equal(getattr(pkt, name)[0], expected)
        if "gyr" in fields:
            np.testing.assert_allclose(pkt.gyr[0], fields["gyr"][i], rtol=2e-7, atol=1e-30)  # type: ignore[index]
        if "mag" in fields:
            np.testing.assert_array_equal(pkt.mag[0], fields["mag"][i])  # type: ignore[index]
        if "status" in fields:
            assert int(pkt.status[0]) == fields["status"][i]  # type: ignore[index]
            assert int(pkt.clip_acc[0]) == fields["clip_acc"][i]  # type: ignore[index]


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    mode=st.sampled_from([2, 3, 20, 21]),
    junk=st.lists(st.binary(max_size=44), max_size=4),
    positions=st.lists(st.integers(0, 10), max_size=4),
)
def test_decode_batch_equals_per_packet_decode(
    data: st.DataObject, mode: int, junk: list[bytes], positions: list[int]
) -> None:
    packets = encode_packets(mode, **data.draw(samples(mode)))
    for blob, at in zip(junk, positions, strict=False):
        packets.insert(min(at, len(packets)), blob)
    single = DotDecoder(DotConfig(mode=mode))
    rows = [p for p in map(single.decode, packets) if p is not None]
    batch = DotDecoder(DotConfig(mode=mode))
    out = batch.decode_batch(packets)
    assert batch.malformed == single.malformed
    if not rows:
        assert out is None
        return
    assert out is not None and len(out) == len(rows)
    for name in ("t_us", "quat", "free_acc", "acc", "gyr", "mag", "status", "clip_acc", "clip_gyr"):
        parts = [getattr(r, name) for r in rows]
        if parts[0] is None:
            assert getattr(out, name) is None
        else:
            np.testing.assert_array_equal(getattr(out, name), np.concatenate(parts))


def test_decode_batch_empty_all_bad_and_non_bytes() -> None:
    decoder = DotDecoder(DotConfig())
    assert decoder.decode_batch([]) is None
    # Empty, 40 bytes with non-zero padding, 41 bytes, 3 bytes.
    assert decoder.decode_batch([b"", bytes(39) + b"\x01", bytes(41), b"abc"]) is None
    assert decoder.malformed == 4
    good = pad(_rq(t=9))
    out = decoder.decode_batch([good, "junk", good])  # type: ignore[list-item]
    assert out is not None and out.t_us.tolist() == [9, 9]
    assert decoder.malformed == 5


# --- device time ---------------------------------------------------------------------------


def test_first_timestamp_maps_to_its_own_seconds_and_the_wrap_is_bridged() -> None:
    clock = TimestampUnwrapper()
    assert clock.unwrap(WRAP - 10) == (WRAP - 10) / 1e6
    assert clock.unwrap(5) == (WRAP + 5) / 1e6
    assert clock.unwrap(16672) == (WRAP + 16672) / 1e6
    assert (clock.resets, clock.reordered) == (0, 0)


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, WRAP - 1),
    steps=st.lists(st.integers(0, (1 << 31) - 1), min_size=1, max_size=40),
)
def test_unwrapped_time_equals_true_time_across_any_number_of_wraps(
    start: int, steps: list[int]
) -> None:
    true_us = start + np.cumsum([0, *steps])
    clock = TimestampUnwrapper()
    out = [clock.unwrap(int(t) % WRAP) for t in true_us]
    assert out == [int(t) / 1e6 for t in true_us]
    assert clock.resets == 0


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, WRAP - 1),
    steps=st.lists(st.integers(1, 200_000), min_size=2, max_size=40),
    swaps=st.lists(st.integers(0, 38), max_size=10),
)
def test_late_packets_get_their_true_time_without_moving_the_head(
    start: int, steps: list[int], swaps: list[int]
) -> None:
    true_us = [start + int(s) for s in np.cumsum([0, *steps])]
    order = list(range(len(true_us)))
    for i in swaps:
        if i + 1 < len(order):
            order[i], order[i + 1] = order[i + 1], order[i]
    clock = TimestampUnwrapper(max_reorder_s=1.0)
    first = true_us[order[0]]
    out = [clock.unwrap(true_us[k] % WRAP) for k in order]
    expected = [(first % WRAP + (true_us[k] - first)) / 1e6 for k in order]
    assert out == pytest.approx(expected, abs=1e-9, rel=0)
    late = sum(1 for i, k in enumerate(order) if any(true_us[j] > true_us[k] for j in order[:i]))
    assert clock.reordered == late
    assert clock.resets == 0


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(0, WRAP - 1),
    before=st.lists(st.integers(1, 100_000), min_size=1, max_size=20),
    after=st.lists(st.integers(1, 100_000), min_size=1, max_size=20),
    back=st.integers(1_000_001, 1 << 31),
)
def test_a_reboot_keeps_time_increasing_and_steps_exact_on_both_sides(
    start: int, before: list[int], after: list[int], back: int
) -> None:
    # Without host time only a backward step of more than max_reorder_s (1 s) is recognisable.
    a = [start + int(s) for s in np.cumsum([0, *before])]
    restart = a[-1] - back
    b = [restart + int(s) for s in np.cumsum([0, *after])]
    clock = TimestampUnwrapper()
    out = np.array([clock.unwrap(t % WRAP) for t in a + b])
    assert clock.resets == 1
    assert np.all(np.diff(out) > 0)
    np.testing.assert_allclose(np.diff(out[: len(a)]), np.diff(a) / 1e6, atol=1e-9)
    np.testing.assert_allclose(np.diff(out[len(a) :]), np.diff(b) / 1e6, atol=1e-9)


def test_a_reboot_to_zero_without_host_time_continues_one_microsecond_later() -> None:
    clock = TimestampUnwrapper()
    clock.unwrap(1_800_000_000)
    assert clock.unwrap(5_000) == (1_800_000_000 + 1) / 1e6
    assert clock.unwrap(21_667) == (1_800_000_000 + 1 + 16_667) / 1e6
    assert clock.resets == 1


def test_host_time_resolves_gaps_longer_than_half_a_wrap() -> None:
    clock = TimestampUnwrapper()
    clock.unwrap(1_000, host_time=10.0)
    gap_us = 40 * 60 * 1_000_000  # 40 min without packets: 2.4e9 µs > 2³¹
    assert clock.unwrap((1_000 + gap_us) % WRAP, host_time=10.0 + 2400.05) == (1_000 + gap_us) / 1e6
    assert clock.resets == 0
    # Without host time the same step is read as a backward jump: a reset.
    blind = TimestampUnwrapper()
    blind.unwrap(1_000)
    blind.unwrap((1_000 + gap_us) % WRAP)
    assert blind.resets == 1


def test_host_time_spots_a_reboot_that_lands_ahead_of_the_old_counter() -> None:
    clock = TimestampUnwrapper()
    clock.unwrap(200_000, host_time=5.0)  # 0.2 s after power-on
    # 50 ms later by the host clock the counter reads 3 s: it restarted, 3 s ago.
    t = clock.unwrap(3_000_000, host_time=5.05)
    assert clock.resets == 1
    assert t == pytest.approx(0.2 + 0.05)
    assert clock.unwrap(3_016_667, host_time=5.07) == pytest.approx(0.25 + 0.016667)


@settings(max_examples=200, deadline=None)
@given(
    raw=st.lists(st.integers(0, WRAP - 1), min_size=1, max_size=30),
    host_steps=st.one_of(st.none(), st.lists(st.floats(0.0, 5000.0), min_size=30, max_size=30)),
)
def test_unwrap_many_equals_the_scalar_rule(raw: list[int], host_steps: list[float] | None) -> None:
    host = None if host_steps is None else np.cumsum(host_steps)[: len(raw)]
    scalar = TimestampUnwrapper()
    expected = [
        scalar.unwrap(r, None if host is None else float(host[i])) for i, r in enumerate(raw)
    ]
    vector = TimestampUnwrapper()
    out = vector.unwrap_many(raw, host)
    np.testing.assert_array_equal(out, expected)
    assert (vector.resets, vector.reordered) == (scalar.resets, scalar.reordered)


def test_unwrap_many_fast_path_on_a_regular_stream_with_host_times() -> None:
    t_us = (WRAP - 50_000 + np.arange(10) * 16_667) % WRAP
    host = 100.0 + np.arange(10) / 60
    clock = TimestampUnwrapper()
    out = clock.unwrap_many(t_us, host)
    np.testing.assert_allclose(np.diff(out), 0.016667, rtol=0, atol=1e-12)
    assert out[0] == (WRAP - 50_000) / 1e6
    assert clock.unwrap(int(t_us[-1] + 16_667) % WRAP, 200.0) > out[-1]


# --- quaternion helpers --------------------------------------------------------------------


def test_quat_rotate_and_rotvec_by_hand() -> None:
    s = math.sqrt(0.5)
    about_z = np.array([[s, 0.0, 0.0, s]])  # +90° about z
    np.testing.assert_allclose(
        quat_rotate(about_z, np.array([[1.0, 0.0, 0.0]])), [[0, 1, 0]], atol=1e-15
    )
    np.testing.assert_allclose(
        quat_rotate(about_z, np.array([[1.0, 0.0, 0.0]]), inverse=True), [[0, -1, 0]], atol=1e-15
    )
    np.testing.assert_allclose(quat_to_rotvec(about_z), [[0, 0, math.pi / 2]], rtol=1e-15)
    np.testing.assert_allclose(quat_to_rotvec(-about_z), [[0, 0, math.pi / 2]], rtol=1e-15)
    np.testing.assert_array_equal(quat_to_rotvec(np.array([[1.0, 0, 0, 0]])), [[0, 0, 0]])


# --- assembler -----------------------------------------------------------------------------


def _quat_packet(
    t_us: int, quat: tuple[float, ...], free_acc: tuple[float, ...] = (0, 0, 0)
) -> bytes:
    return pad(struct.pack("<I4f3f", t_us, *quat, *free_acc))


def test_assembler_turns_a_rate_quantities_packet_into_one_sample_with_device_time() -> None:
    asm = DotAssembler(DotConfig(mode=21, rate_hz=60))
    assert asm.rate_hz == 60.0
    out = asm.feed(12.5, pad(struct.pack("<I3f3f", 2_500_000, 1.0, 2.0, 9.5, 0.0, 0.0, 90.0)))
    assert out is not None and len(out) == 1
    assert out.host_time == 12.5
    assert out.t_device is not None and out.t_device.tolist() == [2.5]
    np.testing.assert_array_equal(out.acc, [[1.0, 2.0, 9.5]])
    np.testing.assert_allclose(out.gyr, [[0.0, 0.0, math.pi / 2]], rtol=1e-15)
    assert out.flags.tolist() == [0] and out.quat is None


def test_assembler_drops_late_and_duplicate_packets_and_counts_malformed_ones() -> None:
    asm = DotAssembler(DotConfig(mode=21, rate_hz=60))
    packet = lambda t: pad(_rq(t=t))  # noqa: E731
    assert asm.feed(0.0, packet(1_000_000)) is not None
    assert asm.feed(0.0, packet(1_033_333)) is not None
    assert asm.feed(0.0, packet(1_016_667)) is None  # late
    assert asm.feed(0.0, packet(1_033_333)) is None  # duplicate
    assert asm.feed(0.0, b"\x00" * 7) is None
    assert (asm.out_of_order, asm.malformed) == (2, 1)
    out = asm.feed(0.0, packet(1_050_000))
    assert out is not None and out.t_device is not None and out.t_device.tolist() == [1.05]


def test_assembler_reconstructs_sensor_frame_acc_from_quaternion_and_free_acc() -> None:
    s = math.sqrt(0.5)
    asm = DotAssembler(DotConfig(mode=3, rate_hz=60))
    # +90° about x: the sensor's y axis points up, so gravity reads on y.
    out = asm.feed(0.0, _quat_packet(0, (s, s, 0.0, 0.0), (0.0, 0.0, 1.0)))
    assert out is not None and out.quat is not None
    np.testing.assert_allclose(out.acc, [[0.0, 9.81 + 1.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(out.quat, [[s, s, 0.0, 0.0]], atol=1e-7)
    assert out.flags.tolist() == [FLAG_INTERPOLATED]  # first sample: no rate yet
    np.testing.assert_array_equal(out.gyr, [[0.0, 0.0, 0.0]])


def test_assembler_derives_body_rate_from_consecutive_quaternions_across_a_sign_flip() -> None:
    asm = DotAssembler(DotConfig(mode=3, rate_hz=60))

    def about_z(angle: float) -> tuple[float, float, float, float]:
        return (math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2))

    asm.feed(0.0, _quat_packet(0, about_z(0.0)))
    out = asm.feed(0.0, _quat_packet(20_000, about_z(0.02)))  # 1 rad/s for 20 ms
    assert out is not None and out.flags.tolist() == [0]
    np.testing.assert_allclose(out.gyr, [[0.0, 0.0, 1.0]], atol=1e-5)
    flipped = tuple(-c for c in about_z(0.04))  # the same rotation, other hemisphere
    out = asm.feed(0.0, _quat_packet(40_000, flipped))
    assert out is not None
    np.testing.assert_allclose(out.gyr, [[0.0, 0.0, 1.0]], atol=1e-5)
    # A gap of more than four periods: no rate across it.
    out = asm.feed(0.0, _quat_packet(140_000, about_z(0.14)))
    assert out is not None and out.flags.tolist() == [FLAG_INTERPOLATED]


def test_assembler_flags_extended_mode_clipping() -> None:
    asm = DotAssembler(DotConfig(mode=2, rate_hz=60))
    packet = struct.pack("<I4f3fHBB", 1, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 2, 0)
    out = asm.feed(0.0, pad(packet))
    assert out is not None and out.flags[0] & FLAG_CLIPPED


def test_assembler_for_sensor_reads_mode_and_rate() -> None:
    roster = SensorConfig(
        placement="sacrum", address="D4:22:CD:00:00:02", family="dot", rate_hz=20, mode=20
    )
    asm = DotAssembler.for_sensor(roster)
    assert (asm.config.mode, asm.rate_hz) == (20, 20.0)
