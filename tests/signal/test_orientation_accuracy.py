"""Orientation accuracy under the sensor errors that bias inclination: accelerometer offsets
and an unknown gyro bias at start-up."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from liftguard.samples import SampleBlock
from liftguard.signal.orientation import OrientationEstimator
from liftguard.signal.spine import up_in_sensor

G = 9.81
RATE = 100.0


def _pitch_deg(t: np.ndarray) -> np.ndarray:
    """Stand 6 s, pitch forward to 60° over 2 s, hold 4 s (a slow bend)."""
    x = np.clip((t - 6.0) / 2.0, 0.0, 1.0)
    return 60.0 * (x * x * (3 - 2 * x))


def _pose_track(t: np.ndarray) -> Rotation:
    return Rotation.from_euler("y", _pitch_deg(t)[:, None], degrees=True)


def _run(acc_offset: np.ndarray, gyr_bias: np.ndarray, mount: Rotation, block: int) -> np.ndarray:
    t = np.arange(int(12 * RATE)) / RATE
    seg = _pose_track(t)
    sensor = seg * mount
    rng = np.random.default_rng(3)
    acc = sensor.inv().apply(np.tile([0.0, 0.0, G], (t.size, 1)))
    acc += acc_offset + rng.normal(0, 0.012, acc.shape)
    # angular rate of the pitch, sensor frame
    rate = np.gradient(np.radians(_pitch_deg(t)), t)
    gyr = mount.inv().apply(np.outer(rate, [0.0, 1.0, 0.0]))
    gyr += gyr_bias + rng.normal(0, np.radians(0.05), gyr.shape)
    est = OrientationEstimator(RATE)
    quats = [
        est.update(SampleBlock(t[i : i + block], acc[i : i + block], gyr[i : i + block]))
        for i in range(0, t.size, block)
    ]
    return up_in_sensor(np.concatenate(quats))


def _pitch_error_deg(up: np.ndarray, mount: Rotation) -> np.ndarray:
    t = np.arange(up.shape[0]) / RATE
    true_up = (_pose_track(t) * mount).inv().apply([0.0, 0.0, 1.0])
    return np.degrees(np.arccos(np.clip(np.sum(up * true_up, axis=1), -1.0, 1.0)))


def test_offset_along_the_standing_vertical_does_not_tilt_a_deep_bend() -> None:
    mount = Rotation.from_euler("zyx", [37, -112, 151], degrees=True)
    # 60 mg along the standing vertical: uncorrected, ~3° of error at a 60° bend
    vertical = mount.inv().apply([0.0, 0.0, 1.0])
    up = _run(0.6 * vertical, np.zeros(3), mount, block=7)
    err = _pitch_error_deg(up, mount)
    held = slice(int(10.5 * RATE), None)
    assert err[held].max() < 0.5


def test_startup_gyro_bias_does_not_leave_the_standing_vertical_off() -> None:
    mount = Rotation.from_euler("zx", [90, 180], degrees=True)
    up = _run(np.zeros(3), np.radians([2.5, -2.0, 3.0]), mount, block=7)
    err = _pitch_error_deg(up, mount)
    # the neutral calibration takes the vertical 2.5-5.5 s in
    assert err[int(2.5 * RATE) : int(5.5 * RATE)].max() < 0.3


def test_output_does_not_depend_on_how_the_stream_is_cut() -> None:
    mount = Rotation.from_euler("zyx", [10, 20, 30], degrees=True)
    offset = np.array([0.3, -0.4, 0.5])
    bias = np.radians([1.5, -2.5, 1.0])
    a = _run(offset, bias, mount, block=1)
    b = _run(offset, bias, mount, block=37)
    np.testing.assert_allclose(a, b, atol=1e-12)
