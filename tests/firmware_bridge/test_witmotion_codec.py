"""WitMotion WT901BLE wire format: commands, frame reassembly, decoding.

Expected bytes and values are worked out by hand from the documented layout (WitMotion's BLE 5.0
SDK and the WT901BLECL datasheet) with ``struct``, never produced by the encoder under test.
"""

from __future__ import annotations

import itertools
import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge.stream import Assembler
from liftguard.firmware_bridge.witmotion import (
    NOTIFY_CHAR,
    WIT_SERVICE,
    WRITE_CHAR,
    FrameReassembler,
    WitAssembler,
    WitConfig,
    configure_commands,
    decode_frame,
    decode_frames,
    decode_stream,
    encode_data_frames,
    euler_to_quat,
    parse_register_reply,
    quat_to_euler,
    rate_code,
    rate_command,
    read_register_command,
    save_command,
    unlock_command,
    write_register_command,
)
from liftguard.samples import FLAG_CLIPPED

G = 9.80665
DEG = math.pi / 180.0
# Hand scales from the datasheet: value = count / 32768 × full scale.
ACC_PER_COUNT = 16.0 * G / 32768.0  # m/s²
GYR_PER_COUNT = 2000.0 * DEG / 32768.0  # rad/s
ANG_PER_COUNT = 180.0 * DEG / 32768.0  # rad


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def frame(*values: int) -> bytes:
    """A ``55 61`` frame by hand: header, flag, nine little-endian int16."""
    assert len(values) == 9
    return struct.pack("<BB9h", 0x55, 0x61, *values)


def reply(start: int, *registers: int) -> bytes:
    """A ``55 71`` register reply by hand: header, flag, u16 start, eight int16 registers."""
    assert len(registers) == 8
    return struct.pack("<BBH8h", 0x55, 0x71, start, *registers)


def qmul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product, written out independently of the package."""
    pw, px, py, pz = p
    qw, qx, qy, qz = q
    return np.array(
        [
            pw * qw - px * qx - py * qy - pz * qz,
            pw * qx + px * qw + py * qz - pz * qy,
            pw * qy - px * qz + py * qw + pz * qx,
            pw * qz + px * qy - py * qx + pz * qw,
        ]
    )


def about(axis: int, angle: float) -> np.ndarray:
    q = np.zeros(4)
    q[0] = math.cos(angle / 2)
    q[1 + axis] = math.sin(angle / 2)
    return q


def same_rotation(a: np.ndarray, b: np.ndarray, tol: float = 1e-9) -> bool:
    return bool(abs(abs(float(np.dot(a, b))) - 1.0) < tol)


# --- GATT and commands ---------------------------------------------------------------------


def test_uuids_are_the_sdks_full_strings_on_the_9a34fb_base() -> None:
    # Not the Bluetooth SIG base (…9b34fb): the SDK and a BlueZ dump of a real sensor agree.
    assert WIT_SERVICE == "0000ffe5-0000-1000-8000-00805f9a34fb"
    assert NOTIFY_CHAR == "0000ffe4-0000-1000-8000-00805f9a34fb"
    assert WRITE_CHAR == "0000ffe9-0000-1000-8000-00805f9a34fb"


def test_unlock_save_and_read_commands_are_the_documented_bytes() -> None:
    assert unlock_command() == h("ff aa 69 88 b5")
    assert save_command() == h("ff aa 00 00 00")
    assert read_register_command(0x03) == h("ff aa 27 03 00")
    assert read_register_command(0x51) == h("ff aa 27 51 00")


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (10.0, "ff aa 03 06 00"),
        (20.0, "ff aa 03 07 00"),
        (50.0, "ff aa 03 08 00"),
        (100.0, "ff aa 03 09 00"),
        (200.0, "ff aa 03 0b 00"),  # 0x0B, not 0x0A: measured 198 Hz vs 99 Hz on a WT901BLE
    ],
)
def test_rate_command_uses_the_wt901blecl_rate_codes(rate: float, expected: str) -> None:
    assert rate_command(rate) == h(expected)
    assert WitConfig(rate_hz=rate).rate_code == h(expected)[3]


def test_configure_commands_unlock_first_then_rate() -> None:
    assert configure_commands(WitConfig(rate_hz=50)) == [h("ff aa 69 88 b5"), h("ff aa 03 08 00")]


def test_register_write_is_little_endian() -> None:
    assert write_register_command(0x5D, 0x0A0B) == h("ff aa 5d 0b 0a")
    with pytest.raises(ValueError):
        write_register_command(0x100, 0)
    with pytest.raises(ValueError):
        write_register_command(0x03, 0x10000)


@pytest.mark.parametrize("rate", [125.0, 0.2, 5.0, 400.0, True, "fast", float("nan"), None, 0])
def test_unsupported_rates_raise_one_line_config_error(rate: object) -> None:
    with pytest.raises(ConfigError) as info:
        WitConfig(rate_hz=rate)  # type: ignore[arg-type]
    assert str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ConfigError):
        rate_code(rate)  # type: ignore[arg-type]


def test_config_from_a_roster_sensor() -> None:
    ok = SensorConfig("upper", "AA:01", family="witmotion", rate_hz=200.0)
    assert WitConfig.for_sensor(ok) == WitConfig(rate_hz=200.0)
    for bad in (
        SensorConfig("upper", "AA:01", family="metawear"),
        SensorConfig("upper", "AA:01", family="witmotion", acc_range_g=8),
        SensorConfig("upper", "AA:01", family="witmotion", gyro_range_dps=500),
        SensorConfig("upper", "AA:01", family="witmotion", rate_hz=400.0),
    ):
        with pytest.raises(ConfigError) as info:
            WitConfig.for_sensor(bad)
        assert "AA:01" in str(info.value)


# --- decoding hand-made frames -------------------------------------------------------------


def test_data_frame_decodes_to_si_units_in_the_documented_order() -> None:
    # acc x = 2048 counts = 1 g, y = -2048 = -1 g, z = 1 count; gyro x = 16384 = 1000 °/s,
    # y = -16384, z = 0; roll = 8192 = 45°, pitch = -8192 = -45°, yaw = 16384 = 90°.
    data = frame(2048, -2048, 1, 16384, -16384, 0, 8192, -8192, 16384)
    assert data[:4] == h("55 61 00 08")  # low byte first
    out = decode_frame(data)
    assert len(out) == 1
    np.testing.assert_allclose(out.acc, [[G, -G, 16 * G / 32768]], rtol=1e-12)
    np.testing.assert_allclose(out.gyr, [[1000 * DEG, -1000 * DEG, 0.0]], rtol=1e-12)
    np.testing.assert_allclose(out.angles, [[45 * DEG, -45 * DEG, 90 * DEG]], rtol=1e-12)
    assert out.raw.tolist() == [[2048, -2048, 1, 16384, -16384, 0, 8192, -8192, 16384]]
    assert out.acc.dtype == np.float64
    assert out.clipped.tolist() == [False]


@pytest.mark.parametrize(
    ("counts", "axis", "angle"),
    [((8192, 0, 0), 0, 45.0), ((0, -4096, 0), 1, -22.5), ((0, 0, 16384), 2, 90.0)],
)
def test_single_angle_gives_a_rotation_about_that_axis(
    counts: tuple[int, int, int], axis: int, angle: float
) -> None:
    out = decode_frame(frame(0, 0, 2048, 0, 0, 0, *counts))
    assert same_rotation(out.quat[0], about(axis, angle * DEG))


@settings(max_examples=100, deadline=None)
@given(
    roll=st.integers(-32768, 32767),
    pitch=st.integers(-16384, 16384),  # the device's pitch spans ±90°
    yaw=st.integers(-32768, 32767),
)
def test_angles_compose_z_then_y_then_x(roll: int, pitch: int, yaw: int) -> None:
    # Datasheet: "rotation order … Z-Y-X, first turn around Z, then Y, then X" — in the
    # sensor's own (intrinsic) axes, i.e. q = qz(yaw) ⊗ qy(pitch) ⊗ qx(roll).
    out = decode_frame(frame(0, 0, 0, 0, 0, 0, roll, pitch, yaw))
    r, p, y = roll * ANG_PER_COUNT, pitch * ANG_PER_COUNT, yaw * ANG_PER_COUNT
    expected = qmul(qmul(about(2, y), about(1, p)), about(0, r))
    assert same_rotation(out.quat[0], expected)
    assert out.quat[0, 0] >= 0.0
    assert abs(np.linalg.norm(out.quat[0]) - 1.0) < 1e-12


def test_device_angles_agree_with_gravity_seen_by_the_accelerometer() -> None:
    # At rest the specific force is world up (0, 0, +g) seen from the sensor: for Z-Y-X angles
    # that is g·(-sin p, sin r cos p, cos r cos p) — the usual accelerometer tilt formulas.
    r, p = 30 * DEG, -20 * DEG
    out = decode_frame(
        frame(0, 0, 0, 0, 0, 0, round(r / ANG_PER_COUNT), round(p / ANG_PER_COUNT), 0)
    )
    w, x, y, z = out.quat[0]
    # third row of the rotation matrix = world z in sensor coordinates
    up_in_sensor = np.array([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)])
    expected = [-math.sin(p), math.sin(r) * math.cos(p), math.cos(r) * math.cos(p)]
    np.testing.assert_allclose(up_in_sensor, expected, atol=1e-4)


def test_quat_to_euler_inverts_euler_to_quat() -> None:
    rng = np.random.default_rng(3)
    e = rng.uniform([-3.1, -1.5, -3.1], [3.1, 1.5, 3.1], size=(500, 3))
    np.testing.assert_allclose(quat_to_euler(euler_to_quat(e)), e, atol=1e-12)
    with pytest.raises(ValueError):
        euler_to_quat(np.zeros(3))
    with pytest.raises(ValueError):
        quat_to_euler(np.zeros((2, 3)))


@pytest.mark.parametrize(
    ("values", "clipped"),
    [
        ((32767, 0, 0, 0, 0, 0, 0, 0, 0), True),  # acc x at +16 g
        ((0, 0, -32768, 0, 0, 0, 0, 0, 0), True),  # acc z at -16 g
        ((0, 32766, 0, 0, 0, 0, 0, 0, 0), False),  # one count short of full scale
        ((0, 0, 0, 0, -32768, 0, 0, 0, 0), True),  # gyro y at -2000 °/s
        ((0, 0, 0, 0, 0, 32767, 0, 0, 0), True),  # gyro z at +2000 °/s
        ((0, 0, 2048, 0, 0, 0, -32768, 0, 32767), False),  # ±180° angles are not clipping
    ],
)
def test_samples_at_int16_full_scale_are_flagged_clipped(
    values: tuple[int, ...], clipped: bool
) -> None:
    assert decode_frame(frame(*values)).clipped.tolist() == [clipped]


@pytest.mark.parametrize(
    "data",
    [b"", h("55 61") + bytes(17), h("55 61") + bytes(19), reply(3, *([0] * 8)), bytes(20)],
)
def test_decode_frame_rejects_anything_but_one_data_frame(data: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_frame(data)
    assert info.value.reason == "not_a_data_frame"


def test_register_reply_parses_start_and_eight_registers() -> None:
    data = reply(0x03, 0x09, 0, -1, 0, 0, 0, 0, 0x7FFF)
    assert data[:6] == h("55 71 03 00 09 00")
    start, values = parse_register_reply(data)  # type: ignore[misc]
    assert start == 3
    assert values.tolist() == [9, 0, -1, 0, 0, 0, 0, 32767]
    assert parse_register_reply(frame(*([0] * 9))) is None
    assert parse_register_reply(data[:19]) is None


def test_decode_frames_skips_register_replies() -> None:
    a, b = frame(1, 2, 3, 4, 5, 6, 7, 8, 9), frame(-1, -2, -3, -4, -5, -6, -7, -8, -9)
    frames = np.frombuffer(a + reply(3, *([0] * 8)) + b, dtype=np.uint8).reshape(3, 20)
    out = decode_frames(frames)
    assert out.raw.tolist() == [list(range(1, 10)), list(range(-1, -10, -1))]
    with pytest.raises(ValueError):
        decode_frames(np.zeros((2, 19), np.uint8))


# --- reassembly ----------------------------------------------------------------------------

FRAMES = [
    frame(100, -200, 2048, 1, -1, 0, 1000, -2000, 3000),
    frame(101, -201, 2049, 2, -2, 0, 1001, -2001, 3001),
    frame(102, -202, 2050, 3, -3, 0, 1002, -2002, 3002),
]
STREAM = b"".join(FRAMES)


def raw_of(frames: np.ndarray) -> list[list[int]]:
    return decode_frames(frames).raw.tolist() if len(frames) else []


def expected_raw(*frames: bytes) -> list[list[int]]:
    return [list(struct.unpack("<9h", f[2:])) for f in frames]


def test_one_frame_per_notification() -> None:
    r = FrameReassembler()
    got = [raw_of(r.feed(f)) for f in FRAMES]
    assert got == [expected_raw(f) for f in FRAMES]
    assert (r.frames, r.garbage_bytes, r.garbage_runs, r.pending) == (3, 0, 0, 0)


def test_several_frames_joined_in_one_notification() -> None:
    r = FrameReassembler()
    frames, ends = r.feed_located(STREAM)
    assert raw_of(frames) == expected_raw(*FRAMES)
    assert ends.tolist() == [20, 40, 60]


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_stream_split_at_any_byte_gives_the_same_frames(cut: int) -> None:
    r = FrameReassembler()
    first = r.feed(STREAM[:cut])
    assert len(first) == cut // 20
    assert r.pending == cut % 20  # the partial frame waits
    second = r.feed(STREAM[cut:])
    assert raw_of(np.concatenate([first, second])) == expected_raw(*FRAMES)
    assert (r.garbage_bytes, r.garbage_runs, r.pending) == (0, 0, 0)


def test_frame_ends_point_into_the_notification_that_completes_them() -> None:
    r = FrameReassembler()
    r.feed(STREAM[:13])
    frames, ends = r.feed_located(STREAM[13:45])
    assert len(frames) == 2
    assert ends.tolist() == [7, 27]  # 20 - 13, then 40 - 13


def test_garbage_between_frames_is_skipped_and_counted() -> None:
    junk1, junk2 = h("00 55 62 ff"), h("61 71 55 00 55")  # lone 0x55s, flags without header
    r = FrameReassembler()
    out = r.feed(junk1 + FRAMES[0] + junk2 + FRAMES[1] + FRAMES[2])
    assert raw_of(out) == expected_raw(*FRAMES)
    assert r.garbage_bytes == len(junk1) + len(junk2)
    assert r.garbage_runs == 2


def test_a_garbage_run_spanning_notifications_counts_once() -> None:
    r = FrameReassembler()
    r.feed(h("01 02 03 55"))  # the trailing 0x55 may start a header: held
    assert (r.garbage_bytes, r.pending) == (3, 1)
    r.feed(h("00 04") + FRAMES[0])  # it did not: 55 00 04 is the same garbage run
    assert (r.frames, r.garbage_bytes, r.garbage_runs) == (1, 6, 1)


def test_header_split_between_notifications_is_recovered() -> None:
    r = FrameReassembler()
    assert len(r.feed(b"\x07\x55")) == 0
    assert raw_of(r.feed(FRAMES[0][1:])) == expected_raw(FRAMES[0])
    assert (r.garbage_bytes, r.garbage_runs) == (1, 1)


def test_register_replies_are_frames_too() -> None:
    r = FrameReassembler()
    out = r.feed(FRAMES[0] + reply(3, 9, 0, 0, 0, 0, 0, 0, 0) + FRAMES[1])
    assert out.shape == (3, 20)
    assert parse_register_reply(out[1]) is not None
    assert r.garbage_bytes == 0


def test_reset_forgets_a_partial_frame() -> None:
    r = FrameReassembler()
    r.feed(FRAMES[0][:12])
    r.reset()
    assert raw_of(r.feed(FRAMES[1])) == expected_raw(FRAMES[1])


@pytest.mark.parametrize("bad", [None, 42, "55 61", object()])
def test_non_bytes_input_is_counted_not_raised(bad: object) -> None:
    r = FrameReassembler()
    assert len(r.feed(bad)) == 0  # type: ignore[arg-type]
    assert r.garbage_runs == 1


raw_frames = st.lists(
    st.lists(st.integers(-32768, 32767), min_size=9, max_size=9).map(lambda v: frame(*v)),
    min_size=0,
    max_size=12,
)
# Garbage that cannot contain or complete a header: no 0x55 byte at all.
clean_junk = st.binary(max_size=30).map(lambda b: b.replace(b"\x55", b"\x54"))


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def stream_feed(chunks: list[bytes]) -> tuple[np.ndarray, FrameReassembler]:
    r = FrameReassembler()
    parts = [r.feed(c) for c in chunks]
    frames = np.concatenate(parts) if parts else np.zeros((0, 20), np.uint8)
    return frames, r


@settings(max_examples=200, deadline=None)
@given(
    frames=raw_frames,
    junk=st.lists(clean_junk, min_size=13, max_size=13),
    cuts=st.lists(st.integers(0, 10_000), max_size=30),
)
def test_any_chunking_of_frames_and_clean_junk_decodes_every_frame(
    frames: list[bytes], junk: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(j + f for j, f in zip(junk, frames, strict=False)) + junk[len(frames)]
    got, r = stream_feed(chunked(data, cuts))
    assert raw_of(got) == expected_raw(*frames)
    junk_bytes = sum(len(j) for j in junk[: len(frames) + 1])
    assert r.garbage_bytes == junk_bytes
    assert r.garbage_runs == sum(1 for j in junk[: len(frames) + 1] if j)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), cuts=st.lists(st.integers(0, 10_000), max_size=40))
def test_any_chunking_of_any_bytes_gives_what_the_whole_stream_gives(
    data: bytes, cuts: list[int]
) -> None:
    # Stress the resynchronisation: byte soup dense in headers.
    whole, r_whole = stream_feed([data])
    pieces, r_pieces = stream_feed(chunked(data, cuts))
    assert pieces.tobytes() == whole.tobytes()
    assert (r_pieces.garbage_bytes, r_pieces.garbage_runs, r_pieces.pending) == (
        r_whole.garbage_bytes,
        r_whole.garbage_runs,
        r_whole.pending,
    )
    # every byte is accounted for: in a frame, skipped, or waiting
    assert 20 * r_whole.frames + r_whole.garbage_bytes + r_whole.pending == len(data)


header_soup = st.lists(
    st.sampled_from([b"\x55", b"\x61", b"\x71", b"\x55\x61", b"\x55\x71", b"\x00", b"\xff"]),
    max_size=120,
).map(b"".join)


@settings(max_examples=200, deadline=None)
@given(data=header_soup, cuts=st.lists(st.integers(0, 1000), max_size=20))
def test_header_soup_never_raises_and_chunking_does_not_matter(
    data: bytes, cuts: list[int]
) -> None:
    whole, r_whole = stream_feed([data])
    pieces, r_pieces = stream_feed(chunked(data, cuts))
    assert pieces.tobytes() == whole.tobytes()
    assert r_pieces.garbage_runs == r_whole.garbage_runs
    decode_frames(whole)  # whatever frames came out decode without error


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 1000), max_size=20))
def test_batch_decode_matches_the_streaming_reassembler(data: bytes, cuts: list[int]) -> None:
    packets = chunked(FRAMES[0] + data + b"".join(FRAMES), cuts)
    frames, r = stream_feed(packets)
    batch = decode_stream(packets)
    assert batch.samples.raw.tolist() == raw_of(frames)
    assert (batch.garbage_bytes, batch.garbage_runs, batch.trailing) == (
        r.garbage_bytes,
        r.garbage_runs,
        r.pending,
    )


def test_batch_decode_tells_which_notification_completed_each_sample() -> None:
    packets = [FRAMES[0][:5], FRAMES[0][5:] + FRAMES[1][:19], FRAMES[1][19:] + FRAMES[2], b""]
    out = decode_stream(packets)
    assert out.samples.raw.tolist() == expected_raw(*FRAMES)
    assert out.packet_index.tolist() == [1, 2, 2]
    assert out.replies == []
    empty = decode_stream([])
    assert len(empty.samples) == 0 and empty.packet_index.size == 0


def test_batch_decode_collects_register_replies() -> None:
    out = decode_stream([FRAMES[0] + reply(3, 11, 0, 0, 0, 0, 0, 0, 0), FRAMES[1]])
    assert len(out.samples) == 2
    [(start, values)] = out.replies
    assert (start, int(values[0])) == (3, 11)


# --- assembler -----------------------------------------------------------------------------


def test_assembler_gives_samples_without_device_time_but_with_the_device_quaternion() -> None:
    asm: Assembler = WitAssembler(WitConfig(rate_hz=50))
    assert asm.rate_hz == 50.0
    assert asm.feed(1.0, FRAMES[0][:11]) is None  # partial: waits
    out = asm.feed(1.25, FRAMES[0][11:] + FRAMES[1])
    assert out is not None and len(out) == 2
    assert out.host_time == 1.25
    assert out.t_device is None
    assert out.quat is not None and out.quat.shape == (2, 4)
    np.testing.assert_allclose(out.acc[0], np.array([100, -200, 2048]) * ACC_PER_COUNT)
    np.testing.assert_allclose(out.gyr[1], np.array([2, -2, 0]) * GYR_PER_COUNT)
    assert out.flags.tolist() == [0, 0]
    assert asm.malformed == 0


def test_assembler_flags_clipping_and_counts_garbage_runs_not_replies() -> None:
    asm = WitAssembler()
    out = asm.feed(0.0, frame(0, 32767, 0, 0, 0, 0, 0, 0, 0) + reply(3, *([0] * 8)))
    assert out is not None and out.flags.tolist() == [FLAG_CLIPPED]
    assert asm.feed(0.1, reply(3, *([0] * 8))) is None
    assert asm.malformed == 0
    assert asm.feed(0.2, b"\x01\x02") is None
    assert asm.feed(0.3, b"\x03" + FRAMES[0]) is not None
    assert asm.malformed == 1


def test_assembler_for_a_roster_sensor_checks_it() -> None:
    asm = WitAssembler.for_sensor(SensorConfig("upper", "AA:01", family="witmotion", rate_hz=200))
    assert asm.rate_hz == 200.0
    with pytest.raises(ConfigError):
        WitAssembler.for_sensor(SensorConfig("upper", "AA:01", family="witmotion", rate_hz=99))


@settings(max_examples=100, deadline=None)
@given(
    junk=st.lists(st.binary(max_size=25), min_size=4, max_size=4),
    cuts=st.lists(st.integers(0, 10_000), max_size=25),
    splits=st.lists(st.integers(0, 40), max_size=6),
)
def test_batched_feed_equals_feed_one_by_one(
    junk: list[bytes], cuts: list[int], splits: list[int]
) -> None:
    data = junk[0] + STREAM + junk[1] + reply(3, *range(8)) + junk[2] + STREAM + junk[3] + FRAMES[0]
    packets = chunked(data, cuts)
    hosts = 0.01 * np.arange(len(packets), dtype=np.float64)
    live, batch = WitAssembler(), WitAssembler()
    live_out = [live.feed(float(h), p) for h, p in zip(hosts, packets, strict=True)]
    bounds = [0, *sorted({s % (len(packets) + 1) for s in splits}), len(packets)]
    batch_out = [batch.feed_batch(hosts[a:b], packets[a:b]) for a, b in itertools.pairwise(bounds)]
    live_acc = [r.acc for r in live_out if r is not None]
    batch_acc = [r.acc for r in batch_out if r is not None]
    assert np.array_equal(
        np.concatenate(live_acc) if live_acc else np.zeros((0, 3)),
        np.concatenate(batch_acc) if batch_acc else np.zeros((0, 3)),
    )
    live_counts = [0 if r is None else len(r) for r in live_out]
    batch_counts: list[int] = []
    for (a, b), r in zip(itertools.pairwise(bounds), batch_out, strict=True):
        batch_counts += [0] * (b - a) if r is None else r.arrivals()[1].tolist()
    assert batch_counts == live_counts
    assert batch.malformed == live.malformed
    assert batch.reassembler.pending == live.reassembler.pending
    # and both carry on identically
    more_l, more_b = live.feed(9.0, FRAMES[1]), batch.feed(9.0, FRAMES[1])
    assert (more_l is None) == (more_b is None)
    if more_l is not None and more_b is not None:
        assert np.array_equal(more_l.acc, more_b.acc)
    assert batch.feed_batch(np.zeros(0), []) is None


def test_back_to_back_and_scattered_frames_are_gathered_alike() -> None:
    # Back-to-back frames are copied in one slice; scattered ones gathered one by one.
    raw = np.arange(5 * 9, dtype=np.int64).reshape(5, 9) * 7 - 100
    frames = encode_data_frames(raw)
    one = np.frombuffer(frames, dtype=np.uint8).reshape(5, 20)
    clean, _ = FrameReassembler().feed_many([frames[:33], frames[33:]])
    junk, _ = FrameReassembler().feed_many([b"\x01" + frames[:40] + b"\x02\x03" + frames[40:]])
    assert np.array_equal(clean, one) and np.array_equal(junk, one)
    assert np.array_equal(decode_frames(clean).raw, raw)


def test_an_assembler_without_device_orientation_gives_the_same_samples_without_quat() -> None:
    from liftguard.firmware_bridge.witmotion.assembler import WitAssembler

    frames = [frame(100 * k, 0, 2048, k, -k, 0, 90 * k, 180 * k, 270 * k) for k in range(30)]
    packets = [b"".join(frames[k : k + 3]) for k in range(0, 30, 3)]
    hosts = np.arange(len(packets)) * 0.03
    full, lean = WitAssembler(), WitAssembler(device_orientation=False)
    a = full.feed_batch(hosts, packets)
    b = lean.feed_batch(hosts, packets)
    assert a is not None and b is not None and a.quat is not None and b.quat is None
    assert np.array_equal(a.acc, b.acc) and np.array_equal(a.gyr, b.gyr)
    assert np.array_equal(a.flags, b.flags) and np.array_equal(a.packet_counts, b.packet_counts)
    one = WitAssembler(device_orientation=False).feed(0.0, packets[0])
    assert one is not None and one.quat is None
