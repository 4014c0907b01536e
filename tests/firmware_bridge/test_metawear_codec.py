"""MetaWear wire format: commands, decoding, module discovery.

Expected bytes and values are worked out by hand from the protocol facts (REFERENCE §3 and the
MbientLab SDK), never produced by the encoder under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge.metawear import (
    COMMAND_CHAR,
    DIS_SERVICE,
    FIRMWARE_CHAR,
    METAWEAR_SERVICE,
    MODEL_CHAR,
    NOTIFY_CHAR,
    MetaWearConfig,
    MetaWearDecoder,
    chip_from_module_info,
    configure_commands,
    encode_samples,
    module_info_request,
    parse_module_info,
    start_commands,
    stop_commands,
)

G = 9.80665
DEG = math.pi / 180.0
# Hand tables, independent of the package's: LSB per g and LSB per °/s.
LSB_PER_G = {2: 16384.0, 4: 8192.0, 8: 4096.0, 16: 2048.0}
LSB_PER_DPS = {2000: 16.4, 1000: 32.8, 500: 65.6, 250: 131.2, 125: 262.4}


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- constants and config ------------------------------------------------------------------


def test_uuids_are_full_lower_case_128_bit_strings() -> None:
    assert METAWEAR_SERVICE == "326a9000-85cb-9195-d9dd-464cfbbae75a"
    assert COMMAND_CHAR == "326a9001-85cb-9195-d9dd-464cfbbae75a"
    assert NOTIFY_CHAR == "326a9006-85cb-9195-d9dd-464cfbbae75a"
    assert DIS_SERVICE == "0000180a-0000-1000-8000-00805f9b34fb"
    assert FIRMWARE_CHAR == "00002a26-0000-1000-8000-00805f9b34fb"
    assert MODEL_CHAR == "00002a24-0000-1000-8000-00805f9b34fb"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"chip": "bmi088"},
        {"chip": ["bmi160"]},
        {"acc_range_g": 3},
        {"acc_range_g": True},
        {"acc_range_g": [16]},
        {"gyro_range_dps": 300},
        {"odr_hz": 1600.0},
        {"odr_hz": 12.5},
        {"odr_hz": 150.0},
        {"odr_hz": "fast"},
        {"odr_hz": float("nan")},
        {"packed": 1},
    ],
)
def test_config_rejects_bad_values_with_one_line_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        MetaWearConfig(**kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    assert str(info.value)


def test_config_defaults_are_bmi160_16g_2000dps_100hz_packed() -> None:
    config = MetaWearConfig()
    assert (config.chip, config.acc_range_g, config.gyro_range_dps) == ("bmi160", 16, 2000)
    assert (config.odr_hz, config.packed) == (100.0, True)


# --- commands ------------------------------------------------------------------------------


def test_configure_commands_default_bmi160() -> None:
    assert configure_commands(MetaWearConfig()) == [h("03 03 28 0c"), h("13 03 28 00")]


def test_configure_commands_default_bmi270_sets_performance_bit() -> None:
    assert configure_commands(MetaWearConfig(chip="bmi270")) == [h("03 03 a8 03"), h("13 03 28 00")]


@pytest.mark.parametrize(
    ("chip", "range_g", "expected"),
    [
        ("bmi160", 2, "03 03 28 03"),
        ("bmi160", 4, "03 03 28 05"),
        ("bmi160", 8, "03 03 28 08"),
        ("bmi160", 16, "03 03 28 0c"),
        ("bmi270", 2, "03 03 a8 00"),
        ("bmi270", 4, "03 03 a8 01"),
        ("bmi270", 8, "03 03 a8 02"),
        ("bmi270", 16, "03 03 a8 03"),
    ],
)
def test_acc_config_range_byte_per_chip(chip: str, range_g: int, expected: str) -> None:
    config = MetaWearConfig(chip=chip, acc_range_g=range_g)  # type: ignore[arg-type]
    assert configure_commands(config)[0] == h(expected)


@pytest.mark.parametrize(
    ("dps", "expected"),
    [
        (2000, "13 03 28 00"),
        (1000, "13 03 28 01"),
        (500, "13 03 28 02"),
        (250, "13 03 28 03"),
        (125, "13 03 28 04"),
    ],
)
@pytest.mark.parametrize("chip", ["bmi160", "bmi270"])
def test_gyro_config_range_byte(chip: str, dps: int, expected: str) -> None:
    config = MetaWearConfig(chip=chip, gyro_range_dps=dps)  # type: ignore[arg-type]
    assert configure_commands(config)[1] == h(expected)


@pytest.mark.parametrize(
    ("odr", "bmi160_acc", "bmi270_acc", "gyro"),
    [
        (25.0, "03 03 26 0c", "03 03 a6 03", "13 03 26 00"),
        (50.0, "03 03 27 0c", "03 03 a7 03", "13 03 27 00"),
        (100.0, "03 03 28 0c", "03 03 a8 03", "13 03 28 00"),
        (200.0, "03 03 29 0c", "03 03 a9 03", "13 03 29 00"),
        (400.0, "03 03 2a 0c", "03 03 aa 03", "13 03 2a 00"),
        (800.0, "03 03 2b 0c", "03 03 ab 03", "13 03 2b 00"),
    ],
)
def test_odr_code_doubles_per_step_from_8_at_100hz(
    odr: float, bmi160_acc: str, bmi270_acc: str, gyro: str
) -> None:
    assert configure_commands(MetaWearConfig(odr_hz=odr)) == [h(bmi160_acc), h(gyro)]
    assert configure_commands(MetaWearConfig(chip="bmi270", odr_hz=odr)) == [
        h(bmi270_acc),
        h(gyro),
    ]


@pytest.mark.parametrize(
    ("chip", "packed", "acc_reg", "gyr_reg"),
    [
        ("bmi160", True, "1c", "07"),
        ("bmi160", False, "04", "05"),
        ("bmi270", True, "05", "05"),
        ("bmi270", False, "04", "04"),
    ],
)
def test_start_and_stop_commands_per_chip_and_mode(
    chip: str, packed: bool, acc_reg: str, gyr_reg: str
) -> None:
    config = MetaWearConfig(chip=chip, packed=packed)  # type: ignore[arg-type]
    assert start_commands(config) == [
        h(f"03{acc_reg}01"),
        h(f"13{gyr_reg}01"),
        h("03 02 01 00"),
        h("13 02 01 00"),
        h("03 01 01"),
        h("13 01 01"),
    ]
    assert stop_commands(config) == [
        h("03 01 00"),
        h("13 01 00"),
        h("03 02 00 01"),
        h("13 02 00 01"),
        h(f"03{acc_reg}00"),
        h(f"13{gyr_reg}00"),
    ]


# --- decoding: hand-made packets -----------------------------------------------------------


@pytest.mark.parametrize(("range_g", "g_per_2048"), [(2, 0.125), (4, 0.25), (8, 0.5), (16, 1.0)])
@pytest.mark.parametrize("chip", ["bmi160", "bmi270"])
def test_single_acc_decodes_at_every_range(chip: str, range_g: int, g_per_2048: float) -> None:
    # x = 0x0800 = 2048, y = 0xf800 = -2048, z = 0x0001 = 1
    packet = h("0304 0008 00f8 0100")
    decoder = MetaWearDecoder(MetaWearConfig(chip=chip, acc_range_g=range_g))  # type: ignore[arg-type]
    out = decoder.decode(packet)
    assert out is not None
    assert out.stream == "acc"
    assert out.values.shape == (1, 3)
    assert out.values.dtype == np.float64
    np.testing.assert_allclose(
        out.values[0], [g_per_2048 * G, -g_per_2048 * G, g_per_2048 / 2048 * G], rtol=1e-12
    )
    assert not out.clipped.any()
    assert decoder.malformed == 0


def test_single_acc_one_g_at_2g_range() -> None:
    out = MetaWearDecoder(MetaWearConfig(acc_range_g=2)).decode(h("0304 0040 00c0 0000"))
    assert out is not None
    np.testing.assert_allclose(out.values, [[9.80665, -9.80665, 0.0]], rtol=1e-12)


@pytest.mark.parametrize(
    ("dps", "expected_dps"), [(2000, 20.0), (1000, 10.0), (500, 5.0), (250, 2.5), (125, 1.25)]
)
@pytest.mark.parametrize(("chip", "register"), [("bmi160", "05"), ("bmi270", "04")])
def test_single_gyro_decodes_at_every_range(
    chip: str, register: str, dps: int, expected_dps: float
) -> None:
    # x = 0x0148 = 328 counts, y = 0xfeb8 = -328, z = 0
    packet = h("13" + register + "4801 b8fe 0000")
    config = MetaWearConfig(chip=chip, gyro_range_dps=dps)  # type: ignore[arg-type]
    out = MetaWearDecoder(config).decode(packet)
    assert out is not None
    assert out.stream == "gyr"
    np.testing.assert_allclose(
        out.values, [[expected_dps * DEG, -expected_dps * DEG, 0.0]], rtol=1e-12
    )


def test_packed_bmi270_gyro_decodes_three_samples() -> None:
    packet = h("1305 480100000000 000048010000 00000000b8fe")
    out = MetaWearDecoder(MetaWearConfig(chip="bmi270", gyro_range_dps=2000)).decode(packet)
    assert out is not None
    assert out.stream == "gyr"
    expected = np.array([[20.0, 0, 0], [0, 20.0, 0], [0, 0, -20.0]]) * DEG
    np.testing.assert_allclose(out.values, expected, rtol=1e-12)
    assert out.clipped.shape == (3,)


def test_packed_bmi160_acc_decodes_three_samples_in_order() -> None:
    # ±16 g: 2048 counts per g. (1 g, 0, 0), (0, -1 g, 0), (0, 0, 2 g = 0x1000)
    packet = h("031c 000800000000 000000f80000 000000000010")
    out = MetaWearDecoder(MetaWearConfig(chip="bmi160", acc_range_g=16)).decode(packet)
    assert out is not None
    assert out.stream == "acc"
    np.testing.assert_allclose(out.values, [[G, 0, 0], [0, -G, 0], [0, 0, 2 * G]], rtol=1e-12)


def test_packed_bmi270_acc_decodes_three_samples() -> None:
    # ±4 g: 8192 counts per g. x of each sample = 0x2000 (1 g), 0x1000 (0.5 g), 0xe000 (-1 g)
    packet = h("0305 002000000000 001000000000 00e000000000")
    out = MetaWearDecoder(MetaWearConfig(chip="bmi270", acc_range_g=4)).decode(packet)
    assert out is not None
    np.testing.assert_allclose(out.values[:, 0], [G, 0.5 * G, -G], rtol=1e-12)


def test_packed_bmi160_gyro_decodes_three_samples() -> None:
    # ±125 °/s: 262.4 counts per °/s; 0x0148 = 328 counts = 1.25 °/s on z of the middle sample
    packet = h("1307 000000000000 000000004801 000000000000")
    out = MetaWearDecoder(MetaWearConfig(gyro_range_dps=125)).decode(packet)
    assert out is not None
    np.testing.assert_allclose(out.values, [[0, 0, 0], [0, 0, 1.25 * DEG], [0, 0, 0]], atol=1e-15)


def test_bmi160_gyro_single_register_0x05_is_bmi270_packed_register() -> None:
    single = h("1305 4801 0000 0000")
    bmi160 = MetaWearDecoder(MetaWearConfig(chip="bmi160"))
    bmi270 = MetaWearDecoder(MetaWearConfig(chip="bmi270"))
    out = bmi160.decode(single)
    assert out is not None and out.values.shape == (1, 3)
    # On a BMI270 board 13 05 is the packed register: 8 bytes is a truncated packet.
    assert bmi270.decode(single) is None
    assert bmi270.malformed == 1
    # And a 20-byte 13 05 is a packed triple on BMI270 but too long for BMI160's single register.
    packed = single + bytes(12)
    out = bmi270.decode(packed)
    assert out is not None and out.values.shape == (3, 3)
    assert bmi160.decode(packed) is None
    assert bmi160.malformed == 1


def test_decoder_accepts_single_packets_when_configured_packed() -> None:
    decoder = MetaWearDecoder(MetaWearConfig(packed=True))
    assert decoder.decode(h("0304 0008 0000 0000")) is not None


@pytest.mark.parametrize(
    ("payload", "clipped"),
    [
        ("ff7f 0000 0000", True),  # +32767
        ("0000 0080 0000", True),  # -32768
        ("0000 0000 fe7f", False),  # +32766
        ("0000 0000 0180", False),  # -32767
    ],
)
def test_full_scale_counts_set_clipped(payload: str, clipped: bool) -> None:
    out = MetaWearDecoder(MetaWearConfig()).decode(h("0304" + payload))
    assert out is not None
    assert out.clipped.tolist() == [clipped]


def test_clipped_flags_each_sample_of_a_pack() -> None:
    packet = h("031c 000000000000 00000080 0000 000000000000")
    out = MetaWearDecoder(MetaWearConfig()).decode(packet)
    assert out is not None
    assert out.clipped.tolist() == [False, True, False]


# --- decoding: bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"\x03",
        h("03 04"),
        h("0304 0008 0000"),  # truncated single
        h("0304 0008 0000 0000 00"),  # one byte too many
        h("031c 000800000000 000000f80000"),  # two of three samples
        h("1304 0000 0000 0000"),  # BMI270 gyro register on a BMI160 board
        h("0305" + "00" * 18),  # BMI270 packed acc register on a BMI160 board
        h("1501 0000"),  # magnetometer: not decoded
        h("0903 01 00000000 0000 0000 0000"),  # accounter packet: not decoded
    ],
)
def test_malformed_truncated_and_unknown_packets_are_counted_not_raised(packet: bytes) -> None:
    decoder = MetaWearDecoder(MetaWearConfig(chip="bmi160"))
    assert decoder.decode(packet) is None
    assert decoder.malformed == 1


@pytest.mark.parametrize("reply", [h("03 80 01 01"), h("13 80"), h("03 83 28 03"), h("13 83 00")])
def test_read_replies_are_skipped_without_counting(reply: bytes) -> None:
    decoder = MetaWearDecoder(MetaWearConfig())
    assert decoder.decode(reply) is None
    assert decoder.malformed == 0


def test_decode_accepts_bytearray_and_survives_non_bytes() -> None:
    decoder = MetaWearDecoder(MetaWearConfig())
    assert decoder.decode(bytearray(h("0304 0008 0000 0000"))) is not None
    assert decoder.decode("0304 0008 0000 0000") is None  # type: ignore[arg-type]
    assert decoder.malformed == 1


@settings(max_examples=300, deadline=None)
@given(
    chip=st.sampled_from(["bmi160", "bmi270"]),
    data=st.one_of(
        st.binary(max_size=40),
        st.tuples(st.sampled_from([0x03, 0x13]), st.integers(0, 0x1F), st.binary(max_size=24)).map(
            lambda p: bytes((p[0], p[1])) + p[2]
        ),
    ),
)
def test_random_bytes_never_raise_and_every_skip_is_counted(chip: str, data: bytes) -> None:
    decoder = MetaWearDecoder(MetaWearConfig(chip=chip))  # type: ignore[arg-type]
    out = decoder.decode(data)
    is_reply = len(data) >= 2 and data[1] & 0x80
    if out is None:
        assert decoder.malformed == (0 if is_reply else 1)
    else:
        assert decoder.malformed == 0
        assert out.values.shape in ((1, 3), (3, 3))
        assert len(data) == 2 + 6 * out.values.shape[0]


# --- encode / decode round trips -----------------------------------------------------------

configs = st.builds(
    MetaWearConfig,
    chip=st.sampled_from(["bmi160", "bmi270"]),
    acc_range_g=st.sampled_from([2, 4, 8, 16]),
    gyro_range_dps=st.sampled_from([125, 250, 500, 1000, 2000]),
    odr_hz=st.sampled_from([25.0, 50.0, 100.0, 200.0, 400.0, 800.0]),
    packed=st.booleans(),
)
raw_triples = st.integers(0, 6).flatmap(
    lambda k: hnp.arrays(np.int16, (3 * k, 3), elements=st.integers(-32768, 32767))
)


@settings(max_examples=200, deadline=None)
@given(config=configs, stream=st.sampled_from(["acc", "gyr"]), raw=raw_triples)
def test_encode_then_decode_gives_raw_times_scale(
    config: MetaWearConfig, stream: str, raw: np.ndarray
) -> None:
    packets = encode_samples(config, stream, raw)  # type: ignore[arg-type]
    per = 3 if config.packed else 1
    assert len(packets) == raw.shape[0] // per
    assert all(len(p) == 2 + 6 * per for p in packets)
    decoder = MetaWearDecoder(config)
    decoded = [decoder.decode(p) for p in packets]
    assert decoder.malformed == 0
    scale = (
        G / LSB_PER_G[config.acc_range_g]
        if stream == "acc"
        else DEG / LSB_PER_DPS[config.gyro_range_dps]
    )
    values = np.concatenate([d.values for d in decoded if d is not None] or [np.zeros((0, 3))])
    np.testing.assert_allclose(values, raw * scale, rtol=1e-12, atol=0)
    assert all(d is not None and d.stream == stream for d in decoded)
    clipped = np.concatenate([d.clipped for d in decoded if d is not None] or [np.zeros(0, bool)])
    np.testing.assert_array_equal(clipped, ((raw == 32767) | (raw == -32768)).any(axis=1))


def test_encode_samples_bytes_are_header_then_little_endian_int16() -> None:
    raw = np.array([[1, -1, 256], [0x1234, -32768, 32767], [0, 0, 0]])
    single = encode_samples(MetaWearConfig(packed=False), "acc", raw)
    assert single == [
        h("0304 0100 ffff 0001"),
        h("0304 3412 0080 ff7f"),
        h("0304 0000 0000 0000"),
    ]
    packed = encode_samples(MetaWearConfig(chip="bmi270"), "gyr", raw)
    assert packed == [h("1305 0100ffff0001 34120080ff7f 000000000000")]


def test_encode_samples_rejects_partial_packs_and_bad_shapes() -> None:
    with pytest.raises(ValueError):
        encode_samples(MetaWearConfig(packed=True), "acc", np.zeros((2, 3), np.int16))
    with pytest.raises(ValueError):
        encode_samples(MetaWearConfig(packed=False), "acc", np.zeros((2, 2), np.int16))
    with pytest.raises(ValueError):
        encode_samples(MetaWearConfig(packed=False), "acc", np.full((1, 3), 40000))
    with pytest.raises(ValueError):
        encode_samples(MetaWearConfig(packed=False), "mag", np.zeros((1, 3), np.int16))  # type: ignore[arg-type]


# --- decode_batch --------------------------------------------------------------------------


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    return (
        a.stream == b.stream  # type: ignore[attr-defined]
        and np.array_equal(a.values, b.values)  # type: ignore[attr-defined]
        and np.array_equal(a.clipped, b.clipped)  # type: ignore[attr-defined]
    )


def _concat(parts: list) -> object:  # type: ignore[type-arg]
    if not parts:
        return None
    from liftguard.firmware_bridge.metawear import DecodedPacket

    return DecodedPacket(
        parts[0].stream,
        np.concatenate([p.values for p in parts]),
        np.concatenate([p.clipped for p in parts]),
    )


def _per_packet(config: MetaWearConfig, packets: list[bytes]) -> tuple[object, object, int]:
    decoder = MetaWearDecoder(config)
    decoded = [d for d in (decoder.decode(p) for p in packets) if d is not None]
    acc = _concat([d for d in decoded if d.stream == "acc"])
    gyr = _concat([d for d in decoded if d.stream == "gyr"])
    return acc, gyr, decoder.malformed


@settings(max_examples=200, deadline=None)
@given(
    config=configs,
    items=st.lists(
        st.one_of(
            st.tuples(st.just("acc"), raw_triples),
            st.tuples(st.just("gyr"), raw_triples),
            st.tuples(st.just("junk"), st.binary(max_size=24)),
        ),
        max_size=12,
    ),
)
def test_decode_batch_equals_per_packet_decode(
    config: MetaWearConfig, items: list[tuple[str, object]]
) -> None:
    packets: list[bytes] = []
    for kind, payload in items:
        if kind == "junk":
            packets.append(payload)  # type: ignore[arg-type]
        else:
            packets.extend(encode_samples(config, kind, payload))  # type: ignore[arg-type]
    acc, gyr, malformed = _per_packet(config, packets)
    batch = MetaWearDecoder(config)
    b_acc, b_gyr = batch.decode_batch(packets)
    assert _same(b_acc, acc)
    assert _same(b_gyr, gyr)
    assert batch.malformed == malformed


@pytest.mark.parametrize("packed", [True, False])
def test_decode_batch_of_one_length_equals_per_packet_decode(packed: bool) -> None:
    # Notifications all of one length take a table-shaped fast path: same result.
    config = MetaWearConfig(chip="bmi270", packed=packed)
    rng = np.random.default_rng(1)
    raw = rng.integers(-32768, 32768, (60, 3))
    packets = [
        p
        for a, g in zip(
            encode_samples(config, "acc", raw),
            encode_samples(config, "gyr", raw[::-1]),
            strict=True,
        )
        for p in (a, g)
    ]
    packets[5] = bytes([0x42, 0x01]) + packets[5][2:]  # unknown register, same length
    packets[8] = bytes([packets[8][0], packets[8][1] | 0x80]) + packets[8][2:]  # a read reply
    acc, gyr, malformed = _per_packet(config, packets)
    batch = MetaWearDecoder(config)
    b_acc, b_gyr = batch.decode_batch(packets)
    assert _same(b_acc, acc) and _same(b_gyr, gyr)
    assert batch.malformed == malformed == 1
    only_acc = [p for p in packets if p[0] == packets[0][0]]
    assert _same(batch.decode_batch(only_acc)[0], _per_packet(config, only_acc)[0])


def test_decode_batch_mixed_chip_packets_and_empty_batch() -> None:
    decoder = MetaWearDecoder(MetaWearConfig(chip="bmi160"))
    assert decoder.decode_batch([]) == (None, None)
    acc, gyr = decoder.decode_batch(
        [
            h("0304 0008 0000 0000"),  # acc single, 1 g on x at ±16 g
            h("1305 4801 0000 0000"),  # BMI160 gyro single, 20 °/s on x
            b"",
            h("03 80 01 01"),  # module-info reply: skipped, not counted
            h("1307" + "4801" + "00" * 16),  # BMI160 gyro packed, 20 °/s then zeros
            h("0304 0008"),  # truncated
        ]
    )
    assert acc is not None and gyr is not None
    np.testing.assert_allclose(acc.values, [[G, 0, 0]], rtol=1e-12)
    np.testing.assert_allclose(gyr.values[:, 0], [20 * DEG, 20 * DEG, 0, 0], rtol=1e-12)
    assert decoder.malformed == 2


def test_decode_batch_all_empty_packets_counts_them() -> None:
    decoder = MetaWearDecoder(MetaWearConfig())
    assert decoder.decode_batch([b"", b"", b"\x03"]) == (None, None)
    assert decoder.malformed == 3


# --- module discovery ----------------------------------------------------------------------


def test_module_info_request_reads_register_zero() -> None:
    assert module_info_request(0x03) == h("03 80")
    assert module_info_request(0x13) == h("13 80")
    with pytest.raises(ValueError):
        module_info_request(256)


@pytest.mark.parametrize(
    ("reply", "parsed"),
    [
        (h("03 80 01 01"), (0x03, 1, 1)),
        (h("03 80 04 01"), (0x03, 4, 1)),
        (h("13 80 00 01"), (0x13, 0, 1)),
        (h("13 80 01 01 00 ff"), (0x13, 1, 1)),  # extra bytes after the revision are allowed
        (h("15 80"), (0x15, 0xFF, 0xFF)),  # absent module
        (h("03 80 01"), None),  # truncated
        (h("0304000800000000"), None),  # data, not a reply
        (h("03"), None),
        (b"", None),
    ],
)
def test_parse_module_info(reply: bytes, parsed: tuple[int, int, int] | None) -> None:
    assert parse_module_info(reply) == parsed


def test_chip_from_module_info_maps_implementation_bytes() -> None:
    assert chip_from_module_info(1) == "bmi160"
    assert chip_from_module_info(4) == "bmi270"
    for impl in (0, 3, 0xFF):
        with pytest.raises(ProtocolError) as info:
            chip_from_module_info(impl)
        assert info.value.reason == "unsupported_chip"
