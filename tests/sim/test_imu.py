"""The IMU model: determinism, chunking, noise, bias and mounting."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from liftguard.sim import SimulatedAthlete, build_deadlift_athlete
from liftguard.sim.imu import (
    ACC_NOISE_DENSITY,
    GRAVITY,
    GYR_BIAS_RANGE,
    GYR_NOISE_DENSITY,
    hashed_normals,
)
from liftguard.sim.quat import quat_matrix, quat_mul


def _athlete(seed: int, **kw: object) -> SimulatedAthlete:
    return build_deadlift_athlete(f"a{seed}", seed, duration=60.0, **kw)  # type: ignore[arg-type]


@cache
def _times() -> np.ndarray:
    return np.arange(0.0, 60.0, 0.01)


def test_same_seed_gives_bit_identical_signals_and_truth() -> None:
    a, b = _athlete(3), _athlete(3)
    t = _times()
    for placement in ("upper", "sacrum"):
        acc_a, gyr_a = a.sensors[placement].imu(t)
        acc_b, gyr_b = b.sensors[placement].imu(t)
        np.testing.assert_array_equal(acc_a, acc_b)
        np.testing.assert_array_equal(gyr_a, gyr_b)
        np.testing.assert_array_equal(a.sensor_quat(placement, t), b.sensor_quat(placement, t))
    assert a.params == b.params
    assert a.reps == b.reps
    assert a.inputs == b.inputs
    assert a.phases == b.phases
    assert a.end_time == b.end_time
    np.testing.assert_array_equal(a.lumbar_flexion_deg(t), b.lumbar_flexion_deg(t))


def test_different_seeds_give_different_signals_and_truth() -> None:
    a, b = _athlete(3), _athlete(4)
    t = _times()
    assert a.params != b.params
    assert [r.t_start for r in a.reps] != [r.t_start for r in b.reps]
    assert not np.array_equal(a.sensors["upper"].mounting, b.sensors["upper"].mounting)
    assert not np.allclose(a.lumbar_flexion_deg(t), b.lumbar_flexion_deg(t))
    assert not np.allclose(a.sensors["sacrum"].imu(t)[0], b.sensors["sacrum"].imu(t)[0])


def test_the_two_sensors_of_one_athlete_have_independent_errors() -> None:
    a = _athlete(5)
    up, sac = a.sensors["upper"], a.sensors["sacrum"]
    assert not np.array_equal(up.mounting, sac.mounting)
    assert not np.array_equal(up.gyr_bias, sac.gyr_bias)
    assert up.noise_key != sac.noise_key


def test_chunked_calls_equal_one_big_call() -> None:
    t = np.arange(0.0, 30.0, 0.01)
    whole = {p: s.imu(t) for p, s in _athlete(7).sensors.items()}
    chunked = _athlete(7)
    rng = np.random.default_rng(0)
    pieces: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"upper": [], "sacrum": []}
    start = 0
    while start < t.size:
        stop = min(t.size, start + int(rng.integers(1, 31)))  # the emulator's 1–30 sample blocks
        for placement, sensor in chunked.sensors.items():
            pieces[placement].append(sensor.imu(t[start:stop]))
        start = stop
    for placement, (acc, gyr) in whole.items():
        np.testing.assert_array_equal(np.concatenate([p[0] for p in pieces[placement]]), acc)
        np.testing.assert_array_equal(np.concatenate([p[1] for p in pieces[placement]]), gyr)


def test_noise_free_signals_are_exact_and_unbiased() -> None:
    a = _athlete(2, noise=False)
    t = _times()[:500]
    for sensor in a.sensors.values():
        acc, gyr = sensor.imu(t)
        ideal_acc, ideal_gyr = sensor.ideal(t)
        np.testing.assert_array_equal(acc, ideal_acc)
        np.testing.assert_array_equal(gyr, ideal_gyr)
        assert not sensor.acc_bias.any() and not sensor.gyr_bias.any()
    # The mounting and everything else do not depend on the noise switch.
    noisy = _athlete(2)
    assert noisy.reps == a.reps
    np.testing.assert_array_equal(noisy.sensors["upper"].mounting, a.sensors["upper"].mounting)


def test_at_rest_the_accelerometer_reads_gravity_and_the_gyro_its_bias() -> None:
    for seed in range(5):
        a = _athlete(seed)
        t_cal = a.inputs[0].t
        t = np.arange(t_cal, t_cal + 3.0, 0.01)  # "stand tall and still"
        for sensor in a.sensors.values():
            acc, gyr = sensor.imu(t)
            norm = np.linalg.norm(acc - sensor.acc_bias, axis=1)
            # Postural sway (< 0.5°, < 0.6 Hz) adds at most ~0.1 m/s² of linear acceleration.
            assert np.abs(norm - GRAVITY).max() < 0.15
            assert abs(norm.mean() - GRAVITY) < 0.02
            # Sway rotates by < 1° in 3 s, so the mean rate is within 0.35 °/s of the bias.
            assert np.degrees(np.abs(gyr.mean(axis=0) - sensor.gyr_bias)).max() < 0.35
            # Still means still: no sample more than a few °/s off the bias.
            assert np.degrees(np.linalg.norm(gyr - sensor.gyr_bias, axis=1)).max() < 3.0


def test_biases_lie_in_their_documented_ranges() -> None:
    for seed in range(10):
        for sensor in build_deadlift_athlete(
            "b", seed, duration=30.0, acc_bias_g=0.05
        ).sensors.values():
            mags = np.abs(sensor.gyr_bias)
            assert np.all((mags >= GYR_BIAS_RANGE[0]) & (mags <= GYR_BIAS_RANGE[1]))
            assert np.all(np.abs(sensor.acc_bias) <= 0.05 * GRAVITY)


@pytest.mark.parametrize("rate_hz", [100.0, 200.0])
def test_white_noise_has_the_datasheet_density_at_the_sample_rate(rate_hz: float) -> None:
    sensor = _athlete(1).sensors["sacrum"]
    t = np.arange(0.0, 60.0, 1.0 / rate_hz)
    acc, gyr = sensor.imu(t)
    ideal_acc, ideal_gyr = sensor.ideal(t)
    acc_noise = acc - ideal_acc - sensor.acc_bias
    gyr_noise = gyr - ideal_gyr - sensor.gyr_bias
    np.testing.assert_allclose(acc_noise.mean(axis=0), 0.0, atol=5e-4)
    np.testing.assert_allclose(gyr_noise.mean(axis=0), 0.0, atol=5e-5)
    np.testing.assert_allclose(
        acc_noise.std(axis=0), ACC_NOISE_DENSITY * np.sqrt(rate_hz / 2), rtol=0.05
    )
    np.testing.assert_allclose(
        gyr_noise.std(axis=0), GYR_NOISE_DENSITY * np.sqrt(rate_hz / 2), rtol=0.05
    )
    # White: consecutive samples uncorrelated.
    x = acc_noise[:, 0]
    assert abs(np.corrcoef(x[1:], x[:-1])[0, 1]) < 0.03


def test_hashed_normals_are_standard_independent_and_keyed() -> None:
    index = np.arange(-50_000, 50_000, dtype=np.int64)
    z = hashed_normals(12345, index)
    assert z.shape == (index.size, 6)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=0.02)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=0.02)
    corr = np.corrcoef(z.T)
    assert np.abs(corr - np.eye(6)).max() < 0.02
    np.testing.assert_array_equal(hashed_normals(12345, index[::7]), z[::7])
    assert not np.allclose(hashed_normals(12346, index[:100]), z[:100])
    # Tail: about 0.27 % of draws beyond 3σ.
    assert 0.002 < np.mean(np.abs(z) > 3.0) < 0.0035


def test_sensor_orientation_is_segment_orientation_times_mounting() -> None:
    mounting = np.array([0.5, 0.5, -0.5, 0.5])
    a = build_deadlift_athlete("m", 9, duration=60.0, noise=False, mountings={"upper": mounting})
    np.testing.assert_array_equal(a.sensors["upper"].mounting, mounting)
    t = _times()[::50]
    np.testing.assert_allclose(
        a.sensor_quat("upper", t), quat_mul(a.segment_quat("upper", t), mounting), atol=1e-15
    )
    # The same motion seen through an identity mounting is the mounted signal rotated back.
    plain = build_deadlift_athlete(
        "m", 9, duration=60.0, noise=False, mountings={"upper": [1.0, 0.0, 0.0, 0.0]}
    )
    acc_m, gyr_m = a.sensors["upper"].imu(t)
    acc_0, gyr_0 = plain.sensors["upper"].imu(t)
    rot = quat_matrix(mounting)  # sensor axes in the segment frame
    np.testing.assert_allclose(acc_m, acc_0 @ rot, atol=1e-9)
    np.testing.assert_allclose(gyr_m, gyr_0 @ rot, atol=1e-9)


def test_imu_rejects_an_unknown_placement_and_a_bad_mounting() -> None:
    from liftguard.sim.imu import SimulatedImu

    body = _athlete(0).body
    with pytest.raises(ValueError):
        SimulatedImu(body, "wrist", [1.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        SimulatedImu(body, "upper", [0.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        _athlete(0).sensor_quat("thigh", np.zeros(1))
