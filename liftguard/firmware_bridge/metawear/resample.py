"""Putting one MetaWear stream on another's sample times.

A MetaMotion's accelerometer and gyroscope run at independent rates (MetaBase exports often
hold 12.5 Hz acc and 25 Hz gyro). LiftGuard merges them onto the faster stream's sample times,
the slower one linearly interpolated; live streams (:mod:`.assembler`) and MetaBase imports
(:mod:`liftguard.recording.metabase`) share this step.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["interpolate_onto"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def interpolate_onto(
    t: npt.ArrayLike, t_src: npt.ArrayLike, values: npt.ArrayLike
) -> tuple[FloatArray, BoolArray]:
    """``values`` ``(m, k)`` sampled at increasing ``t_src`` ``(m,)``, at the times ``t`` ``(n,)``.

    Returns ``(resampled (n, k), own (n,))``: linear interpolation column by column (held at
    the ends, as :func:`numpy.interp`), and True where ``t`` is exactly one of ``t_src`` — the
    value was measured there, not filled in. The result depends only on the differences
    between ``t`` and ``t_src``, so integer-valued times give the same bits whatever origin
    they are counted from.
    """
    tt = np.asarray(t, dtype=np.float64)
    ts = np.asarray(t_src, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    out = np.empty((tt.shape[0], vals.shape[1]), dtype=np.float64)
    for k in range(vals.shape[1]):
        out[:, k] = np.interp(tt, ts, vals[:, k])
    return out, np.isin(tt, ts)
