"""Causal drop-landing detection from the back sensors' specific-force norms.

A drop landing (the end of a LIFTMOR jumping chin-up) has a signature no other gym movement
has: the body falls freely, so *every* accelerometer on it reads a specific force of about zero,
and then the feet hit the floor and the sacrum's reading jumps to several g within tens of
milliseconds (sheet §5: 2.5–5 g rigid, 6–8 g with skin wobble). Detection therefore needs

1. free fall: both back sensors below ``free_fall_g`` (0.2 g) for at least ``min_free_fall_s``
   (80 ms; a run of k samples lasts k sample intervals, so one sample suffices at 12.5 Hz).
   A 0.10 m drop falls for 143 ms. 0.2 g rather than a looser 0.3 g: a real free fall reads 0 g
   plus the accelerometer bias (≤ 0.1 g), whereas the bottom of the dip before the jump to the
   bar reads 0.2–0.3 g for up to ~90 ms and is followed by a push-off of 2–2.5 g (seen in the
   simulator, 30 athletes);
2. impact: the first sacral sample above ``impact_g`` (2 g) among the samples up to
   ``impact_window_s`` (100 ms) after the last free-fall sample (and always the first one).
   A landing force rises from 0 to 2 g within 10–45 ms of touchdown. The top of the jump to
   the bar also reads below 0.2 g for up to ~85 ms, but the hands then catch the bar and the
   reading returns smoothly to about 1 g: no impact follows. Below 40 Hz (samples more than
   25 ms apart) sparse samples can straddle the whole impact bump (60–150 ms wide), so there
   either sensor above ``low_rate_impact_g`` (1.3 g) in one of the first three samples after
   the fall is enough: after a real free fall the body has to land, and the braking after the
   impact keeps the sacrum at 1.1–1.6 g for a few hundred ms, whereas the catch of the bar
   after the jump's top stays below 1.1 g;
3. the peak: the largest sacral reading within ``peak_window_s`` (150 ms) of the impact sample.
   A landing is reported at the first sample after that window.

The impact time is the time of the first sample above the threshold, so its error against the
true crossing of 2 g is between 0 and one sample period (10 ms at 100 Hz); below 40 Hz, with the
lower threshold, within one period either way (80 ms at 12.5 Hz). The peak is the largest
*sample*: a peak that falls between samples is missed — at 100 Hz the skin's ring-down after the
impact (12–25 Hz, starting with a jump) often is, so the reported peak is typically ~10 % below
what the sensor really felt (5 % at 200 Hz, 45 % at 12.5 Hz, simulator).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from liftguard._types import FloatArray
from liftguard.signal._history import first_true

__all__ = ["GRAVITY", "Landing", "LandingDetector", "LandingEvent"]

#: Standard gravity, m/s² (the unit "g" of the thresholds).
GRAVITY = 9.80665


@dataclass(frozen=True)
class Landing:
    """One drop landing.

    ``t_impact``: session time (s) of the first sacral sample above 2 g after the free fall.
    ``rep``: the rep (1-based, within the set) it belongs to. ``peak_acc_g``: the largest sacral
    specific-force norm within 150 ms of the impact, in g; ``t_peak`` its time, s.
    ``free_fall_s``: how long the free fall before it lasted, s (a drop of h metres falls for
    about √(2h/g): 0.14 s for 0.10 m, 0.29 s for 0.40 m).
    """

    t_impact: float
    rep: int
    peak_acc_g: float
    t_peak: float
    free_fall_s: float = math.nan


@dataclass(frozen=True)
class LandingEvent:
    """A detected landing and where the detector decided it (for the rep counter).

    ``landing`` carries ``rep = 0`` (the detector does not count reps). ``t_free_fall`` is the
    first free-fall sample's time, s. ``index`` is the index, within the block passed to
    :meth:`LandingDetector.update`, of the sample at which the landing was decided (the first
    sample after the peak window).
    """

    landing: Landing
    t_free_fall: float
    index: int


_SEARCH, _FALLING, _AWAIT_IMPACT, _PEAK = range(4)


class LandingDetector:
    """Finds drop landings in a stream of back-sensor specific-force norms; causal, block-based.

    Every decision is taken at a sample, from that sample and earlier ones, so feeding the same
    stream in any block sizes gives the same landings. Works at any rate; a gap in the stream
    (consecutive samples more than ``max_gap_s`` apart) ends a free fall.

    Args:
        free_fall_g: both sensors below this (g) count as free fall. True free fall reads
            ≈ 0 g plus the accelerometer bias (≤ 0.1 g for ±60 mg per axis).
        min_free_fall_s: shortest free fall, s.
        impact_g: sacral reading (g) that marks the impact.
        impact_window_s: the impact must come within this long after the last free-fall sample
            (or be the next sample; one of the next three when samples are sparse), s.
        low_rate_impact_g: impact threshold (g), on either sensor, when samples are more than
            ``low_rate_dt_s`` apart (sparse samples can miss the impact's peak entirely).
        peak_window_s: the peak is looked for this long after the impact sample, s.
        max_gap_s: consecutive samples further apart than this do not continue a free fall, s.
    """

    def __init__(
        self,
        *,
        free_fall_g: float = 0.2,
        min_free_fall_s: float = 0.08,
        impact_g: float = 2.0,
        impact_window_s: float = 0.1,
        low_rate_impact_g: float = 1.3,
        low_rate_dt_s: float = 0.025,
        peak_window_s: float = 0.15,
        max_gap_s: float = 0.25,
    ) -> None:
        if not 0 < free_fall_g < 1 < low_rate_impact_g <= impact_g:
            raise ValueError("need 0 < free_fall_g < 1 < low_rate_impact_g <= impact_g")
        self.free_fall = free_fall_g * GRAVITY
        self.min_free_fall_s = float(min_free_fall_s)
        self.impact = impact_g * GRAVITY
        self.impact_window_s = float(impact_window_s)
        self.low_rate_impact = low_rate_impact_g * GRAVITY
        self.low_rate_dt_s = float(low_rate_dt_s)
        self.peak_window_s = float(peak_window_s)
        self.max_gap_s = float(max_gap_s)
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new stream)."""
        self._mode = _SEARCH
        self._prev_t = -math.inf  # time of the last sample seen
        self._ff_before = -math.inf  # sample before the free fall's first sample
        self._ff_first = 0.0
        self._ff_last = 0.0
        self._ff_dur = 0.0
        self._window_end = 0.0
        self._sparse = False
        self._t_impact = 0.0
        self._peak = -math.inf
        self._t_peak = 0.0

    def update(
        self, t: FloatArray, sacrum_acc: FloatArray, upper_acc: FloatArray
    ) -> list[LandingEvent]:
        """Feed aligned samples.

        Args:
            t: ``(N,)`` session seconds, increasing.
            sacrum_acc: ``(N,)`` specific-force norm at the sacrum sensor, m/s².
            upper_acc: ``(N,)`` the same at the T12/L1 sensor, m/s².

        Returns the landings decided in this block, in order.
        """
        n = t.shape[0]
        out: list[LandingEvent] = []
        if n == 0:
            return out
        sac = np.nan_to_num(sacrum_acc, nan=GRAVITY)
        upp = np.nan_to_num(upper_acc, nan=GRAVITY)
        low = np.maximum(sac, upp) < self.free_fall
        prev = np.concatenate([[self._prev_t], t[:-1]])
        gap = (t - prev) > self.max_gap_s
        i = 0
        while i < n:
            if self._mode == _SEARCH:
                j = first_true(low[i:], i)
                if j == n:
                    break
                self._mode = _FALLING
                self._ff_before = float(prev[j])
                self._ff_first = self._ff_last = float(t[j])
                i = j + 1
            elif self._mode == _FALLING:
                # The fall goes on while samples stay low and arrive without a gap.
                j = first_true(~low[i:] | gap[i:], i)
                if j > i:
                    self._ff_last = float(t[j - 1])
                if j == n:
                    break
                # Duration: first to last low sample plus one sample interval (the shorter of the
                # two bracketing the run, so a gap next to it does not lengthen it).
                t_after = float(t[j])
                dt = t_after - self._ff_last
                seen = self._ff_last - self._ff_first
                self._ff_dur = seen + min(self._ff_first - self._ff_before, dt)
                if gap[j] or self._ff_dur < self.min_free_fall_s - 1e-9:
                    self._mode = _SEARCH
                    i = j
                    continue
                self._mode = _AWAIT_IMPACT
                # The first sample after the fall is always eligible, the first three when samples
                # are sparse (1 µs: rounding).
                self._sparse = dt > self.low_rate_dt_s
                reach = (2.0 if self._sparse else 1.0) * dt
                self._window_end = max(self._ff_last + self.impact_window_s, t_after + reach) + 1e-6
                i = j
            elif self._mode == _AWAIT_IMPACT:
                if self._sparse:
                    high = np.maximum(sac[i:], upp[i:]) > self.low_rate_impact
                else:
                    high = sac[i:] > self.impact
                j = first_true(high | low[i:] | (t[i:] > self._window_end), i)
                if j == n:
                    break
                if t[j] > self._window_end or not high[j - i]:
                    # Too late for an impact, or falling again: start over from this sample.
                    self._mode = _SEARCH
                    i = j
                    continue
                self._mode = _PEAK
                self._t_impact = float(t[j])
                self._peak = -math.inf
                i = j
            else:  # _PEAK
                end = self._t_impact + self.peak_window_s
                j = first_true(t[i:] > end, i)
                if j > i:
                    k = i + int(np.argmax(sac[i:j]))
                    if sac[k] > self._peak:
                        self._peak = float(sac[k])
                        self._t_peak = float(t[k])
                if j == n:
                    break
                landing = Landing(
                    t_impact=self._t_impact,
                    rep=0,
                    peak_acc_g=self._peak / GRAVITY,
                    t_peak=self._t_peak,
                    free_fall_s=self._ff_dur,
                )
                out.append(LandingEvent(landing, self._ff_first, j))
                self._mode = _SEARCH
                i = j
        self._prev_t = float(t[-1])
        return out
