"""The recent past of one athlete's aligned back-sensor stream, with causal smoothing.

Rep counters look back over a rep when they confirm it (where did the descent start, how deep
was it) and smooth the angles so a noisy sample cannot flip a threshold. Both must give the same
answer however the stream was cut into blocks, so:

* the moving mean is computed from running sums of the angles *quantised to integers*
  (1e-4 degree): integer sums are exact, so the mean of a window does not depend on where the
  running sum started (a float cumulative sum would, in its last bits);
* windows are defined in time (``(t − w, t]``), not in samples, so the same code runs at any
  rate from 12.5 to 200 Hz and across gaps;
* old samples are dropped only when they are older than ``keep_s``, longer than any look-back.
"""

from __future__ import annotations

import numpy as np

from liftguard._types import FloatArray, IntArray

__all__ = ["History", "first_true", "range_max"]

_QUANTUM = 1e4  # quantisation of angles for the exact running sums: steps of 1e-4 degree
_ANGLE_CLIP = 1e4  # degrees; keeps garbage input from overflowing the int64 sums


def first_true(mask: np.ndarray, offset: int = 0) -> int:
    """Index (plus ``offset``) of the first True in ``mask`` ``(N,)``, or ``offset + N``."""
    if mask.size == 0:
        return offset
    k = int(np.argmax(mask))
    return offset + k if mask[k] else offset + mask.shape[0]


def last_true(mask: np.ndarray, offset: int = 0) -> int:
    """Index (plus ``offset``) of the last True in ``mask`` ``(N,)``, or ``-1``."""
    if mask.size == 0:
        return -1
    k = mask.shape[0] - 1 - int(np.argmax(mask[::-1]))
    return offset + k if mask[k] else -1


def range_max(values: FloatArray, lo: IntArray, hi: IntArray) -> FloatArray:
    """Maximum of ``values[lo[k] : hi[k] + 1]`` for every k, vectorised (sparse table).

    Args:
        values: ``(M,)`` any finite floats.
        lo, hi: ``(K,)`` inclusive index bounds with ``0 <= lo <= hi < M``.

    Returns ``(K,)``. ``max`` is exact, so the result does not depend on how it is computed.
    """
    if lo.size == 0:
        return np.zeros(0)
    length = hi - lo + 1
    levels = [values]
    span = 1
    while 2 * span <= int(length.max()):
        prev = levels[-1]
        levels.append(np.maximum(prev[:-span], prev[span:]))
        span *= 2
    k = np.floor(np.log2(length)).astype(np.int64)
    out = np.empty(lo.shape[0])
    for level in np.unique(k):
        sel = k == level
        table = levels[int(level)]
        width = 1 << int(level)
        out[sel] = np.maximum(table[lo[sel]], table[hi[sel] - width + 1])
    return out


class History:
    """Aligned samples of one athlete over the last ``keep_s`` seconds, with causal smoothing.

    Per sample (all ``(M,)``, index 0 = oldest kept): ``t`` session s; raw ``trunk``,
    ``pelvis``, ``flex`` (degrees); ``sac``, ``upp`` specific-force norms (m/s²); the moving
    means ``trunk_s``, ``pelvis_s``, ``flex_s`` over ``(t − smooth_s, t]`` (degrees; they lag the
    raw angles by ``smooth_s / 2``); and the slopes ``trunk_v``, ``flex_v``, ``low_v`` (deg/s)
    of the smoothed trunk, flexion and of ``low = min(trunk_s, flex_s)`` over the last
    ``slope_s`` (they describe the motion ``delay_s = (smooth_s + slope_s) / 2`` ago).

    Non-finite inputs are replaced by the last finite value of the same channel (angles 0° and
    accelerations 9.81 m/s² before the first one), so one bad sample cannot poison the sums.
    """

    def __init__(self, keep_s: float = 40.0, smooth_s: float = 0.15, slope_s: float = 0.1) -> None:
        self.keep_s = float(keep_s)
        self.smooth_s = float(smooth_s)
        self.slope_s = float(slope_s)
        self.delay_s = 0.5 * (self.smooth_s + self.slope_s)
        self.t = np.zeros(0)
        self.trunk = np.zeros(0)
        self.pelvis = np.zeros(0)
        self.flex = np.zeros(0)
        self.sac = np.zeros(0)
        self.upp = np.zeros(0)
        self.trunk_s = np.zeros(0)
        self.pelvis_s = np.zeros(0)
        self.flex_s = np.zeros(0)
        self.low = np.zeros(0)
        self.trunk_v = np.zeros(0)
        self.flex_v = np.zeros(0)
        self.low_v = np.zeros(0)
        # Running integer sums: row k holds the sums *before* sample k (one extra row at the end).
        self._sums = np.zeros((1, 3), dtype=np.int64)
        self._last = np.array([0.0, 0.0, 0.0, 9.81, 9.81])  # last finite value per channel

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def append(
        self,
        t: FloatArray,
        trunk: FloatArray,
        pelvis: FloatArray,
        flex: FloatArray,
        sac: FloatArray,
        upp: FloatArray,
    ) -> int:
        """Add one block (all ``(N,)``; ``t`` strictly increasing and after the last sample).

        Returns the index of the block's first sample in the history arrays.
        """
        self._trim()
        lo = len(self)
        if t.size == 0:
            return lo
        chans = np.stack([trunk, pelvis, flex, sac, upp]).astype(np.float64)
        chans = self._fill(chans)
        q = np.round(np.clip(chans[:3], -_ANGLE_CLIP, _ANGLE_CLIP).T * _QUANTUM).astype(np.int64)
        sums = self._sums[-1] + np.cumsum(q, axis=0)
        self._sums = np.concatenate([self._sums, sums])
        self.t = np.concatenate([self.t, t])
        self.trunk = np.concatenate([self.trunk, chans[0]])
        self.pelvis = np.concatenate([self.pelvis, chans[1]])
        self.flex = np.concatenate([self.flex, chans[2]])
        self.sac = np.concatenate([self.sac, chans[3]])
        self.upp = np.concatenate([self.upp, chans[4]])
        smooth = self._moving_mean(lo)
        self.trunk_s = np.concatenate([self.trunk_s, smooth[:, 0]])
        self.pelvis_s = np.concatenate([self.pelvis_s, smooth[:, 1]])
        self.flex_s = np.concatenate([self.flex_s, smooth[:, 2]])
        self.low = np.concatenate([self.low, np.minimum(smooth[:, 0], smooth[:, 2])])
        self.trunk_v = np.concatenate([self.trunk_v, self._slope(self.trunk_s, lo)])
        self.flex_v = np.concatenate([self.flex_v, self._slope(self.flex_s, lo)])
        self.low_v = np.concatenate([self.low_v, self._slope(self.low, lo)])
        return lo

    def index(self, t: float, side: str = "left") -> int:
        """``searchsorted`` of session time ``t`` (s) in the kept samples."""
        return int(np.searchsorted(self.t, t, side=side))  # type: ignore[call-overload]

    def mean(self, i: int, j: int, window_s: float) -> FloatArray:
        """Moving means of the raw trunk, pelvis and flexion over ``(t − window_s, t]`` for the
        kept samples ``i..j-1``: ``(j − i, 3)`` degrees, exact like :attr:`trunk_s`. The window
        is cut at the oldest kept sample (``keep_s`` back)."""
        t = self.t
        idx = np.arange(i, j)
        start = np.searchsorted(t, t[idx] - window_s, side="right")
        count = (idx - start + 1).astype(np.float64)
        total = self._sums[idx + 1] - self._sums[start]
        return total.astype(np.float64) / count[:, None] / _QUANTUM

    def _fill(self, chans: FloatArray) -> FloatArray:
        ok = np.isfinite(chans)
        if ok.all():
            self._last = chans[:, -1].copy()
            return chans
        out = chans.copy()
        n = chans.shape[1]
        for c in range(chans.shape[0]):
            good = ok[c]
            # Index of the last finite sample at or before each sample (-1: none in this block).
            idx = np.maximum.accumulate(np.where(good, np.arange(n), -1))
            out[c] = np.where(idx >= 0, chans[c][np.maximum(idx, 0)], self._last[c])
            self._last[c] = out[c, -1]
        return out

    def _moving_mean(self, lo: int) -> FloatArray:
        return self.mean(lo, len(self), self.smooth_s)

    def _slope(self, x: FloatArray, lo: int) -> FloatArray:
        t = self.t
        new = np.arange(lo, len(self))
        ref = np.maximum(np.searchsorted(t, t[new] - self.slope_s, side="right") - 1, 0)
        dt = t[new] - t[ref]
        with np.errstate(invalid="ignore", divide="ignore"):
            v = (x[new] - x[ref]) / dt
        return np.where(dt > 0, v, 0.0)

    def _trim(self) -> None:
        # Drop in bulk, and only samples older than any look-back: the result of every later
        # computation is then the same whatever the block sizes were.
        n = len(self)
        if n < 2:
            return
        cut = int(np.searchsorted(self.t, self.t[-1] - self.keep_s, side="left"))
        if cut < max(256, n // 2):
            return
        for name in (
            "t",
            "trunk",
            "pelvis",
            "flex",
            "sac",
            "upp",
            "trunk_s",
            "pelvis_s",
            "flex_s",
            "low",
            "trunk_v",
            "flex_v",
            "low_v",
        ):
            setattr(self, name, getattr(self, name)[cut:])
        self._sums = self._sums[cut:]
