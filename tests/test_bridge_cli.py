"""`liftguard bridge decode`: hex notifications to SI samples, hand-derived vectors."""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys

import pytest


def decode(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "liftguard", "bridge", "decode", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_metawear_packed_acc_at_2g_on_a_bmi270() -> None:
    # BMI270 packed acc register 0x05; ±2 g is 16384 LSB/g: 16384 -> 1 g, -8192 -> -0.5 g
    payload = struct.pack("<9h", 16384, -8192, 0, 0, 0, 16384, 1, 2, 3).hex()
    out = decode("--family", "metawear", "--chip", "bmi270", "--acc-range", "2", "0305" + payload)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[0]["acc"] == pytest.approx([9.80665, -4.903325, 0.0])
    assert rows[1]["acc"] == pytest.approx([0.0, 0.0, 9.80665])


def test_metawear_gyro_at_250_dps_on_a_bmi160() -> None:
    # BMI160 single gyro register 0x05; ±250 °/s is 131.2 LSB/(°/s)
    out = decode(
        "--family",
        "metawear",
        "--gyro-range",
        "250",
        "1305" + struct.pack("<3h", 1312, 0, -1312).hex(),
    )
    (row,) = [json.loads(x) for x in out.stdout.splitlines()]
    assert row["gyr"] == pytest.approx([math.radians(10), 0.0, math.radians(-10)])


def test_dot_rate_quantities_with_device_time() -> None:
    body = struct.pack("<I6f", 123_456, 0.5, -9.81, 1.0, 90.0, 0.0, -45.0)
    out = decode("--family", "dot", "--mode", "21", (body + bytes(40 - len(body))).hex())
    assert out.returncode == 0, out.stderr
    (row,) = [json.loads(x) for x in out.stdout.splitlines()]
    assert row["t_device"] == pytest.approx(0.123456)
    assert row["acc"] == pytest.approx([0.5, -9.81, 1.0], rel=1e-6)
    assert row["gyr"] == pytest.approx([math.pi / 2, 0.0, -math.pi / 4], rel=1e-6)


def test_witmotion_frame_split_across_two_notifications() -> None:
    frame = bytes([0x55, 0x61]) + struct.pack("<9h", 0, 0, 2048, 0, 0, 16384, 0, 0, 0)
    out = decode("--family", "witmotion", frame[:7].hex(), frame[7:].hex())
    assert out.returncode == 0, out.stderr
    (row,) = [json.loads(x) for x in out.stdout.splitlines()]
    assert row["notification"] == 2
    assert row["acc"] == pytest.approx([0.0, 0.0, 9.80665])  # 2048 * 16 / 32768 g = 1 g
    assert row["gyr"][2] == pytest.approx(math.radians(1000.0))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--family", "metawear", "0304zz"], "not hex"),
        (["--family", "metawear", "0304100020"], "not bmi160 acc/gyro data"),
        (["--family", "dot", "--mode", "2", "00" * 40], "not a DOT payload of mode 2"),
        (["--family", "witmotion", "5561000000"], "incomplete frame"),
        (["--family", "polar", "00"], "--family"),
    ],
)
def test_malformed_input_is_one_line_and_a_non_zero_exit(args: list[str], message: str) -> None:
    out = decode(*args)
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr
    assert "Traceback" not in out.stderr
