"""Vectorised quaternion helpers for the simulator: ``[w, x, y, z]``, Hamilton convention.

Two forms: array functions (``(..., 4)`` in, ``(..., 4)`` out) for general use, and
struct-of-arrays ``*_soa`` functions on tuples of 1-D component arrays for the IMU hot path, where
stacking and slicing small arrays costs more than the arithmetic. Everything is written component
by component rather than with matmul/einsum so that each sample's arithmetic is the same whatever
the batch size (BLAS blocking would otherwise make chunked and whole-session evaluations differ in
the last bit).
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "Quat4",
    "Vec3",
    "quat_about_axis",
    "quat_conj",
    "quat_matrix",
    "quat_mul",
    "quat_mul_soa",
    "quat_rotate",
    "quat_rotate_soa",
    "quat_to_rotvec",
    "quat_to_rotvec_soa",
    "random_quat",
]

FloatArray = npt.NDArray[np.float64]
#: A batch of quaternions as component arrays ``(w, x, y, z)``, each ``(N,)``.
Quat4: TypeAlias = tuple[FloatArray, FloatArray, FloatArray, FloatArray]
#: A batch of vectors as component arrays ``(x, y, z)``, each ``(N,)``.
Vec3: TypeAlias = tuple[FloatArray, FloatArray, FloatArray]


def _soa(q: npt.ArrayLike) -> Quat4:
    a = np.asarray(q, dtype=np.float64)
    return a[..., 0], a[..., 1], a[..., 2], a[..., 3]


def quat_mul_soa(p: Quat4, q: Quat4) -> Quat4:
    """Hamilton product ``p ⊗ q`` on component arrays (broadcasting)."""
    pw, px, py, pz = p
    qw, qx, qy, qz = q
    return (
        pw * qw - px * qx - py * qy - pz * qz,
        pw * qx + px * qw + py * qz - pz * qy,
        pw * qy - px * qz + py * qw + pz * qx,
        pw * qz + px * qy - py * qx + pz * qw,
    )


def quat_rotate_soa(q: Quat4, v: Vec3, *, inverse: bool = False) -> Vec3:
    """Rotate vectors ``v`` by unit quaternions ``q`` (components); ``inverse`` applies ``q*``."""
    w, ux, uy, uz = q
    if inverse:
        ux, uy, uz = -ux, -uy, -uz
    vx, vy, vz = v
    # v' = v + w·t + u × t with t = 2 u × v (two cross products instead of a 3×3 matrix).
    tx = 2.0 * (uy * vz - uz * vy)
    ty = 2.0 * (uz * vx - ux * vz)
    tz = 2.0 * (ux * vy - uy * vx)
    return (
        vx + w * tx + (uy * tz - uz * ty),
        vy + w * ty + (uz * tx - ux * tz),
        vz + w * tz + (ux * ty - uy * tx),
    )


def quat_to_rotvec_soa(q: Quat4) -> Vec3:
    """Rotation vector (axis × angle, radians, angle in ``[0, π]``) of component arrays ``q``."""
    w, x, y, z = q
    # q and −q are the same rotation; pick w ≥ 0 for the short way round.
    s = np.where(w < 0.0, -1.0, 1.0)
    w = s * w
    n = np.sqrt(x * x + y * y + z * z)
    small = n <= 1e-12
    # angle/|u| tends to 2/w as the angle vanishes; switch before the division loses precision.
    scale = np.where(small, 2.0 / w, 2.0 * np.arctan2(n, w) / np.where(small, 1.0, n)) * s
    return x * scale, y * scale, z * scale


def quat_mul(p: npt.ArrayLike, q: npt.ArrayLike) -> FloatArray:
    """Hamilton product ``p ⊗ q``; ``(..., 4)`` each (broadcast), returns ``(..., 4)``."""
    return np.stack(quat_mul_soa(_soa(p), _soa(q)), axis=-1)


def quat_conj(q: npt.ArrayLike) -> FloatArray:
    """Conjugate (the inverse of a unit quaternion); ``(..., 4)`` → ``(..., 4)``."""
    out = np.array(q, dtype=np.float64)
    out[..., 1:] *= -1.0
    return out


def quat_rotate(q: npt.ArrayLike, v: npt.ArrayLike, *, inverse: bool = False) -> FloatArray:
    """Rotate vectors ``v`` ``(..., 3)`` by unit quaternions ``q`` ``(..., 4)`` → ``(..., 3)``.

    With ``inverse=True`` applies the conjugate: for sensor-to-world ``q`` that expresses a world
    vector in the sensor frame.
    """
    va = np.asarray(v, dtype=np.float64)
    return np.stack(
        quat_rotate_soa(_soa(q), (va[..., 0], va[..., 1], va[..., 2]), inverse=inverse), axis=-1
    )


def quat_to_rotvec(q: npt.ArrayLike) -> FloatArray:
    """Rotation vector (radians, angle in ``[0, π]``) of ``q`` ``(..., 4)`` → ``(..., 3)``."""
    return np.stack(quat_to_rotvec_soa(_soa(q)), axis=-1)


def quat_about_axis(axis: int, angle: npt.ArrayLike) -> FloatArray:
    """Rotation by ``angle`` (radians, shape ``(N,)``) about axis 0=x, 1=y, 2=z → ``(N, 4)``."""
    half = 0.5 * np.asarray(angle, dtype=np.float64)
    out = np.zeros((*half.shape, 4))
    out[..., 0] = np.cos(half)
    out[..., 1 + axis] = np.sin(half)
    return out


def quat_matrix(q: npt.ArrayLike) -> FloatArray:
    """Rotation matrix ``(3, 3)`` of a unit quaternion ``(4,)``; columns = rotated x, y, z axes."""
    w, x, y, z = (float(c) for c in np.asarray(q, dtype=np.float64))
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def random_quat(rng: np.random.Generator) -> FloatArray:
    """One rotation drawn uniformly from SO(3) as ``(4,)`` ``[w, x, y, z]`` with ``w ≥ 0``."""
    # A normalised 4-D Gaussian is uniform on S³, which is the Haar measure on rotations.
    q = rng.standard_normal(4)
    q /= np.linalg.norm(q)
    return q if q[0] >= 0.0 else -q
