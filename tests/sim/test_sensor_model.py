"""The per-placement sensor model: families, saturation, slips, skin wobble, drift, jitter."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

from liftguard.sim import SimulatedAthlete
from liftguard.sim.imu import (
    GRAVITY,
    SENSOR_FAMILIES,
    SimulatedImu,
    SoftTissueBurst,
    _RandomWalk,
)
from liftguard.sim.liftmor import build_session_athlete
from liftguard.sim.quat import quat_conj, quat_mul, quat_rotate, quat_to_rotvec

FAMILIES = {"upper": "metawear", "sacrum": "dot", "wrist": "witmotion"}


@cache
def _jumper(noise: bool = True) -> SimulatedAthlete:
    return build_session_athlete(
        "j",
        7,
        program=[("jumping_chinup", 1, 2)],
        families=FAMILIES,
        noise=noise,
        slips={"upper": [30.0]},
    )


def test_family_sensors_draw_their_errors_inside_the_documented_ranges() -> None:
    deg = math.pi / 180.0
    for seed in range(6):
        a = build_session_athlete("f", seed, program=[("squat", 1, 1)], families=FAMILIES)
        for placement, sensor in a.sensors.items():
            spec = SENSOR_FAMILIES[FAMILIES[placement]]
            assert sensor.family == spec.name
            assert np.all(np.abs(sensor.acc_bias) >= spec.acc_bias[0] - 1e-12)
            assert np.all(np.abs(sensor.acc_bias) <= spec.acc_bias[1] + 1e-12)
            assert np.all(np.abs(sensor.gyr_bias) >= 0.5 * deg - 1e-12)
            assert np.all(np.abs(sensor.gyr_bias) <= 3.0 * deg + 1e-12)
            assert 20.0 <= abs(sensor.clock_ppm) <= 100.0
            assert 0.0 <= sensor.clock_offset_s <= 0.05
            assert 150e-6 * GRAVITY <= sensor.acc_noise_density <= 180e-6 * GRAVITY
            assert np.all(np.abs(sensor.acc_scale) <= 0.005)
            assert sensor.acc_range == pytest.approx(16 * GRAVITY)
            assert sensor.gyr_range == pytest.approx(2000 * deg)
    assert SENSOR_FAMILIES["dot"].rate_hz <= 60.0 == SENSOR_FAMILIES["dot"].rates_hz[1]
    assert SENSOR_FAMILIES["witmotion"].rates_hz == (10.0, 200.0)
    assert SENSOR_FAMILIES["metawear"].rate_hz == 100.0


@pytest.mark.parametrize("rate_hz", [60.0, 100.0, 200.0])
def test_white_noise_scales_with_each_familys_rate(rate_hz: float) -> None:
    a = _jumper()
    sensor = SimulatedImu(
        a.body,
        "sacrum",
        [1.0, 0.0, 0.0, 0.0],
        noise=True,
        noise_key=99,
        acc_noise_density=170e-6 * GRAVITY,
        gyr_noise_density=math.radians(0.009),
    )
    t = np.arange(3.0, 3.0 + 40.0, 1.0 / rate_hz)
    acc, gyr = sensor.imu(t)
    ideal_acc, ideal_gyr = sensor.ideal(t)
    np.testing.assert_allclose(
        (acc - ideal_acc).std(axis=0), 170e-6 * GRAVITY * math.sqrt(rate_hz / 2), rtol=0.08
    )
    np.testing.assert_allclose(
        (gyr - ideal_gyr).std(axis=0), math.radians(0.009) * math.sqrt(rate_hz / 2), rtol=0.08
    )


def test_saturation_is_flagged_exactly_where_the_true_specific_force_exceeds_the_range() -> None:
    a = _jumper()
    landing = a.landings[0]
    t = np.arange(landing.t_touchdown - 0.1, landing.t_touchdown + 0.4, 0.0025)
    for noise in (False, True):
        kw = {"noise": noise, "noise_key": 5, "acc_bias": (0.3, -0.2, 0.1)}
        free = SimulatedImu(a.body, "sacrum", a.sensors["sacrum"].mounting, **kw)  # type: ignore[arg-type]
        ranged = SimulatedImu(
            a.body,
            "sacrum",
            a.sensors["sacrum"].mounting,
            acc_range=2.0 * GRAVITY,
            gyr_range=math.radians(30.0),
            **kw,  # type: ignore[arg-type]
        )
        truth_acc, truth_gyr = free.imu(t)  # the same errors, never clipped
        out = ranged.measure(t)
        acc_over = np.abs(truth_acc) > 2.0 * GRAVITY
        gyr_over = np.abs(truth_gyr) > math.radians(30.0)
        assert acc_over.any() and (~acc_over).any()  # a landing does exceed ±2 g
        np.testing.assert_array_equal(out.acc_clipped, acc_over)
        np.testing.assert_array_equal(out.gyr_clipped, gyr_over)
        np.testing.assert_array_equal(out.acc[~acc_over], truth_acc[~acc_over])
        np.testing.assert_array_equal(np.abs(out.acc[acc_over]), 2.0 * GRAVITY)
        np.testing.assert_array_equal(
            ranged.clipped(t, rate_hz=400.0), acc_over.any(axis=1) | gyr_over.any(axis=1)
        )
    # A ±16 g sensor (the family default) does not clip a landing.
    assert not a.clipped("sacrum", t).any()


def test_a_slip_turns_the_mounting_by_its_rotation_and_is_in_the_truth() -> None:
    a = _jumper(noise=False)
    (slip,) = a.slips
    assert slip.placement == "upper" and slip.t_start == 30.0
    assert 2.0 <= slip.angle_deg <= 8.0 and 0.03 <= slip.t_end - slip.t_start <= 0.1
    sensor = a.sensors["upper"]
    before, after = sensor.mounting_at([slip.t_start - 0.01, slip.t_end + 0.01])
    np.testing.assert_allclose(before, sensor.mounting, atol=1e-15)
    turned = np.degrees(np.linalg.norm(quat_to_rotvec(quat_mul(quat_conj(before), after))))
    assert turned == pytest.approx(slip.angle_deg, abs=1e-9)
    # The gyro sees the slip: it integrates to the new mounting.
    dt = 1e-3
    grid = np.arange(slip.t_start - 0.05, slip.t_end + 0.05, dt)
    _, gyr = sensor.imu(grid[:-1] + dt / 2)
    q = sensor.quat(grid[:1])[0]
    for w in gyr:  # a few hundred steps only
        angle = np.linalg.norm(w) * dt
        axis = w / max(np.linalg.norm(w), 1e-300)
        q = quat_mul(q, np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * axis]))
    miss = quat_to_rotvec(quat_mul(quat_conj(sensor.quat(grid[-1:])[0]), q))
    assert np.degrees(np.linalg.norm(miss)) < 0.01


def test_soft_tissue_wobble_has_its_amplitude_frequency_and_decays_within_150_ms() -> None:
    a = _jumper(noise=False)
    body = a.body
    for damping, freq in ((0.2, 12.0), (0.5, 25.0), (0.35, 18.0)):
        burst = SoftTissueBurst(t=40.0, amplitude=1.5 * GRAVITY, frequency_hz=freq, damping=damping)
        plain = SimulatedImu(body, "sacrum", [1.0, 0.0, 0.0, 0.0])
        wobbly = SimulatedImu(body, "sacrum", [1.0, 0.0, 0.0, 0.0], bursts=[burst])
        t = np.arange(39.9, 40.6, 1e-4)
        extra = wobbly.ideal(t)[0] - plain.ideal(t)[0]
        magnitude = np.linalg.norm(extra, axis=1)
        assert magnitude[t < 40.0].max() == 0.0
        assert magnitude.max() == pytest.approx(1.5 * GRAVITY, rel=1e-3)
        assert magnitude[t > 40.15].max() < 0.12 * 1.5 * GRAVITY  # decayed within 150 ms
        # Along the world vertical: a damped oscillation u = U e^(−ζωτ)(1 − cos ω_d τ).
        world = quat_rotate(wobbly.quat(t), extra)
        w = 2 * math.pi * freq
        wd, sig = w * math.sqrt(1 - damping**2), damping * w
        tau = np.maximum(t - 40.0, 0.0)
        c, s = np.cos(wd * tau), np.sin(wd * tau)
        udd = 1.5 * GRAVITY / wd**2 * np.exp(-sig * tau)
        udd *= sig**2 * (1 - c) - 2 * sig * wd * s + wd**2 * c
        udd[t < 40.0] = 0.0
        live = (t < 40.0 - 2e-3) | (t > 40.0 + 2e-3)  # the FD step straddles the onset
        np.testing.assert_allclose(world[live, 2], udd[live], atol=1e-4 * GRAVITY)
        np.testing.assert_allclose(world[live, :2], 0.0, atol=1e-4 * GRAVITY)


def test_landing_wobble_makes_the_sensor_overshoot_the_bone() -> None:
    a = _jumper(noise=False)
    for landing in a.landings:
        assert landing.sensor_peak_g["sacrum"] > landing.peak_sacrum_g + 0.4
        assert 3.0 <= landing.sensor_peak_g["sacrum"] <= 8.0


def test_bias_random_walk_grows_like_sqrt_time_and_is_order_independent() -> None:
    sigma = np.full(6, 0.01)
    t = np.array([0.0, 0.5, 150.0, 600.0, 600.5])
    ends = np.array([_RandomWalk(key, sigma)(t) for key in range(400)])
    np.testing.assert_array_equal(ends[:, 0], 0.0)
    spread = ends[:, 3].std()
    assert spread == pytest.approx(0.01 * math.sqrt(600.0), rel=0.12)
    assert ends[:, 2].std() == pytest.approx(0.01 * math.sqrt(150.0), rel=0.12)
    # Linear between 1 s knots; a walk asked late-first gives the same values.
    walk = _RandomWalk(3, sigma)
    late = walk(np.array([5000.0, 600.5]))
    np.testing.assert_array_equal(late[1], _RandomWalk(3, sigma)(np.array([600.5]))[0])
    mid = _RandomWalk(3, sigma)(np.array([600.0, 600.5, 601.0]))
    np.testing.assert_allclose(mid[1], 0.5 * (mid[0] + mid[2]))


def test_sample_time_jitter_shifts_the_sampling_instant_by_its_sigma() -> None:
    a = _jumper(noise=False)
    jittery = SimulatedImu(
        a.body,
        "sacrum",
        [1.0, 0.0, 0.0, 0.0],
        noise=True,
        noise_key=11,
        acc_noise_density=0.0,
        gyr_noise_density=0.0,
        time_jitter_s=1e-3,
    )
    # During the calibration bend the gyro changes smoothly: the jitter is the reading's shift
    # divided by the signal's slope.
    bend = next(p for p in a.phases if p.kind == "bend")
    t = np.linspace(bend.t_start + 0.3, bend.t_end - 0.3, 3000)
    got = jittery.imu(t)[1]
    exact, slope = jittery.ideal(t)[1], np.gradient(jittery.ideal(t)[1], t, axis=0)
    axis = int(np.argmax(np.abs(slope).mean(axis=0)))
    steep = np.abs(slope[:, axis]) > 0.5 * np.abs(slope[:, axis]).max()
    shift = (got[steep, axis] - exact[steep, axis]) / slope[steep, axis]
    assert shift.std() == pytest.approx(1e-3, rel=0.2)
    assert np.abs(shift).max() < 3.3e-3


def test_session_sensors_are_deterministic_and_chunking_independent() -> None:
    landing = _jumper().landings[0]
    windows = [
        np.arange(25.0, 35.0, 0.01),  # a slip at 30 s on the upper sensor
        np.arange(landing.t_release - 1.0, landing.t_touchdown + 1.0, 1 / 60),
    ]
    again = build_session_athlete(
        "j",
        7,
        program=[("jumping_chinup", 1, 2)],
        families=FAMILIES,
        slips={"upper": [30.0]},
    )
    rng = np.random.default_rng(1)
    for t in windows:
        whole = {p: s.imu(t) for p, s in _jumper().sensors.items()}
        for placement, sensor in again.sensors.items():
            pieces = []
            start = 0
            while start < t.size:
                stop = min(t.size, start + int(rng.integers(1, 31)))
                pieces.append(sensor.imu(t[start:stop]))
                start = stop
            for k in (0, 1):
                np.testing.assert_array_equal(
                    np.concatenate([p[k] for p in pieces]), whole[placement][k]
                )
