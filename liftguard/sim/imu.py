"""The sensor model: what an accelerometer and a gyroscope strapped to a segment read.

Physics (exact up to the O(h²) finite-difference error, h = 1 ms):

* sensor orientation ``q_sensor = q_segment ⊗ mounting(t)`` (mounting: sensor-to-segment; it
  changes only when the sensor slips, and rocks briefly on the skin after an impact);
* gyro = body-frame angular velocity, ``rotvec(q(t−h)⁻¹ ⊗ q(t+h)) / 2h``;
* accelerometer = specific force ``R_sensorᵀ (p̈ + [0, 0, g])`` with ``p̈`` the central second
  difference of the sensor site's world position, plus the soft-tissue wobble's acceleration
  (closed form) after impacts.

Errors, each optional (the deadlift demo uses only bias and white noise):

* constant per-axis biases, per-axis scale errors, and a bias random walk (piecewise linear
  between 1 s knots of a hashed Gaussian walk);
* white noise at the part's noise density, σ = density × √(rate/2);
* sample-time jitter: the sensor samples at ``t + δ`` with δ ~ N(0, σ_j) (clipped to ±3σ_j);
* saturation at the configured range, with the clipped samples reported by :meth:`measure` and
  :meth:`clipped`.

Every random quantity is a pure function of ``(key, sample time)`` through a counter-based hash
(SplitMix64 → Box–Muller), not of a sequential generator: it does not depend on how calls are
chunked or ordered, only on the sample times, so ``imu(t)`` is deterministic and rate-agnostic.
Two samples closer than 0.1 ms would share noise.

Device-clock drift is not applied here: an emulator samples at its own (drifting) instants and
asks for them; :attr:`SimulatedImu.clock_ppm` is the value to give it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from liftguard.sim._physics import GRAVITY
from liftguard.sim.body import ALL_PLACEMENTS, check_placement
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
    "SENSOR_FAMILIES",
    "ImuSamples",
    "SegmentMotion",
    "SensorFamily",
    "SimulatedImu",
    "Slip",
    "SoftTissueBurst",
    "hashed_normals",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

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
_DRIFT_KNOT_S = 1.0  # the bias random walk is linear between knots this far apart
_DRIFT_BLOCK = 4096  # knots generated at a time
_STA_DECAYS = 12.0  # a wobble is cut after e^-12 ≈ 6e-6 of its amplitude
# Keys of the independent hashed streams derived from one sensor's noise key.
_KEY_JITTER = 0x6A09E667F3BCC908
_KEY_DRIFT = 0xBB67AE8584CAA73B


@dataclass(frozen=True)
class SensorFamily:
    """What a sensor family's IMU is like. SI units; ranges ``(low, high)`` are drawn per sensor.

    ``rate_hz``: default streaming rate; ``rates_hz``: the rates it can stream at.
    ``acc_range`` m/s² and ``gyr_range`` rad/s: full scale as LiftGuard configures it.
    Noise densities (m/s²/√Hz, rad/s/√Hz), bias magnitudes per axis (m/s², rad/s), bias
    random-walk σ per √s, scale error magnitude per axis (fraction), clock error (ppm) and clock
    offset (s).
    """

    name: str
    rate_hz: float
    rates_hz: tuple[float, float]
    acc_range: float
    gyr_range: float
    acc_noise_density: tuple[float, float]
    gyr_noise_density: tuple[float, float]
    acc_bias: tuple[float, float]
    gyr_bias: tuple[float, float]
    acc_walk: float
    gyr_walk: float
    scale_error: float
    clock_ppm: tuple[float, float]
    clock_offset_s: tuple[float, float]


_G = GRAVITY
_DEG = math.pi / 180.0
#: The simulator's error model (sheet §6 "Simulator noise model", A, from the rows above it):
#: accelerometer 150–180 µg/√Hz (BMI270 160 µg/√Hz, P; BMI160 150–180, L), bias ±20–60 mg per
#: axis, random walk 0.5 mg per 10 min; gyro 0.007–0.010 °/s/√Hz (BMI270 0.007, P), bias
#: 0.5–3 °/s (BMI270/BMI160 datasheets, P/L). Gyro bias random walk 0.02 °/s per 10 min: A, an
#: order of magnitude above the 6.4–7.6 °/h bias instability measured on one consumer tracker
#: (libsurvive wiki, L), because skin temperature changes during exercise. Scale error ±0.5 % per
#: axis: A (no number collected; typical MEMS sensitivity tolerance). Clock: 20–100 ppm drift and
#: 0–50 ms offset (sheet §6 "Simulator BLE model", A).
_COMMON = {
    "acc_noise_density": (150e-6 * _G, 180e-6 * _G),
    "gyr_noise_density": (0.007 * _DEG, 0.010 * _DEG),
    "acc_bias": (0.020 * _G, 0.060 * _G),
    "gyr_bias": (0.5 * _DEG, 3.0 * _DEG),
    "acc_walk": 0.5e-3 * _G / math.sqrt(600.0),
    "gyr_walk": 0.02 * _DEG / math.sqrt(600.0),
    "scale_error": 0.005,
    "clock_ppm": (20.0, 100.0),
    "clock_offset_s": (0.0, 0.050),
}
#: Families LiftGuard streams from. Ranges: ±16 g and ±2000 °/s (MetaMotion as configured by
#: LiftGuard, REFERENCE §3 scale codes; WitMotion's frame scaling ×16/32768 g and ×2000/32768
#: °/s, REFERENCE §3; Movella DOT ±16 g, ±2000 °/s per its user manual, L). Rates: MetaMotion
#: 100 Hz by default; DOT streams at most 60 Hz (REFERENCE §3); WitMotion 10–200 Hz.
SENSOR_FAMILIES: dict[str, SensorFamily] = {
    "metawear": SensorFamily(
        "metawear",
        100.0,
        (25.0, 200.0),
        16 * _G,
        2000 * _DEG,
        **_COMMON,  # type: ignore[arg-type]
    ),
    "dot": SensorFamily(
        "dot",
        60.0,
        (1.0, 60.0),
        16 * _G,
        2000 * _DEG,
        **_COMMON,  # type: ignore[arg-type]
    ),
    "witmotion": SensorFamily(
        "witmotion",
        100.0,
        (10.0, 200.0),
        16 * _G,
        2000 * _DEG,
        **_COMMON,  # type: ignore[arg-type]
    ),
}


@dataclass(frozen=True)
class Slip:
    """The sensor re-seats on the skin: its mounting turns by ``rotvec`` (rad, sensor frame)
    between ``t`` and ``t + duration_s`` (s) along a minimum-jerk path, and stays turned."""

    t: float
    duration_s: float
    rotvec: tuple[float, float, float]

    @property
    def angle_deg(self) -> float:
        """How far the mounting turns, degrees."""
        return math.degrees(math.sqrt(sum(c * c for c in self.rotvec)))


@dataclass(frozen=True)
class SoftTissueBurst:
    """The skin under a sensor rings after an impact (a mass on a spring-damper, sheet §6).

    From ``t`` (s) the sensor moves relative to the bone along the world vertical by
    ``u(τ) = U e^(−ζωτ) (1 − cos ω_d τ)`` with ``U = amplitude / ω_d²`` — at rest and still at
    ``τ = 0``, its acceleration jumping to ``amplitude`` (m/s²) and ringing down at
    ``frequency_hz`` with damping ratio ``damping``. The same shape rocks the sensor about
    ``axis`` (unit, sensor frame) with peak rate ≈ ``angular_rate`` (rad/s).
    """

    t: float
    amplitude: float
    frequency_hz: float
    damping: float
    angular_rate: float = 0.0
    axis: tuple[float, float, float] = (1.0, 0.0, 0.0)

    @property
    def duration_s(self) -> float:
        """After this long (s) the wobble is below 1e-5 of its amplitude and is cut."""
        return _STA_DECAYS / (self.damping * 2.0 * math.pi * self.frequency_hz)


class ImuSamples(NamedTuple):
    """One :meth:`SimulatedImu.measure` result: readings and saturation flags.

    ``acc (N, 3)`` m/s², ``gyr (N, 3)`` rad/s (sensor frame, after saturation), and
    ``acc_clipped``/``gyr_clipped`` ``(N, 3)`` bool: the axis would have read beyond the range.
    """

    acc: FloatArray
    gyr: FloatArray
    acc_clipped: BoolArray
    gyr_clipped: BoolArray


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


class _RandomWalk:
    """Six-channel Gaussian random walk (acc xyz, gyr xyz) on 1 s knots, linear in between.

    Knot values are prefix sums of hashed normals, generated in blocks in order, so a value
    never depends on which times were asked for first. Zero at and before t = 0.
    """

    def __init__(self, key: int, sigma: FloatArray) -> None:
        self._key = key
        self._step = sigma * math.sqrt(_DRIFT_KNOT_S)  # (6,) per knot
        self._knots = np.zeros((1, 6))

    def _extend(self, k_max: int) -> None:
        while self._knots.shape[0] <= k_max + 1:
            start = self._knots.shape[0]
            idx = np.arange(start, start + _DRIFT_BLOCK, dtype=np.int64)
            steps = hashed_normals(self._key, idx) * self._step
            self._knots = np.concatenate([self._knots, self._knots[-1] + np.cumsum(steps, axis=0)])

    def __call__(self, t: FloatArray) -> FloatArray:
        x = np.maximum(t, 0.0) / _DRIFT_KNOT_S
        k = np.floor(x).astype(np.int64)
        if k.size:
            self._extend(int(k.max()))
        frac = (x - k)[:, None]
        return self._knots[k] * (1.0 - frac) + self._knots[k + 1] * frac


def _thirds(idx: slice | npt.NDArray[np.intp], n: int) -> tuple[slice | npt.NDArray[np.intp], ...]:
    """Indices of samples ``idx`` in the three stacked evaluation times (t − h, t, t + h)."""
    if isinstance(idx, slice):
        return slice(0, n), slice(n, 2 * n), slice(2 * n, 3 * n)
    return idx, idx + n, idx + 2 * n


def _quat_from_rotvec_soa(rx: FloatArray, ry: FloatArray, rz: FloatArray) -> Quat4:
    angle = np.sqrt(rx * rx + ry * ry + rz * rz)
    half = 0.5 * angle
    # sin(θ/2)/θ → 1/2 as θ → 0; the guarded division keeps tiny angles exact.
    k = np.where(angle > 1e-12, np.sin(half) / np.where(angle > 1e-12, angle, 1.0), 0.5)
    return np.cos(half), rx * k, ry * k, rz * k


class SimulatedImu:
    """One simulated 6-axis IMU on a segment; implements ``MotionSource``.

    ``body`` gives the segment's orientation and the sensor site's position over time.

    Noise level: σ = density × √(rate/2). With ``rate_hz=None`` the rate comes from the spacing of
    the samples in the call, or, for a single sample, from the gap to the previous call's last
    sample (100 Hz if there is none), rounded to 1/64 Hz so that every chunking of a regular
    stream gets bit-identical σ.

    Args (SI units; every error defaults to off):
        mounting: ``(4,)`` ``[w, x, y, z]`` sensor-to-segment rotation before any slip.
        acc_bias, gyr_bias: ``(3,)`` constant sensor-frame offsets, m/s² and rad/s.
        noise: switches the white noise; ``noise_key`` keys every hashed stream.
        rate_hz: fixes the sample rate that scales the noise; ``None`` infers it.
        acc_noise_density, gyr_noise_density: m/s²/√Hz and rad/s/√Hz.
        acc_scale, gyr_scale: ``(3,)`` scale errors (reading = (1 + s) × true).
        acc_walk, gyr_walk: bias random-walk σ per √s (m/s², rad/s); needs ``noise``.
        time_jitter_s: σ of the sample-instant jitter, s; needs ``noise``.
        acc_range, gyr_range: full scale (m/s², rad/s); readings saturate there.
        slips: remounts during the session. bursts: soft-tissue wobbles after impacts.
        clock_ppm, clock_offset_s: the device clock's error, for the emulator (not applied here).
        family: the sensor family's name, for reference.
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
        acc_noise_density: float = ACC_NOISE_DENSITY,
        gyr_noise_density: float = GYR_NOISE_DENSITY,
        acc_scale: npt.ArrayLike = (0.0, 0.0, 0.0),
        gyr_scale: npt.ArrayLike = (0.0, 0.0, 0.0),
        acc_walk: float = 0.0,
        gyr_walk: float = 0.0,
        time_jitter_s: float = 0.0,
        acc_range: float | None = None,
        gyr_range: float | None = None,
        slips: Sequence[Slip] = (),
        bursts: Sequence[SoftTissueBurst] = (),
        clock_ppm: float = 0.0,
        clock_offset_s: float = 0.0,
        family: str | None = None,
    ) -> None:
        placements = getattr(body, "placements", ALL_PLACEMENTS)
        check_placement(placement, placements)
        m = np.array(mounting, dtype=np.float64)
        if m.shape != (4,) or not np.all(np.isfinite(m)) or np.linalg.norm(m) < 1e-9:
            raise ValueError(f"mounting must be a finite non-zero (4,) quaternion, got {m}")
        if rate_hz is not None and not (np.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz must be positive, got {rate_hz}")
        for name, value in (("acc_range", acc_range), ("gyr_range", gyr_range)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be positive, got {value}")
        if not (time_jitter_s >= 0 and acc_walk >= 0 and gyr_walk >= 0):
            raise ValueError("time_jitter_s, acc_walk and gyr_walk must be >= 0")
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
        self.acc_noise_density = float(acc_noise_density)
        self.gyr_noise_density = float(gyr_noise_density)
        self.acc_scale: FloatArray = np.array(acc_scale, dtype=np.float64).reshape(3)
        self.gyr_scale: FloatArray = np.array(gyr_scale, dtype=np.float64).reshape(3)
        self.acc_walk = float(acc_walk)
        self.gyr_walk = float(gyr_walk)
        self.time_jitter_s = float(time_jitter_s)
        self.acc_range = acc_range
        self.gyr_range = gyr_range
        self.slips: tuple[Slip, ...] = tuple(sorted(slips, key=lambda s: s.t))
        self.bursts: tuple[SoftTissueBurst, ...] = tuple(sorted(bursts, key=lambda b: b.t))
        self.clock_ppm = float(clock_ppm)
        self.clock_offset_s = float(clock_offset_s)
        self.family = family
        self._last_t: float | None = None
        self._walk = (
            _RandomWalk(
                self.noise_key ^ _KEY_DRIFT,
                np.array([self.acc_walk] * 3 + [self.gyr_walk] * 3),
            )
            if self.noise and (self.acc_walk > 0 or self.gyr_walk > 0)
            else None
        )
        self._prepare_slips()
        self._prepare_bursts()

    # --- construction helpers ---------------------------------------------------------------
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

    @classmethod
    def for_family(
        cls,
        body: SegmentMotion,
        placement: str,
        family: str,
        rng: np.random.Generator,
        *,
        noise: bool = True,
        mounting: npt.ArrayLike | None = None,
        slips: Sequence[Slip] = (),
        bursts: Sequence[SoftTissueBurst] = (),
        time_jitter_s: float = 50e-6,
        saturate: bool = True,
    ) -> SimulatedImu:
        """A sensor of ``family`` (a :data:`SENSOR_FAMILIES` key) with errors drawn from ``rng``.

        Everything is drawn whether or not ``noise`` is on, in a fixed order, so the mounting and
        the clock do not depend on it. ``noise=False`` gives exact signals (still saturating at
        the range if ``saturate``). ``time_jitter_s``: σ of the sample-instant jitter (50 µs, A:
        an ODR clock's jitter; BLE delivery jitter is the radio's, not the sensor's).
        """
        spec = SENSOR_FAMILIES[family]
        drawn_mounting = random_quat(rng)

        def signed(lo_hi: tuple[float, float]) -> FloatArray:
            return rng.uniform(*lo_hi, size=3) * rng.choice([-1.0, 1.0], size=3)

        acc_bias = signed(spec.acc_bias)
        gyr_bias = signed(spec.gyr_bias)
        acc_scale = rng.uniform(-spec.scale_error, spec.scale_error, size=3)
        gyr_scale = rng.uniform(-spec.scale_error, spec.scale_error, size=3)
        acc_density = float(rng.uniform(*spec.acc_noise_density))
        gyr_density = float(rng.uniform(*spec.gyr_noise_density))
        ppm = float(rng.uniform(*spec.clock_ppm)) * float(rng.choice([-1.0, 1.0]))
        offset = float(rng.uniform(*spec.clock_offset_s))
        key = int(rng.integers(0, 2**63 - 1))
        zeros = np.zeros(3)
        return cls(
            body,
            placement,
            drawn_mounting if mounting is None else mounting,
            acc_bias=acc_bias if noise else zeros,
            gyr_bias=gyr_bias if noise else zeros,
            noise=noise,
            noise_key=key,
            acc_noise_density=acc_density,
            gyr_noise_density=gyr_density,
            acc_scale=acc_scale if noise else zeros,
            gyr_scale=gyr_scale if noise else zeros,
            acc_walk=spec.acc_walk,
            gyr_walk=spec.gyr_walk,
            time_jitter_s=time_jitter_s,
            acc_range=spec.acc_range if saturate else None,
            gyr_range=spec.gyr_range if saturate else None,
            slips=slips,
            bursts=bursts,
            clock_ppm=ppm,
            clock_offset_s=offset,
            family=family,
        )

    def _prepare_slips(self) -> None:
        # Mounting after k completed slips, as SoA constants; slips compose on the sensor side.
        after = [self.mounting]
        for slip in self.slips:
            w, x, y, z = _quat_from_rotvec_soa(*(np.array([c]) for c in slip.rotvec))
            after.append(quat_mul(after[-1], np.array([w[0], x[0], y[0], z[0]])))
        self._slip_start = np.array([s.t for s in self.slips])
        self._slip_end = np.array([s.t + s.duration_s for s in self.slips])
        if self.slips and np.any(self._slip_start[1:] < self._slip_end[:-1]):
            raise ValueError("slips overlap")
        self._mount_after = np.array(after)  # (K + 1, 4)
        self._rows_after = [
            tuple(tuple(float(x) for x in row) for row in quat_matrix(m).T) for m in after
        ]
        self._slip_rotvec = np.array([s.rotvec for s in self.slips]).reshape(-1, 3)

    def _prepare_bursts(self) -> None:
        b = self.bursts
        self._burst_t = np.array([x.t for x in b])
        self._burst_end = np.array([x.t + x.duration_s for x in b])
        if b and np.any(self._burst_t[1:] < self._burst_end[:-1]):
            raise ValueError("soft-tissue bursts overlap")
        omega = np.array([2.0 * np.pi * x.frequency_hz for x in b])
        zeta = np.array([x.damping for x in b])
        self._burst_sigma = zeta * omega
        self._burst_wd = omega * np.sqrt(1.0 - zeta**2)
        self._burst_u = np.array([x.amplitude for x in b]) / np.maximum(self._burst_wd, 1e-12) ** 2
        self._burst_alpha = np.array([x.angular_rate for x in b]) / np.maximum(
            self._burst_wd, 1e-12
        )
        axes = np.array([x.axis for x in b], dtype=np.float64).reshape(-1, 3)
        norms = np.linalg.norm(axes, axis=1, keepdims=True)
        self._burst_axis = axes / np.where(norms > 0, norms, 1.0)

    # --- truth ------------------------------------------------------------------------------
    @property
    def moves_on_skin(self) -> bool:
        """Whether the mounting ever changes (slips) or the sensor rocks (impact wobble)."""
        return bool(self.slips) or bool(self.bursts)

    def _wobble(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(u, ü, α)`` at ``t``: vertical skin displacement (m), its acceleration (m/s²) and
        the rocking angle (rad), all ``(N,)``; and the index of the burst (−1 = none)."""
        n = t.size
        if not self.bursts:
            z = np.zeros(n)
            return z, z, z
        k = np.searchsorted(self._burst_t, t, side="right") - 1
        kk = np.maximum(k, 0)
        tau = t - self._burst_t[kk]
        live = (k >= 0) & (t < self._burst_end[kk])
        tau = np.where(live, tau, 0.0)
        sig, wd = self._burst_sigma[kk], self._burst_wd[kk]
        decay = np.exp(-sig * tau)
        c, s = np.cos(wd * tau), np.sin(wd * tau)
        shape = decay * (1.0 - c)
        shape_dd = decay * (sig * sig * (1.0 - c) - 2.0 * sig * wd * s + wd * wd * c)
        u = np.where(live, self._burst_u[kk] * shape, 0.0)
        udd = np.where(live, self._burst_u[kk] * shape_dd, 0.0)
        alpha = np.where(live, self._burst_alpha[kk] * shape, 0.0)
        return u, udd, alpha

    def _mount_soa(self, t: FloatArray) -> Quat4:
        """Sensor-to-segment rotation at ``t`` ``(N,)``: slips and wobble included."""
        n = t.size
        if self.slips:
            k = np.searchsorted(self._slip_start, t, side="right")  # slips begun
            base = self._mount_after[k]  # mounting after the k slips begun so far
            active = (k > 0) & (t < self._slip_end[np.maximum(k - 1, 0)])
            q: Quat4 = (base[:, 0], base[:, 1], base[:, 2], base[:, 3])
            if np.any(active):
                j = np.maximum(k - 1, 0)
                span = self._slip_end[j] - self._slip_start[j]
                frac = np.clip((t - self._slip_start[j]) / span, 0.0, 1.0)
                s = frac**3 * (10.0 + frac * (-15.0 + 6.0 * frac))
                # Inside slip j the base is the mounting before it, turned part of the way.
                before = self._mount_after[j]
                rot = self._slip_rotvec[j] * s[:, None]
                part = quat_mul_soa(
                    (before[:, 0], before[:, 1], before[:, 2], before[:, 3]),
                    _quat_from_rotvec_soa(rot[:, 0], rot[:, 1], rot[:, 2]),
                )
                q = tuple(np.where(active, p, b) for p, b in zip(part, q, strict=True))  # type: ignore[assignment]
        else:
            m = self.mounting
            q = (np.full(n, m[0]), np.full(n, m[1]), np.full(n, m[2]), np.full(n, m[3]))
        if self.bursts:
            _, _, alpha = self._wobble(t)
            k = np.maximum(np.searchsorted(self._burst_t, t, side="right") - 1, 0)
            axis = self._burst_axis[k] * alpha[:, None]
            q = quat_mul_soa(q, _quat_from_rotvec_soa(axis[:, 0], axis[:, 1], axis[:, 2]))
        return q

    def mounting_at(self, t: npt.ArrayLike) -> FloatArray:
        """Sensor-to-segment rotation ``(N, 4)`` at ``t`` ``(N,)`` s (slips and wobble in)."""
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        return np.stack(self._mount_soa(tt), axis=-1)

    def quat(self, t: npt.ArrayLike) -> FloatArray:
        """True sensor-to-world orientation ``(N, 4)`` ``[w, x, y, z]`` at ``t`` ``(N,)`` s."""
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        q_seg = self._body.pose_soa(self.placement, tt)[0]
        if not self.moves_on_skin:
            return quat_mul(np.stack(q_seg, axis=-1), self.mounting)
        return np.stack(quat_mul_soa(q_seg, self._mount_soa(tt)), axis=-1)

    def position(self, t: npt.ArrayLike) -> FloatArray:
        """True sensor position ``(N, 3)`` m, world frame (site + skin wobble), at ``t`` s."""
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        p = np.stack(self._body.pose_soa(self.placement, tt)[1], axis=-1)
        if self.bursts:
            p[:, 2] += self._wobble(tt)[0]
        return p

    def ideal(self, t: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Error-free ``(acc (N, 3) m/s², gyr (N, 3) rad/s)``, sensor frame, at ``t`` ``(N,)`` s.

        ``acc`` is specific force (reads +9.81 m/s² along the up axis at rest). Includes what
        really moves the sensor: slips and soft-tissue wobble (they are motion, not errors).
        """
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        n = tt.shape[0]
        h = _FD_STEP_S
        q, pos = self._body.pose_soa(self.placement, np.concatenate([tt - h, tt, tt + h]))
        lo, mid, hi = slice(0, n), slice(n, 2 * n), slice(2 * n, 3 * n)
        # (p₊ − p₀) − (p₀ − p₋) loses less precision than p₊ − 2p₀ + p₋ at metre-scale positions.
        lin = [((c[hi] - c[mid]) - (c[mid] - c[lo])) / (h * h) for c in pos]
        if not self.moves_on_skin:
            return self._fixed_mount(q, lin, slice(0, n), n, self._to_sensor)
        # Per sample: where the skin is still (no slip in progress, no wobble within ±h) the
        # mounting is a constant and the cheap path applies; elsewhere compose per sample.
        # Choosing per sample (not per call) keeps every chunking bit-identical.
        moving, completed = self._skin_state(tt)
        acc = np.empty((n, 3))
        gyr = np.empty((n, 3))
        for k in np.unique(completed[~moving]):
            idx = np.flatnonzero(~moving & (completed == k))
            acc[idx], gyr[idx] = self._fixed_mount(q, lin, idx, n, self._rows_after[int(k)])
        if moving.any():
            idx = np.flatnonzero(moving)
            acc[idx], gyr[idx] = self._moving_mount(tt[idx], q, lin, idx, n)
        return acc, gyr

    def _fixed_mount(
        self,
        q: Quat4,
        lin: list[FloatArray],
        idx: slice | npt.NDArray[np.intp],
        n: int,
        rows: tuple[tuple[float, ...], ...],
    ) -> tuple[FloatArray, FloatArray]:
        """Readings of samples ``idx`` (of ``n``) through a constant mounting (rows of Mᵀ)."""
        h = _FD_STEP_S
        lo, mid, hi = _thirds(idx, n)
        world = (lin[0][idx], lin[1][idx], lin[2][idx] + GRAVITY)
        # Segment frame first, constant mounting last: (q ⊗ m)⁻¹ = m⁻¹ ⊗ q⁻¹.
        acc_seg = quat_rotate_soa((q[0][mid], q[1][mid], q[2][mid], q[3][mid]), world, inverse=True)
        q_minus_conj = (q[0][lo], -q[1][lo], -q[2][lo], -q[3][lo])
        q_plus = (q[0][hi], q[1][hi], q[2][hi], q[3][hi])
        gyr_seg = quat_to_rotvec_soa(quat_mul_soa(q_minus_conj, q_plus))
        m = acc_seg[0].shape[0]
        acc = np.empty((m, 3))
        gyr = np.empty((m, 3))
        for i, (mx, my, mz) in enumerate(rows):
            acc[:, i] = mx * acc_seg[0] + my * acc_seg[1] + mz * acc_seg[2]
            gyr[:, i] = (mx * gyr_seg[0] + my * gyr_seg[1] + mz * gyr_seg[2]) / (2.0 * h)
        return acc, gyr

    def _moving_mount(
        self,
        tt: FloatArray,
        q: Quat4,
        lin: list[FloatArray],
        idx: npt.NDArray[np.intp],
        n: int,
    ) -> tuple[FloatArray, FloatArray]:
        """Readings of samples ``idx`` at ``tt`` while the mounting moves (slip or wobble)."""
        h = _FD_STEP_S
        lo, mid, hi = _thirds(idx, n)
        every = np.concatenate([lo, mid, hi])
        m = idx.size
        qs = quat_mul_soa(
            (q[0][every], q[1][every], q[2][every], q[3][every]),
            self._mount_soa(np.concatenate([tt - h, tt, tt + h])),
        )
        _, udd, _ = self._wobble(tt)
        world = (lin[0][idx], lin[1][idx], lin[2][idx] + GRAVITY + udd)
        a, b, c = slice(0, m), slice(m, 2 * m), slice(2 * m, 3 * m)
        acc_s = quat_rotate_soa((qs[0][b], qs[1][b], qs[2][b], qs[3][b]), world, inverse=True)
        q_minus_conj = (qs[0][a], -qs[1][a], -qs[2][a], -qs[3][a])
        q_plus = (qs[0][c], qs[1][c], qs[2][c], qs[3][c])
        gyr_s = quat_to_rotvec_soa(quat_mul_soa(q_minus_conj, q_plus))
        return np.stack(acc_s, axis=-1), np.stack(gyr_s, axis=-1) / (2.0 * h)

    def _skin_state(self, tt: FloatArray) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
        """Per sample: is the mounting moving anywhere in ``[t − h, t + h]``, and how many slips
        are complete (``(N,)`` bool, ``(N,)`` int)."""
        h = _FD_STEP_S
        moving = np.zeros(tt.shape, dtype=bool)
        for starts, ends in ((self._slip_start, self._slip_end), (self._burst_t, self._burst_end)):
            if starts.size:
                k = np.searchsorted(starts, tt + h, side="right") - 1
                moving |= (k >= 0) & (tt - h < ends[np.maximum(k, 0)])
        completed = np.searchsorted(self._slip_start, tt, side="right")
        return moving, completed

    # --- measurement ------------------------------------------------------------------------
    def imu(self, t: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """MotionSource: ``(acc (N, 3) m/s², gyr (N, 3) rad/s)``, sensor frame, at ``t`` ``(N,)`` s.

        Includes every configured error; saturated at the range if one is set. White noise has
        σ = density × √(rate/2), i.e. the noise density integrated up to the Nyquist frequency.
        """
        out = self._measure(np.asarray(t, dtype=np.float64).reshape(-1), None, update=True)
        return out.acc, out.gyr

    def measure(self, t: npt.ArrayLike, rate_hz: float | None = None) -> ImuSamples:
        """:meth:`imu` with saturation flags. ``rate_hz`` overrides the inferred rate (noise σ)."""
        return self._measure(np.asarray(t, dtype=np.float64).reshape(-1), rate_hz, update=True)

    def clipped(self, t: npt.ArrayLike, rate_hz: float | None = None) -> BoolArray:
        """Truth: ``(N,)`` True where any accelerometer or gyro axis saturates at ``t`` s.

        Does not disturb the rate inference of later :meth:`imu` calls. Pass the stream's
        ``rate_hz`` when asking about single samples, so the noise (and an edge case's verdict)
        matches what the stream saw.
        """
        tt = np.asarray(t, dtype=np.float64).reshape(-1)
        out = self._measure(tt, rate_hz, update=False)
        return np.logical_or(out.acc_clipped.any(axis=1), out.gyr_clipped.any(axis=1))

    def _measure(self, tt: FloatArray, rate_hz: float | None, *, update: bool) -> ImuSamples:
        jitter = self.noise and self.time_jitter_s > 0.0 and tt.size > 0
        if jitter:
            idx = np.round(tt * _NOISE_INDEX_HZ).astype(np.int64)
            z = np.clip(hashed_normals(self.noise_key ^ _KEY_JITTER, idx, 2)[:, 0], -3.0, 3.0)
            acc, gyr = self.ideal(tt + z * self.time_jitter_s)
        else:
            acc, gyr = self.ideal(tt)
        if self.acc_scale.any():
            acc *= 1.0 + self.acc_scale
        if self.gyr_scale.any():
            gyr *= 1.0 + self.gyr_scale
        acc += self.acc_bias
        gyr += self.gyr_bias
        if self._walk is not None and tt.size:
            drift = self._walk(tt)
            acc += drift[:, :3]
            gyr += drift[:, 3:]
        if self.noise and tt.size:
            rate = float(rate_hz) if rate_hz is not None else self._sample_rate(tt)
            z6 = hashed_normals(self.noise_key, np.round(tt * _NOISE_INDEX_HZ).astype(np.int64))
            acc += z6[:, :3] * (self.acc_noise_density * np.sqrt(rate / 2.0))
            gyr += z6[:, 3:] * (self.gyr_noise_density * np.sqrt(rate / 2.0))
        if update and tt.size:
            self._last_t = float(tt[-1])
        acc_clip = np.zeros(acc.shape, dtype=bool)
        gyr_clip = np.zeros(gyr.shape, dtype=bool)
        if self.acc_range is not None:
            acc_clip = np.abs(acc) > self.acc_range
            np.clip(acc, -self.acc_range, self.acc_range, out=acc)
        if self.gyr_range is not None:
            gyr_clip = np.abs(gyr) > self.gyr_range
            np.clip(gyr, -self.gyr_range, self.gyr_range, out=gyr)
        return ImuSamples(acc, gyr, acc_clip, gyr_clip)

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
