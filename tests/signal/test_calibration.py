"""Calibration: neutral stand + forward bend, with sensors mounted any way."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from liftguard.signal.calibration import Calibrator
from liftguard.signal.spine import sagittal_inclination

RATE = 100.0


def ups(mount: Rotation, neutral_tilt: float, incl_deg: np.ndarray, heading: float = 30.0):
    seg = Rotation.from_euler("z", heading, degrees=True) * Rotation.from_euler(
        "y", (neutral_tilt + incl_deg)[:, None], degrees=True
    )
    return (seg * mount).inv().apply([0.0, 0.0, 1.0])


def session(max_flex: float = 48.0, move_during_neutral: bool = False, bend: float = 1.0):
    """Stand (0-5 s), bend to max over 2 s, hold, return; pelvis 55° at the bottom."""
    t = np.arange(0, 14, 1 / RATE)
    s = np.interp(t, [0, 5, 7, 7.5, 9.5, 14], [0, 0, 1, 1, 0, 0]) * bend
    pelvis = 55.0 * s
    flex = max_flex * s
    if move_during_neutral:
        pelvis = pelvis + np.where((t > 2) & (t < 3), 15.0, 0.0)
    mu = Rotation.from_euler("xyz", [170, 20, -60], degrees=True)
    ms = Rotation.from_euler("xyz", [-30, 100, 45], degrees=True)
    uu, us = ups(mu, -8.0, pelvis + flex), ups(ms, 18.0, pelvis)
    gyr = np.abs(np.gradient(pelvis + flex, t)) * np.pi / 180
    return t, uu, us, gyr, flex, pelvis


def feed_all(cal: Calibrator, t, uu, us, gyr, block=10):
    out = []
    for i in range(0, t.size, block):
        s = slice(i, i + block)
        out += cal.feed(t[s], uu[s], us[s], gyr[s])
    return out


def test_neutral_then_bend_gives_frames_that_recover_flexion() -> None:
    t, uu, us, gyr, flex, _ = session()
    cal = Calibrator()
    cal.start(1.0)
    results = feed_all(cal, t, uu, us, gyr)
    assert [(r.step, r.ok) for r in results] == [("neutral", True), ("bend", True)]
    bend = results[1]
    assert bend.max_flexion_deg == pytest.approx(48.0, abs=0.01)
    got = np.degrees(
        sagittal_inclination(uu, bend.frames["upper"])
        - sagittal_inclination(us, bend.frames["sacrum"])
    )
    np.testing.assert_allclose(got, flex, atol=1e-6)
    assert not cal.active


def test_moving_during_the_still_stand_fails_the_neutral_step() -> None:
    t, uu, us, gyr, *_ = session(move_during_neutral=True)
    cal = Calibrator()
    cal.start(1.0)
    results = feed_all(cal, t, uu, us, gyr)
    assert len(results) == 1
    assert not results[0].ok and "moved" in results[0].detail


def test_no_bend_times_out_with_a_reason() -> None:
    _, uu, us, *_ = session(bend=0.0)
    t2 = np.arange(0, 25, 1 / RATE)
    n = t2.size
    cal = Calibrator(bend_timeout_s=10.0)
    cal.start(1.0)
    results = feed_all(cal, t2, np.resize(uu, (n, 3)), np.resize(us, (n, 3)), np.zeros(n))
    assert [r.step for r in results] == ["neutral", "bend"]
    assert not results[1].ok and results[1].detail == "no forward bend seen"
