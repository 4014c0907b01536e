"""WitMotion emulator: GATT table, unlock / rate / save semantics, timing, bytes, angles."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liftguard.errors import ConfigError, ProtocolError
from liftguard.firmware_bridge import EmulatedDevice, Notification
from liftguard.firmware_bridge.witmotion import (
    NOTIFY_CHAR,
    WIT_SERVICE,
    WRITE_CHAR,
    FrameReassembler,
    WitMotionEmulator,
    WitSamples,
    decode_frames,
    decode_stream,
)

G = 9.80665
DEG = math.pi / 180.0
ACC_PER_COUNT = 16.0 * G / 32768.0
GYR_PER_COUNT = 2000.0 * DEG / 32768.0
ANG_PER_COUNT = 180.0 * DEG / 32768.0

# Commands written by hand from the documented bytes (not with the codec's builders).
UNLOCK = bytes.fromhex("ff aa 69 88 b5")
SAVE = bytes.fromhex("ff aa 00 00 00")
FACTORY = bytes.fromhex("ff aa 00 01 00")
READ_RATE = bytes.fromhex("ff aa 27 03 00")


def rate_cmd(code: int) -> bytes:
    return bytes((0xFF, 0xAA, 0x03, code, 0x00))


class Motion:
    """Specific force = gravity seen at a fixed tilt (+ ``acc_rate``·t on x), constant ``gyr``.

    Records every call's times, so tests can check the MotionSource contract.
    """

    def __init__(
        self,
        roll: float = 0.0,
        pitch: float = 0.0,
        gyr: tuple[float, float, float] = (0.0, 0.0, 0.0),
        acc_rate: float = 0.0,
        acc_extra: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> None:
        # Z-Y-X tilt: world up seen from the sensor is (-sin p, sin r cos p, cos r cos p).
        self.up = np.array(
            [-math.sin(pitch), math.sin(roll) * math.cos(pitch), math.cos(roll) * math.cos(pitch)]
        )
        self.gyr = np.array(gyr)
        self.acc_rate = acc_rate
        self.acc_extra = np.array(acc_extra)
        self.calls: list[np.ndarray] = []

    def imu(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append(np.array(t))
        acc = np.tile(G * self.up + self.acc_extra, (t.size, 1))
        acc[:, 0] += self.acc_rate * t
        return acc, np.tile(self.gyr, (t.size, 1))

    def times(self) -> np.ndarray:
        return np.concatenate(self.calls) if self.calls else np.zeros(0)


def make(motion: Motion | None = None, **kw: object) -> WitMotionEmulator:
    emu = WitMotionEmulator(motion or Motion(), address="D8:76:A8:00:00:01", **kw)  # type: ignore[arg-type]
    emu.connect(0.0)
    return emu


def send(emu: WitMotionEmulator, now: float, *commands: bytes) -> list[Notification]:
    out: list[Notification] = []
    for cmd in commands:
        out += emu.write(WRITE_CHAR, cmd, now)
    return out


def samples(notes: list[Notification]) -> WitSamples:
    r = FrameReassembler()
    frames = [r.feed(n.data) for n in notes]
    assert r.garbage_bytes == 0
    return decode_frames(np.concatenate(frames) if frames else np.zeros((0, 20), np.uint8))


# --- identity and GATT ---------------------------------------------------------------------


def test_gatt_table_is_the_vendor_service_with_notify_and_write() -> None:
    emu = make()
    [service] = emu.services
    assert service.uuid == WIT_SERVICE
    chars = {c.uuid: c.properties for c in service.characteristics}
    assert chars[NOTIFY_CHAR] == ("notify",)
    assert set(chars[WRITE_CHAR]) == {"write", "write-without-response"}
    ad = emu.advertisement()
    assert ad.local_name == "WT901BLE68"
    assert ad.service_uuids == (WIT_SERVICE,)
    device: EmulatedDevice = emu
    assert (device.family, device.address) == ("witmotion", "D8:76:A8:00:00:01")


def test_nothing_is_readable_and_only_the_write_characteristic_takes_writes() -> None:
    emu = make()
    with pytest.raises(ProtocolError):
        emu.read(NOTIFY_CHAR, 0.0)
    with pytest.raises(ProtocolError):
        emu.write(NOTIFY_CHAR, UNLOCK, 0.0)
    assert emu.write(WRITE_CHAR.upper(), UNLOCK, 0.0) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"clock_ppm": math.nan},
        {"mtu": 22},
        {"mtu": 600},
        {"mtu": True},
        {"chunk_sizes": ()},
        {"chunk_sizes": (0,)},
        {"chunk_sizes": (21,)},  # larger than a 23-byte MTU allows
        {"chunk_sizes": (5, 2.5)},
    ],
)
def test_bad_constructor_values_raise_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        WitMotionEmulator(Motion(), address="x", **kwargs)  # type: ignore[arg-type]


# --- streaming and the rate ----------------------------------------------------------------


def test_streams_at_10_hz_by_default_one_frame_per_notification() -> None:
    out = make().advance(1.0)
    assert [n.t for n in out] == pytest.approx([0.1 * k for k in range(11)])
    assert all(n.uuid == NOTIFY_CHAR and len(n.data) == 20 for n in out)
    assert all(n.data[:2] == b"\x55\x61" for n in out)


def test_nothing_is_sent_while_disconnected_and_the_clock_keeps_its_phase() -> None:
    emu = make()
    emu.advance(0.35)
    emu.disconnect(0.35)
    assert emu.advance(1.0) == []
    emu.connect(1.02)
    out = emu.advance(1.5)
    assert [n.t for n in out] == pytest.approx([1.1, 1.2, 1.3, 1.4, 1.5])


def test_rate_write_without_unlock_is_ignored() -> None:
    emu = make()
    assert send(emu, 0.0, rate_cmd(0x09)) == []
    assert len(emu.advance(1.0)) == 11
    assert emu.rate_hz == 10.0


@pytest.mark.parametrize(
    ("code", "rate"), [(0x06, 10), (0x07, 20), (0x08, 50), (0x09, 100), (0x0B, 200), (0x05, 5)]
)
def test_unlocked_rate_write_sets_the_documented_rate(code: int, rate: float) -> None:
    emu = make()
    emu.advance(1.0)
    send(emu, 1.0, UNLOCK, rate_cmd(code))
    assert emu.rate_hz == rate
    out = emu.advance(3.0)
    # The new clock starts at the write; its sample at 1.0 was already taken at the old rate.
    expected_first = 1.0 + (1.0 / rate if code != 0x06 else 0.1)
    assert out[0].t == pytest.approx(expected_first)
    assert np.diff([n.t for n in out]) == pytest.approx(np.full(len(out) - 1, 1.0 / rate))


def test_a_rate_write_acts_before_a_sample_at_the_same_instant() -> None:
    emu = make()
    emu.advance(0.95)
    send(emu, 1.0, UNLOCK, rate_cmd(0x09))  # the 1.0 sample is not taken yet
    out = emu.advance(1.05)
    assert [n.t for n in out] == pytest.approx([1.0, 1.01, 1.02, 1.03, 1.04, 1.05])


@pytest.mark.parametrize(
    "command", ["ff aa 03 0a 00", "ff aa 03 00 00", "ff aa 03 0c 00", "ff aa 03 09 01"]
)
def test_rate_codes_outside_the_wt901blecl_table_are_ignored(command: str) -> None:
    emu = make()
    send(emu, 0.0, UNLOCK, bytes.fromhex(command))
    assert emu.rate_hz == 10.0


def test_unlock_lasts_ten_seconds_from_the_unlock() -> None:
    emu = make()
    send(emu, 0.0, UNLOCK)
    send(emu, 9.9, rate_cmd(0x08))
    assert emu.rate_hz == 50.0
    send(emu, 10.5, rate_cmd(0x09))  # not extended by the write at 9.9
    assert emu.rate_hz == 50.0
    send(emu, 10.6, UNLOCK, rate_cmd(0x09))
    assert emu.rate_hz == 100.0


def test_a_wrong_key_does_not_unlock() -> None:
    emu = make()
    send(emu, 0.0, bytes.fromhex("ff aa 69 88 b4"), rate_cmd(0x09))
    assert emu.rate_hz == 10.0


def test_several_commands_in_one_write_and_stray_bytes_between_them() -> None:
    emu = make()
    send(emu, 0.0, b"\x00" + UNLOCK + b"\xaa\xff" + rate_cmd(0x08) + b"\xff")
    assert emu.rate_hz == 50.0


def test_register_read_answers_with_a_55_71_frame_without_unlock() -> None:
    emu = make()
    [note] = send(emu, 0.5, READ_RATE)
    assert (note.t, note.uuid) == (0.5, NOTIFY_CHAR)
    assert note.data == struct.pack("<BBH8h", 0x55, 0x71, 0x03, 0x06, 0, 0, 0, 0, 0, 0, 0)
    send(emu, 0.6, UNLOCK, rate_cmd(0x0B))
    [note] = send(emu, 0.6, bytes.fromhex("ff aa 27 02 00"))  # RATE is the 2nd register read
    assert note.data == struct.pack("<BBH8h", 0x55, 0x71, 0x02, 0, 0x0B, 0, 0, 0, 0, 0, 0)


def test_without_save_a_power_cycle_brings_back_10_hz() -> None:
    emu = make()
    send(emu, 0.0, UNLOCK, rate_cmd(0x09))
    emu.disconnect(1.0)
    emu.power_cycle(2.0)
    assert emu.rate_hz == 10.0
    emu.connect(2.0)
    out = emu.advance(3.0)
    assert np.diff([n.t for n in out]) == pytest.approx(np.full(len(out) - 1, 0.1))


def test_save_keeps_the_rate_across_a_power_cycle() -> None:
    emu = make()
    send(emu, 0.0, UNLOCK, rate_cmd(0x09), SAVE)
    assert emu.saved_rate_hz == 100.0
    emu.disconnect(1.0)
    emu.power_cycle(2.0)
    assert emu.rate_hz == 100.0


def test_save_needs_the_unlock_too() -> None:
    emu = make()
    send(emu, 0.0, UNLOCK, rate_cmd(0x09))
    send(emu, 11.0, SAVE)
    assert emu.saved_rate_hz == 10.0


def test_factory_reset_restores_10_hz_and_saves_it() -> None:
    emu = make()
    send(emu, 0.0, UNLOCK, rate_cmd(0x09), SAVE)
    send(emu, 1.0, UNLOCK, FACTORY)
    assert (emu.rate_hz, emu.saved_rate_hz) == (10.0, 10.0)


def test_power_cycle_needs_the_link_down() -> None:
    with pytest.raises(ProtocolError):
        make().power_cycle(1.0)


def test_clock_error_scales_sample_times() -> None:
    out = make(clock_ppm=1000.0).advance(2.0)
    assert out[-1].t == pytest.approx(1.9 * 1.001)


def test_motion_is_asked_at_strictly_increasing_times_across_every_state_change() -> None:
    motion = Motion()
    emu = make(motion)
    emu.advance(1.0)
    send(emu, 1.0, UNLOCK, rate_cmd(0x09))
    emu.advance(1.5)
    send(emu, 1.5, UNLOCK, rate_cmd(0x0B), READ_RATE)
    emu.advance(2.0)
    emu.disconnect(2.0)
    emu.power_cycle(2.0)
    emu.connect(2.0)
    emu.advance(2.5)
    t = motion.times()
    assert np.all(np.diff(t) > 0)


# --- values --------------------------------------------------------------------------------


def test_acc_and_gyro_are_quantised_to_the_documented_counts() -> None:
    motion = Motion(roll=0.3, gyr=(0.1, -0.25, 1.0), acc_rate=0.5)
    out = samples(make(motion).advance(2.0))
    t = 0.1 * np.arange(21)
    acc, gyr = motion.imu(t)
    np.testing.assert_array_equal(out.raw[:, 0:3], np.rint(acc / ACC_PER_COUNT))
    np.testing.assert_array_equal(out.raw[:, 3:6], np.rint(gyr / GYR_PER_COUNT))
    assert np.max(np.abs(out.acc - acc)) <= ACC_PER_COUNT / 2 + 1e-12
    assert np.max(np.abs(out.gyr - gyr)) <= GYR_PER_COUNT / 2 + 1e-12


def test_values_beyond_full_scale_saturate_and_are_flagged_clipped() -> None:
    motion = Motion(gyr=(40.0, 0.0, 0.0), acc_extra=(0.0, -30 * G, 0.0))  # 2292 °/s, -30 g
    out = samples(make(motion).advance(0.2))
    assert out.raw[:, 1].tolist() == [-32768] * 3
    assert out.raw[:, 3].tolist() == [32767] * 3
    assert out.clipped.all()


@pytest.mark.parametrize(("roll", "pitch"), [(0.0, 0.0), (25.0, 0.0), (-40.0, 15.0), (10.0, -60.0)])
def test_angles_are_the_tilt_in_the_datasheets_z_y_x_convention(roll: float, pitch: float) -> None:
    out = samples(make(Motion(roll=roll * DEG, pitch=pitch * DEG)).advance(2.0))
    np.testing.assert_allclose(out.angles[:, 0], roll * DEG, atol=0.2 * DEG)
    np.testing.assert_allclose(out.angles[:, 1], pitch * DEG, atol=0.2 * DEG)


def test_yaw_follows_a_turn_about_the_vertical() -> None:
    rate = 30 * DEG  # rad/s about the sensor z, which is vertical when level
    out = samples(make(Motion(gyr=(0.0, 0.0, rate))).advance(3.0))
    yaw = np.unwrap(out.angles[:, 2])
    np.testing.assert_allclose(np.diff(yaw), rate * 0.1, atol=0.2 * DEG)
    np.testing.assert_allclose(out.angles[:, :2], 0.0, atol=0.2 * DEG)


# --- packetisation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "mtu", "per"),
    [(0x0B, 23, 1), (0x08, 247, 1), (0x09, 247, 2), (0x0B, 247, 4), (0x0B, 63, 3)],
)
def test_frames_per_notification_follow_rate_and_mtu(code: int, mtu: int, per: int) -> None:
    emu = make(mtu=mtu)
    send(emu, 0.0, UNLOCK, rate_cmd(code))
    out = emu.advance(2.0)
    assert {len(n.data) for n in out} == {20 * per}
    rate = {0x08: 50, 0x09: 100, 0x0B: 200}[code]
    # The new clock starts with a sample at the write (t = 0); each packet leaves when its
    # last frame is taken, so a group still filling at 2.0 s waits.
    assert len(out) == (2 * rate + 1) // per
    assert [n.t for n in out] == pytest.approx(
        [(k * per + per - 1) / rate for k in range(len(out))]
    )
    assert len(samples(out)) == per * len(out)


def test_chunk_knob_splits_and_joins_frames_without_changing_the_bytes() -> None:
    plain, chunked = make(Motion(roll=0.2)), make(Motion(roll=0.2), chunk_sizes=(7, 20, 3, 13))
    for emu in (plain, chunked):
        send(emu, 0.0, UNLOCK, rate_cmd(0x09))
    a, b = plain.advance(1.0), chunked.advance(1.0)
    sizes = [len(n.data) for n in b]
    assert sizes[:8] == [7, 20, 3, 13, 7, 20, 3, 13]
    stream_a = b"".join(n.data for n in a)
    stream_b = b"".join(n.data for n in b)
    assert stream_a.startswith(stream_b)
    assert len(stream_a) - len(stream_b) < 20  # only the unfinished chunk is held back
    # a chunk leaves when its last byte exists: at or after that frame's sample time
    ends = np.cumsum(sizes)
    frame_time = {k: n.t for k, n in enumerate(a)}
    assert [n.t for n in b] == pytest.approx([frame_time[(e - 1) // 20] for e in ends])
    assert decode_stream([n.data for n in b]).garbage_bytes == 0


def test_register_replies_join_the_chunked_stream() -> None:
    emu = make(chunk_sizes=(15,))
    first = emu.advance(0.0)  # frame 0: one 15-byte chunk out, 5 bytes held
    replies = send(emu, 0.05, READ_RATE)  # 5 + 20 reply bytes: one more 15-byte chunk
    assert [(n.t, len(n.data)) for n in replies] == [(0.05, 15)]
    rest = emu.advance(0.1)
    stream = b"".join(n.data for n in first + replies + rest)
    assert stream[:2] == b"\x55\x61"
    assert stream[20:24] == bytes.fromhex("55 71 03 00")
    assert stream[40:42] == b"\x55\x61"
    assert len(stream) == 60


def test_disconnect_drops_what_was_not_sent() -> None:
    emu = make(chunk_sizes=(13,))
    emu.advance(0.25)
    emu.disconnect(0.25)
    emu.connect(0.3)
    out = emu.advance(0.5)
    # a fresh stream: the first notification starts with a frame header
    assert out[0].data[:2] == b"\x55\x61"


def test_same_calls_give_the_same_bytes() -> None:
    def run() -> list[tuple[float, bytes]]:
        emu = make(Motion(roll=0.1, gyr=(0.2, 0.1, -0.3)))
        send(emu, 0.3, UNLOCK, rate_cmd(0x0B))
        return [(n.t, n.data) for n in emu.advance(1.0)]

    assert run() == run()


@settings(max_examples=40, deadline=None)
@given(writes=st.lists(st.binary(max_size=24), max_size=12))
def test_arbitrary_writes_never_raise_and_streaming_continues(writes: list[bytes]) -> None:
    emu = make()
    for i, data in enumerate(writes):
        emu.write(WRITE_CHAR, data, 0.01 * i)
    out = emu.advance(1.0)
    assert out
    assert samples(out).raw.shape[1] == 9
