"""Causal deadlift repetition counting from trunk inclination.

A deadlift rep is a concentric (trunk rises from the bar on the floor to lockout) followed by an
eccentric (the bar is lowered back to the floor). Hysteresis on the upper segment's forward
inclination turns the trunk's motion into *down* and *up* states. The descent that opens a set
(walking up to the bar and setting up) has no concentric before it, and the final stand-up after
the last rep has no eccentric after it, so neither is counted: a rep is confirmed only when an
*up* (lockout) is followed by a *down* within ``max_lockout_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liftguard._types import FloatArray, IntArray

__all__ = ["DeadliftRepCounter", "RepUpdate", "RepWindow"]


@dataclass(frozen=True)
class RepWindow:
    """A confirmed rep: 1-based ``rep`` number in its set, its window (session seconds) and the
    peak lumbar flexion inside it (degrees)."""

    rep: int
    t_start: float
    t_end: float
    peak_flexion_deg: float


@dataclass(frozen=True)
class RepUpdate:
    """What one block of samples did to the count.

    ``candidate``: ``(N,)`` the number of the rep each sample belongs to (reps confirmed before it,
    plus one). ``reps``: reps confirmed in this block, in order. ``finished_at``: session time at
    which the athlete was seen standing up for good after at least one rep, else ``None``;
    ``stop``: the samples from this index on came after that and were not counted.
    """

    candidate: IntArray
    reps: list[RepWindow]
    finished_at: float | None
    stop: int


class DeadliftRepCounter:
    """Counts deadlift reps of one athlete within one set.

    Args:
        down_deg: trunk inclination (degrees forward of neutral) above which the trunk is *down*.
        up_deg: trunk inclination below which the trunk is *up* (locked out or standing).
        max_lockout_s: the longest lockout between two reps; staying up longer ends the set.
        liftoff_drop_deg: the rep starts when the trunk has risen this far from its lowest point.
        target_reps: the set's planned reps (``None``: not known); once they are counted, the
            next stand-up ends the set.
    """

    def __init__(
        self,
        *,
        down_deg: float = 25.0,
        up_deg: float = 10.0,
        max_lockout_s: float = 6.0,
        liftoff_drop_deg: float = 2.0,
        target_reps: int | None = None,
    ) -> None:
        if not up_deg < down_deg:
            raise ValueError("up_deg must be below down_deg")
        self.down_deg = down_deg
        self.up_deg = up_deg
        self.max_lockout_s = max_lockout_s
        self.liftoff_drop_deg = liftoff_drop_deg
        if target_reps is not None and target_reps < 1:
            raise ValueError(f"target_reps must be at least 1, got {target_reps}")
        self.target_reps = target_reps
        self.reset()

    def reset(self) -> None:
        """Start a new set: nothing counted, athlete standing."""
        self.count = 0
        self._down = False
        self._down_max = -np.inf
        self._liftoff_t = 0.0
        self._up_since = 0.0
        self._pending_start: float | None = None
        self._finished = False
        self._flex_t: list[FloatArray] = []
        self._flex_v: list[FloatArray] = []

    def update(self, t: FloatArray, trunk_deg: FloatArray, flexion_deg: FloatArray) -> RepUpdate:
        """Feed aligned samples.

        Args:
            t: ``(N,)`` session seconds.
            trunk_deg: ``(N,)`` upper-segment forward inclination from neutral, degrees.
            flexion_deg: ``(N,)`` lumbar flexion from neutral, degrees.
        """
        n = t.shape[0]
        if self._finished:
            # The set is over: nothing more is counted, whatever block the end fell in.
            return RepUpdate(np.full(n, self.count + 1, dtype=np.int64), [], None, 0)
        self._flex_t.append(t)
        self._flex_v.append(flexion_deg)
        reps: list[RepWindow] = []
        confirm_at: list[int] = []
        finished_at: float | None = None
        stop = n
        i = 0
        while i < n:
            if self._down:
                j = _first(trunk_deg[i:] < self.up_deg, i)
                self._track_bottom(t[i:j], trunk_deg[i:j])
                if j == n:
                    break
                self._down = False
                self._up_since = float(t[j])
                self._pending_start = self._liftoff_t
                if self.target_reps is not None and self.count >= self.target_reps:
                    # The planned reps are done and the athlete stands up: the set is over.
                    self._pending_start = None
                    self._finished = True
                    finished_at = float(t[j])
                    stop = j
                    break
            else:
                j = _first(trunk_deg[i:] > self.down_deg, i)
                if self._pending_start is not None:
                    deadline = self._up_since + self.max_lockout_s
                    late = i + int(np.searchsorted(t[i:], deadline, side="right"))
                    if late < n and late <= j:
                        self._pending_start = None
                        if self.count:
                            # Standing up for good after reps ends the set: the samples from
                            # here on are not this set's, whatever block they came in.
                            self._finished = True
                            finished_at = deadline
                            stop = late
                            break
                if j == n:
                    break
                if self._pending_start is not None:
                    reps.append(self._confirm(self._pending_start, float(t[j])))
                    confirm_at.append(j)
                    self._pending_start = None
                self._down = True
                self._down_max = -np.inf
            i = j
        self._trim(float(t[-1]) if n else 0.0)
        candidate = np.full(n, self.count - len(reps) + 1, dtype=np.int64)
        for k in confirm_at:
            candidate[k:] += 1
        return RepUpdate(candidate, reps, finished_at, stop)

    def _track_bottom(self, t: FloatArray, trunk: FloatArray) -> None:
        if t.size == 0:
            return
        self._down_max = max(self._down_max, float(trunk.max()))
        near = np.nonzero(trunk >= self._down_max - self.liftoff_drop_deg)[0]
        if near.size:
            self._liftoff_t = float(t[near[-1]])

    def _confirm(self, t_start: float, t_end: float) -> RepWindow:
        self.count += 1
        ft = np.concatenate(self._flex_t)
        fv = np.concatenate(self._flex_v)
        inside = (ft >= t_start) & (ft <= t_end)
        peak = float(fv[inside].max()) if inside.any() else float("nan")
        return RepWindow(self.count, t_start, t_end, peak)

    def _trim(self, now: float) -> None:
        # A rep never lasts 60 s; older flexion samples cannot belong to a future rep.
        while len(self._flex_t) > 1 and self._flex_t[0].size and self._flex_t[0][-1] < now - 60:
            self._flex_t.pop(0)
            self._flex_v.pop(0)


def _first(mask: np.ndarray, offset: int) -> int:
    """Index (plus ``offset``) of the first True in ``mask``, or ``offset + len(mask)``."""
    k = int(np.argmax(mask)) if mask.size else 0
    if mask.size == 0 or not mask[k]:
        return offset + mask.shape[0]
    return offset + k
