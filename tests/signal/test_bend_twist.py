"""Lateral bend and axial twist from known rotations: mounting-free, and twist immune to the two
filters' unrelated, drifting headings once aligned."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

from liftguard.signal.calibration import SegmentFrame
from liftguard.signal.spine import (
    bend_and_twist,
    lateral_inclination,
    left_axis,
    nlerp,
    sagittal_inclination,
    up_in_sensor,
)

MOUNTS = {
    "aligned": Rotation.identity(),
    "upside_down": Rotation.from_euler("x", 180, degrees=True),
    "arbitrary": Rotation.from_euler("zyx", [37, -112, 151], degrees=True),
}


def segment(heading: float, theta: float, phi: float = 0.0, tau: float = 0.0) -> Rotation:
    """Segment-to-world ``Rz(heading) Ry(theta) Rx(phi) Rz(tau)``, degrees (the simulator's
    and the spine module's Cardan sequence)."""
    return Rotation.from_euler("ZYX", [heading, theta, phi], degrees=True) * Rotation.from_euler(
        "z", tau, degrees=True
    )


def frame_for(mount: Rotation) -> SegmentFrame:
    """Calibrate a sensor mounted by ``mount`` (sensor-to-segment) as the two-step procedure
    would: neutral upright, then a 60° forward bend."""
    neutral = (segment(0, 0) * mount).inv().apply([0, 0, 1])
    bent = (segment(0, 60) * mount).inv().apply([0, 0, 1])
    return SegmentFrame.from_neutral_and_bend(neutral, bent)


def quat(r: Rotation) -> np.ndarray:
    return np.atleast_2d(r.as_quat(scalar_first=True))


def test_left_axis_completes_a_right_handed_frame() -> None:
    f = frame_for(MOUNTS["arbitrary"])
    m = np.column_stack([f.forward, left_axis(f), f.up])
    np.testing.assert_allclose(m.T @ m, np.eye(3), atol=1e-12)
    assert np.linalg.det(m) == pytest.approx(1.0)


@pytest.mark.parametrize("mount", list(MOUNTS))
def test_lateral_inclination_is_the_cardan_phi_at_any_forward_inclination(mount: str) -> None:
    m = MOUNTS[mount]
    f = frame_for(m)
    rng = np.random.default_rng(5)
    for _ in range(30):
        theta, phi = rng.uniform(-20, 80), rng.uniform(-15, 15)
        up = up_in_sensor(quat(segment(rng.uniform(-180, 180), theta, phi) * m))
        assert np.degrees(lateral_inclination(up, f))[0] == pytest.approx(phi, abs=1e-9)
        assert np.degrees(sagittal_inclination(up, f))[0] == pytest.approx(
            np.degrees(
                np.arctan2(
                    np.sin(np.radians(theta)), np.cos(np.radians(theta)) * np.cos(np.radians(phi))
                )
            ),
            abs=1e-9,
        )


def reference(ru: Rotation, rs: Rotation, offset_deg: float) -> tuple[float, float]:
    """Slow and plain: the relative rotation's Y-X-Z Cardan bend and twist with scipy."""
    rel = rs.inv() * Rotation.from_euler("z", offset_deg, degrees=True) * ru
    _, bend, twist = rel.as_euler("YXZ", degrees=True)
    return float(bend), float(twist)


@pytest.mark.parametrize("upper_mount", list(MOUNTS))
@pytest.mark.parametrize("sacrum_mount", ["aligned", "arbitrary"])
def test_bend_and_twist_match_the_reference_for_any_mounting_and_world_headings(
    upper_mount: str, sacrum_mount: str
) -> None:
    mu, ms = MOUNTS[upper_mount], MOUNTS[sacrum_mount]
    fu, fs = frame_for(mu), frame_for(ms)
    rng = np.random.default_rng(11)
    for _ in range(30):
        heading = rng.uniform(-180, 180)
        world_u, world_s = rng.uniform(-180, 180), rng.uniform(-180, 180)  # each filter's own
        pelvis = segment(heading, rng.uniform(-10, 40), rng.uniform(-5, 5), rng.uniform(-5, 5))
        tau, phi = rng.uniform(-20, 20), rng.uniform(-10, 10)
        upper = pelvis * segment(0, rng.uniform(-15, 50), phi, tau)
        su = Rotation.from_euler("z", world_u, degrees=True) * upper * mu
        ss = Rotation.from_euler("z", world_s, degrees=True) * pelvis * ms
        offset = world_s - world_u
        bend, twist = bend_and_twist(quat(su), quat(ss), fu, fs, np.radians(offset))
        # The upper segment relative to the pelvis is exactly Ry Rx(phi) Rz(tau).
        assert np.degrees(bend[0]) == pytest.approx(phi, abs=1e-9)
        assert np.degrees(twist[0]) == pytest.approx(tau, abs=1e-9)
        assert (np.degrees(bend[0]), np.degrees(twist[0])) == pytest.approx(
            reference(su * mu.inv(), ss * ms.inv(), offset), abs=1e-9
        )


def test_a_wrong_world_offset_reads_as_twist_of_the_same_size_when_upright() -> None:
    f = frame_for(Rotation.identity())
    q = quat(segment(30, 0))
    bend, twist = bend_and_twist(q, q, f, f, np.radians(4.0))
    assert np.degrees(twist[0]) == pytest.approx(4.0, abs=1e-9)
    assert np.degrees(bend[0]) == pytest.approx(0.0, abs=1e-9)


def test_nlerp_is_within_a_hundredth_of_a_degree_of_slerp() -> None:
    rng = np.random.default_rng(2)
    ts = np.arange(0.0, 2.0, 0.01)
    # A sensor turning at up to 500 °/s: 5° between samples.
    rv = np.cumsum(rng.normal(0, 0.05, (ts.size, 3)), axis=0)
    rots = Rotation.from_rotvec(rv)
    qs = rots.as_quat(scalar_first=True)
    qs[::3] *= -1.0  # the same orientations, with the sign a filter may choose
    t = np.sort(rng.uniform(ts[0], ts[-1], 500))
    got = Rotation.from_quat(nlerp(t, ts, qs), scalar_first=True)
    want = Slerp(ts, rots)(t)
    assert np.degrees((got.inv() * want).magnitude()).max() < 0.01
