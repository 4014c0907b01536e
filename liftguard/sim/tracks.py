"""Keyframe tracks: C2-continuous quintic (minimum-jerk) interpolation, evaluated in bulk.

A motion is scripted as keyframes ``(time, value)`` per scalar channel. Between two keyframes the
value follows the minimum-jerk profile ``s(τ) = 10τ³ − 15τ⁴ + 6τ⁵`` (Flash & Hogan 1985), whose
velocity and acceleration are zero at both ends. Every keyframe is therefore a point of rest, the
track is C2 everywhere, and each segment is monotone, so a keyframe value is an exact extremum —
which keeps the ground truth (peaks, thresholds) equal to the scripted numbers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "IntegratedTrack",
    "QuinticTrack",
    "SineSum",
    "TrackBuilder",
    "TrackBundle",
    "min_jerk",
    "min_jerk_integral",
    "min_jerk_integral2",
]

FloatArray = npt.NDArray[np.float64]


def min_jerk(tau: FloatArray, order: int = 0) -> FloatArray:
    """Minimum-jerk blend ``s(τ)`` or its ``order``-th derivative (0, 1 or 2) w.r.t. ``τ``.

    ``tau``: any shape, dimensionless in ``[0, 1]`` (not clipped here). Returns the same shape.
    """
    if order == 0:
        return tau * tau * tau * (10.0 + tau * (-15.0 + 6.0 * tau))
    if order == 1:
        return tau * tau * (30.0 + tau * (-60.0 + 30.0 * tau))
    if order == 2:
        return tau * (60.0 + tau * (-180.0 + 120.0 * tau))
    raise ValueError(f"order must be 0, 1 or 2, got {order}")


def min_jerk_integral(tau: FloatArray) -> FloatArray:
    """``∫₀^τ s(u) du = 2.5τ⁴ − 3τ⁵ + τ⁶`` (equals ½ at τ = 1); any shape, dimensionless."""
    return tau**4 * (2.5 + tau * (-3.0 + tau))


def min_jerk_integral2(tau: FloatArray) -> FloatArray:
    """``∫₀^τ ∫₀^v s(u) du dv = τ⁵/2 − τ⁶/2 + τ⁷/7`` (equals 1/7 at τ = 1)."""
    return tau**5 * (0.5 + tau * (-0.5 + tau / 7.0))


class QuinticTrack:
    """A scalar channel through keyframes, minimum-jerk between consecutive keyframes.

    ``times``: ``(K,)`` strictly increasing seconds; ``values``: ``(K,)`` in the channel's unit.
    Before the first keyframe the track holds the first value, after the last the last value.
    """

    def __init__(self, times: npt.ArrayLike, values: npt.ArrayLike) -> None:
        t = np.array(times, dtype=np.float64, ndmin=1)
        v = np.array(values, dtype=np.float64, ndmin=1)
        if t.ndim != 1 or t.shape != v.shape or t.size == 0:
            raise ValueError(
                f"times and values must be equal-length 1-D, got {t.shape} and {v.shape}"
            )
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
            raise ValueError("keyframe times and values must be finite")
        if t.size > 1 and np.any(np.diff(t) <= 0.0):
            raise ValueError("keyframe times must be strictly increasing")
        if t.size == 1:
            # A constant is a degenerate segment; duplicating keeps the evaluation branch-free.
            t = np.array([t[0], t[0] + 1.0])
            v = np.array([v[0], v[0]])
        self._t = t
        self._v = v
        self._dt = np.diff(t)
        self._dv = np.diff(v)
        self._last = t.size - 2

    @property
    def times(self) -> FloatArray:
        """``(K,)`` keyframe times in seconds (a copy)."""
        return self._t.copy()

    @property
    def values(self) -> FloatArray:
        """``(K,)`` keyframe values (a copy)."""
        return self._v.copy()

    def __call__(self, t: npt.ArrayLike) -> FloatArray:
        """Value at ``t`` (any shape, seconds); same shape as ``t``."""
        return self.evaluate(t)

    def evaluate(self, t: npt.ArrayLike, order: int = 0) -> FloatArray:
        """Value (``order=0``) or time derivative (1: per second, 2: per second²) at ``t``.

        ``t``: any shape, seconds. Returns float64 of the same shape.
        """
        tt = np.asarray(t, dtype=np.float64)
        idx = np.searchsorted(self._t, tt, side="right") - 1
        np.clip(idx, 0, self._last, out=idx)
        dt = self._dt[idx]
        tau = (tt - self._t[idx]) / dt
        np.clip(tau, 0.0, 1.0, out=tau)
        if order == 0:
            return self._v[idx] + self._dv[idx] * min_jerk(tau)
        if order in (1, 2):
            return self._dv[idx] * min_jerk(tau, order) / dt**order
        raise ValueError(f"order must be 0, 1 or 2, got {order}")


class TrackBundle:
    """Several :class:`QuinticTrack` evaluated together with one search (the IMU hot path).

    Channel ``c``'s keyframe times are stored shifted by ``c × stride`` in one sorted array, so one
    ``searchsorted`` of the shifted queries finds every channel's segment at once. The shift only
    picks segments; values are computed from unshifted times, and a query rounding onto the
    neighbouring segment at a keyframe gives the same value there (zero velocity, τ clipped).
    """

    def __init__(self, tracks: list[QuinticTrack]) -> None:
        if not tracks:
            raise ValueError("a bundle needs at least one track")
        times = [tr._t for tr in tracks]
        self._lo = min(float(t[0]) for t in times) - 1.0
        self._hi = max(float(t[-1]) for t in times) + 1.0
        stride = 2.0 ** np.ceil(np.log2(self._hi - self._lo + 2.0))
        self._shift = (stride * np.arange(len(tracks)))[:, None]
        self._keys = np.concatenate([t + s for t, s in zip(times, self._shift[:, 0], strict=True)])
        self._t = np.concatenate(times)
        self._v = np.concatenate([tr._v for tr in tracks])
        # Per-key segment width and step; the entries that would bridge two channels are never
        # used because indices are clamped to each channel's own segments.
        self._dt = np.append(np.diff(self._t), 1.0)
        self._dv = np.append(np.diff(self._v), 0.0)
        sizes = np.array([t.size for t in times])
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self._first = first[:, None]
        self._last_seg = (first + sizes - 2)[:, None]

    def __call__(self, t: FloatArray) -> FloatArray:
        """``(C, N)`` values of every channel at ``t`` ``(N,)`` seconds."""
        tq = np.minimum(np.maximum(t, self._lo), self._hi)
        idx = np.searchsorted(self._keys, tq + self._shift, side="right") - 1
        idx = np.minimum(np.maximum(idx, self._first), self._last_seg)
        tau = np.minimum(np.maximum((t - self._t[idx]) / self._dt[idx], 0.0), 1.0)
        return self._v[idx] + self._dv[idx] * min_jerk(tau)


class TrackBuilder:
    """Appends keyframes in time order while a script is written; :meth:`build` freezes them.

    Values are in the channel's unit; times in seconds.
    """

    def __init__(self, value: float, t0: float = 0.0) -> None:
        self._t: list[float] = [float(t0)]
        self._v: list[float] = [float(value)]

    @property
    def value(self) -> float:
        """The value at the last keyframe (where the channel rests now)."""
        return self._v[-1]

    @property
    def end(self) -> float:
        """Time of the last keyframe, seconds."""
        return self._t[-1]

    def hold(self, t: float) -> None:
        """Stay at the current value until ``t`` (so that a later move starts at ``t``)."""
        if t < self._t[-1]:
            raise ValueError(f"keyframe at {t} s is before the last one at {self._t[-1]} s")
        if t > self._t[-1]:
            self._t.append(float(t))
            self._v.append(self._v[-1])

    def move(self, t0: float, t1: float, value: float) -> None:
        """Rest until ``t0``, then reach ``value`` at ``t1`` with zero velocity and acceleration."""
        if not t1 > t0:
            raise ValueError(f"a move must take time: t0={t0}, t1={t1}")
        self.hold(t0)
        self._t.append(float(t1))
        self._v.append(float(value))

    def build(self) -> QuinticTrack:
        """The track through every keyframe added so far."""
        return QuinticTrack(self._t, self._v)


class IntegratedTrack:
    """A position whose *velocity* is a :class:`QuinticTrack`, integrated exactly.

    Minimum-jerk tracks rest at every keyframe, so they cannot cruise; walking needs a constant
    speed between a smooth start and stop. Scripting the velocity (rest → speed, hold, → rest) and
    integrating it in closed form (``∫ s = min_jerk_integral``) gives a C3 position with a true
    cruise. ``velocity``: channel unit per second; ``x0``: position at the first velocity keyframe.
    """

    def __init__(self, velocity: QuinticTrack, x0: float = 0.0) -> None:
        self.velocity = velocity
        t, v = velocity._t, velocity._v
        dt, dv = velocity._dt, velocity._dv
        # Position at each keyframe: a segment adds v_k·Δt + Δv_k·Δt·∫₀¹ s = v_k·Δt + Δv_k·Δt/2.
        self._x = float(x0) + np.concatenate([[0.0], np.cumsum(v[:-1] * dt + 0.5 * dv * dt)])
        self._t, self._v, self._dt, self._dv = t, v, dt, dv
        self._last = t.size - 2

    def __call__(self, t: npt.ArrayLike) -> FloatArray:
        """Position at ``t`` (any shape, seconds); same shape as ``t``."""
        return self.evaluate(t)

    def evaluate(self, t: npt.ArrayLike, order: int = 0) -> FloatArray:
        """Position (``order=0``), velocity (1) or acceleration (2) at ``t`` (any shape, s)."""
        if order in (1, 2):
            return self.velocity.evaluate(t, order - 1)
        if order != 0:
            raise ValueError(f"order must be 0, 1 or 2, got {order}")
        return self.positions([self], np.asarray(t, dtype=np.float64))[0]

    @staticmethod
    def positions(tracks: list[IntegratedTrack], t: FloatArray) -> list[FloatArray]:
        """Positions of several tracks that share keyframe times, with one search (walking
        writes x and y velocity keyframes together). ``t``: any shape, s."""
        first = tracks[0]
        idx = np.searchsorted(first._t, t, side="right") - 1
        np.clip(idx, 0, first._last, out=idx)
        dt = first._dt[idx]
        since = t - first._t[idx]
        tau = np.clip(since / dt, 0.0, 1.0)
        s1 = min_jerk_integral(tau)
        early = t < first._t[0]
        late = since > dt
        out = []
        for tr in tracks:
            v, dv, x = tr._v[idx], tr._dv[idx], tr._x[idx]
            inside = x + dt * (v * tau + dv * s1)
            # Outside the keyframes the velocity is held, so the position moves on linearly.
            before = tr._x[0] + tr._v[0] * (t - tr._t[0])
            after = x + dt * (v + 0.5 * dv) + (v + dv) * (since - dt)
            out.append(np.where(early, before, np.where(late, after, inside)))
        return out

    def shares_knots(self, other: IntegratedTrack) -> bool:
        """Whether both tracks have the same keyframe times (so :meth:`positions` applies)."""
        return bool(np.array_equal(self._t, other._t))


class SineSum:
    """``C`` channels, each a sum of ``M`` sinusoids: smooth, zero-mean, bounded by ``Σ|a|``.

    ``amplitude``, ``frequency_hz``, ``phase_rad``: ``(C, M)``; amplitude in the channel's unit.
    """

    def __init__(
        self, amplitude: npt.ArrayLike, frequency_hz: npt.ArrayLike, phase_rad: npt.ArrayLike
    ) -> None:
        self._a = np.array(amplitude, dtype=np.float64, ndmin=2)
        self._w = 2.0 * np.pi * np.array(frequency_hz, dtype=np.float64, ndmin=2)
        self._p = np.array(phase_rad, dtype=np.float64, ndmin=2)
        if not (self._a.shape == self._w.shape == self._p.shape and self._a.ndim == 2):
            raise ValueError("amplitude, frequency and phase must share one (C, M) shape")

    @property
    def bound(self) -> FloatArray:
        """``(C,)`` the largest magnitude each channel can reach."""
        return np.abs(self._a).sum(axis=1)

    def __call__(self, t: npt.ArrayLike) -> FloatArray:
        """``(N, C)`` channel values at ``t`` ``(N,)`` seconds."""
        tt = np.asarray(t, dtype=np.float64).reshape(-1, 1)
        out = np.zeros((tt.shape[0], self._a.shape[0]))
        # Summing term by term (not np.sum over an axis) keeps every sample's arithmetic
        # identical whatever N is: chunked and whole-session evaluations agree bit for bit.
        for m in range(self._a.shape[1]):
            out += self._a[:, m] * np.sin(self._w[:, m] * tt + self._p[:, m])
        return out
