"""Drop landings: the closed-form path obeys free fall, momentum and the requested peak."""

from __future__ import annotations

import math

import numpy as np
import pytest

from liftguard.sim.imu import GRAVITY
from liftguard.sim.landing import ImpactTrack, delayed_landing, solve_landing

G = GRAVITY
CASES = [
    # drop m, peak g, time to peak s, absorption s
    (0.10, 2.5, 0.06, 0.6),
    (0.25, 3.8, 0.05, 0.5),
    (0.40, 4.5, 0.07, 0.8),
    (0.20, 5.0, 0.03, 0.3),
    (0.40, 6.0, 0.03, 0.3),
]


@pytest.mark.parametrize(("drop", "peak_g", "tp", "absorb"), CASES)
def test_displacement_velocity_and_force_are_one_path(
    drop: float, peak_g: float, tp: float, absorb: float
) -> None:
    prof = solve_landing(drop, peak_g * G, tp, absorb)
    u = np.arange(-0.05, prof.end_s + 0.1, 1e-5)
    z, v, f = prof.evaluate(u), prof.evaluate(u, 1), prof.evaluate(u, 2)
    v_fd = np.gradient(z, u)
    a_fd = np.gradient(v_fd, u)
    np.testing.assert_allclose(v_fd[2:-2], v[2:-2], atol=1e-6)
    np.testing.assert_allclose(a_fd[4:-4] + G, f[4:-4], atol=2e-3)
    # Hanging before, standing after: at rest, 1 g.
    assert f[0] == G and f[-1] == G and v[-1] == 0.0 and v[0] == 0.0
    assert z[-1] == pytest.approx(prof.net_m) and prof.net_m == pytest.approx(-drop - prof.depth_m)


@pytest.mark.parametrize(("drop", "peak_g", "tp", "absorb"), CASES)
def test_free_fall_reads_zero_and_lasts_sqrt_2h_over_g(
    drop: float, peak_g: float, tp: float, absorb: float
) -> None:
    prof = solve_landing(drop, peak_g * G, tp, absorb, release_s=0.025)
    flight = np.linspace(prof.release_s, prof.touchdown_s, 200)
    assert np.abs(prof.evaluate(flight, 2)).max() < 1e-9
    # From the middle of the release to touchdown the body falls as if dropped from rest.
    assert prof.free_fall_s == pytest.approx(math.sqrt(2 * drop / G), abs=1e-3)
    assert -prof.evaluate(np.array([prof.touchdown_s]))[0] == pytest.approx(drop, abs=1e-12)
    assert prof.v_touchdown == pytest.approx(math.sqrt(2 * G * drop), rel=0.01)


@pytest.mark.parametrize(("drop", "peak_g", "tp", "absorb"), CASES)
def test_the_landing_peaks_as_requested_and_stops_the_body(
    drop: float, peak_g: float, tp: float, absorb: float
) -> None:
    prof = solve_landing(drop, peak_g * G, tp, absorb)
    assert prof.peak / G == pytest.approx(peak_g, rel=0.01)
    assert 0.6 * tp <= prof.time_to_peak_s <= 1.4 * tp
    assert 0.05 < prof.depth_m < 0.5  # the pelvis sinks as the legs absorb
    land = prof.touchdown_s + np.linspace(0.0, absorb, 2001)
    f = prof.evaluate(land, 2)
    after = land >= prof.touchdown_s + prof.time_to_peak_s
    assert f.min() >= -1e-9 and f[after].min() > 0.5 * G  # feet push, never pull
    assert prof.evaluate(land, 1).max() <= 1e-9  # the body never bounces up


def test_t12_landing_is_later_and_ends_where_the_sacrum_does() -> None:
    sacrum = solve_landing(0.3, 4.0 * G, 0.05, 0.6)
    for delay in (0.005, 0.01, 0.013):
        upper = delayed_landing(sacrum, delay)
        assert upper.net_m == pytest.approx(sacrum.net_m, abs=1e-12)
        assert 0.5 * delay < upper.time_to_peak_s - sacrum.time_to_peak_s < 2.0 * delay
        u = upper.touchdown_s + np.linspace(0.0, upper.absorb_s, 3001)
        shorter = sacrum.evaluate(u) - upper.evaluate(u)
        assert shorter.max() == pytest.approx(upper.compression_m, abs=1e-4)
        assert upper.compression_m < 0.03  # the T12–S1 span shortens by at most a few cm


def test_impact_track_accumulates_landings_and_differentiates_consistently() -> None:
    a = solve_landing(0.2, 3.5 * G, 0.05, 0.5)
    b = solve_landing(0.3, 4.5 * G, 0.04, 0.4)
    track = ImpactTrack([(1.0, a), (4.0, b)])
    t = np.arange(0.0, 6.0, 1e-4)
    z = track.evaluate(t)
    assert z[0] == 0.0 and z[-1] == pytest.approx(a.net_m + b.net_m)
    assert np.abs(np.diff(z)).max() < 5e-4  # continuous
    acc = track.evaluate(t, 2)
    np.testing.assert_allclose(np.gradient(np.gradient(z, t), t)[5:-5], acc[5:-5], atol=0.05)
    with pytest.raises(ValueError):
        ImpactTrack([(1.0, a), (1.2, b)])
