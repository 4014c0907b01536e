"""Causal rep and phase segmentation for the four LIFTMOR exercises, with per-rep metrics.

One counter per exercise (:func:`counter_for`), all with the same block interface
(:class:`RepCounter`): feed :class:`BackAngles` blocks in time order during a set, get an
:class:`ExerciseUpdate` per block. Every decision is taken *at a sample*, from that sample and
earlier ones, never at the end of a block, so the same stream cut into any blocks gives the same
reps, landings, candidates and set end (the tests check this). Inside a block everything is numpy
over samples; Python loops only over events (threshold crossings, landings).

What each counter looks at (the back sensors only: T12/L1 and sacrum):

* **deadlift** — :class:`~liftguard.signal.reps.DeadliftRepCounter` unchanged (trunk hysteresis;
  a rep is lift-off → the trunk passing 25° on the way back down), wrapped to add metrics.
* **squat** — trunk inclination hysteresis (down above 25°, up below 10°): a rep is the
  excursion from standing, to depth and back to standing. The rep starts where the trunk started
  to move (its velocity first rose above 8 % of the descent's peak speed) and ends where the
  rising trunk has come to rest. Excursions that do not start and end standing (pelvis tilted
  back as on a bench), that are too short or too long, that dwell at the bottom longer than a
  squat does (crouching to change plates) or that fold the trunk further than a loaded back
  squat can (bending to the floor) are not reps. A shallow bend to pick something up looks like
  a squat to the back sensors and *is* counted if the counter runs then — it only runs during a
  set, and the set ends ``max_pause_s`` after the last rep.
* **press** — the lumbar spine extends (and/or the trunk leans back) while the bar goes up and
  returns as it comes down: the rep is a dip of ``min(trunk, flexion)`` at least 2° below the
  upright level, held, and back. The spine sensors see little else of a strict press: the trunk
  does not move vertically (in the simulator the upper sensor's specific-force norm changes by
  less than 0.01 g during a press), so the upper accelerometer serves only as a plausibility
  check — the back must be still while the bar is held overhead, which walking is not. A wrist
  sensor is not part of :class:`BackAngles`. So a lifter who presses with a perfectly still,
  neutral back is invisible to this counter; one who arches less than 2° is not counted.
* **jumping chin-up** — one rep per drop landing (:mod:`liftguard.signal.landings`: free fall,
  then a sacral impact above 2 g). The rep window follows the simulator's truth: from the start of
  the dip before the jump to the bar until the athlete stands upright again after the landing.

The set ends (``finished_at``) when, after at least one rep, nothing rep-like has started for
``max_pause_s``; from then on the counter ignores its input until :meth:`RepCounter.reset`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Protocol

import numpy as np

from liftguard._types import FloatArray, IntArray
from liftguard.signal._history import History, first_true, last_true, range_max
from liftguard.signal.landings import GRAVITY, Landing, LandingDetector, LandingEvent
from liftguard.signal.reps import DeadliftRepCounter, RepWindow

__all__ = [
    "EXERCISE_ALIASES",
    "BackAngles",
    "DeadliftCounter",
    "ExerciseUpdate",
    "JumpRepCounter",
    "Landing",
    "PressRepCounter",
    "RepCounter",
    "RepMetrics",
    "SquatRepCounter",
    "counter_for",
]

#: Names :func:`counter_for` accepts, and the exercise each stands for.
EXERCISE_ALIASES: dict[str, str] = {
    "deadlift": "deadlift",
    "squat": "squat",
    "back_squat": "squat",
    "press": "press",
    "ohp": "press",
    "overhead_press": "press",
    "jumping_chinup": "jumping_chinup",
    "jump": "jumping_chinup",
}

LANDING_FLEXION_WINDOW_S = 0.4  # landing_flexion_deg: peak lumbar flexion this long after impact
#: A hold (bottom, lockout) is where the body moves at less than this fraction of the rep's peak
#: speed (and less than 1 °/s for the trunk, 0.3 °/s for the press signal): a minimum-jerk
#: movement is that slow only in its last 4 % of time.
_STILL_FRAC = 0.03


@dataclass(frozen=True)
class BackAngles:
    """One aligned block of one athlete's back sensors; every field ``(N,)``.

    ``t``: session seconds, strictly increasing (also across blocks). ``trunk_deg``: forward
    inclination of the upper (T12/L1) segment from the calibrated neutral, degrees.
    ``pelvis_deg``: forward inclination of the sacrum from neutral, degrees. ``flexion_deg``:
    lumbar flexion, ``trunk − pelvis``, degrees (+ = flexion). ``sacrum_acc``/``upper_acc``:
    specific-force norms at the sacrum and T12 sensors, m/s² (9.81 at rest, ≈ 0 in free fall,
    3–8 g at a landing).
    """

    t: FloatArray
    trunk_deg: FloatArray
    pelvis_deg: FloatArray
    flexion_deg: FloatArray
    sacrum_acc: FloatArray
    upper_acc: FloatArray

    def __post_init__(self) -> None:
        n = np.shape(self.t)
        if len(n) != 1:
            raise ValueError(f"t must be 1-D, got shape {n}")
        for name in ("trunk_deg", "pelvis_deg", "flexion_deg", "sacrum_acc", "upper_acc"):
            if np.shape(getattr(self, name)) != n:
                raise ValueError(f"{name} has shape {np.shape(getattr(self, name))}, t has {n}")

    def __len__(self) -> int:
        return int(np.shape(self.t)[0])


@dataclass(frozen=True)
class RepMetrics:
    """A confirmed rep and what it looked like (times in session s, angles in degrees).

    ``rep``: 1-based number within the set. ``t_start``/``t_end``: the rep window (per exercise
    in the module docstring); ``duration_s = t_end − t_start``. ``eccentric_s``/
    ``concentric_s``: lowering / lifting time (jumping chin-up: landing → deepest trunk flexion
    of the absorption, and from there back to standing). ``peak_flexion_deg``: largest lumbar
    flexion in the window (raw angles). ``flexion_at_liftoff_deg``: lumbar flexion when the bar
    leaves the floor (deadlift only, else None). ``trunk_range_deg``: range of the (smoothed)
    trunk inclination in the window (a press counted by a wrist worn with the back sensors:
    the raw inclination's, and its phases are the wrist's ``concentric`` and ``eccentric``).
    ``peak_landing_acc_g``: sacral landing peak (jumps only, else
    None). ``landing_flexion_deg``: peak lumbar flexion within 400 ms after the impact (jumps
    only, else None). ``phases``: ``(name, t0, t1)`` in order — squat ``eccentric``, ``bottom``,
    ``concentric``; press and deadlift ``concentric``, ``lockout``, ``eccentric``; jumping
    chin-up ``jump`` (dip and jump to the bar; absent if no dip was seen), ``hang`` (on the bar,
    pull-up included), ``flight``, ``landing`` (impact → its peak), ``absorption`` (→ deepest
    trunk flexion), ``recover`` (→ upright).
    """

    rep: int
    t_start: float
    t_end: float
    duration_s: float
    eccentric_s: float
    concentric_s: float
    peak_flexion_deg: float
    flexion_at_liftoff_deg: float | None
    trunk_range_deg: float
    peak_landing_acc_g: float | None
    landing_flexion_deg: float | None
    phases: tuple[tuple[str, float, float], ...]


@dataclass(frozen=True)
class ExerciseUpdate:
    """What one block did to the count (same meaning as :class:`~liftguard.signal.reps.RepUpdate`).

    ``candidate``: ``(N,)`` the number of the rep each sample belongs to (reps confirmed before
    it, plus one). ``reps``: reps confirmed in this block, in order. ``landings``: landings
    decided in this block (jumping chin-ups; empty otherwise). ``finished_at``: session time at
    which the set was seen to be over (after at least one rep), else None; ``stop``: the samples
    from this index on came after that and were not counted.
    """

    candidate: IntArray
    reps: list[RepMetrics]
    landings: list[Landing]
    finished_at: float | None
    stop: int


class RepCounter(Protocol):
    """A causal, block-based rep counter for one exercise and one athlete, within one set."""

    def reset(self) -> None:
        """Start a new set: nothing counted."""
        ...

    def update(self, block: BackAngles) -> ExerciseUpdate:
        """Feed the next block of the set (in time order)."""
        ...


def counter_for(exercise: str, *, target_reps: int | None = None) -> RepCounter:
    """A fresh counter for ``exercise``: ``"deadlift"``, ``"squat"``, ``"press"`` (``"ohp"``) or
    ``"jumping_chinup"`` (``"jump"``); see :data:`EXERCISE_ALIASES`.

    ``target_reps``: the set's planned reps, if known. The set then ends as soon as they are
    done (the last rep decided; for the deadlift, the athlete standing up after it) instead of
    after a pause: whatever the athlete does next — picking up a plate, stepping off the
    platform — is not part of the set, not counted and not under the set's flexion alarm.
    A rep beyond the plan needs a new ``set`` command.

    Raises ValueError for any other name, or a ``target_reps`` below 1.
    """
    if target_reps is not None and target_reps < 1:
        raise ValueError(f"target_reps must be at least 1, got {target_reps}")
    kind = EXERCISE_ALIASES.get(exercise.strip().lower()) if isinstance(exercise, str) else None
    if kind == "deadlift":
        return DeadliftCounter(DeadliftRepCounter(target_reps=target_reps))
    makers: dict[str, Callable[[], _Counter]] = {
        "squat": SquatRepCounter,
        "press": PressRepCounter,
        "jumping_chinup": JumpRepCounter,
    }
    if kind in makers:
        counter = makers[kind]()
        counter.target_reps = target_reps
        return counter
    raise ValueError(
        f"no rep counter for exercise {exercise!r}; expected one of {sorted(EXERCISE_ALIASES)}"
    )


# --- shared machinery ----------------------------------------------------------------------------
class _Counter:
    """History, set end and candidate bookkeeping shared by the counters of this module.

    Subclasses implement ``_reset_state`` and ``_scan(lo, hi)``, which walks the new samples
    ``lo..hi-1`` (history indices) event by event, calling :meth:`_confirm` and :meth:`_finish`.
    """

    #: Look-backs never reach further than this, s (the history keeps it).
    keep_s = 40.0
    #: The set's planned reps (None: not known): the set ends when they are done.
    target_reps: int | None = None
    #: Rep-like movements seen but not counted (for reports).
    rejected = 0

    def __init__(self, *, max_pause_s: float, smooth_s: float = 0.15, slope_s: float = 0.1) -> None:
        if not max_pause_s > 0:
            raise ValueError("max_pause_s must be positive")
        self.max_pause_s = float(max_pause_s)
        self._smooth_s = float(smooth_s)
        self._slope_s = float(slope_s)
        self.reset()

    def reset(self) -> None:
        """Start a new set: nothing counted, no history."""
        self.count = 0
        self.h = History(self.keep_s, self._smooth_s, self._slope_s)
        self._finished = False
        self._last_end: float | None = None
        self._last_activity = -math.inf  # end of the last rep-like movement not counted, s
        self._t_first = math.nan  # the set's first sample, s
        self._reset_state()

    def _reset_state(self) -> None:
        raise NotImplementedError

    def update(self, block: BackAngles) -> ExerciseUpdate:
        """Feed the next block (see :class:`BackAngles`); returns what it did to the count.

        Samples whose time is not after every earlier one (duplicates, a clock stepping back,
        NaN) are skipped: they get the candidate of the sample before them.
        """
        last = float(self.h.t[-1]) if len(self.h) else -math.inf
        return _in_order(block, last, self.count, self._update)

    def _update(self, block: BackAngles) -> ExerciseUpdate:
        n = len(block)
        t = np.asarray(block.t, dtype=np.float64)
        if self._finished:
            # The set is over: nothing more is counted (whatever block the end fell in).
            return ExerciseUpdate(np.full(n, self.count + 1, dtype=np.int64), [], [], None, 0)
        lo = self.h.append(
            t,
            np.asarray(block.trunk_deg, dtype=np.float64),
            np.asarray(block.pelvis_deg, dtype=np.float64),
            np.asarray(block.flexion_deg, dtype=np.float64),
            np.asarray(block.sacrum_acc, dtype=np.float64),
            np.asarray(block.upper_acc, dtype=np.float64),
        )
        if n and math.isnan(self._t_first):
            self._t_first = float(t[0])
        self._lo = lo
        self._reps: list[RepMetrics] = []
        self._at: list[int] = []
        self._landings: list[Landing] = []
        self._finished_at: float | None = None
        self._stop = n
        count_before = self.count
        if n:
            self._scan(lo, lo + n)
        candidate = np.full(n, count_before + 1, dtype=np.int64)
        for k in self._at:
            candidate[k:] += 1
        return ExerciseUpdate(candidate, self._reps, self._landings, self._finished_at, self._stop)

    def _scan(self, lo: int, hi: int) -> None:
        raise NotImplementedError

    # --- helpers for subclasses -----------------------------------------------------------------
    def _deadline_index(self, i: int, j: int) -> int | None:
        """History index in ``[i, j)`` at which the pause after the last rep runs out, or None."""
        deadline = self._pause_deadline()
        if deadline is None:
            return None
        k = i + int(np.searchsorted(self.h.t[i:j], deadline, side="left"))
        return k if k < j else None

    def _pause_deadline(self) -> float | None:
        """When the pause after the last rep runs out, s: ``max_pause_s`` after the last rep
        or the last movement that looked like one but was not counted (a rep that starts
        before the pause runs out keeps the set going, counted or not)."""
        if not self.count or self._last_end is None:
            return None
        return max(self._last_end, self._last_activity) + self.max_pause_s

    def _reject(self, t_end: float) -> None:
        """A rep-like movement ending at ``t_end`` (s) that is not counted."""
        self.rejected += 1
        self._last_activity = max(self._last_activity, t_end)

    def _finish(self, k: int, at: float) -> None:
        self._finished = True
        self._finished_at = at
        self._stop = k - self._lo

    def _confirm(self, k: int, metrics: RepMetrics) -> None:
        """Count a rep decided at history index ``k``."""
        self.count += 1
        self._reps.append(replace(metrics, rep=self.count))
        self._at.append(k - self._lo)
        self._last_end = metrics.t_end
        if self.target_reps is not None and self.count >= self.target_reps:
            self._finish(k + 1, float(self.h.t[k]))

    def _peak_flexion(self, t0: float, t1: float) -> float:
        h = self.h
        a, b = h.index(t0, "left"), h.index(t1, "right")
        return float(h.flex[a:b].max()) if b > a else math.nan

    def _trunk_range(self, t0: float, t1: float) -> float:
        h = self.h
        a, b = h.index(t0, "left"), h.index(t1, "right")
        return float(np.ptp(h.trunk_s[a:b])) if b > a else math.nan

    def _motion_start(self, lb: int, k: int, v: FloatArray, v_floor: float, frac: float) -> int:
        """Last index in ``[lb, k]`` at which the slope ``v`` was still below ``frac`` of the
        motion's peak speed in ``[lb, k]`` (the motion had not yet started), else ``lb``."""
        if k < lb:
            return lb
        thr = max(v_floor, frac * float(v[lb : k + 1].max()))
        m = last_true(v[lb : k + 1] <= thr, lb)
        return lb if m < 0 else m


def _in_order(
    block: BackAngles, last: float, count: int, update: Callable[[BackAngles], ExerciseUpdate]
) -> ExerciseUpdate:
    """Run ``update`` on the samples of ``block`` that come after ``last`` (s) and after every
    earlier sample of the block, and spread its result back over the whole block."""
    t = np.asarray(block.t, dtype=np.float64)
    prior = np.fmax.accumulate(np.concatenate([[last], t]))[:-1]
    keep = t > prior  # NaN compares False
    if keep.all():
        return update(block)
    idx = np.flatnonzero(keep)
    sub = BackAngles(*(np.asarray(getattr(block, f.name))[idx] for f in fields(BackAngles)))
    upd = update(sub)
    n = t.shape[0]
    pos = np.searchsorted(idx, np.arange(n), side="right") - 1
    candidate = np.full(n, count + 1, dtype=np.int64)
    candidate[pos >= 0] = upd.candidate[pos[pos >= 0]]
    stop = int(idx[upd.stop]) if upd.stop < idx.size else n
    return ExerciseUpdate(candidate, upd.reps, upd.landings, upd.finished_at, stop)


def _metrics(
    t_start: float,
    t_end: float,
    eccentric_s: float,
    concentric_s: float,
    peak_flexion: float,
    trunk_range: float,
    phases: list[tuple[str, float, float]],
    *,
    liftoff: float | None = None,
    landing_g: float | None = None,
    landing_flexion: float | None = None,
) -> RepMetrics:
    return RepMetrics(
        rep=0,
        t_start=t_start,
        t_end=t_end,
        duration_s=t_end - t_start,
        eccentric_s=eccentric_s,
        concentric_s=concentric_s,
        peak_flexion_deg=peak_flexion,
        flexion_at_liftoff_deg=liftoff,
        trunk_range_deg=trunk_range,
        peak_landing_acc_g=landing_g,
        landing_flexion_deg=landing_flexion,
        phases=tuple(phases),
    )


def _still_span(
    h: History, near: IntArray, slopes: list[FloatArray], v_thr: float, anchor: int, limit: int
) -> tuple[float, float]:
    """When the body held still at a turning point (the squat's bottom, a lockout), s.

    ``near``: sorted history indices where the smoothed signal is close to its extreme. The
    hold is the run of samples around ``near`` where every slope in ``slopes`` (°/s) is at most
    ``v_thr`` — the run nearest to history index ``anchor`` (the squat's deepest lumbar flexion:
    the trunk also stands still while the pelvis tucks under, just before the true bottom).
    Slopes describe the motion ``delay_s`` ago, the smoothed angles ``smooth_s / 2`` ago; the
    times are corrected for that. Falls back to the span of ``near`` when the slopes never
    settle (noisy angles). Samples after history index ``limit`` (the decision) are not used.
    """
    lag = 0.5 * h.smooth_s
    a, z = int(near[0]), int(near[-1])
    b = min(h.index(float(h.t[z]) + 0.5 * h.slope_s, "right"), limit + 1)
    still = np.ones(b - a, dtype=bool)
    for v in slopes:
        still &= np.abs(v[a:b]) <= v_thr
    if not still.any():
        return float(h.t[a]) - lag, float(h.t[z]) - lag
    edges = np.diff(np.concatenate([[0], still.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    # The anchor is seen in the slopes `slope_s / 2` later than in the smoothed angles.
    at = h.index(float(h.t[anchor]) + 0.5 * h.slope_s) - a
    gap = np.maximum(starts - at, 0) + np.maximum(at - stops, 0)
    r = int(np.argmin(gap))
    return float(h.t[a + starts[r]]) - h.delay_s, float(h.t[a + stops[r]]) - h.delay_s


def _ordered(bounds: list[float]) -> list[float]:
    """Phase boundaries made non-decreasing (noisy data can swap two close ones)."""
    out = [bounds[0]]
    for b in bounds[1:]:
        out.append(max(b, out[-1]))
    return out


# --- deadlift ------------------------------------------------------------------------------------
class DeadliftCounter:
    """:class:`~liftguard.signal.reps.DeadliftRepCounter`, unchanged, plus rep metrics.

    The count, the candidates and the set end are exactly the wrapped counter's (it sees the raw
    trunk inclination and flexion). The rep window is lift-off → the trunk passing 25° on the way
    back down; phases ``concentric`` (lift-off → lockout reached), ``lockout``, ``eccentric``.
    """

    def __init__(self, inner: DeadliftRepCounter | None = None) -> None:
        self.inner = inner if inner is not None else DeadliftRepCounter()
        self.reset()

    @property
    def count(self) -> int:
        """Reps counted in this set."""
        return self.inner.count

    def reset(self) -> None:
        """Start a new set."""
        self.inner.reset()
        self.h = History(_Counter.keep_s)
        self._finished = False

    def update(self, block: BackAngles) -> ExerciseUpdate:
        """Feed the next block; see :class:`ExerciseUpdate`. Out-of-order samples are skipped
        as in the other counters; once the set has finished, input is ignored (the wrapped
        counter would go on, but the monitor ends the set there)."""
        if self._finished:
            n = len(block)
            return ExerciseUpdate(np.full(n, self.count + 1, dtype=np.int64), [], [], None, 0)
        last = float(self.h.t[-1]) if len(self.h) else -math.inf
        return _in_order(block, last, self.count, self._update)

    def _update(self, block: BackAngles) -> ExerciseUpdate:
        t = np.asarray(block.t, dtype=np.float64)
        trunk = np.asarray(block.trunk_deg, dtype=np.float64)
        flexion = np.asarray(block.flexion_deg, dtype=np.float64)
        self.h.append(
            t,
            trunk,
            np.asarray(block.pelvis_deg, dtype=np.float64),
            flexion,
            np.asarray(block.sacrum_acc, dtype=np.float64),
            np.asarray(block.upper_acc, dtype=np.float64),
        )
        upd = self.inner.update(t, trunk, flexion)
        reps = [self._metrics(r) for r in upd.reps]
        self._finished = upd.finished_at is not None
        return ExerciseUpdate(upd.candidate, reps, [], upd.finished_at, upd.stop)

    def _metrics(self, r: RepWindow) -> RepMetrics:
        h = self.h
        a, b = h.index(r.t_start, "left"), h.index(r.t_end, "right")
        trunk = h.trunk_s[a:b]
        if trunk.size == 0:
            return replace(
                _metrics(r.t_start, r.t_end, math.nan, math.nan, r.peak_flexion_deg, math.nan, []),
                rep=r.rep,
            )
        lo = float(trunk.min())
        near = a + np.flatnonzero(trunk <= lo + max(2.0, 0.05 * float(np.ptp(trunk))))
        v_thr = max(1.0, _STILL_FRAC * float(np.abs(h.trunk_v[a:b]).max()))
        t_lock0, t_lock1 = _still_span(
            h, near, [h.trunk_v], v_thr, a + int(np.argmin(trunk)), b - 1
        )
        b0, b1, b2, b3 = _ordered([r.t_start, t_lock0, t_lock1, r.t_end])
        liftoff = float(np.interp(r.t_start, h.t[max(a - 1, 0) : b], h.flex[max(a - 1, 0) : b]))
        m = _metrics(
            r.t_start,
            r.t_end,
            b3 - b2,
            b1 - b0,
            r.peak_flexion_deg,
            float(np.ptp(trunk)),
            [("concentric", b0, b1), ("lockout", b1, b2), ("eccentric", b2, b3)],
            liftoff=liftoff,
        )
        return replace(m, rep=r.rep)


# --- squat ---------------------------------------------------------------------------------------
_UP, _DOWN, _RISING = range(3)


class SquatRepCounter(_Counter):
    """Counts back squats from trunk inclination; see the module docstring.

    Args:
        down_deg: trunk inclination (° from neutral) above which the athlete is *down*. Squat
            depth puts the T12 segment 35–50° forward (sheet §3); unracking and re-racking the
            bar dips it about 11°.
        up_deg: below this the athlete is *up* again.
        max_pause_s: standing this long after a rep without starting another ends the set, s.
        min_rep_s, max_rep_s: a rep lasts this long, s (standing → standing).
        max_bottom_s: longest time the trunk may stay within 15 % of its deepest inclination;
            crouching at the bar to change plates holds 2–6 s. (A squat whose pelvis tucks
            under at depth can dwell longer and is then not counted; the set goes on and the
            flexion alarm still covers it.)
        settle_s: the rep is decided at the latest this long after the trunk passed ``up_deg``.
        v_floor_dps: slopes below this (°/s) count as "not moving" when finding the rep's ends.
        pelvis_min_deg: the pelvis is at least this far forward at both ends (a seated pelvis
            tilts 8–20° back: sitting down and standing up from a bench are not squats).
        flexion_max_deg: lumbar flexion at both ends is at most this.
        max_trunk_deg: deepest trunk inclination a back squat can have: with the bar on the
            back the trunk stays within 35–50° (sheet §3; 65° with a gross forward lean),
            whereas bending down to the floor takes it to 60–110°.
    """

    def __init__(
        self,
        *,
        down_deg: float = 25.0,
        up_deg: float = 10.0,
        max_pause_s: float = 5.0,
        min_rep_s: float = 0.8,
        max_rep_s: float = 8.0,
        max_bottom_s: float = 2.5,
        settle_s: float = 1.0,
        v_floor_dps: float = 4.0,
        pelvis_min_deg: float = -6.0,
        flexion_max_deg: float = 12.0,
        max_trunk_deg: float = 75.0,
    ) -> None:
        if not up_deg < down_deg:
            raise ValueError("up_deg must be below down_deg")
        self.down_deg = float(down_deg)
        self.up_deg = float(up_deg)
        self.min_rep_s = float(min_rep_s)
        self.max_rep_s = float(max_rep_s)
        self.max_bottom_s = float(max_bottom_s)
        self.settle_s = float(settle_s)
        self.v_floor = float(v_floor_dps)
        self.pelvis_min_deg = float(pelvis_min_deg)
        self.flexion_max_deg = float(flexion_max_deg)
        self.max_trunk_deg = float(max_trunk_deg)
        self.rejected = 0  # excursions seen but not counted (for reports)
        super().__init__(max_pause_s=max_pause_s)

    def _reset_state(self) -> None:
        self._mode = _UP
        self._t_down = 0.0
        self._t_up = 0.0
        self._v_rise = 0.0  # fastest rising (most negative) trunk slope of this excursion, °/s

    def _scan(self, lo: int, hi: int) -> None:
        h = self.h
        t, x, v = h.t, h.trunk_s, h.trunk_v
        i = lo
        while i < hi:
            if self._mode == _UP:
                j = first_true(x[i:hi] > self.down_deg, i)
                late = self._deadline_index(i, hi)
                if late is not None and late <= j:
                    deadline = self._pause_deadline()
                    assert deadline is not None
                    self._finish(late, deadline)
                    return
                if j == hi:
                    return
                self._mode = _DOWN
                self._t_down = float(t[j])
                self._v_rise = 0.0
                i = j
            elif self._mode == _DOWN:
                j = first_true(x[i:hi] < self.up_deg, i)
                if j > i:
                    self._v_rise = min(self._v_rise, float(v[i:j].min()))
                if j == hi:
                    return
                self._mode = _RISING
                self._t_up = float(t[j])
                i = j
            else:  # _RISING: decide once the trunk has stopped rising (or settle_s has passed)
                # The fastest rise so far, sample by sample (never "so far in this block").
                rise = np.minimum.accumulate(np.minimum(v[i:hi], self._v_rise))
                v_stop = np.maximum(self.v_floor, 0.08 * -rise)
                done = (v[i:hi] >= -v_stop) | (t[i:hi] >= self._t_up + self.settle_s)
                j = first_true(done, i)
                if j == hi:
                    self._v_rise = float(rise[-1])
                    return
                self._mode = _UP
                self._decide(j)
                if self._finished:
                    return
                i = j + 1

    def _decide(self, k: int) -> None:
        h = self.h
        t = h.t
        d = h.index(self._t_down)
        floor_t = self._t_down - self.max_rep_s
        if self._last_end is not None:
            floor_t = max(floor_t, self._last_end)
        lb = min(h.index(floor_t), d)
        m = self._motion_start(lb, d, h.trunk_v, self.v_floor, 0.08)
        t_start = float(t[m]) - h.delay_s
        t_end = float(t[k]) - h.delay_s
        if self._last_end is not None:
            t_start = max(t_start, self._last_end)
        seg = h.trunk_s[m : k + 1]
        base = float(seg[0])
        p = m + int(np.argmax(seg))
        peak = float(h.trunk_s[p])
        near = np.flatnonzero(seg >= peak - 0.15 * (peak - base))
        dwell = float(t[m + near[-1]] - t[m + near[0]])
        standing = (
            h.pelvis_s[m] >= self.pelvis_min_deg
            and h.pelvis_s[k] >= self.pelvis_min_deg
            and h.flex_s[m] <= self.flexion_max_deg
            and h.flex_s[k] <= self.flexion_max_deg
        )
        if not (
            standing
            and self.min_rep_s <= t_end - t_start <= self.max_rep_s
            and dwell <= self.max_bottom_s
            and peak <= self.max_trunk_deg
        ):
            self._reject(t_end)
            return
        # The bottom: trunk near its deepest and trunk and lumbar spine both still (the trunk
        # alone stays put while the pelvis tucks under at depth).
        near = m + np.flatnonzero(seg >= peak - max(1.0, 0.05 * (peak - base)))
        v_thr = max(1.0, _STILL_FRAC * float(np.abs(h.trunk_v[m : k + 1]).max()))
        deepest = m + int(np.argmax(h.flex_s[m : k + 1]))
        t_b0, t_b1 = _still_span(h, near, [h.trunk_v, h.flex_v], v_thr, deepest, k)
        b0, b1, b2, b3 = _ordered([t_start, t_b0, t_b1, t_end])
        self._confirm(
            k,
            _metrics(
                t_start,
                t_end,
                b1 - b0,
                b3 - b2,
                self._peak_flexion(t_start, t_end),
                float(np.ptp(seg)),
                [("eccentric", b0, b1), ("bottom", b1, b2), ("concentric", b2, b3)],
            ),
        )


# --- press ---------------------------------------------------------------------------------------
_NEUTRAL, _ARCH, _RETURN = range(3)


class PressRepCounter(_Counter):
    """Counts standing overhead presses from the back's lean-back/arch; see the module docstring.

    The signal is ``low = min(trunk, flexion)`` (smoothed over ``smooth_s``): whichever of
    "lumbar spine extends" and "trunk leans back" is larger. Its reference is the highest value
    of the same quantity smoothed over ``ref_smooth_s`` in the last ``ref_s`` seconds, among the
    samples whose smoothing window saw the trunk upright (never more than ``ref_trunk_deg``
    forward): coming back up from a forward bend (the unrack dip, a squat) must not look like
    leaning back, and the heavier smoothing keeps the maximum from riding on noise. The
    reference is not the calibrated zero because measured angles carry a bias of a degree or
    two, as large as a small arch; it needs the set's first ``ref_smooth_s`` to settle (no rep
    can start in the first second after the set input).

    Args:
        enter_deg: ``low`` this far below the reference starts a candidate rep, degrees.
        min_depth_deg: the candidate's deepest point must be this far below the reference. The
            simulated athletes extend 2–9° at lockout (sheet §4, good technique, A).
        exit_frac, exit_deg: the candidate is over once ``low`` has come back to within this
            fraction of its depth (or this many degrees, if more) from the reference; a shallow
            dip of noise then ends quickly instead of running into the next real rep.
        ref_s, ref_smooth_s, ref_trunk_deg: the reference window (s), the smoothing of the
            signal it is taken from (s), and the most forward trunk inclination (degrees) a
            sample may have to count in it.
        smooth_s: moving-mean window of the angles, s (longer than the other counters': the
            arch is small, so noise must be averaged down, and a press is slow).
        max_pause_s: standing this long after a rep without starting another ends the set, s.
        min_rep_s, max_rep_s: duration of a rep, s (a press takes 1–1.8 s up, 0.3–1 s at
            lockout and 1–2 s down, sheet §4).
        min_hold_s: the back must stay in the deeper half of the candidate this long, s.
        settle_s: the rep is decided at the latest this long after the return, s.
        v_floor_dps: slopes below this (°/s) count as "not moving" when finding the rep's ends.
        max_trunk_deg: the trunk must be upright within this at the start (not bent forward).
        pelvis_min_deg: the pelvis is at least this far forward at the deepest point (not
            slumped on a bench).
        max_hold_sd_g: the upper sensor's specific-force norm varies by at most this (SD, g)
            while the back holds its deepest (the bar overhead): walking shakes it by ±0.2 g.
    """

    def __init__(
        self,
        *,
        enter_deg: float = 1.5,
        min_depth_deg: float = 2.0,
        exit_frac: float = 0.35,
        exit_deg: float = 0.8,
        ref_s: float = 2.5,
        ref_smooth_s: float = 1.0,
        ref_trunk_deg: float = 5.0,
        smooth_s: float = 0.4,
        max_pause_s: float = 5.0,
        min_rep_s: float = 1.8,
        max_rep_s: float = 10.0,
        min_hold_s: float = 0.8,
        settle_s: float = 1.0,
        v_floor_dps: float = 0.5,
        max_trunk_deg: float = 10.0,
        pelvis_min_deg: float = -10.0,
        max_hold_sd_g: float = 0.15,
    ) -> None:
        self.enter_deg = float(enter_deg)
        self.min_depth_deg = float(min_depth_deg)
        self.exit_frac = float(exit_frac)
        self.exit_deg = float(exit_deg)
        self.ref_s = float(ref_s)
        self.ref_smooth_s = float(ref_smooth_s)
        self.ref_trunk_deg = float(ref_trunk_deg)
        self.min_rep_s = float(min_rep_s)
        self.max_rep_s = float(max_rep_s)
        self.min_hold_s = float(min_hold_s)
        self.settle_s = float(settle_s)
        self.v_floor = float(v_floor_dps)
        self.max_trunk_deg = float(max_trunk_deg)
        self.pelvis_min_deg = float(pelvis_min_deg)
        self.max_hold_sd = float(max_hold_sd_g) * GRAVITY
        self.rejected = 0
        super().__init__(max_pause_s=max_pause_s, smooth_s=smooth_s, slope_s=0.3)

    def _reset_state(self) -> None:
        self._mode = _NEUTRAL
        self._ref = 0.0
        self._t_enter = 0.0
        self._t_exit = 0.0
        self._deep = math.inf  # deepest (lowest) `low` of the candidate, degrees
        self._v_return = 0.0  # fastest return slope, °/s

    def _reference(self, i: int, j: int) -> FloatArray:
        """The upright level for indices ``i..j-1``: rolling maximum over ``(t − ref_s, t]`` of
        ``min(trunk, flexion)`` smoothed over ``ref_smooth_s``, among the samples whose smoothing
        window saw no forward lean (−inf where there is none)."""
        h = self.h
        idx = np.arange(i, j)
        start = np.searchsorted(h.t, h.t[idx] - self.ref_s, side="right")
        base = int(start.min())
        span = np.arange(base, j)
        slow = h.mean(base, j, self.ref_smooth_s)
        # A forward lean (the unrack dip, a squat) anywhere in a sample's smoothing window would
        # lift its mean: such samples do not say where upright is.
        clear = np.searchsorted(h.t, h.t[span] - self.ref_smooth_s - 0.2, side="right")
        c0 = int(clear.min())
        lean = range_max(h.trunk_s[c0:j], clear - c0, span - c0)
        # Means over less than a full window (the set's first second) are too noisy to trust.
        ok = (lean <= self.ref_trunk_deg) & (h.t[span] >= self._t_first + self.ref_smooth_s)
        values = np.where(ok, np.minimum(slow[:, 0], slow[:, 2]), -np.inf)
        return range_max(values, start - base, idx - base)

    def _scan(self, lo: int, hi: int) -> None:
        h = self.h
        t, y, v = h.t, h.low, h.low_v
        i = lo
        while i < hi:
            if self._mode == _NEUTRAL:
                ref = self._reference(i, hi)
                j = first_true(ref - y[i:hi] > self.enter_deg, i)
                late = self._deadline_index(i, hi)
                if late is not None and late <= j:
                    deadline = self._pause_deadline()
                    assert deadline is not None
                    self._finish(late, deadline)
                    return
                if j == hi:
                    return
                self._mode = _ARCH
                self._ref = float(ref[j - i])
                self._t_enter = float(t[j])
                self._deep = math.inf
                self._v_return = 0.0
                i = j
            elif self._mode == _ARCH:
                deep = np.minimum.accumulate(np.minimum(y[i:hi], self._deep))
                back = y[i:hi] >= self._ref - np.maximum(
                    self.exit_frac * (self._ref - deep), self.exit_deg
                )
                too_long = t[i:hi] > self._t_enter + self.max_rep_s
                j = first_true(back | too_long, i)
                if j > i:
                    self._deep = float(deep[j - i - 1])
                    self._v_return = max(self._v_return, float(v[i:j].max()))
                if j == hi:
                    return
                if too_long[j - i] and not back[j - i]:
                    self._reject(float(t[j]))  # leaning back and staying there is not a press
                    self._mode = _NEUTRAL
                    i = j
                    continue
                self._mode = _RETURN
                self._t_exit = float(t[j])
                i = j
            else:  # _RETURN: decide once the back has stopped coming forward
                ret = np.maximum.accumulate(np.maximum(v[i:hi], self._v_return))
                v_stop = np.maximum(self.v_floor, 0.1 * ret)
                done = (v[i:hi] <= v_stop) | (t[i:hi] >= self._t_exit + self.settle_s)
                j = first_true(done, i)
                if j == hi:
                    self._v_return = float(ret[-1])
                    return
                self._mode = _NEUTRAL
                self._decide(j)
                if self._finished:
                    return
                i = j + 1

    def _decide(self, k: int) -> None:
        h = self.h
        t, y = h.t, h.low
        e = h.index(self._t_enter)
        floor_t = self._t_enter - self.max_rep_s
        if self._last_end is not None:
            floor_t = max(floor_t, self._last_end)
        lb = min(h.index(floor_t), e)
        # The rep starts where `low` began to fall (its negated slope first rose).
        m = self._motion_start(lb, e, -h.low_v, self.v_floor, 0.08)
        t_start = float(t[m]) - h.delay_s
        t_end = float(t[k]) - h.delay_s
        if self._last_end is not None:
            t_start = max(t_start, self._last_end)
        seg = y[m : k + 1]
        p = m + int(np.argmin(seg))
        depth = self._ref - float(y[p])
        half = np.flatnonzero(seg <= float(y[p]) + 0.5 * depth)
        hold = float(t[m + half[-1]] - t[m + half[0]])
        shake = float(np.std(h.upp[m + half[0] : m + half[-1] + 1]))
        upright = h.trunk_s[m] <= self.max_trunk_deg and h.pelvis_s[p] >= self.pelvis_min_deg
        if not (
            upright
            and depth >= self.min_depth_deg
            and hold >= self.min_hold_s
            and shake <= self.max_hold_sd
            and self.min_rep_s <= t_end - t_start <= self.max_rep_s
        ):
            self._reject(t_end)
            return
        near = m + np.flatnonzero(seg <= float(y[p]) + 0.15 * depth)
        v_thr = max(0.3, _STILL_FRAC * float(np.abs(h.low_v[m : k + 1]).max()))
        t_l0, t_l1 = _still_span(h, near, [h.low_v], v_thr, p, k)
        b0, b1, b2, b3 = _ordered([t_start, t_l0, t_l1, t_end])
        self._confirm(
            k,
            _metrics(
                t_start,
                t_end,
                b3 - b2,
                b1 - b0,
                self._peak_flexion(t_start, t_end),
                self._trunk_range(t_start, t_end),
                [("concentric", b0, b1), ("lockout", b1, b2), ("eccentric", b2, b3)],
            ),
        )


# --- jumping chin-up -----------------------------------------------------------------------------
_IDLE, _POST = range(2)


class JumpRepCounter(_Counter):
    """Counts jumping chin-ups with drop landings: one rep per landing; see the module docstring.

    After a landing the rep is decided once the trunk has flexed (absorption) and come back
    upright, at least 400 ms after the impact (so the landing flexion is known), or after
    ``recover_s`` at the latest.

    Args:
        detector: the landing detector (default settings: free fall ≥ 80 ms, impact > 2 g).
        dip_deg: a trunk inclination above this before the free fall is the dip of the jump to
            the bar (the dip tilts the trunk 18–33° forward in the simulator; hanging on the bar
            and pulling up keep it within about ±8°).
        max_pause_s: this long after the last rep without a landing ends the set, s. From
            standing after one landing to the next landing takes a reset, the jump, the pull-up,
            the lowering and a hang: 6–14 s in the simulator (sheet §5 phase durations). The
            back sensors cannot tell hanging from standing, so the pause is simply longer than
            that, and the set ends 16 s after the last rep.
        recover_s: the rep is decided at the latest this long after the impact, s.
        lookback_s: how far before the free fall the dip is looked for, s.
        settle_deg, settle_frac: "upright again" = within ``max(settle_deg, settle_frac ×
            excursion)`` of the trunk inclination at the impact.
        v_floor_dps: slopes below this (°/s) count as "not moving" when finding the dip's start.
    """

    def __init__(
        self,
        detector: LandingDetector | None = None,
        *,
        dip_deg: float = 10.0,
        max_pause_s: float = 16.0,
        recover_s: float = 4.0,
        lookback_s: float = 15.0,
        settle_deg: float = 2.0,
        settle_frac: float = 0.1,
        v_floor_dps: float = 4.0,
    ) -> None:
        self.detector = detector if detector is not None else LandingDetector()
        self.dip_deg = float(dip_deg)
        self.recover_s = max(float(recover_s), LANDING_FLEXION_WINDOW_S)
        self.lookback_s = float(lookback_s)
        self.settle_deg = float(settle_deg)
        self.settle_frac = float(settle_frac)
        self.v_floor = float(v_floor_dps)
        super().__init__(max_pause_s=max_pause_s)

    def _reset_state(self) -> None:
        self.detector.reset()
        self._mode = _IDLE
        self._pending: list[LandingEvent] = []
        self._event: LandingEvent | None = None
        self._base = 0.0
        self._runmax = -math.inf

    def _scan(self, lo: int, hi: int) -> None:
        h = self.h
        events = self.detector.update(h.t[lo:hi], h.sac[lo:hi], h.upp[lo:hi])
        self._pending += [replace(e, index=e.index + lo) for e in events]
        t, x = h.t, h.trunk_s
        i = lo
        while i < hi:
            nxt = self._pending[0].index if self._pending else hi
            if self._mode == _IDLE:
                late = self._deadline_index(i, nxt)
                # A landing whose fall began before the pause ran out still belongs to the set.
                if late is not None and self._pending:
                    deadline = self._pause_deadline()
                    assert deadline is not None
                    if self._pending[0].t_free_fall < deadline:
                        late = None
                if late is not None:
                    deadline = self._pause_deadline()
                    assert deadline is not None
                    self._finish(late, deadline)
                    return
                if nxt >= hi:
                    return
                self._start_post(self._pending.pop(0))
                i = nxt
            else:
                ev = self._event
                assert ev is not None
                t_imp = ev.landing.t_impact
                runmax = np.maximum.accumulate(np.maximum(x[i:hi], self._runmax))
                exc = runmax - self._base
                upright = x[i:hi] <= self._base + np.maximum(
                    self.settle_deg, self.settle_frac * exc
                )
                done = (t[i:hi] >= t_imp + LANDING_FLEXION_WINDOW_S) & (exc >= 3.0) & upright
                done |= t[i:hi] >= t_imp + self.recover_s
                j = min(first_true(done, i), nxt)
                if j > i:
                    self._runmax = float(runmax[j - i - 1])
                if j == hi:
                    return
                self._mode = _IDLE
                self._decide(j, timed_out=bool(t[j] >= t_imp + self.recover_s) or j == nxt)
                if self._finished:
                    return
                # A landing decided at this very sample opens the next rep.
                i = j + 1 if j < nxt else j

    def _start_post(self, ev: LandingEvent) -> None:
        h = self.h
        self._mode = _POST
        self._event = ev
        self._landings.append(replace(ev.landing, rep=self.count + 1))
        a = h.index(ev.landing.t_impact)
        self._base = float(h.trunk_s[a])
        self._runmax = float(h.trunk_s[a : ev.index].max()) if ev.index > a else -math.inf

    def _decide(self, k: int, *, timed_out: bool) -> None:
        h = self.h
        t = h.t
        ev = self._event
        assert ev is not None
        land = ev.landing
        lag = 0.5 * h.smooth_s
        t_end = float(t[k]) - (0.0 if timed_out else lag)
        t_end = max(t_end, land.t_peak)
        # The dip: the last time the trunk was well forward before the free fall.
        f = h.index(ev.t_free_fall)
        floor_t = ev.t_free_fall - self.lookback_s
        if self._last_end is not None:
            floor_t = max(floor_t, self._last_end)
        lb = min(h.index(floor_t), f)
        q = last_true(h.trunk_s[lb:f] > self.dip_deg, lb)
        phases: list[tuple[str, float, float]] = []
        if q >= 0:
            r0 = last_true(h.trunk_s[lb:q] <= self.dip_deg, lb)
            r0 = lb if r0 < 0 else r0
            p = r0 + int(np.argmax(h.trunk_s[r0 : q + 1]))
            m = self._motion_start(lb, p, h.trunk_v, self.v_floor, 0.08)
            t_start = max(float(t[m]) - h.delay_s, floor_t)
            straight = first_true(h.trunk_s[p:f] <= h.trunk_s[m] + 2.0, p)
            t_jump = float(t[min(straight, f - 1)]) - lag if f > p else ev.t_free_fall
            b = _ordered([t_start, t_jump, ev.t_free_fall])
            phases += [("jump", b[0], b[1]), ("hang", b[1], b[2])]
        else:
            t_start = ev.t_free_fall
        a = h.index(land.t_impact)
        pk = a + int(np.argmax(h.trunk_s[a : k + 1]))
        t_deep = float(t[pk]) - lag
        b = _ordered([ev.t_free_fall, land.t_impact, land.t_peak, t_deep, t_end])
        phases += [
            ("flight", b[0], b[1]),
            ("landing", b[1], b[2]),
            ("absorption", b[2], b[3]),
            ("recover", b[3], b[4]),
        ]
        t_end = b[4]
        self._confirm(
            k,
            _metrics(
                t_start,
                t_end,
                b[3] - b[1],
                b[4] - b[3],
                self._peak_flexion(t_start, t_end),
                self._trunk_range(t_start, t_end),
                phases,
                landing_g=land.peak_acc_g,
                landing_flexion=self._peak_flexion(
                    land.t_impact, min(land.t_impact + LANDING_FLEXION_WINDOW_S, float(t[k]))
                ),
            ),
        )
        self._event = None
