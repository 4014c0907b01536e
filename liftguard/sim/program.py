"""What a session contains: the exercises, sets, reps and loads, and how long people rest.

The default is the LIFTMOR programme (Watson et al. 2018, P): deadlift, back squat, overhead
press and jumping chin-ups with drop landings, 5 sets × 5 reps at 80–85 % 1RM. The trial reports
no warm-up structure or rest intervals (sheet §7, §8 gaps 6); the simulator assumes (A, sheet §7)
warm-up sets at 40–70 % 1RM with 2–5 reps before the working sets, rests between sets drawn from a
lognormal with median 90 s and 5th–95th percentiles ≈ 40–240 s, and 2–5 min between exercises.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from liftguard.errors import ConfigError

__all__ = ["EXERCISES", "LIFTMOR_LOAD", "Program", "SetPlan"]

#: Exercises the simulator can script, in LIFTMOR order.
EXERCISES: tuple[str, ...] = ("deadlift", "squat", "press", "jumping_chinup")
#: Working load, fraction of 1RM: the middle of LIFTMOR's 80–85 % (Watson et al. 2018, P).
LIFTMOR_LOAD = 0.825
#: Warm-up sets before each barbell exercise: (reps, load) — inside the sheet's 2–5 reps at
#: 40–70 % 1RM (§7, A).
LIFTMOR_WARMUP: tuple[tuple[int, float], ...] = ((5, 0.45), (3, 0.65))


@dataclass(frozen=True)
class SetPlan:
    """One set: ``exercise`` (one of :data:`EXERCISES`), ``reps`` (1–20), ``load`` (fraction of
    1RM, 0.2–1.0; body-weight chin-ups use 1.0) and whether it is a ``warmup`` set."""

    exercise: str
    reps: int
    load: float = LIFTMOR_LOAD
    warmup: bool = False

    def __post_init__(self) -> None:
        if self.exercise not in EXERCISES:
            raise ConfigError(f"unknown exercise {self.exercise!r}; expected one of {EXERCISES}")
        if (
            isinstance(self.reps, bool)
            or not isinstance(self.reps, int)
            or not 1 <= self.reps <= 20
        ):
            raise ConfigError(f"reps must be an integer 1..20, got {self.reps!r}")
        if not (math.isfinite(self.load) and 0.2 <= self.load <= 1.0):
            raise ConfigError(f"load must be a fraction of 1RM in 0.2..1.0, got {self.load!r}")


@dataclass(frozen=True)
class Program:
    """The ordered sets of a session and the rest rules between them.

    ``rest_median_s``/``rest_sigma``: lognormal rest between sets of one exercise (median s,
    σ of the log), truncated to ``rest_bounds_s``; warm-up sets are followed by rests with median
    ``warmup_rest_median_s``. ``transition_s``: uniform time between exercises (walking to the
    next station included).
    """

    sets: tuple[SetPlan, ...]
    rest_median_s: float = 90.0
    rest_sigma: float = 0.55
    rest_bounds_s: tuple[float, float] = (30.0, 300.0)
    warmup_rest_median_s: float = 60.0
    transition_s: tuple[float, float] = (120.0, 300.0)

    def __post_init__(self) -> None:
        if not self.sets:
            raise ConfigError("a program needs at least one set")
        lo, hi = self.rest_bounds_s
        if not (0 < lo <= hi and math.isfinite(hi)):
            raise ConfigError(f"rest_bounds_s must be 0 < low <= high, got {self.rest_bounds_s}")
        if not (self.rest_median_s > 0 and self.warmup_rest_median_s > 0 and self.rest_sigma >= 0):
            raise ConfigError("rest medians must be > 0 and rest_sigma >= 0")
        t_lo, t_hi = self.transition_s
        if not (0 < t_lo <= t_hi and math.isfinite(t_hi)):
            raise ConfigError(f"transition_s must be 0 < low <= high, got {self.transition_s}")

    @classmethod
    def liftmor(
        cls,
        *,
        warmup: bool = True,
        working_sets: int = 5,
        reps: int = 5,
        load: float = LIFTMOR_LOAD,
        exercises: Iterable[str] = EXERCISES,
        **rest: float | tuple[float, float],
    ) -> Program:
        """The LIFTMOR session: for each exercise, warm-ups (barbell lifts only) then
        ``working_sets`` × ``reps`` at ``load``. ``rest``: :class:`Program` rest fields."""
        sets: list[SetPlan] = []
        for exercise in exercises:
            if warmup and exercise != "jumping_chinup":
                sets += [SetPlan(exercise, r, w, warmup=True) for r, w in LIFTMOR_WARMUP]
            chin = exercise == "jumping_chinup"
            sets += [SetPlan(exercise, reps, 1.0 if chin else load) for _ in range(working_sets)]
        return cls(tuple(sets), **rest)  # type: ignore[arg-type]

    @classmethod
    def from_list(
        cls,
        items: Iterable[tuple[str, int, int]],
        *,
        load: float = LIFTMOR_LOAD,
        **rest: float | tuple[float, float],
    ) -> Program:
        """From ``(exercise, sets, reps)`` triples, all working sets at ``load`` (chin-ups at body
        weight, 1.0), in the given order."""
        sets: list[SetPlan] = []
        for exercise, n_sets, reps in items:
            if isinstance(n_sets, bool) or not isinstance(n_sets, int) or n_sets < 1:
                raise ConfigError(f"{exercise}: sets must be a positive integer, got {n_sets!r}")
            w = 1.0 if exercise == "jumping_chinup" else load
            sets += [SetPlan(exercise, reps, w) for _ in range(n_sets)]
        return cls(tuple(sets), **rest)  # type: ignore[arg-type]

    def set_numbers(self) -> list[int]:
        """1-based number of each set within its exercise (warm-ups count), parallel to
        :attr:`sets`."""
        seen: dict[str, int] = {}
        out = []
        for s in self.sets:
            seen[s.exercise] = seen.get(s.exercise, 0) + 1
            out.append(seen[s.exercise])
        return out

    def rest_s(self, after: SetPlan, rng: np.random.Generator) -> float:
        """A rest (s) after set ``after`` before another set of the same exercise."""
        median = self.warmup_rest_median_s if after.warmup else self.rest_median_s
        value = median * math.exp(self.rest_sigma * float(rng.standard_normal()))
        return float(np.clip(value, *self.rest_bounds_s))

    def transition(self, rng: np.random.Generator) -> float:
        """Time (s) between two exercises."""
        return float(rng.uniform(*self.transition_s))
