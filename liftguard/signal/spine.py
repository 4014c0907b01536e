"""Spine geometry: from sensor orientations to lumbar flexion, lateral bend and axial twist.

A segment's sagittal and lateral inclinations are read off the direction of gravity in its
sensor frame, so they never depend on heading — which a 6-axis filter cannot observe and which
drifts. The segment's axes in its sensor frame come from calibration
(:mod:`liftguard.signal.calibration`), so sensors may be stuck on in any orientation.

The angles follow the Cardan sequence of a segment's orientation relative to standing:
forward inclination θ about its left axis, then lateral inclination φ about its forward axis,
then axial rotation τ about its own long axis (``R = Rz(heading) Ry(θ) Rx(φ) Rz(τ)``, x forward,
y left, z up). Lumbar flexion is the difference of the two segments' θ, read off gravity alone, so
it can never drift. Lateral bend and axial twist come from the full relative orientation of the
upper segment in the pelvis frame (Y-X-Z Cardan angles), which needs the two sensors' headings —
each filter keeps its own, drifting world frame — aligned
(:class:`~liftguard.signal.heading.HeadingAlignment`).

The gravity-based flexion reads the upper segment's inclination in its own sagittal plane; when
the spine is twisted at the same time it differs from the Cardan flexion by about
``θ (1 − cos τ)`` (a 6° twist at 35° of trunk inclination: 0.2°; 15° of twist: 1°).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from liftguard.signal._vec import row_dots, row_norms

if TYPE_CHECKING:
    from liftguard._types import FloatArray
    from liftguard.signal.calibration import SegmentFrame

__all__ = [
    "bend_and_twist",
    "heading",
    "lateral_inclination",
    "left_axis",
    "nlerp",
    "rotate",
    "sagittal_inclination",
    "up_in_sensor",
]


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


def lateral_inclination(up: FloatArray, frame: SegmentFrame) -> FloatArray:
    """Lateral inclination φ of a segment relative to its calibrated neutral, in radians.

    A positive rotation about the segment's forward axis (right-hand rule: its top moves to
    its right) tilts world up, seen from the segment, toward its left axis:
    ``up · left = cos θ sin φ`` and ``up · up₀ = cos θ cos φ`` for any forward inclination θ.

    Args:
        up: ``(N, 3)`` world up in the sensor frame.
        frame: the segment's calibrated axes in the sensor frame.

    Returns:
        ``(N,)`` radians, zero at the calibrated neutral posture.
    """
    return np.arctan2(up @ left_axis(frame), up @ frame.up)


def rotate(quat: FloatArray, v: FloatArray) -> FloatArray:
    """A sensor-frame vector ``v`` ``(3,)`` in world coordinates, for each orientation.

    Args:
        quat: ``(N, 4)`` sensor-to-world ``[w, x, y, z]``.
        v: ``(3,)`` vector in the sensor frame.

    Returns:
        ``(N, 3)``: ``R(q) v``.
    """
    w, x, y, z = quat[:, 0], quat[:, 1], quat[:, 2], quat[:, 3]
    vx, vy, vz = float(v[0]), float(v[1]), float(v[2])
    # v + 2 w (u × v) + 2 u × (u × v), u = (x, y, z)
    cx = y * vz - z * vy
    cy = z * vx - x * vz
    cz = x * vy - y * vx
    out = np.empty((quat.shape[0], 3))
    out[:, 0] = vx + 2.0 * (w * cx + y * cz - z * cy)
    out[:, 1] = vy + 2.0 * (w * cy + z * cx - x * cz)
    out[:, 2] = vz + 2.0 * (w * cz + x * cy - y * cx)
    return out


def bend_and_twist(
    quat_upper: FloatArray,
    quat_sacrum: FloatArray,
    upper: SegmentFrame,
    sacrum: SegmentFrame,
    offset: FloatArray | float,
) -> tuple[FloatArray, FloatArray]:
    """Lateral bend and axial twist of the upper segment relative to the pelvis, in radians.

    With ``R = Rs⁻¹ Rz(offset) Ru`` the upper segment's orientation in the pelvis frame
    (``Ru``, ``Rs`` segment-to-world in each sensor's own world frame; ``Rz(offset)`` takes the
    upper sensor's world to the sacrum sensor's), bend and twist are the second and third angles
    of its Y-X-Z Cardan sequence ``R = Ry(flexion) Rx(bend) Rz(twist)``, whose middle row is
    ``[cos b sin c, cos b cos c, −sin b]``.

    Args:
        quat_upper, quat_sacrum: ``(N, 4)`` sensor-to-world ``[w, x, y, z]`` of each sensor.
        upper, sacrum: the segments' calibrated axes in their sensor frames.
        offset: heading of the sacrum sensor's world frame relative to the upper sensor's,
            radians, scalar or ``(N,)`` (see :class:`~liftguard.signal.heading.HeadingAlignment`).

    Returns:
        ``(bend, twist)``, each ``(N,)`` radians: bend positive for a right-hand rotation about
        the pelvis's forward axis (the top of the spine to the right), twist positive
        counter-clockwise seen from above.
    """
    ls = rotate(quat_sacrum, left_axis(sacrum))
    c, s = np.cos(offset), np.sin(offset)
    # The middle row is the pelvis's left axis seen in the upper segment's axes:
    # (Rz(offset) Ru a) · ls = a · (Ruᵀ Rz(−offset) ls) for each upper axis a — one rotation
    # of one vector per sample instead of three.
    back = np.empty_like(ls)
    back[:, 0] = c * ls[:, 0] + s * ls[:, 1]
    back[:, 1] = c * ls[:, 1] - s * ls[:, 0]
    back[:, 2] = ls[:, 2]
    m = _unrotate(quat_upper, back)
    r10, r11, r12 = (m @ axis for axis in (upper.forward, left_axis(upper), upper.up))
    return np.arctan2(-r12, np.hypot(r10, r11)), np.arctan2(r10, r11)


def _unrotate(quat: FloatArray, v: FloatArray) -> FloatArray:
    """World vectors ``v`` ``(N, 3)`` in each sensor's frame: ``R(q)ᵀ v`` for ``(N, 4)``
    sensor-to-world ``quat`` (the conjugate's rotation: ``v − 2w(u × v) + 2u × (u × v)``)."""
    w, x, y, z = quat[:, 0], quat[:, 1], quat[:, 2], quat[:, 3]
    vx, vy, vz = v[:, 0], v[:, 1], v[:, 2]
    cx = y * vz - z * vy
    cy = z * vx - x * vz
    cz = x * vy - y * vx
    out = np.empty_like(v)
    out[:, 0] = vx + 2.0 * (y * cz - z * cy - w * cx)
    out[:, 1] = vy + 2.0 * (z * cx - x * cz - w * cy)
    out[:, 2] = vz + 2.0 * (x * cy - y * cx - w * cz)
    return out


def heading(quat: FloatArray, axis: FloatArray) -> FloatArray:
    """Heading (radians, counter-clockwise from world +x) of a sensor-frame ``axis`` ``(3,)``
    projected on the horizontal plane, for each ``(N, 4)`` sensor-to-world orientation."""
    v = rotate(quat, axis)
    return np.arctan2(v[:, 1], v[:, 0])


def nlerp(t: FloatArray, ts: FloatArray, qs: FloatArray) -> FloatArray:
    """Orientations ``qs`` ``(M, 4)`` sampled at ``ts`` ``(M,)`` (s, increasing, M ≥ 2),
    interpolated at ``t`` ``(N,)``: normalised linear interpolation on the shorter arc, clamped
    at the ends. Between samples 5–80 ms apart it is within a hundredth of a degree of slerp."""
    right = np.clip(np.searchsorted(ts, t), 1, ts.size - 1)
    t0, t1 = ts[right - 1], ts[right]
    w = np.clip((t - t0) / np.where(t1 > t0, t1 - t0, 1.0), 0.0, 1.0)[:, None]
    q0, q1 = qs[right - 1], qs[right]
    sign = np.where(row_dots(q0, q1) < 0.0, -1.0, 1.0)[:, None]
    q = (1.0 - w) * q0 + w * sign * q1
    out: FloatArray = q / row_norms(q)[:, None]
    return out


def left_axis(frame: SegmentFrame) -> FloatArray:
    """The segment's left axis in its sensor frame, ``(3,)``: ``up × forward``."""
    return frame.left
