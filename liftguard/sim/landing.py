"""Drop landings in closed form: the vertical path of a back sensor site from release to stance.

A jumping chin-up ends by letting go of the bar. The body then falls freely and lands on both
feet. The vertical *specific force* ``f = z̈ + g`` of the sensor site (what an accelerometer reads
along the vertical) is scripted piece by piece, and the path is its exact double integral:

* release ramp ``[0, τ_r]``: the grip lets go, ``f = g·(1 − s(u/τ_r))`` (s: minimum-jerk blend);
* flight until touchdown: ``f = 0`` exactly — free fall, what an accelerometer shows as ~0 g;
* landing ``[0, T]`` after touchdown,
  ``f = g·s(u/T_R) + A·b(u; W) + B·(ρ·b(u; W₁) + (1−ρ)·b(u; T))``
  with ``b(u; w) = s′(u/w)/w`` a unit-area minimum-jerk bump. The first term is the body weight
  coming onto the legs (``T_R = 1.5 W``), ``A·b(W)`` the impact (its peak sits near ``W/2``, the
  time to peak), and the two slow bumps the eccentric absorption. Momentum fixes
  ``A + B = v_td + g·T_R/2``; ``A`` is solved so the peak equals the requested one.

Every piece is a polynomial in time, so the displacement, velocity and specific force are exact
at any instant (no numerical integration, rate-agnostic). The specific force is C1 at touchdown
(it rises from 0 with zero slope) and continuous everywhere; the body is at rest, on its feet, at
``T`` (f = g, velocity 0). The pelvis ends ``depth_m`` below its touchdown height.

The T12 site gets the same impulse with a broader, later impact bump (``W + 2δ``), which lowers
and delays its peak; its first slow bump is narrowed so it ends at the same height as the
sacrum. The price is a transient shortening of the T12–S1 skin distance of about ``A·δ``
(reported as :attr:`LandingProfile.compression_m`), see :func:`delayed_landing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from liftguard.sim._physics import GRAVITY
from liftguard.sim.tracks import min_jerk, min_jerk_integral, min_jerk_integral2

__all__ = ["ImpactTrack", "LandingProfile", "delayed_landing", "solve_landing"]

FloatArray = npt.NDArray[np.float64]

_G = GRAVITY
_SUPPORT_PER_IMPACT = 1.5  # T_R / W: body weight is on the legs by the end of the impact (A)
_PEAK_GRID_S = 2.5e-4  # grid on which the solver looks for the force peak, s
_BISECTIONS = 48


def _bump(u: FloatArray, w: float) -> FloatArray:
    """Unit-area bump of width ``w`` starting at 0, 1/s."""
    return min_jerk(np.clip(u / w, 0.0, 1.0), 1) / w


def _bump_ii(u: FloatArray, w: float) -> FloatArray:
    """Double integral of :func:`_bump` from 0, seconds."""
    tau = np.clip(u / w, 0.0, 1.0)
    return np.where(u < w, w * min_jerk_integral(tau), u - 0.5 * w)


def _bump_i(u: FloatArray, w: float) -> FloatArray:
    """Integral of :func:`_bump` from 0 (dimensionless, 0 → 1)."""
    return min_jerk(np.clip(u / w, 0.0, 1.0))


def _ramp_ii(u: FloatArray, w: float) -> FloatArray:
    """Double integral of ``s(u/w)`` from 0, s²."""
    tau = np.clip(u / w, 0.0, 1.0)
    late = np.maximum(u - w, 0.0)
    return np.where(
        u < w, w * w * min_jerk_integral2(tau), w * w / 7.0 + 0.5 * w * late + 0.5 * late * late
    )


def _ramp_i(u: FloatArray, w: float) -> FloatArray:
    """Integral of ``s(u/w)`` from 0, s."""
    tau = np.clip(u / w, 0.0, 1.0)
    return np.where(u < w, w * min_jerk_integral(tau), 0.5 * w + (u - w))


@dataclass(frozen=True)
class LandingProfile:
    """One drop landing of one sensor site; times in s from the start of the release.

    ``drop_m``: fall of the site from release to touchdown (= the feet's height above the floor
    when hanging). ``release_s``: grip-release ramp. ``flight_s``: pure free fall (f = 0) after it.
    ``v_touchdown``: downward speed at touchdown, m/s. ``impact_s`` W, ``slow_s`` W₁,
    ``absorb_s`` T (also the second slow bump's width): bump widths. ``impact_dv`` A and
    ``slow_dv`` B: velocity changes (m/s) carried by the impact and the slow bumps;
    ``slow_split`` ρ. ``support_s`` T_R: time for body weight to come onto the legs.
    ``peak`` (m/s², specific force) and ``time_to_peak_s`` (from touchdown) are the realised
    values; ``compression_m`` is the largest transient shortening relative to the profile this
    one was delayed from (0 for a sacrum profile).
    """

    drop_m: float
    release_s: float
    flight_s: float
    v_touchdown: float
    impact_s: float
    slow_s: float
    absorb_s: float
    impact_dv: float
    slow_dv: float
    slow_split: float
    support_s: float
    peak: float = math.nan
    time_to_peak_s: float = math.nan
    compression_m: float = 0.0

    @property
    def touchdown_s(self) -> float:
        """Touchdown, s after the release starts."""
        return self.release_s + self.flight_s

    @property
    def end_s(self) -> float:
        """End of absorption (at rest on the feet), s after the release starts."""
        return self.touchdown_s + self.absorb_s

    @property
    def free_fall_s(self) -> float:
        """Fall time from the middle of the release ramp to touchdown, s (≈ √(2h/g))."""
        return self.flight_s + 0.5 * self.release_s

    @property
    def depth_m(self) -> float:
        """How far the site sinks from touchdown to the end of absorption, m (> 0)."""
        return -float(self._landing_z(np.array([self.absorb_s]))[0])

    @property
    def net_m(self) -> float:
        """Total vertical displacement over the event, m (negative: the body ends lower)."""
        return -self.drop_m - self.depth_m

    def _landing_z(self, u: FloatArray) -> FloatArray:
        """Displacement from the touchdown height, m, at ``u`` s after touchdown (u ≥ 0)."""
        rho = self.slow_split
        return (
            -self.v_touchdown * u
            - 0.5 * _G * u * u
            + _G * _ramp_ii(u, self.support_s)
            + self.impact_dv * _bump_ii(u, self.impact_s)
            + self.slow_dv
            * (rho * _bump_ii(u, self.slow_s) + (1 - rho) * _bump_ii(u, self.absorb_s))
        )

    def _landing_force(self, u: FloatArray) -> FloatArray:
        rho = self.slow_split
        return (
            _G * min_jerk(np.clip(u / self.support_s, 0.0, 1.0))
            + self.impact_dv * _bump(u, self.impact_s)
            + self.slow_dv * (rho * _bump(u, self.slow_s) + (1 - rho) * _bump(u, self.absorb_s))
        )

    def _landing_v(self, u: FloatArray) -> FloatArray:
        rho = self.slow_split
        return (
            -self.v_touchdown
            - _G * u
            + _G * _ramp_i(u, self.support_s)
            + self.impact_dv * _bump_i(u, self.impact_s)
            + self.slow_dv * (rho * _bump_i(u, self.slow_s) + (1 - rho) * _bump_i(u, self.absorb_s))
        )

    def evaluate(self, u: npt.ArrayLike, order: int = 0) -> FloatArray:
        """Vertical displacement (``order=0``, m, from the hang), velocity (1, m/s) or specific
        force (2, m/s²; g before the release and after the absorption) at ``u`` s after the
        release starts. ``u``: any shape."""
        uu = np.asarray(u, dtype=np.float64)
        tr, td = self.release_s, self.touchdown_s
        ramp = np.clip(uu / tr, 0.0, 1.0)
        fly = np.clip(uu - tr, 0.0, self.flight_s)
        land = np.clip(uu - td, 0.0, self.absorb_s)
        v_rel = 0.5 * _G * tr
        z_rel = -_G * tr * tr / 7.0
        if order == 0:
            z_ramp = -_G * tr * tr * min_jerk_integral2(ramp)
            z_fly = z_rel - v_rel * fly - 0.5 * _G * fly * fly
            z_td = -self.drop_m
            return np.where(
                uu <= 0.0,
                0.0,
                np.where(uu < tr, z_ramp, np.where(uu < td, z_fly, z_td + self._landing_z(land))),
            )
        if order == 1:
            v_ramp = -_G * tr * min_jerk_integral(ramp)
            v_fly = -v_rel - _G * fly
            v_land = np.where(uu < self.end_s, self._landing_v(land), 0.0)
            return np.where(
                uu <= 0.0, 0.0, np.where(uu < tr, v_ramp, np.where(uu < td, v_fly, v_land))
            )
        if order == 2:
            f_ramp = _G * (1.0 - min_jerk(ramp))
            f_land = np.where(uu < self.end_s, self._landing_force(land), _G)
            return np.where(uu < tr, f_ramp, np.where(uu < td, 0.0, f_land))
        raise ValueError(f"order must be 0, 1 or 2, got {order}")


def _flight_after_ramp(drop_m: float, release_s: float) -> float:
    # h = g τ²/7 + (g τ/2)·t + g t²/2 (distance in the ramp, then free fall from speed g τ/2).
    v0 = 0.5 * _G * release_s
    rest = drop_m - _G * release_s**2 / 7.0
    if rest <= 0.0:
        raise ValueError(f"drop {drop_m} m is too small for a {release_s} s release")
    return (-v0 + math.sqrt(v0 * v0 + 2.0 * _G * rest)) / _G


def _peak(profile: LandingProfile) -> tuple[float, float]:
    u = np.arange(0.0, profile.absorb_s + 0.5 * _PEAK_GRID_S, _PEAK_GRID_S)
    f = profile._landing_force(u)
    i = int(np.argmax(f))
    return float(f[i]), float(u[i])


def solve_landing(
    drop_m: float,
    peak: float,
    time_to_peak_s: float,
    absorb_s: float,
    *,
    release_s: float = 0.02,
    slow_fraction: float = 0.4,
    slow_split: float = 0.7,
) -> LandingProfile:
    """The sacrum's landing: fall ``drop_m`` (m), peak specific force ``peak`` (m/s²) about
    ``time_to_peak_s`` after touchdown, at rest ``absorb_s`` (s) after touchdown.

    ``slow_fraction``: width of the first slow bump as a fraction of ``absorb_s`` (how early the
    eccentric braking happens; deeper landings for larger values). If the requested peak cannot
    be reached with a non-negative impact share, the nearest feasible one is used; the realised
    peak is in :attr:`LandingProfile.peak`.
    """
    if not (drop_m > 0 and peak > _G and time_to_peak_s > 0 and absorb_s > 2 * time_to_peak_s):
        raise ValueError("landing needs drop > 0, peak > g and absorb_s > 2 × time_to_peak_s")
    flight = _flight_after_ramp(drop_m, release_s)
    v_td = 0.5 * _G * release_s + _G * flight
    w = 2.0 * time_to_peak_s
    total = v_td + 0.5 * _G * _SUPPORT_PER_IMPACT * w
    base = LandingProfile(
        drop_m=drop_m,
        release_s=release_s,
        flight_s=flight,
        v_touchdown=v_td,
        impact_s=w,
        slow_s=max(slow_fraction * absorb_s, 1.2 * w),
        absorb_s=absorb_s,
        impact_dv=0.0,
        slow_dv=total,
        slow_split=slow_split,
        support_s=_SUPPORT_PER_IMPACT * w,
    )
    lo, hi = 0.0, total
    # The peak grows with the impact share wherever the impact bump dominates; bisect on it.
    for _ in range(_BISECTIONS):
        a = 0.5 * (lo + hi)
        trial = replace(base, impact_dv=a, slow_dv=total - a)
        if _peak(trial)[0] > peak:
            hi = a
        else:
            lo = a
    a = 0.5 * (lo + hi)
    out = replace(base, impact_dv=a, slow_dv=total - a)
    f_peak, t_peak = _peak(out)
    return replace(out, peak=f_peak, time_to_peak_s=t_peak)


def delayed_landing(sacrum: LandingProfile, delay_s: float) -> LandingProfile:
    """The T12 site's landing: the sacrum's impulse with its impact spread over ``W + 2δ``.

    The later, broader impact lowers and delays the peak; the first slow bump is narrowed by
    ``2Aδ/(Bρ)`` so that the site ends at the sacrum's height (the chain is whole again). The
    delay is reduced if that would make the slow bump narrower than the impact.
    """
    a, b, rho = sacrum.impact_dv, sacrum.slow_dv, sacrum.slow_split
    w = sacrum.impact_s
    cap = (sacrum.slow_s - w) / (2.0 + 2.0 * a / (b * rho)) if b > 0 else 0.0
    d = float(np.clip(delay_s, 0.0, max(cap, 0.0)))
    out = replace(
        sacrum,
        impact_s=w + 2.0 * d,
        slow_s=sacrum.slow_s - 2.0 * a * d / (b * rho) if b > 0 else sacrum.slow_s,
    )
    f_peak, t_peak = _peak(out)
    u = np.arange(0.0, sacrum.absorb_s + 0.5 * _PEAK_GRID_S, _PEAK_GRID_S)
    shorter = float(np.max(sacrum._landing_z(u) - out._landing_z(u)))
    return replace(out, peak=f_peak, time_to_peak_s=t_peak, compression_m=max(shorter, 0.0))


class ImpactTrack:
    """Vertical displacement of one site over a session's landings (m, 0 before the first).

    ``events``: ``(t_release, profile)`` pairs, s, in time order and not overlapping. After each
    event the displacement stays at the accumulated net change (the script stands the athlete up
    with its ordinary keyframes, which know this offset).
    """

    def __init__(self, events: list[tuple[float, LandingProfile]]) -> None:
        self.events = list(events)
        starts = np.array([t for t, _ in self.events], dtype=np.float64)
        ends = np.array([t + p.end_s for t, p in self.events], dtype=np.float64)
        if starts.size > 1 and np.any(starts[1:] < ends[:-1]):
            raise ValueError("landing events overlap")
        self._starts = starts
        self._ends = ends
        nets = np.array([p.net_m for _, p in self.events], dtype=np.float64)
        self._before = np.concatenate([[0.0], np.cumsum(nets)])  # offset before event k

    def __bool__(self) -> bool:
        return bool(self.events)

    def evaluate(self, t: npt.ArrayLike, order: int = 0) -> FloatArray:
        """Displacement (0, m), velocity (1, m/s) or *acceleration* (2, m/s², f − g) at ``t``
        (``(N,)`` s)."""
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        k = np.searchsorted(self._starts, tt, side="right") - 1
        out = self._before[k + 1].copy() if order == 0 else np.zeros(tt.shape)
        inside = (k >= 0) & (tt < self._ends[np.maximum(k, 0)]) if self.events else k >= 0
        if not np.any(inside):
            return out
        # Loop over events present in this call (one or none for an emulator's chunk).
        for e in np.unique(k[inside]):
            sel = inside & (k == e)
            start, profile = self.events[int(e)]
            local = profile.evaluate(tt[sel] - start, order)
            if order == 0:
                out[sel] = self._before[e] + local
            elif order == 1:
                out[sel] = local
            else:
                out[sel] = local - _G
        return out
