"""Heading re-zero at still moments (twist stays true while the filters' headings drift) and the
mounting check (a remounted sensor is caught at the next still moment; normal postures are not)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from liftguard.signal.calibration import SegmentFrame
from liftguard.signal.heading import HeadingAlignment, StillRuns
from liftguard.signal.mounting import MountingCheck
from liftguard.signal.spine import bend_and_twist

RATE = 100.0
AXES = SegmentFrame(up=np.array([0.0, 0.0, 1.0]), forward=np.array([1.0, 0.0, 0.0]))
FRAMES = {"upper": AXES, "sacrum": AXES}


def q(r: Rotation) -> np.ndarray:
    return r.as_quat(scalar_first=True)


def blocks(n: int, size: int):
    for i in range(0, n, size):
        yield slice(i, min(n, i + size))


# --- still runs -------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [1, 7, 1000])
def test_still_runs_measure_each_run_from_its_first_sample_across_blocks(size: int) -> None:
    t = np.arange(0.0, 10.0, 0.01)
    still = (t > 2.0) & (t < 5.0) | (t > 6.0)
    runs = StillRuns()
    lasted = np.concatenate([runs.update(t[s], still[s]) for s in blocks(t.size, size)])
    assert np.all(lasted[~still] == -1.0)
    assert lasted[np.searchsorted(t, 4.5)] == pytest.approx(4.5 - 2.01, abs=1e-9)
    assert lasted[-1] == pytest.approx(t[-1] - 6.01, abs=1e-9)


# --- heading alignment --------------------------------------------------------------------------
def drifting_session(drift_deg_per_min: float, twist_deg: np.ndarray, t: np.ndarray):
    """Both segments upright, facing 40°; the upper segment twisted by ``twist_deg`` (N,); the
    sacrum filter's world turns relative to the upper's at ``drift_deg_per_min``."""
    drift = drift_deg_per_min * t / 60.0
    upper = Rotation.from_euler("z", (40.0 + twist_deg)[:, None], degrees=True)
    sacrum = Rotation.from_euler(
        "z", (40.0 + 25.0 + drift)[:, None], degrees=True
    )  # world offset 25°
    return q(upper), q(sacrum)


@pytest.mark.parametrize("size", [7, 100_000])
def test_twist_is_re_zeroed_at_still_moments_so_heading_drift_does_not_accumulate(
    size: int,
) -> None:
    t = np.arange(0.0, 600.0, 1 / RATE)
    # A 10° twist in the last 10 s of each minute (a set); still and upright otherwise.
    twisting = (t % 60.0) >= 50.0
    true_twist = np.where(twisting, 10.0, 0.0)
    qu, qs = drifting_session(3.0, true_twist, t)
    align = HeadingAlignment()
    align.calibrated(qu[0], qs[0], FRAMES)
    offsets = np.concatenate(
        [align.update(t[s], qu[s], qs[s], FRAMES, ~twisting[s]) for s in blocks(t.size, size)]
    )
    got = np.degrees(bend_and_twist(qu, qs, AXES, AXES, offsets)[1])
    # Without re-zeroing the error would grow to 30° after 10 min; with it, at most the drift
    # since the last still moment.
    err = got - true_twist
    assert np.abs(err).max() < 3.0
    # Re-zeroed every 2 s of stillness, last at 48 s into each minute: 12 s of drift by 60 s.
    assert np.abs(err[twisting]).max() == pytest.approx(3.0 * 12.0 / 60.0, abs=0.02)
    stuck = np.degrees(bend_and_twist(qu, qs, AXES, AXES, np.radians(25.0))[1])
    assert np.abs(stuck - true_twist).max() > 25.0


def test_the_offset_is_unknown_until_calibrated_or_a_still_moment() -> None:
    t = np.arange(0.0, 5.0, 1 / RATE)
    qu, qs = drifting_session(0.0, np.zeros(t.size), t)
    align = HeadingAlignment(still_s=2.0)
    offsets = align.update(t, qu, qs, FRAMES, np.ones(t.size, bool))
    assert np.isnan(offsets[t < 1.99]).all()
    assert np.degrees(offsets[t > 2.01]) == pytest.approx(25.0)


# --- mounting check ----------------------------------------------------------------------------
def check(size: int = 50, **angles: np.ndarray) -> tuple[float, str] | None:
    n = angles["still"].size
    t = np.arange(n) / RATE
    zero = np.zeros(n)
    m = MountingCheck()
    fields = ("tilt_u", "tilt_s", "lat_s", "flexion", "bend")
    arrays = [angles.get(k, zero) for k in fields]
    for s in blocks(n, size):
        got = m.update(t[s], angles["still"][s], *(a[s] for a in arrays))
        if got is not None:
            return got
    return None


def test_standing_and_sitting_still_are_plausible() -> None:
    n = 1000
    still = np.ones(n, bool)
    assert check(still=still) is None
    # slumped on a bench: pelvis 15° back, lumbar flexion 30°
    assert (
        check(
            still=still, tilt_u=np.full(n, 15.0), tilt_s=np.full(n, 15.0), flexion=np.full(n, 30.0)
        )
        is None
    )


@pytest.mark.parametrize("size", [1, 50, 5000])
def test_a_sensor_reading_sideways_through_a_still_moment_is_caught(size: int) -> None:
    n = 1000
    t = np.arange(n) / RATE
    still = t >= 3.0  # moving until 3 s, then still
    lat = np.full(n, 25.0)  # the sacrum sensor was re-stuck turned 25° about the spine's axis
    got = check(size, still=still, lat_s=lat, tilt_s=lat, bend=-lat)
    assert got is not None
    t_flag, why = got
    assert t_flag == pytest.approx(5.0, abs=0.011)
    assert "pelvis reads 25° sideways" in why and "recalibrate" in why


def test_a_lateral_bend_held_through_a_still_moment_is_caught() -> None:
    n = 600
    got = check(still=np.ones(n, bool), bend=np.full(n, 24.0), tilt_u=np.full(n, 24.0))
    assert got is not None and "lateral bend reads 24°" in got[1]


def test_an_extended_reading_while_still_is_caught() -> None:
    n = 600
    got = check(still=np.ones(n, bool), flexion=np.full(n, -30.0), tilt_s=np.full(n, 30.0))
    assert got is not None and "extension reads 30°" in got[1]


def test_a_brief_sideways_lean_inside_a_still_moment_is_not_a_slip() -> None:
    n = 1000
    lat = np.zeros(n)
    lat[200:400] = 20.0  # leaning on the rack for 2 s, then upright, all without moving much
    assert check(still=np.ones(n, bool), lat_s=lat) is None


def test_lying_down_is_not_judged() -> None:
    n = 600
    flat = np.full(n, 90.0)
    assert (
        check(
            still=np.ones(n, bool), tilt_u=flat, tilt_s=flat, lat_s=flat, flexion=np.full(n, -40.0)
        )
        is None
    )


def test_it_flags_once_per_calibration() -> None:
    n = 1000
    t = np.arange(n) / RATE
    m = MountingCheck()
    still, zero, sideways = np.ones(n, bool), np.zeros(n), np.full(n, 20.0)
    args = [still, zero, sideways, sideways, zero, zero]
    assert m.update(t, *args) is not None
    assert m.update(t + 10, *args) is None
    m.reset()
    assert m.update(t + 20, *args) is not None


def test_a_twist_held_still_is_kept_not_re_zeroed_until_it_becomes_a_rest() -> None:
    t = np.arange(0.0, 30.0, 1 / RATE)
    twist = np.where(t > 10.0, 15.0, 0.0)  # turns 15° at 10 s and stands so, still
    qu, qs = drifting_session(0.0, twist, t)
    align = HeadingAlignment()
    align.calibrated(qu[0], qs[0], FRAMES)
    offsets = align.update(t, qu, qs, FRAMES, t > 10.0)
    got = np.degrees(bend_and_twist(qu, qs, AXES, AXES, offsets)[1])
    assert got[(t > 10.0) & (t < 19.9)] == pytest.approx(15.0, abs=1e-6)
    assert got[t > 20.1] == pytest.approx(0.0, abs=1e-6)  # 10 s still: taken as a rest


def test_a_rest_re_zeroes_even_a_large_heading_error() -> None:
    # The filters' headings parted by 12° over a set; then the athlete rests, still, for 15 s.
    t = np.arange(0.0, 30.0, 1 / RATE)
    qu, qs = drifting_session(0.0, np.zeros(t.size), t)
    align = HeadingAlignment()
    align.calibrated(qu[0], qs[0], FRAMES)
    align.offset += np.radians(12.0)
    offsets = align.update(t, qu, qs, FRAMES, np.ones(t.size, bool))
    got = np.degrees(bend_and_twist(qu, qs, AXES, AXES, offsets)[1])
    assert np.abs(got[t < 9.9]).min() == pytest.approx(12.0, abs=1e-6)  # a held twist? not yet
    assert got[t >= 10.0] == pytest.approx(0.0, abs=1e-6)  # a rest: re-zeroed
