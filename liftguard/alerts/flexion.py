"""The lumbar-flexion rule: warning and alarm levels, held, with hysteresis, once per rep."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from liftguard._types import BoolArray, FloatArray, IntArray

__all__ = ["FlexionAlarmRule", "FlexionTrigger"]


@dataclass(frozen=True)
class FlexionTrigger:
    """The rule fired: at session time ``t`` (s), in rep ``rep``, the excursion's peak flexion
    so far ``value_deg``, at ``severity`` (``"warning"`` or ``"alarm"``) of ``level_deg``."""

    t: float
    rep: int
    value_deg: float
    severity: str = "alarm"
    level_deg: float = 30.0


class _Level:
    """One level: an excursion starts above ``level``, lasts while above ``level - hyst``,
    and fires once per rep when it has lasted ``hold`` seconds."""

    def __init__(self, severity: str, level: float, hold: float, hyst: float) -> None:
        self.severity, self.level, self.hold, self.hyst = severity, level, hold, hyst
        self.run_start: float | None = None
        self.run_max = -np.inf
        self.fired: set[int] = set()

    def update(
        self, t: FloatArray, flexion: FloatArray, rep: IntArray, active: BoolArray
    ) -> list[FlexionTrigger]:
        n = t.shape[0]
        if n == 0:
            return []
        cont = (flexion > self.level - self.hyst) & active
        start_ok = flexion > self.level
        # Segments where an excursion may continue; decisions are taken at samples only, so
        # the result never depends on where a block ends.
        seg_starts = np.nonzero(cont & ~np.concatenate([[False], cont[:-1]]))[0]
        seg_ends = np.nonzero(cont & ~np.concatenate([cont[1:], [False]]))[0]
        carried = self.run_start if cont[0] else None
        carried_max = self.run_max
        out: list[FlexionTrigger] = []
        self.run_start = None
        for k, (s, e) in enumerate(zip(seg_starts.tolist(), seg_ends.tolist(), strict=True)):
            if k == 0 and s == 0 and carried is not None:
                t0, first, before = carried, 0, carried_max
            else:
                begins = np.nonzero(start_ok[s : e + 1])[0]
                if begins.size == 0:
                    continue
                first = s + int(begins[0])
                t0, before = float(t[first]), -np.inf
            held = np.nonzero(t[first : e + 1] - t0 >= self.hold)[0]
            if held.size:
                i = first + int(held[0])
                r = int(rep[i])
                if r not in self.fired:
                    self.fired.add(r)
                    # The excursion's peak so far: with hysteresis the current sample may
                    # already be a little below the level.
                    peak = max(before, float(flexion[first : i + 1].max()))
                    out.append(FlexionTrigger(float(t[i]), r, peak, self.severity, self.level))
            if e == n - 1:
                self.run_start = t0
                self.run_max = max(before, float(flexion[first : e + 1].max()))
        return out


class FlexionAlarmRule:
    """Warns, then alarms, once per rep each, when lumbar flexion stays above a level.

    The hold time keeps a single noisy sample from alerting, and the hysteresis keeps a wobble
    at the edge one excursion (users of posture trainers abandon them over alert fatigue); one
    alert per rep and level keeps a supervisor's screen readable. An alarm makes a warning at
    the same instant redundant: only the alarm is raised.

    Args:
        threshold_deg: the alarm level, degrees of lumbar flexion from neutral.
        hold_s: seconds flexion must stay above a level.
        warning_deg: the warning level (``None``: no warnings).
        hysteresis_deg: how far below a level flexion must fall to end an excursion.
    """

    def __init__(
        self,
        threshold_deg: float = 30.0,
        hold_s: float = 0.1,
        *,
        warning_deg: float | None = None,
        hysteresis_deg: float = 0.0,
    ) -> None:
        if hold_s < 0:
            raise ValueError(f"hold_s must not be negative, got {hold_s}")
        if hysteresis_deg < 0:
            raise ValueError(f"hysteresis_deg must not be negative, got {hysteresis_deg}")
        self.hold_s = float(hold_s)
        self.hysteresis_deg = float(hysteresis_deg)
        self.set_levels(warning_deg, threshold_deg)

    @property
    def threshold_deg(self) -> float:
        return self._alarm.level

    def set_levels(self, warning_deg: float | None, alarm_deg: float) -> None:
        """New levels (degrees from neutral) — at the start of a set; also resets."""
        if not alarm_deg > 0:
            raise ValueError(f"threshold_deg must be positive, got {alarm_deg}")
        if warning_deg is not None and not 0 < warning_deg <= alarm_deg:
            raise ValueError("warning_deg must be positive and not above the alarm level")
        self.warning_deg = warning_deg
        self._alarm = _Level("alarm", float(alarm_deg), self.hold_s, self.hysteresis_deg)
        self._warning = (
            None
            if warning_deg is None
            else _Level("warning", float(warning_deg), self.hold_s, self.hysteresis_deg)
        )

    def reset(self) -> None:
        """A new set starts: no rep has alerted yet."""
        self.set_levels(self.warning_deg, self._alarm.level)

    def update(
        self, t: FloatArray, flexion_deg: FloatArray, rep: IntArray, active: BoolArray
    ) -> list[FlexionTrigger]:
        """Feed aligned samples.

        Args:
            t: ``(N,)`` session seconds.
            flexion_deg: ``(N,)`` lumbar flexion, degrees from neutral.
            rep: ``(N,)`` number of the rep each sample belongs to.
            active: ``(N,)`` True where the rule applies (the athlete is in a set).

        Returns:
            Warnings and alarms in time order.
        """
        alarms = self._alarm.update(t, flexion_deg, rep, active)
        if self._warning is None:
            return alarms
        warnings = self._warning.update(t, flexion_deg, rep, active)
        alarmed_at = {a.rep: a.t for a in alarms}
        warnings = [w for w in warnings if not (w.rep in alarmed_at and alarmed_at[w.rep] <= w.t)]
        return sorted(alarms + warnings, key=lambda x: (x.t, x.severity == "warning"))
