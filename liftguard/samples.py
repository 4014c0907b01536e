"""Bulk sensor data: :class:`SampleBlock`, a struct-of-arrays of consecutive IMU samples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from liftguard._types import FloatArray

__all__ = ["FLAG_CLIPPED", "FLAG_INTERPOLATED", "SampleBlock"]

#: Bit in :attr:`SampleBlock.flags`: at least one axis sat at the end of its measuring range.
FLAG_CLIPPED = 0x01
#: Bit in :attr:`SampleBlock.flags`: the sample was filled in, not measured.
FLAG_INTERPOLATED = 0x02


def _as_matrix(name: str, value: Any, n: int, width: int) -> FloatArray:
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if arr.shape != (n, width):
        raise ValueError(f"{name} must have shape ({n}, {width}), got {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class SampleBlock:
    """Consecutive samples of one sensor, in SI units.

    Attributes:
        t: ``(N,)`` float64, session time in seconds, strictly increasing.
        acc: ``(N, 3)`` specific force in m/s², sensor frame (reads +9.81 on the up axis at rest).
        gyr: ``(N, 3)`` angular rate in rad/s, sensor frame.
        mag: optional ``(N, 3)`` magnetic field in µT.
        quat: optional ``(N, 4)`` device orientation ``[w, x, y, z]``, sensor-to-world.
        flags: ``(N,)`` uint8 bit mask of :data:`FLAG_CLIPPED` and :data:`FLAG_INTERPOLATED`.
    """

    t: FloatArray
    acc: FloatArray
    gyr: FloatArray
    mag: FloatArray | None = None
    quat: FloatArray | None = None
    flags: npt.NDArray[np.uint8] = field(default_factory=lambda: np.zeros(0, np.uint8))

    def __post_init__(self) -> None:
        t = np.ascontiguousarray(self.t, dtype=np.float64)
        if t.ndim != 1:
            raise ValueError(f"t must be one-dimensional, got shape {t.shape}")
        n = t.shape[0]
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "acc", _as_matrix("acc", self.acc, n, 3))
        object.__setattr__(self, "gyr", _as_matrix("gyr", self.gyr, n, 3))
        if self.mag is not None:
            object.__setattr__(self, "mag", _as_matrix("mag", self.mag, n, 3))
        if self.quat is not None:
            object.__setattr__(self, "quat", _as_matrix("quat", self.quat, n, 4))
        flags = np.asarray(self.flags, dtype=np.uint8)
        if flags.shape == (0,) and n:
            flags = np.zeros(n, np.uint8)
        if flags.shape != (n,):
            raise ValueError(f"flags must have shape ({n},), got {flags.shape}")
        object.__setattr__(self, "flags", flags)

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @property
    def clipped(self) -> npt.NDArray[np.bool_]:
        """``(N,)`` True where a sample was clipped."""
        return (self.flags & FLAG_CLIPPED) != 0

    def slice(self, start: int, stop: int) -> SampleBlock:
        """Samples ``start:stop`` as a new block (views, no copies)."""
        return SampleBlock(
            t=self.t[start:stop],
            acc=self.acc[start:stop],
            gyr=self.gyr[start:stop],
            mag=None if self.mag is None else self.mag[start:stop],
            quat=None if self.quat is None else self.quat[start:stop],
            flags=self.flags[start:stop],
        )

    @staticmethod
    def concat(blocks: list[SampleBlock]) -> SampleBlock:
        """Join blocks of one sensor in time order into one block."""
        if not blocks:
            return SampleBlock(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)))
        has_mag = all(b.mag is not None for b in blocks)
        has_quat = all(b.quat is not None for b in blocks)
        return SampleBlock(
            t=np.concatenate([b.t for b in blocks]),
            acc=np.concatenate([b.acc for b in blocks]),
            gyr=np.concatenate([b.gyr for b in blocks]),
            mag=np.concatenate([b.mag for b in blocks if b.mag is not None]) if has_mag else None,
            quat=(
                np.concatenate([b.quat for b in blocks if b.quat is not None]) if has_quat else None
            ),
            flags=np.concatenate([b.flags for b in blocks]),
        )
