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


_FIELDS = (
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
)
_ROW = {name: k for k, name in enumerate(_FIELDS)}


def _field(name: str) -> property:
    row = _ROW[name]

    def get(self: History) -> FloatArray:
        return self._data[row, : self._n]

    return property(get, doc=f"``{name}`` of the kept samples, ``(M,)`` (a view).")


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

    The fields are views into buffers that grow by doubling: a live session appends a sample
    or two per notification, and copying the whole history each time would cost more than
    the rest of the athlete stage.
    """

    t = _field("t")
    trunk = _field("trunk")
    pelvis = _field("pelvis")
    flex = _field("flex")
    sac = _field("sac")
    upp = _field("upp")
    trunk_s = _field("trunk_s")
    pelvis_s = _field("pelvis_s")
    flex_s = _field("flex_s")
    low = _field("low")
    trunk_v = _field("trunk_v")
    flex_v = _field("flex_v")
    low_v = _field("low_v")

    def __init__(self, keep_s: float = 40.0, smooth_s: float = 0.15, slope_s: float = 0.1) -> None:
        self.keep_s = float(keep_s)
        self.smooth_s = float(smooth_s)
        self.slope_s = float(slope_s)
        self.delay_s = 0.5 * (self.smooth_s + self.slope_s)
        self._n = 0
        self._data = np.zeros((len(_FIELDS), 0))
        # Running integer sums: row k holds the sums *before* sample k (one extra row at the end).
        self._sum_rows = np.zeros((1, 3), dtype=np.int64)
        self._last = np.array([0.0, 0.0, 0.0, 9.81, 9.81])  # last finite value per channel

    @property
    def _sums(self) -> IntArray:
        return self._sum_rows[: self._n + 1]

    def __len__(self) -> int:
        return self._n

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
        lo = self._n
        n = t.size
        if n == 0:
            return lo
        chans = np.stack([trunk, pelvis, flex, sac, upp]).astype(np.float64)
        chans = self._fill(chans)
        q = np.round(np.clip(chans[:3], -_ANGLE_CLIP, _ANGLE_CLIP).T * _QUANTUM).astype(np.int64)
        self._reserve(lo + n)
        d = self._data
        self._sum_rows[lo + 1 : lo + n + 1] = self._sum_rows[lo] + np.cumsum(q, axis=0)
        d[_ROW["t"], lo : lo + n] = t
        d[_ROW["trunk"] : _ROW["upp"] + 1, lo : lo + n] = chans
        self._n = lo + n
        smooth = self._moving_mean(lo)
        d[_ROW["trunk_s"] : _ROW["flex_s"] + 1, lo : lo + n] = smooth.T
        d[_ROW["low"], lo : lo + n] = np.minimum(smooth[:, 0], smooth[:, 2])
        d[_ROW["trunk_v"], lo : lo + n] = self._slope(self.trunk_s, lo)
        d[_ROW["flex_v"], lo : lo + n] = self._slope(self.flex_s, lo)
        d[_ROW["low_v"], lo : lo + n] = self._slope(self.low, lo)
        return lo

    def _reserve(self, size: int) -> None:
        cap = self._data.shape[1]
        if size <= cap:
            return
        cap = max(size, 2 * cap, 256)
        data = np.zeros((len(_FIELDS), cap))
        data[:, : self._n] = self._data[:, : self._n]
        sums = np.zeros((cap + 1, 3), dtype=np.int64)
        sums[: self._n + 1] = self._sum_rows[: self._n + 1]
        self._data, self._sum_rows = data, sums

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
        n = self._n
        if n < 2:
            return
        cut = int(np.searchsorted(self.t, self.t[-1] - self.keep_s, side="left"))
        if cut < max(256, n // 2):
            return
        self._data[:, : n - cut] = self._data[:, cut:n].copy()
        self._sum_rows[: n - cut + 1] = self._sum_rows[cut : n + 1].copy()
        self._n = n - cut
