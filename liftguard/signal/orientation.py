"""Per-sensor orientation with VQF (Laidig & Seel 2023), updated one block at a time."""

from __future__ import annotations

import numpy as np
from vqf import VQF

from liftguard._types import FloatArray
from liftguard.samples import SampleBlock

__all__ = ["OrientationEstimator"]


class OrientationEstimator:
    """6-axis (gyro + accelerometer) orientation of one sensor.

    Heading is unobservable without a magnetometer and drifts; inclination (the direction of
    gravity) is what the spine angles use, and VQF keeps it accurate under motion and gyro bias.

    Args:
        rate_hz: sample rate of the blocks that will be fed, in Hz.
    """

    def __init__(self, rate_hz: float) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        # VQF's defaults assume a gyro bias within ±2 °/s (biasClip) and start at 0.5 °/s
        # uncertainty. The BMI160 in MetaMotions is specified to ±3 °/s zero-rate offset: with
        # the defaults VQF never detects rest for such a sensor, learns its bias only slowly
        # from motion, and inclination is off by ~3° for the first half minute.
        self._vqf = VQF(1.0 / self.rate_hz, biasClip=5.0, biasSigmaInit=3.0)
        self._initialised = False

    def update(self, block: SampleBlock) -> FloatArray:
        """Feed the next block of samples.

        Returns:
            ``(N, 4)`` sensor-to-world quaternions ``[w, x, y, z]``, one per sample.
        """
        if len(block) == 0:
            return np.zeros((0, 4))
        if not self._initialised:
            self._align_to_gravity(block.acc[0])
        out = self._vqf.updateBatch(block.gyr, block.acc)
        quat: FloatArray = out["quat6D"]
        return quat

    @property
    def gyro_bias(self) -> FloatArray:
        """VQF's current gyroscope bias estimate, ``(3,)`` rad/s."""
        return np.asarray(self._vqf.getBiasEstimate()[0], dtype=np.float64)

    def _align_to_gravity(self, acc: FloatArray) -> None:
        # VQF starts at identity and converges with its accelerometer time constant (~3 s);
        # starting from the first sample's inclination makes the first seconds usable.
        norm = float(np.linalg.norm(acc))
        self._initialised = True
        if norm < 1e-6:
            return
        a = acc / norm
        # shortest rotation taking the sensor's measured up (a) onto world up (z)
        axis = np.cross(a, [0.0, 0.0, 1.0])
        s = float(np.linalg.norm(axis))
        c = float(a[2])
        if s < 1e-9:
            q = np.array([1.0, 0.0, 0.0, 0.0]) if c > 0 else np.array([0.0, 1.0, 0.0, 0.0])
        else:
            angle = np.arctan2(s, c)
            q = np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * axis / s])
        state = self._vqf.state
        state["gyrQuat"] = q
        self._vqf.state = state
