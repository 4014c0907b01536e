"""Lumbar flexion from known rotations: mounting-free, heading-free, drift-free."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from liftguard.samples import SampleBlock
from liftguard.signal.calibration import SegmentFrame
from liftguard.signal.orientation import OrientationEstimator
from liftguard.signal.spine import sagittal_inclination, up_in_sensor

G = 9.81

MOUNTS = {
    "aligned": Rotation.identity(),
    "upside_down": Rotation.from_euler("x", 180, degrees=True),
    "sideways": Rotation.from_euler("zy", [90, 90], degrees=True),
    "arbitrary": Rotation.from_euler("zyx", [37, -112, 151], degrees=True),
}


def segment(heading_deg: float, inclination_deg: float, neutral_tilt_deg: float) -> Rotation:
    """Segment-to-world: heading about z, then forward pitch about the body's left (+y) axis."""
    return Rotation.from_euler("z", heading_deg, degrees=True) * Rotation.from_euler(
        "y", neutral_tilt_deg + inclination_deg, degrees=True
    )


def up_seen_by(sensor_to_world: Rotation) -> np.ndarray:
    return sensor_to_world.inv().apply([0.0, 0.0, 1.0])


def frame_for(mount: Rotation, neutral_tilt: float) -> SegmentFrame:
    neutral = up_seen_by(segment(0, 0, neutral_tilt) * mount)
    bent = up_seen_by(segment(0, 60, neutral_tilt) * mount)
    return SegmentFrame.from_neutral_and_bend(neutral, bent)


def test_up_in_sensor_matches_rotation_matrix() -> None:
    rots = Rotation.random(50, random_state=1)
    quat_wxyz = rots.as_quat(scalar_first=True)
    expected = rots.inv().apply([0.0, 0.0, 1.0])
    np.testing.assert_allclose(up_in_sensor(quat_wxyz), expected, atol=1e-12)


@pytest.mark.parametrize("upper_mount", list(MOUNTS))
@pytest.mark.parametrize("sacrum_mount", ["aligned", "upside_down", "arbitrary"])
def test_flexion_is_recovered_for_any_mounting_and_heading(
    upper_mount: str, sacrum_mount: str
) -> None:
    mu, ms = MOUNTS[upper_mount], MOUNTS[sacrum_mount]
    fu, fs = frame_for(mu, -10.0), frame_for(ms, 20.0)
    rng = np.random.default_rng(3)
    for _ in range(40):
        heading = rng.uniform(-180, 180)
        pelvis = rng.uniform(-10, 60)
        flexion = rng.uniform(-15, 60)
        up_u = up_seen_by(segment(heading, pelvis + flexion, -10.0) * mu)[None]
        up_s = up_seen_by(segment(heading, pelvis, 20.0) * ms)[None]
        got = np.degrees(sagittal_inclination(up_u, fu) - sagittal_inclination(up_s, fs))[0]
        assert got == pytest.approx(flexion, abs=1e-9)


def test_flexion_sign_is_positive_forward() -> None:
    mount = MOUNTS["arbitrary"]
    frame = frame_for(mount, 0.0)
    forward = up_seen_by(segment(0, 25, 0.0) * mount)[None]
    backward = up_seen_by(segment(0, -25, 0.0) * mount)[None]
    assert np.degrees(sagittal_inclination(forward, frame))[0] == pytest.approx(25)
    assert np.degrees(sagittal_inclination(backward, frame))[0] == pytest.approx(-25)


def test_bend_that_does_not_tilt_is_rejected() -> None:
    up = np.array([0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="did not tilt"):
        SegmentFrame.from_neutral_and_bend(up, up)


def test_no_flexion_drift_over_ten_minutes_of_standing_with_gyro_bias() -> None:
    """VQF keeps inclination anchored to gravity: a biased gyro must not make flexion creep."""
    rate = 100.0
    n = int(600 * rate)
    rng = np.random.default_rng(7)
    t = np.arange(n) / rate
    poses = {
        "upper": (segment(40, 0, -10) * MOUNTS["arbitrary"]),
        "sacrum": (segment(40, 0, 20) * MOUNTS["upside_down"]),
    }
    frames = {
        "upper": frame_for(MOUNTS["arbitrary"], -10.0),
        "sacrum": frame_for(MOUNTS["upside_down"], 20.0),
    }
    incl = {}
    for name, pose in poses.items():
        acc = pose.inv().apply([0.0, 0.0, G]) + rng.normal(0, 0.012, (n, 3))
        gyr = np.radians([2.5, -1.8, 3.0]) + rng.normal(0, np.radians(0.05), (n, 3))
        est = OrientationEstimator(rate)
        quats = [
            est.update(SampleBlock(t[i : i + 500], acc[i : i + 500], gyr[i : i + 500]))
            for i in range(0, n, 500)
        ]
        incl[name] = sagittal_inclination(up_in_sensor(np.concatenate(quats)), frames[name])
    flexion = np.degrees(incl["upper"] - incl["sacrum"])
    settled = flexion[int(2 * rate) :]
    assert np.max(np.abs(settled)) < 1.0
    # and no trend: the last minute looks like the second
    assert abs(settled[-6000:].mean() - settled[:6000].mean()) < 0.3
