"""Drop-landing detection: free fall, then a sacral impact above 2 g; and what is not a landing."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from liftguard.signal.landings import GRAVITY, LandingDetector, LandingEvent
from tests.signal.simstreams import athlete, stream

G = GRAVITY
RATES = (12.5, 25.0, 60.0, 100.0, 200.0)


def trace(points: list[tuple[float, float]], rate: float = 100.0, upper: float = 0.9):
    """Piecewise-linear sacral specific force through ``(time s, g)`` points; the T12 sensor
    reads ``upper`` × the sacrum's. Returns ``t, sacrum, upper`` in s and m/s²."""
    times, values = zip(*points, strict=True)
    t = np.arange(times[0], times[-1], 1 / rate)
    sac = np.interp(t, times, values) * G
    return t, sac, upper * sac


def detect(t, sac, upp, sizes: list[int] | None = None) -> list[LandingEvent]:
    det = LandingDetector()
    if sizes is None:
        return det.update(t, sac, upp)
    out, i, k = [], 0, 0
    while i < t.size:
        j = min(t.size, i + sizes[k % len(sizes)])
        out += [
            LandingEvent(e.landing, e.t_free_fall, e.index + i)
            for e in det.update(t[i:j], sac[i:j], upp[i:j])
        ]
        i, k = j, k + 1
    return out


def drop(fall_s: float = 0.2, peak_g: float = 4.5, gap_before_impact: float = 0.0):
    """Hang at 1 g, let go, fall for ``fall_s``, land with a 60 ms impact of ``peak_g``."""
    t0 = 1.0
    td = t0 + 0.02 + fall_s
    return [
        (0.0, 1.0),
        (t0, 1.0),
        (t0 + 0.02, 0.05),
        (td, 0.05),
        (td + gap_before_impact + 0.03, peak_g),
        (td + gap_before_impact + 0.06, 1.5),
        (td + 0.5, 1.1),
        (td + 1.0, 1.0),
        (td + 2.0, 1.0),
    ]


def test_a_drop_is_one_landing_with_its_impact_and_peak() -> None:
    t, sac, upp = trace(drop())
    (event,) = detect(t, sac, upp)
    landing = event.landing
    # 2 g is crossed 1.95/4.45 of the way up the 30 ms rise from touchdown (1.22 s).
    first_above = t[np.argmax(sac > 2 * G)]
    assert landing.t_impact == pytest.approx(first_above)
    assert landing.t_peak == pytest.approx(1.25, abs=0.006)
    assert landing.peak_acc_g == pytest.approx(4.5, rel=0.02)
    assert landing.free_fall_s == pytest.approx(0.2, abs=0.02)
    assert landing.rep == 0
    # Decided at the first sample after the 150 ms peak window.
    assert t[event.index] > landing.t_impact + 0.15 >= t[event.index - 1]


def test_any_block_sizes_find_the_same_landings() -> None:
    pts = drop()
    pts += [(x + 3.0, v) for x, v in drop(0.3, 6.0)[1:]]
    t, sac, upp = trace(pts)
    whole = detect(t, sac, upp)
    assert len(whole) == 2
    rng = np.random.default_rng(3)
    for _ in range(5):
        sizes = [int(n) for n in rng.integers(1, 30, 100)]
        assert detect(t, sac, upp, sizes) == whole


def test_a_fall_shorter_than_80_ms_is_not_a_landing() -> None:
    t, sac, upp = trace(drop(fall_s=0.05))
    assert detect(t, sac, upp) == []


def test_the_top_of_the_jump_to_the_bar_is_not_a_landing() -> None:
    # Near-weightless for 120 ms, then the hands catch the bar: back to 1 g, no impact.
    pts = [(0.0, 1.0), (1.0, 1.8), (1.2, 0.1), (1.32, 0.1), (1.45, 1.05), (2.0, 1.0), (3.0, 1.0)]
    t, sac, upp = trace(pts)
    assert detect(t, sac, upp) == []


def test_the_dip_before_the_jump_is_not_a_landing() -> None:
    # Dipping fast reads about 0.25 g for 90 ms; the push-off reaches 2.3 g 100 ms later.
    pts = [(0.0, 1.0), (1.0, 0.25), (1.09, 0.25), (1.19, 2.3), (1.3, 1.5), (2.0, 1.0)]
    t, sac, upp = trace(pts, upper=1.0)
    assert detect(t, sac, upp) == []


def test_an_impact_too_long_after_the_fall_is_not_a_landing() -> None:
    t, sac, upp = trace(drop(gap_before_impact=0.2))
    # Between fall and impact the reading is back near 1 g (as on catching a bar) ...
    sac[(t > 1.24) & (t < 1.42)] = G
    upp[(t > 1.24) & (t < 1.42)] = G
    assert detect(t, sac, upp) == []


def test_a_gap_in_the_stream_breaks_a_fall() -> None:
    t, sac, upp = trace(drop(fall_s=0.12))
    keep = (t < 1.08) | (t > 1.4)  # the middle of the fall is missing
    assert detect(t[keep], sac[keep], upp[keep]) == []


def test_missing_readings_do_not_crash_it() -> None:
    t, sac, upp = trace(drop())
    sac[50] = np.nan
    upp[60] = np.nan
    assert len(detect(t, sac, upp)) == 1


# --- against the simulator ------------------------------------------------------------------------
def truth_2g(a, landing) -> float:
    """First instant (0.1 ms grid) the sacral sensor's true specific force exceeds 2 g."""
    grid = landing.t_touchdown + 1e-4 * np.arange(1500)
    f = np.linalg.norm(a.sensors["sacrum"].ideal(grid)[0], axis=1) / G
    return float(grid[np.argmax(f > 2.0)])


def seeds_at(rate: float) -> range:
    """All ten athletes at 100 Hz, every other one at the other rates (the streams are shared
    with the rep-counter tests, which use the same seeds)."""
    return range(10) if rate == 100.0 else range(0, 10, 2)


@cache
def matched(rate: float):
    """(athlete, truth landing, detected landing) for :func:`seeds_at`, and the unmatched
    detections."""
    pairs, extra = [], 0
    for seed in seeds_at(rate):
        a = athlete("jumping_chinup", seed)
        s = stream("jumping_chinup", seed, rate)
        found = [e.landing for e in detect(s["t"], s["sacrum_acc"], s["upper_acc"])]
        for truth in a.landings:
            near = [f for f in found if abs(f.t_impact - truth.t_touchdown) < 0.3]
            assert len(near) == 1, f"seed {seed} landing at {truth.t_touchdown:.2f}: {near}"
            pairs.append((a, truth, near[0]))
        extra += len(found) - len(a.landings)
    return pairs, extra


@pytest.mark.parametrize("rate", RATES)
def test_every_drop_landing_is_found_once_and_nothing_else(rate: float) -> None:
    pairs, extra = matched(rate)
    assert len(pairs) == 10 * len(seeds_at(rate))
    assert extra == 0


@pytest.mark.parametrize("rate", RATES)
def test_impact_time_is_the_first_sample_above_2g(rate: float) -> None:
    pairs, _ = matched(rate)
    period = 1.0 / rate
    errors = np.array([found.t_impact - truth_2g(a, truth) for a, truth, found in pairs])
    assert all(found.t_impact > truth.t_touchdown for _, truth, found in pairs)
    if rate >= 60:
        # Within 20 ms of the true crossing of 2 g (at most one sample late, plus jitter).
        assert np.abs(errors).max() < 0.020
    else:
        # Below 40 Hz a sample can straddle the impact; the first sample above 1.3 g is
        # taken, at most one sample interval before or after the true crossing of 2 g.
        assert np.abs(errors).max() < period + 0.005


# At 200 Hz the sampled peak is within 15 % of the true peak (1 kHz) for ≥ 85 % of landings; at
# 100 Hz the skin's 12–25 Hz ring-down, which starts with a jump of 0.5–2 g, is often missed
# between samples. Measured (seeds 0–9): median ratio 0.95 at 200 Hz (90 % within 15 %), 0.88 at
# 100 Hz (66 % within 15 %).
PEAK_LIMITS = {200.0: (0.85, 0.25), 100.0: (0.6, 0.4)}


@pytest.mark.parametrize("rate", sorted(PEAK_LIMITS))
def test_landing_peak_is_near_the_true_sensor_peak(rate: float) -> None:
    pairs, _ = matched(rate)
    ratio = np.array([f.peak_acc_g / truth.sensor_peak_g["sacrum"] for _, truth, f in pairs])
    share, worst = PEAK_LIMITS[rate]
    assert np.mean(np.abs(ratio - 1) <= 0.15) >= share
    assert np.abs(ratio - 1).max() <= worst
    # Never above what the sensor really felt (beyond noise and bias).
    assert ratio.max() < 1.1


def test_a_whole_session_has_landings_only_at_the_drop_landings() -> None:
    # Walking, sitting, turning, bending, deadlifts, squats, presses: nothing but the 25 drops.
    for seed in (0, 1):
        a = athlete("liftmor", seed)
        s = stream("liftmor", seed, 25.0)
        found = detect(s["t"], s["sacrum_acc"], s["upper_acc"])
        assert len(found) == len(a.landings)
        for event, truth in zip(found, a.landings, strict=True):
            assert 0 < event.landing.t_impact - truth.t_touchdown < 0.2
