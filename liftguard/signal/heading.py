"""Heading alignment of an athlete's two back sensors, for axial twist.

Each sensor's 6-axis filter keeps its own world frame whose heading is arbitrary and drifts with
the residual gyro bias about the vertical (a few tenths of a degree per minute). Twist compares
the two segments' headings, so it needs the heading of one world frame relative to the other:

* at calibration, from the neutral stand (the athlete stands tall: no twist by definition);
* again at every still moment outside a set — both sensors still and both segments upright for
  ``still_s`` — where the athlete is assumed to stand untwisted, unless the twist read there is
  larger than drift could explain since the last alignment (``max_step_deg``): that is a real
  twist held still, and it is kept — until the stillness has lasted ``always_after_s``, a rest.
  Between still moments twist carries only the drift since the last one.

Decisions are taken per sample from that sample and earlier ones, so the offsets do not depend on
how the stream is cut into blocks.
"""

from __future__ import annotations

import math

import numpy as np

from liftguard._types import BoolArray, FloatArray
from liftguard.signal.calibration import SegmentFrame
from liftguard.signal.spine import heading

__all__ = ["HeadingAlignment", "StillRuns"]


class StillRuns:
    """How long each sample's run of consecutive still samples has lasted, across blocks."""

    def __init__(self) -> None:
        self._start: float | None = None  # start of the run the last sample belonged to, s

    def reset(self) -> None:
        self._start = None

    def update(self, t: FloatArray, still: BoolArray) -> FloatArray:
        """Seconds since the run each sample belongs to began (``-1`` where not still).

        Args:
            t: ``(N,)`` session seconds, increasing.
            still: ``(N,)`` True where the athlete is still.
        """
        n = t.size
        if n == 0:
            return np.zeros(0)
        begins = still & ~np.concatenate([[False], still[:-1]])
        start_t = np.where(begins, t, -np.inf)
        if still[0] and self._start is not None:
            start_t[0] = self._start  # the run goes on from the previous block
        elif still[0]:
            start_t[0] = t[0]
        start_t = np.maximum.accumulate(start_t)
        self._start = float(start_t[-1]) if still[-1] else None
        out: FloatArray = np.where(still, t - start_t, -1.0)
        return out


class HeadingAlignment:
    """The heading of the sacrum sensor's world frame relative to the upper sensor's, radians.

    Args:
        still_s: how long the athlete must stand still and upright before re-zeroing, s.
        max_step_deg: the largest correction a re-zero may make, degrees ...
        always_after_s: ... unless the athlete has stood still and upright this long (s): nobody
            holds a twist through a rest, and the 6-axis filters' headings can part by more
            than ``max_step_deg`` over a set of big, fast rotations.
    """

    def __init__(
        self, *, still_s: float = 2.0, max_step_deg: float = 5.0, always_after_s: float = 10.0
    ) -> None:
        self.still_s = float(still_s)
        self.max_step = math.radians(max_step_deg)
        self.always_after_s = float(always_after_s)
        self.offset: float = math.nan
        self._runs = StillRuns()
        self._periods = 0.0  # whole still_s periods the last sample's still run had lasted

    def calibrated(
        self, quat_upper: FloatArray, quat_sacrum: FloatArray, frames: dict[str, SegmentFrame]
    ) -> None:
        """Set the offset from one neutral-posture orientation of each sensor, ``(4,)`` each."""
        self.offset = float(
            _offset(quat_upper[None], quat_sacrum[None], frames["upper"], frames["sacrum"])[0]
        )
        self._runs.reset()
        self._periods = 0.0

    def update(
        self,
        t: FloatArray,
        quat_upper: FloatArray,
        quat_sacrum: FloatArray,
        frames: dict[str, SegmentFrame],
        upright_still: BoolArray,
    ) -> FloatArray:
        """Per-sample offsets ``(N,)`` (NaN until first known), re-zeroing where the athlete has
        stood still and upright for ``still_s``.

        Args:
            t: ``(N,)`` session seconds.
            quat_upper, quat_sacrum: ``(N, 4)`` sensor-to-world ``[w, x, y, z]``.
            frames: the calibrated segment frames.
            upright_still: ``(N,)`` both sensors still, both segments upright, no set running.
        """
        lasted = self._runs.update(t, upright_still)
        # A still run is considered each time it has lasted another still_s.
        periods = np.where(lasted >= 0.0, np.floor(lasted / self.still_s), 0.0)
        before = np.concatenate([[self._periods], periods[:-1]])
        first = np.flatnonzero((periods >= 1.0) & (periods > before))
        if t.size:
            self._periods = float(periods[-1])
        offsets = np.full(t.size, self.offset)
        if first.size == 0:
            return offsets
        values = _offset(quat_upper[first], quat_sacrum[first], frames["upper"], frames["sacrum"])
        for k, v in zip(first.tolist(), values.tolist(), strict=True):
            if (
                math.isnan(self.offset)
                or abs(_wrap(v - self.offset)) <= self.max_step
                or lasted[k] >= self.always_after_s
            ):
                self.offset = v
                offsets[k:] = v
        return offsets


def _wrap(a: float) -> float:
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def _offset(
    quat_upper: FloatArray, quat_sacrum: FloatArray, upper: SegmentFrame, sacrum: SegmentFrame
) -> FloatArray:
    # Untwisted and upright, the two forward axes point the same way: the difference of their
    # headings is the difference of the two world frames'.
    d = heading(quat_sacrum, sacrum.forward) - heading(quat_upper, upper.forward)
    out: FloatArray = np.angle(np.exp(1j * d))
    return out
