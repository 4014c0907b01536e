"""The sensor model: what an accelerometer and a gyroscope strapped to a segment read.

Physics (exact up to the O(h²) finite-difference error, h = 1 ms):

* sensor orientation ``q_sensor = q_segment ⊗ mounting`` (mounting: sensor-to-segment);
* gyro = body-frame angular velocity, ``rotvec(q(t−h)⁻¹ ⊗ q(t+h)) / 2h``;
* accelerometer = specific force ``R_sensorᵀ (p̈ + [0, 0, g])`` with ``p̈`` the central second
  difference of the sensor site's world position.

Errors: constant per-axis biases plus white noise at the BMI270 noise densities. The white noise of
a sample is a pure function of ``(noise_key, round(t × 10 kHz))`` through a counter-based hash
(SplitMix64 → Box–Muller), not of a sequential generator: it does not depend on how calls are
chunked or ordered, only on the sample times. Two samples closer than 0.1 ms would share noise.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from liftguard.sim.body import check_placement
from liftguard.sim.quat import (
    Quat4,
    Vec3,
    quat_matrix,
    quat_mul,
    quat_mul_soa,
    quat_rotate_soa,
    quat_to_rotvec_soa,
    random_quat,
)

__all__ = [
    "ACC_NOISE_DENSITY",
    "DEFAULT_RATE_HZ",
    "GRAVITY",
    "GYR_BIAS_RANGE",
    "GYR_NOISE_DENSITY",
    "SegmentMotion",
    "SimulatedImu",
    "hashed_normals",
]

FloatArray = npt.NDArray[np.float64]

#: Gravity used for the specific force, m/s².
GRAVITY = 9.81
#: Accelerometer white-noise density, m/s²/√Hz: 160 µg/√Hz, BMI270 typical (Bosch
#: datasheet BST-BMI270-DS000), P.
ACC_NOISE_DENSITY = 160e-6 * GRAVITY
#: Gyroscope white-noise density, rad/s/√Hz: 0.007 °/s/√Hz, BMI270 typical (same source), P.
GYR_NOISE_DENSITY = float(np.radians(0.007))
#: Per-axis gyro bias magnitude, rad/s, random sign: 0.5–3 °/s — BMI270 zero-rate offset ±0.5 °/s
#: (BMI270 datasheet), ≈3 °/s measured on parts by a user, BMI160 ±3 °/s (BMI160 datasheet),
#: P/L. Above VQF's default rest-detection threshold (2 °/s on the norm) for most sensors, so
#: an unconfigured VQF rarely detects rest — as it would with such a real part.
GYR_BIAS_RANGE = (float(np.radians(0.5)), float(np.radians(3.0)))
#: Sample rate assumed for the noise level when a call cannot reveal it (a first, single sample).
DEFAULT_RATE_HZ = 100.0

_FD_STEP_S = 1e-3  # finite-difference step for p̈ and ω
_NOISE_INDEX_HZ = 10_000.0  # noise is indexed by sample time on this grid
_RATE_QUANTUM_HZ = 1.0 / 64.0  # inferred rates are rounded so every chunking gives the same σ


class SegmentMotion(Protocol):
    """Where a segment is: :class:`liftguard.sim.body.BodyMotion` implements this."""

    def pose_soa(self, placement: str, t: FloatArray) -> tuple[Quat4, Vec3]:
        """Segment-to-world quaternion and sensor-site world position (m), components ``(N,)``."""
        ...


_U64 = np.uint64


def _splitmix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    # Steele, Lea & Flood 2014 finaliser; uint64 array arithmetic wraps modulo 2⁶⁴ as intended.
    z = x + _U64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def hashed_normals(key: int, index: npt.NDArray[np.int64], width: int = 6) -> FloatArray:
    """Standard normals ``(N, width)``, a pure function of ``key`` and ``index`` ``(N,)``.

    ``width`` must be even (Box–Muller makes pairs).
    """
    if width % 2:
        raise ValueError("width must be even (Box–Muller makes pairs)")
    lanes = np.arange(width, dtype=np.uint64)
    counter: npt.NDArray[np.uint64] = (
        index.astype(np.int64).view(np.uint64)[:, None] * _U64(width) + lanes
    )
    bits = _splitmix64(_splitmix64(counter) ^ _U64(key & 0xFFFFFFFFFFFFFFFF))
    u = ((bits >> _U64(11)).astype(np.float64) + 0.5) * 2.0**-53  # in (0, 1), never 0
    r = np.sqrt(-2.0 * np.log(u[:, 0::2]))
    angle = 2.0 * np.pi * u[:, 1::2]
    out = np.empty(u.shape)
    out[:, 0::2] = r * np.cos(angle)
    out[:, 1::2] = r * np.sin(angle)
    return out


class SimulatedImu:
    """One simulated 6-axis IMU on a segment; implements ``MotionSource``.

    ``body`` gives the segment's orientation and the sensor site's position over time.

    Noise level: σ = density × √(rate/2). With ``rate_hz=None`` the rate comes from the spacing of
    the samples in the call, or, for a single sample, from the gap to the previous call's last
    sample (100 Hz if there is none), rounded to 1/64 Hz so that every chunking of a regular
    stream gets bit-identical σ.
    ``mounting``: ``(4,)`` ``[w, x, y, z]`` sensor-to-segment rotation. ``acc_bias`` ``(3,)`` m/s²
    and ``gyr_bias`` ``(3,)`` rad/s are constant sensor-frame offsets. ``noise`` switches the white
    noise. ``rate_hz`` fixes the sample rate that scales the noise; ``None`` infers it from the
    spacing of the samples asked for.
    """

    def __init__(
        self,
        body: SegmentMotion,
        placement: str,
        mounting: npt.ArrayLike,
        *,
        acc_bias: npt.ArrayLike = (0.0, 0.0, 0.0),
        gyr_bias: npt.ArrayLike = (0.0, 0.0, 0.0),
        noise: bool = False,
        noise_key: int = 0,
        rate_hz: float | None = None,
    ) -> None:
        check_placement(placement)
        m = np.array(mounting, dtype=np.float64)
        if m.shape != (4,) or not np.all(np.isfinite(m)) or np.linalg.norm(m) < 1e-9:
            raise ValueError(f"mounting must be a finite non-zero (4,) quaternion, got {m}")
        if rate_hz is not None and not (np.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz must be positive, got {rate_hz}")
        self._body = body
        self.placement = placement
        self.mounting: FloatArray = m / np.linalg.norm(m)
        # Rows of Mᵀ as Python floats: segment-frame vectors → sensor frame without a matmul.
        self._to_sensor = tuple(
            tuple(float(x) for x in row) for row in quat_matrix(self.mounting).T
        )
        self.acc_bias: FloatArray = np.array(acc_bias, dtype=np.float64).reshape(3)
        self.gyr_bias: FloatArray = np.array(gyr_bias, dtype=np.float64).reshape(3)
        self.noise = bool(noise)
        self.noise_key = int(noise_key)
        self.rate_hz = rate_hz
        self._last_t: float | None = None

    @classmethod
    def with_random_errors(
        cls,
        body: SegmentMotion,
        placement: str,
        rng: np.random.Generator,
        *,
        acc_bias_g: float = 0.02,
        noise: bool = True,
        mounting: npt.ArrayLike | None = None,
    ) -> SimulatedImu:
        """A sensor with a random mounting (uniform over SO(3), unless given) and random biases.

        Biases (only if ``noise``): gyro per axis ±U(0.5, 3) °/s (:data:`GYR_BIAS_RANGE`);
        accelerometer per axis U(−acc_bias_g, +acc_bias_g) g. Draws happen even when unused so the
        mounting does not depend on ``noise``.
        """
        drawn_mounting = random_quat(rng)
        gyr_mag = rng.uniform(*GYR_BIAS_RANGE, size=3)
        gyr_sign = rng.choice([-1.0, 1.0], size=3)
        acc_bias = rng.uniform(-1.0, 1.0, size=3) * acc_bias_g * GRAVITY
        key = int(rng.integers(0, 2**63 - 1))
        return cls(
            body,
            placement,
            drawn_mounting if mounting is None else mounting,
            acc_bias=acc_bias if noise else np.zeros(3),
            gyr_bias=gyr_mag * gyr_sign if noise else np.zeros(3),
            noise=noise,
            noise_key=key,
        )

    def quat(self, t: npt.ArrayLike) -> FloatArray:
        """True sensor-to-world orientation ``(N, 4)`` ``[w, x, y, z]`` at ``t`` ``(N,)`` s."""
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        q_seg = np.stack(self._body.pose_soa(self.placement, tt)[0], axis=-1)
        return quat_mul(q_seg, self.mounting)

    def ideal(self, t: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Error-free ``(acc (N, 3) m/s², gyr (N, 3) rad/s)``, sensor frame, at ``t`` ``(N,)`` s.

        ``acc`` is specific force (reads +9.81 m/s² along the up axis at rest).
        """
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        n = tt.shape[0]
        h = _FD_STEP_S
        q, pos = self._body.pose_soa(self.placement, np.concatenate([tt - h, tt, tt + h]))
        lo, mid, hi = slice(0, n), slice(n, 2 * n), slice(2 * n, 3 * n)
        # (p₊ − p₀) − (p₀ − p₋) loses less precision than p₊ − 2p₀ + p₋ at metre-scale positions.
        lin = [((c[hi] - c[mid]) - (c[mid] - c[lo])) / (h * h) for c in pos]
        world = (lin[0], lin[1], lin[2] + GRAVITY)
        # Work in the segment frame and apply the constant mounting last: (q ⊗ m)⁻¹ = m⁻¹ ⊗ q⁻¹.
        acc_seg = quat_rotate_soa((q[0][mid], q[1][mid], q[2][mid], q[3][mid]), world, inverse=True)
        q_minus_conj = (q[0][lo], -q[1][lo], -q[2][lo], -q[3][lo])
        q_plus = (q[0][hi], q[1][hi], q[2][hi], q[3][hi])
        gyr_seg = quat_to_rotvec_soa(quat_mul_soa(q_minus_conj, q_plus))
        acc = np.empty((n, 3))
        gyr = np.empty((n, 3))
        for i, (mx, my, mz) in enumerate(self._to_sensor):
            acc[:, i] = mx * acc_seg[0] + my * acc_seg[1] + mz * acc_seg[2]
            gyr[:, i] = (mx * gyr_seg[0] + my * gyr_seg[1] + mz * gyr_seg[2]) / (2.0 * h)
        return acc, gyr

    def imu(self, t: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """MotionSource: ``(acc (N, 3) m/s², gyr (N, 3) rad/s)``, sensor frame, at ``t`` ``(N,)`` s.

        Includes bias and (if enabled) white noise with σ = density × √(rate/2), i.e. the noise
        density integrated up to the Nyquist frequency of the sample rate.
        """
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        acc, gyr = self.ideal(tt)
        acc += self.acc_bias
        gyr += self.gyr_bias
        if self.noise and tt.size:
            rate = self._sample_rate(tt)
            z = hashed_normals(self.noise_key, np.round(tt * _NOISE_INDEX_HZ).astype(np.int64))
            acc += z[:, :3] * (ACC_NOISE_DENSITY * np.sqrt(rate / 2.0))
            gyr += z[:, 3:] * (GYR_NOISE_DENSITY * np.sqrt(rate / 2.0))
        if tt.size:
            self._last_t = float(tt[-1])
        return acc, gyr

    def _sample_rate(self, t: FloatArray) -> float:
        if self.rate_hz is not None:
            return float(self.rate_hz)
        if t.size >= 2:
            dt = float(t[-1] - t[0]) / (t.size - 1)
        elif self._last_t is not None:
            dt = float(t[0]) - self._last_t
        else:
            return DEFAULT_RATE_HZ
        if not dt > 0.0:
            return DEFAULT_RATE_HZ
        return max(_RATE_QUANTUM_HZ, round(1.0 / dt / _RATE_QUANTUM_HZ) * _RATE_QUANTUM_HZ)
