"""The lumbar-flexion alarm: flexion above a threshold, held, during a rep."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liftguard._types import BoolArray, FloatArray, IntArray

__all__ = ["FlexionAlarmRule", "FlexionTrigger"]


@dataclass(frozen=True)
class FlexionTrigger:
    """The rule fired: at session time ``t`` (s), in rep ``rep``, with flexion ``value_deg``."""

    t: float
    rep: int
    value_deg: float


class FlexionAlarmRule:
    """Fires once per rep when lumbar flexion stays above ``threshold_deg`` for ``hold_s``.

    The hold time keeps a single noisy sample from alarming (users of posture trainers abandon
    them over alert fatigue); one alarm per rep keeps a supervisor's screen readable.

    Args:
        threshold_deg: degrees of lumbar flexion from the athlete's neutral.
        hold_s: seconds the flexion must stay above the threshold.
    """

    def __init__(self, threshold_deg: float = 30.0, hold_s: float = 0.1) -> None:
        if not threshold_deg > 0:
            raise ValueError(f"threshold_deg must be positive, got {threshold_deg}")
        if hold_s < 0:
            raise ValueError(f"hold_s must not be negative, got {hold_s}")
        self.threshold_deg = float(threshold_deg)
        self.hold_s = float(hold_s)
        self.reset()

    def reset(self) -> None:
        """A new set starts: no rep has alarmed yet."""
        self._run_start: float | None = None
        self._fired_reps: set[int] = set()

    def update(
        self, t: FloatArray, flexion_deg: FloatArray, rep: IntArray, active: BoolArray
    ) -> list[FlexionTrigger]:
        """Feed aligned samples.

        Args:
            t: ``(N,)`` session seconds.
            flexion_deg: ``(N,)`` lumbar flexion, degrees from neutral.
            rep: ``(N,)`` number of the rep each sample belongs to.
            active: ``(N,)`` True where the rule applies (the athlete is in a set).
        """
        above = (flexion_deg > self.threshold_deg) & active
        n = t.shape[0]
        if n == 0:
            return []
        # Run starts: a rising edge, or sample 0 when a run carries over from the last block.
        starts = list(np.nonzero(above & ~np.concatenate([[False], above[:-1]]))[0])
        ends = list(np.nonzero(above & ~np.concatenate([above[1:], [False]]))[0])
        carried = self._run_start
        triggers: list[FlexionTrigger] = []
        for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
            t0 = carried if (k == 0 and s == 0 and carried is not None) else float(t[s])
            held = np.nonzero(t[s : e + 1] - t0 >= self.hold_s)[0]
            if held.size:
                i = s + int(held[0])
                r = int(rep[i])
                if r not in self._fired_reps:
                    self._fired_reps.add(r)
                    triggers.append(FlexionTrigger(float(t[i]), r, float(flexion_deg[i])))
            if e == n - 1:
                self._run_start = t0
        if not above[-1]:
            self._run_start = None
        return triggers
