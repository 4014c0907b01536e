"""The whole chain — IMU samples → VQF → calibration → angles — on a scripted motion with known
truth: lateral bend and axial twist follow the truth through turns of the whole body, and a
sensor remounted mid-session raises "calibration invalid" at the next still moment."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from liftguard.config import AthleteConfig, SensorConfig, SessionConfig
from liftguard.events import AlertEvent, Event
from liftguard.inputs import Calibrate
from liftguard.pipeline import Pipeline
from liftguard.samples import SampleBlock
from liftguard.signal.athlete import AngleSamples

RATE = 100.0
UPPER, SACRUM = "AA:00:00:00:00:01", "AA:00:00:00:00:02"
CONFIG = SessionConfig(
    "t", (AthleteConfig("ann", (SensorConfig("upper", UPPER), SensorConfig("sacrum", SACRUM))),)
)
MOUNT_U = Rotation.from_euler("zyx", [37, -112, 151], degrees=True)
MOUNT_S = Rotation.from_euler("x", 180, degrees=True)
REMOUNT_AT = 60.0


def ramp(t: np.ndarray, keys: list[tuple[float, float]]) -> np.ndarray:
    """Smooth (cosine) transitions through ``(time, value)`` keyframes."""
    out = np.full(t.shape, keys[0][1], dtype=float)
    for (t0, v0), (t1, v1) in itertools.pairwise(keys):
        inside = (t >= t0) & (t <= t1)
        s = (1 - np.cos(np.pi * (t[inside] - t0) / (t1 - t0))) / 2 if t1 > t0 else 1.0
        out[inside] = v0 + (v1 - v0) * s
        out[t > t1] = v1
    return out


def script(t: np.ndarray) -> dict[str, np.ndarray]:
    """Degrees. Calibration (neutral 1–4 s, bend 5–9 s), a turn of the whole body, a lift-like
    flexion with some twist and bend, a standing twist and side bend, stillness."""
    return {
        "heading": ramp(t, [(0, 10), (12, 10), (16, 100), (40, 100), (44, 40)]),
        "pelvis": ramp(t, [(0, 0), (5, 0), (7, 25), (9, 0), (22, 0), (24, 15), (30, 15), (32, 0)]),
        "lumbar": ramp(t, [(0, 0), (5, 0), (7, 40), (9, 0), (22, 0), (24, 20), (30, 20), (32, 0)]),
        "bend": ramp(
            t, [(0, 0), (22, 0), (24, 4), (30, 4), (32, 0), (46, 0), (47, -8), (50, -8), (51, 0)]
        ),
        "twist": ramp(
            t, [(0, 0), (22, 0), (24, 6), (30, 6), (32, 0), (46, 0), (47, -15), (50, -15), (51, 0)]
        ),
    }


def imu(rot: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Specific force (m/s², no linear acceleration) and body rates (rad/s) of a sensor whose
    sensor-to-world orientations are ``rot`` at ``t``."""
    r = Rotation.from_quat(rot, scalar_first=True)
    acc = r.inv().apply([0.0, 0.0, 9.81])
    dt = np.diff(t)
    step = (r[:-1].inv() * r[1:]).as_rotvec() / dt[:, None]
    gyr = np.vstack([step, step[-1:]])
    return acc, gyr


def session() -> tuple[dict[str, np.ndarray], list[AngleSamples], list[Event]]:
    t = np.arange(0.0, 80.0, 1 / RATE)
    s = script(t)
    heading = Rotation.from_euler("z", s["heading"][:, None], degrees=True)
    pelvis = heading * Rotation.from_euler("y", s["pelvis"][:, None], degrees=True)
    upper = pelvis * Rotation.from_euler(
        "YXZ", np.column_stack([s["lumbar"], s["bend"], s["twist"]]), degrees=True
    )
    # At REMOUNT_AT the upper sensor is taken off and stuck back on turned 30° about its long
    # axis — then the athlete stands still.
    turn = np.clip((t - REMOUNT_AT) / 0.5, 0.0, 1.0) * 30.0
    mount_u = MOUNT_U * Rotation.from_euler("x", turn[:, None], degrees=True)
    su = (upper * mount_u).as_quat(scalar_first=True)
    ss = (pelvis * MOUNT_S).as_quat(scalar_first=True)
    angles: list[AngleSamples] = []
    events: list[Event] = []
    p = Pipeline(CONFIG, on_event=events.append, on_angles=lambda _a, x: angles.append(x))
    for addr in (UPPER, SACRUM):
        p.sensor_connected(addr, 0.0, chip="bmi160")
    p.input(Calibrate(1.0))
    acc_u, gyr_u = imu(su, t)
    acc_s, gyr_s = imu(ss, t)
    for i in range(0, t.size, 4):  # 40 ms notifications
        part = slice(i, i + 4)
        p.feed_samples(UPPER, SampleBlock(t=t[part], acc=acc_u[part], gyr=gyr_u[part]))
        p.feed_samples(SACRUM, SampleBlock(t=t[part], acc=acc_s[part], gyr=gyr_s[part]))
    return {"t": t, **s}, angles, events


@pytest.fixture(scope="module")
def run() -> tuple[dict[str, np.ndarray], AngleSamples, list[Event]]:
    truth, blocks, events = session()
    merged = AngleSamples(
        *(
            np.concatenate([getattr(b, f) for b in blocks])
            for f in AngleSamples.__dataclass_fields__
        )
    )
    return truth, merged, events


def at(truth: dict[str, np.ndarray], key: str, t: np.ndarray) -> np.ndarray:
    return np.interp(t, truth["t"], truth[key])


def test_flexion_bend_and_twist_follow_the_truth_through_a_turn_of_the_body(run) -> None:
    truth, a, _ = run
    sel = (a.t > 10.0) & (a.t < REMOUNT_AT)
    t = a.t[sel]
    tau, phi = np.radians(at(truth, "twist", t)), np.radians(at(truth, "bend", t))
    # Flexion is read off gravity in the upper segment's own sagittal plane: twist and bend at
    # once leak into it (15° of twist with 8° of bend upright: 2°, see spine.py).
    leak = np.degrees(np.arctan2(-np.sin(tau) * np.sin(phi), np.cos(phi)))
    assert np.abs(leak).max() > 2.0
    assert np.abs(a.flexion_deg[sel] - at(truth, "lumbar", t) - leak).max() < 0.5
    assert np.abs(a.bend_deg[sel] - at(truth, "bend", t)).max() < 0.5
    assert np.abs(a.twist_deg[sel] - at(truth, "twist", t)).max() < 0.5
    # the standing twist is seen, not zeroed by the re-zero at still moments
    hold = (a.t > 47.5) & (a.t < 49.5)
    assert a.twist_deg[hold] == pytest.approx(-15.0, abs=0.5)
    assert a.bend_deg[hold] == pytest.approx(-8.0, abs=0.5)


def test_a_remounted_sensor_raises_calibration_invalid_at_the_next_still_moment(run) -> None:
    _, _, events = run
    alerts = [e for e in events if isinstance(e, AlertEvent) and e.severity == "degraded"]
    assert [a.kind for a in alerts] == ["calibration_invalid"]
    (alert,) = alerts
    # still from REMOUNT_AT + 0.5 s: judged after 2 s of stillness
    assert REMOUNT_AT + 2.0 < alert.t < REMOUNT_AT + 3.0
    assert "recalibrate" in alert.message and "monitoring degraded" in alert.message
