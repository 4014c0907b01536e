"""Spine geometry: from sensor orientations to heading-free sagittal angles.

A segment's sagittal inclination is read off the direction of gravity in its sensor frame, so it
never depends on heading — which a 6-axis filter cannot observe and which drifts. The segment's
axes in its sensor frame come from calibration (:mod:`liftguard.signal.calibration`), so sensors
may be stuck on in any orientation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from liftguard._types import FloatArray
    from liftguard.signal.calibration import SegmentFrame

__all__ = ["sagittal_inclination", "up_in_sensor"]


def up_in_sensor(quat: FloatArray) -> FloatArray:
    """World up (+z) expressed in the sensor frame.

    Args:
        quat: ``(N, 4)`` sensor-to-world orientation ``[w, x, y, z]``.

    Returns:
        ``(N, 3)`` unit vectors: the third row of each rotation matrix, i.e. ``R.T @ [0, 0, 1]``.
    """
    w, x, y, z = quat[:, 0], quat[:, 1], quat[:, 2], quat[:, 3]
    up = np.empty((quat.shape[0], 3))
    up[:, 0] = 2.0 * (x * z - w * y)
    up[:, 1] = 2.0 * (y * z + w * x)
    up[:, 2] = 1.0 - 2.0 * (x * x + y * y)
    return up


def sagittal_inclination(up: FloatArray, frame: SegmentFrame) -> FloatArray:
    """Forward inclination of a segment relative to its calibrated neutral, in radians.

    When the segment pitches forward by θ about its left-right axis, world up seen from the
    segment tilts backwards by θ: ``up = cos θ · neutral_up − sin θ · forward``.

    Args:
        up: ``(N, 3)`` world up in the sensor frame (see :func:`up_in_sensor`).
        frame: the segment's calibrated axes in the sensor frame.

    Returns:
        ``(N,)`` radians, positive forward, zero at the calibrated neutral posture.
    """
    return np.arctan2(-(up @ frame.forward), up @ frame.up)
