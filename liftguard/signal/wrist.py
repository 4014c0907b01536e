"""Reps from a wrist sensor alone: the bar's path seen from the hand that holds it.

The wrist (or a bar-mounted sensor) rises and falls with the bar: by about half a metre in a
press and a deadlift, and with the body in a back squat. :class:`VerticalTrack` follows its
vertical velocity the way bar-speed trackers do: the world-vertical specific force (the
sensor's orientation applied to its accelerometer) minus its reading at rest, integrated, and
held at zero whenever the sensor is still — the bar rests in the rack, at lockout and on the
floor — so integration errors cannot accumulate from one movement to the next.
:class:`WristRepCounter` counts excursions of the integrated height.

Still means, for ``still_s``: no turning, a steady specific force, and a specific-force norm at
the sensor's own resting value (learned while still; it differs from g by the accelerometer's
offset). The last condition matters: moving at the peak of its acceleration, the bar's
specific force is steady too, but not at the resting value.

Spine angles need the back sensors: a wrist-only athlete gets rep counts and tempo, and no
flexion alarm. Jumping chin-ups are counted from the drop instead (:class:`WristJumpCounter`):
the hand lets go of the bar and the wrist falls freely with the body.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from liftguard._types import BoolArray, FloatArray
from liftguard.signal.exercises import EXERCISE_ALIASES, ExerciseUpdate, RepMetrics
from liftguard.signal.landings import GRAVITY as _G
from liftguard.signal.landings import LandingDetector

__all__ = [
    "WRIST_EXERCISES",
    "VerticalTrack",
    "WristBlock",
    "WristJumpCounter",
    "WristRepCounter",
    "wrist_counter_for",
]

#: Exercises :class:`WristRepCounter` counts, and the direction each rep starts in (+1 up).
WRIST_EXERCISES: dict[str, int] = {"press": +1, "deadlift": +1, "squat": -1}
#: Racked lifts start with unracking and walking out, which the integrated height sees as a
#: slow "rise"; a press or squat movement takes at most this long (s) before the bar rests.
_RACKED_MAX_RISE_S = 2.5


class VerticalTrack:
    """Vertical velocity (m/s) and height change (m) of one sensor; causal, block-independent.

    Args:
        rate_hz: the sensor's nominal sample rate, Hz.
        still_gyro: turning slower than this (rad/s) throughout ``still_s`` ...
        still_acc: ... with the specific-force norm varying by less than this (m/s²) ...
        rest_tol: ... and within this of the sensor's resting norm (m/s²) is still.
        still_s: how long the sensor must be steady, s.
        rest_tau_s: time constant of the resting values (norm, vertical reading), s of still
            samples.
    """

    #: The resting values are updated every this many samples (a fixed count from the
    #: stream's start, so results do not depend on how the stream is cut into blocks).
    CHUNK = 25

    def __init__(
        self,
        rate_hz: float,
        *,
        still_gyro: float = 0.35,
        still_acc: float = 0.15,
        rest_tol: float = 0.15,
        still_s: float = 0.3,
        rest_tau_s: float = 1.0,
    ) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz}")
        self.dt = 1.0 / rate_hz
        self.window = max(2, round(still_s * rate_hz))
        self.still_gyro = float(still_gyro)
        self.still_acc = float(still_acc)
        self.rest_tol = float(rest_tol)
        self._alpha = 1.0 - math.exp(-self.dt / rest_tau_s)
        self._gyr_hist = np.full(self.window - 1, np.inf)
        self._acc_hist = np.full(self.window - 1, np.nan)
        self._rest_norm: float | None = None
        self._rest_up = 0.0
        self._in_chunk = 0  # samples of the current chunk already seen
        self._pending: list[tuple[FloatArray, FloatArray]] = []  # its still samples so far
        self._sum = 0.0  # running integral of the vertical acceleration
        self._sum_at_still = 0.0  # its value at the last still sample
        self._h = 0.0
        self._t_last: float | None = None

    def update(
        self, t: FloatArray, quat: FloatArray, acc: FloatArray, gyr: FloatArray
    ) -> tuple[FloatArray, FloatArray, BoolArray]:
        """Feed samples; returns ``(vz, h, still)``, each ``(N,)``: velocity m/s, height m
        (+ up) and whether the sensor was still (velocity held at zero).

        Args:
            t: ``(N,)`` session seconds.
            quat: ``(N, 4)`` sensor-to-world ``[w, x, y, z]``.
            acc: ``(N, 3)`` specific force in the sensor frame, m/s².
            gyr: ``(N, 3)`` angular rate in the sensor frame, rad/s.
        """
        n = t.size
        if n == 0:
            return np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)
        w, x, y, z = quat[:, 0], quat[:, 1], quat[:, 2], quat[:, 3]
        # Third row of the rotation matrix: world z of a sensor-frame vector.
        up = (
            2.0 * (x * z - w * y) * acc[:, 0]
            + 2.0 * (y * z + w * x) * acc[:, 1]
            + (1.0 - 2.0 * (x * x + y * y)) * acc[:, 2]
        )
        norm = np.linalg.norm(acc, axis=1)
        gn = np.concatenate([self._gyr_hist, np.linalg.norm(gyr, axis=1)])
        an = np.concatenate([self._acc_hist, norm])
        with np.errstate(invalid="ignore"):
            steady = (sliding_window_view(gn, self.window).max(axis=1) < self.still_gyro) & (
                np.ptp(sliding_window_view(an, self.window), axis=1) < self.still_acc
            )
        self._gyr_hist, self._acc_hist = gn[-(self.window - 1) :], an[-(self.window - 1) :]
        prev = self._t_last if self._t_last is not None else float(t[0]) - self.dt
        dt = np.diff(np.concatenate([[prev], t]))
        self._t_last = float(t[-1])
        vz = np.empty(n)
        still = np.zeros(n, dtype=bool)
        start = 0
        while start < n:
            stop = min(n, start + self.CHUNK - self._in_chunk)
            part = slice(start, stop)
            vz[part], still[part] = self._chunk(up[part], norm[part], steady[part], dt[part])
            self._in_chunk = (self._in_chunk + stop - start) % self.CHUNK
            if self._in_chunk == 0:
                self._learn_rest()
            start = stop
        h = np.cumsum(np.concatenate([[self._h], vz * dt]))[1:]
        self._h = float(h[-1])
        return vz, h, still

    def _chunk(
        self, up: FloatArray, norm: FloatArray, steady: BoolArray, dt: FloatArray
    ) -> tuple[FloatArray, BoolArray]:
        if self._rest_norm is None:
            # Nothing known at rest yet: the first steady sample defines it.
            k = np.flatnonzero(steady)
            if k.size == 0:
                return np.zeros(up.size), np.zeros(up.size, dtype=bool)
            self._rest_norm, self._rest_up = float(norm[k[0]]), float(up[k[0]])
        still = steady & (np.abs(norm - self._rest_norm) < self.rest_tol)
        # Prepending the running values keeps the summation order of one long stream.
        total = np.cumsum(np.concatenate([[self._sum], (up - self._rest_up) * dt]))[1:]
        marks = np.concatenate([[self._sum_at_still], np.where(still, total, np.nan)])
        last = np.maximum.accumulate(np.where(np.isnan(marks), -1, np.arange(marks.size)))
        vz: FloatArray = total - marks[last[1:]]
        self._sum = float(total[-1])
        self._sum_at_still = float(marks[last[-1]])
        self._pending.append((norm[still], up[still]))
        return vz, still

    def _learn_rest(self) -> None:
        """Exponential means over the chunk's still samples, in order."""
        if not self._pending:
            return
        norm = np.concatenate([p[0] for p in self._pending])
        up = np.concatenate([p[1] for p in self._pending])
        self._pending = []
        if norm.size == 0 or self._rest_norm is None:
            return
        decay = (1.0 - self._alpha) ** np.arange(norm.size - 1, -1, -1)
        keep = (1.0 - self._alpha) ** norm.size
        self._rest_norm = keep * self._rest_norm + float(self._alpha * decay @ norm)
        self._rest_up = keep * self._rest_up + float(self._alpha * decay @ up)


@dataclass(frozen=True)
class WristBlock:
    """One block of a wrist sensor, every field ``(N,)``: ``t`` session s, ``h`` height
    change m (+ up) and ``still`` (see :class:`VerticalTrack`), ``acc`` specific-force norm
    m/s² (default: 1 g throughout)."""

    t: FloatArray
    h: FloatArray
    still: BoolArray
    acc: FloatArray | None = None


_SEEK, _OUT, _BACK = range(3)


class WristRepCounter:
    """Counts press, deadlift and squat reps from the wrist's height.

    A rep is the wrist travelling at least ``min_travel_m`` in the exercise's first direction
    (up: press, deadlift; down: squat) from where it last rested, and then back by at least
    ``return_frac`` of that, within ``max_rep_s``; it is decided when the way back ends, at
    rest or turning.

    Args:
        exercise: ``"press"``, ``"deadlift"`` or ``"squat"`` (aliases as
            :data:`~liftguard.signal.exercises.EXERCISE_ALIASES`).
        min_travel_m: the first movement of a rep travels at least this far, m.
        return_frac: the way back is at least this fraction of it.
        max_rep_s: a longer excursion is drift or walking, not a rep, s.
        max_rise_s: a first movement that took longer and came to rest is not a rep's, s
            (default: 2.5 s for the racked lifts, none for the deadlift, which has no
            walk-out and whose slowest pulls take longer).
        max_return_s: the set's first way back comes to rest or turns within this long after
            it was seen, s
            (unracking: the hands rise to the bar, then the walk-out's integrated height
            wanders down without resting).
        turn_m: rising this far from the lowest point of the way back is turning, m.
        max_pause_s: after a rep, this long without another ends the set, s.
        target_reps: the set's planned reps (None: not known); the set ends when they are done.
    """

    def __init__(
        self,
        exercise: str,
        *,
        min_travel_m: float = 0.25,
        return_frac: float = 0.6,
        max_rep_s: float = 8.0,
        max_rise_s: float | None = None,
        max_return_s: float = 2.0,
        turn_m: float = 0.05,
        max_pause_s: float = 6.0,
        target_reps: int | None = None,
    ) -> None:
        kind = EXERCISE_ALIASES.get(exercise.strip().lower(), "")
        if kind not in WRIST_EXERCISES:
            raise ValueError(
                f"no wrist rep counter for {exercise!r}; expected press, deadlift or squat"
            )
        if target_reps is not None and target_reps < 1:
            raise ValueError(f"target_reps must be at least 1, got {target_reps}")
        self.first = WRIST_EXERCISES[kind]
        self.min_travel = float(min_travel_m)
        self.return_frac = float(return_frac)
        self.max_rep_s = float(max_rep_s)
        if max_rise_s is None:
            max_rise_s = math.inf if kind == "deadlift" else _RACKED_MAX_RISE_S
        self.max_rise_s = float(max_rise_s)
        self.max_return_s = float(max_return_s)
        self.turn_m = float(turn_m)
        self.max_pause_s = float(max_pause_s)
        self.target_reps = target_reps
        self.reset()

    def reset(self) -> None:
        """Start a new set."""
        self.count = 0
        self._mode = _SEEK
        self._base = math.inf  # the extreme before the rep, in the first direction's sign
        self._t_base = 0.0
        self._peak = -math.inf  # the furthest point of the excursion
        self._t_peak = 0.0
        self._t_top = 0.0  # when the height last rose to a new top
        self._low = math.inf  # lowest point of the way back
        self._t_back = 0.0  # when the way back was seen
        self._last_end: float | None = None
        self._finished = False

    def update(self, block: WristBlock) -> ExerciseUpdate:
        """Feed the next block; see :class:`~liftguard.signal.exercises.ExerciseUpdate`."""
        t = np.asarray(block.t, np.float64)
        y = self.first * np.asarray(block.h, np.float64)  # the first direction is always +
        still = np.asarray(block.still, dtype=bool)
        n = t.size
        candidate = np.full(n, self.count + 1, dtype=np.int64)
        reps: list[RepMetrics] = []
        if self._finished or n == 0:
            return ExerciseUpdate(candidate, reps, [], None, 0 if self._finished else n)
        i = 0
        while i < n:
            if self._mode == _SEEK:
                # The excursion is measured from the lowest point since the wrist last rested:
                # height integrated through a walk drifts, and a rest starts afresh.
                rest = np.flatnonzero(still[i:])
                stop = i + int(rest[0]) if rest.size else n
                base = np.minimum.accumulate(np.minimum(y[i:stop], self._base))
                out = y[i:stop] - base >= self.min_travel
                j = i + int(np.argmax(out)) if out.any() else stop
                # Through a rest nothing happens until it ends.
                e = j
                if j == stop < n:
                    moving = np.flatnonzero(~still[stop:])
                    e = stop + int(moving[0]) if moving.size else n
                if self._last_end is not None:
                    deadline = self._last_end + self.max_pause_s
                    late = i + int(np.searchsorted(t[i:], deadline, side="left"))
                    if late < n and late <= e:
                        self._finished = True
                        return ExerciseUpdate(candidate, reps, [], deadline, late)
                if j > i:
                    lo = i + int(np.argmin(y[i:j]))
                    if y[lo] <= self._base:
                        self._base, self._t_base = float(y[lo]), float(t[lo])
                if j == stop:
                    if stop == n:
                        break
                    # At rest: the base is where the wrist rests, from the end of the rest.
                    self._base, self._t_base = float(y[e - 1]), float(t[e - 1])
                    i = e
                    continue
                self._mode = _OUT
                self._peak, self._t_peak = float(y[j]), float(t[j])
                self._t_top = float(t[j])
                i = j
            elif self._mode == _OUT:
                prior = np.concatenate([[self._peak], np.maximum.accumulate(y[i:])[:-1]])
                prior = np.maximum(prior, self._peak)
                peak = np.maximum(prior, y[i:])
                back = peak - y[i:] >= self.return_frac * (peak - self._base)
                stale = t[i:] - self._t_base > self.max_rep_s
                # When the height last rose to a new top (resting, it stays exactly level).
                t_top = np.where(y[i:] > prior, t[i:], -np.inf)
                t_top = np.maximum(np.maximum.accumulate(t_top), self._t_top)
                # Coming to rest after a slow "rise" (the integrated height of a walk-out): not
                # a lift; start afresh from the rest.
                stale |= still[i:] & (t_top - self._t_base > self.max_rise_s)
                done = back | stale
                j = i + int(np.argmax(done)) if done.any() else n
                if j > i:
                    hi = i + int(np.argmax(y[i:j]))
                    if y[hi] > self._peak:
                        self._peak, self._t_peak = float(y[hi]), float(t[hi])
                    self._t_top = float(t_top[j - i - 1])
                if j == n:
                    break
                if back[j - i] and not stale[j - i]:
                    self._mode = _BACK
                    self._low, self._t_back = float(y[j]), float(t[j])
                    i = j
                    continue
                self._mode = _SEEK
                self._base, self._t_base = float(y[j]), float(t[j])
                i = j + 1
            else:  # _BACK: the way back must end — at rest or turning — soon after it began
                low = np.minimum.accumulate(np.minimum(y[i:], self._low))
                ended = still[i:] | (y[i:] - low >= self.turn_m)
                overdue = t[i:] - self._t_back > self.max_return_s
                done = ended | overdue
                j = i + int(np.argmax(done)) if done.any() else n
                if j > i:
                    self._low = float(low[j - i - 1])
                if j == n:
                    break
                self._mode = _SEEK
                # A way back that runs on into walking is the unracking (hands up to the bar,
                # then the walk-out) when it comes first; after reps, it is the last rep
                # followed by the walk back to the rack.
                if (ended[j - i] and not overdue[j - i]) or self.count > 0:
                    self._confirm(float(t[j]), j, candidate, reps)
                    if self._finished:
                        return ExerciseUpdate(candidate, reps, [], float(t[j]), j + 1)
                # The next excursion is measured from here.
                self._base, self._t_base = float(y[j]), float(t[j])
                i = j + 1
        return ExerciseUpdate(candidate, reps, [], None, n)

    def _confirm(self, t_end: float, k: int, candidate: np.ndarray, reps: list[RepMetrics]) -> None:
        self.count += 1
        candidate[k:] += 1
        t0, t1 = self._t_base, self._t_peak
        out_s, back_s = t1 - t0, t_end - t1
        up_first = self.first > 0
        reps.append(
            RepMetrics(
                rep=self.count,
                t_start=t0,
                t_end=t_end,
                duration_s=t_end - t0,
                eccentric_s=back_s if up_first else out_s,
                concentric_s=out_s if up_first else back_s,
                peak_flexion_deg=math.nan,
                flexion_at_liftoff_deg=None,
                trunk_range_deg=math.nan,
                peak_landing_acc_g=None,
                landing_flexion_deg=None,
                phases=(
                    ("concentric" if up_first else "eccentric", t0, t1),
                    ("eccentric" if up_first else "concentric", t1, t_end),
                ),
            )
        )
        self._last_end = t_end
        if self.target_reps is not None and self.count >= self.target_reps:
            self._finished = True


class WristJumpCounter:
    """Counts jumping chin-ups from a wrist sensor alone: one rep per drop from the bar.

    Letting go of the bar, the wrist falls freely with the body (< 0.2 g for the whole drop,
    0.14–0.3 s) and is loaded again at the landing (> 1.1 g within 0.4 s: the arms take the
    impact the sacrum feels at 2.5–6 g late and softly, and may unload once more on the way —
    a higher threshold lost such drops). The dip before the jump to the bar unloads the wrist
    too, but for under 0.1 s; the jump itself does not (the arms swing up), so a free fall of
    at least ``min_free_fall_s`` is a drop.

    Args:
        min_free_fall_s: shortest free fall that is a drop, s.
        max_pause_s: after a rep's landing, this long without another drop ends the set, s
            (landing to the next drop takes a reset, the jump, the pull-up, the lowering and a
            hang: up to 16 s in the simulator).
        target_reps: the set's planned reps (None: not known); the set ends when they are done.
    """

    def __init__(
        self,
        *,
        min_free_fall_s: float = 0.12,
        max_pause_s: float = 20.0,
        target_reps: int | None = None,
    ) -> None:
        if target_reps is not None and target_reps < 1:
            raise ValueError(f"target_reps must be at least 1, got {target_reps}")
        self.min_free_fall_s = float(min_free_fall_s)
        self.max_pause_s = float(max_pause_s)
        self.target_reps = target_reps
        self.reset()

    def reset(self) -> None:
        """Start a new set."""
        self.count = 0
        self._detector = LandingDetector(
            min_free_fall_s=self.min_free_fall_s,
            impact_g=1.1,
            low_rate_impact_g=1.1,
            impact_window_s=0.4,
        )
        self._last_end: float | None = None
        self._finished = False

    def update(self, block: WristBlock) -> ExerciseUpdate:
        """Feed the next block; see :class:`~liftguard.signal.exercises.ExerciseUpdate`."""
        t = np.asarray(block.t, np.float64)
        n = t.size
        candidate = np.full(n, self.count + 1, dtype=np.int64)
        reps: list[RepMetrics] = []
        if self._finished or n == 0:
            return ExerciseUpdate(candidate, reps, [], None, 0 if self._finished else n)
        acc = np.full(n, _G) if block.acc is None else np.asarray(block.acc, np.float64)
        events = self._detector.update(t, acc, acc)
        for ev in events:
            k = ev.index
            if self._last_end is not None:
                deadline = self._last_end + self.max_pause_s
                if ev.t_free_fall >= deadline:
                    late = int(np.searchsorted(t, deadline, side="left"))
                    self._finished = True
                    return ExerciseUpdate(candidate, reps, [], deadline, late)
            land = ev.landing
            self.count += 1
            candidate[k:] += 1
            reps.append(
                RepMetrics(
                    rep=self.count,
                    t_start=ev.t_free_fall,
                    t_end=land.t_peak,
                    duration_s=land.t_peak - ev.t_free_fall,
                    eccentric_s=math.nan,
                    concentric_s=math.nan,
                    peak_flexion_deg=math.nan,
                    flexion_at_liftoff_deg=None,
                    trunk_range_deg=math.nan,
                    peak_landing_acc_g=None,
                    landing_flexion_deg=None,
                    phases=(
                        ("flight", ev.t_free_fall, land.t_impact),
                        ("landing", land.t_impact, land.t_peak),
                    ),
                )
            )
            self._last_end = land.t_peak
            if self.target_reps is not None and self.count >= self.target_reps:
                self._finished = True
                return ExerciseUpdate(candidate, reps, [], float(t[k]), k + 1)
        if self._last_end is not None:
            deadline = self._last_end + self.max_pause_s
            late = int(np.searchsorted(t, deadline, side="left"))
            if late < n:
                self._finished = True
                return ExerciseUpdate(candidate, reps, [], deadline, late)
        return ExerciseUpdate(candidate, reps, [], None, n)


def wrist_counter_for(
    exercise: str, *, target_reps: int | None = None
) -> WristRepCounter | WristJumpCounter | None:
    """The wrist-only counter for ``exercise`` (aliases as
    :data:`~liftguard.signal.exercises.EXERCISE_ALIASES`), or None for one it cannot count."""
    kind = EXERCISE_ALIASES.get(exercise.strip().lower(), "")
    if kind == "jumping_chinup":
        return WristJumpCounter(target_reps=target_reps)
    if kind in WRIST_EXERCISES:
        return WristRepCounter(exercise, target_reps=target_reps)
    return None
