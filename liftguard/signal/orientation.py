"""Per-sensor orientation with VQF (Laidig & Seel 2023), updated one block at a time."""

from __future__ import annotations

import numpy as np
from vqf import VQF

from liftguard._types import FloatArray
from liftguard.samples import SampleBlock

__all__ = ["OrientationEstimator"]

#: Standard gravity, m/s²: what a still accelerometer's norm reads without offsets.
GRAVITY = 9.81
#: VQF's accelerometer time constant (its default), s, and the one used while the sensor has
#: been still since it started.
TAU_ACC_S = 3.0
SETTLING_TAU_ACC_S = 0.5
#: VQF's rest detection (its defaults): the rate of turn within ``REST_TH_GYR_DEG_S`` of its
#: low-pass (time constant ``REST_FILTER_TAU_S``) for 1.5 s.
REST_TH_GYR_DEG_S = 2.0
REST_FILTER_TAU_S = 0.5
#: ... and the specific force within this of its low-pass, m/s². VQF's default (0.5 m/s²)
#: lets a slow turn pass as rest. The gyro test cannot reject one: it looks at the rate's
#: spread, and at its mean only against ``biasClip`` (5 °/s here, as the bias may be 3 °/s),
#: so a body swaying at 1–3 °/s (hanging from a bar, settling after a landing) passes, and
#: VQF's rest update, which trusts the low-passed rate to 0.03 °/s, takes the sway as gyro
#: bias: 0.5 °/s off, which tilts the vertical by ~bias·tauAcc ≈ 1.5° through the next moves.
#: The accelerometer's test does not depend on the bias: gravity turning at ω about a
#: horizontal axis trails its low-pass (VQF's second-order Butterworth lags a ramp by its time
#: constant) by ``g·ω·τ``. Set to that for ω = the gyro threshold, turns of the vertical faster
#: than it are no rest either (sensor noise: ~0.03 m/s² at 200 Hz). Slower ones, and turns
#: about the vertical, still pass (simulated sessions: bias error p99 0.2 °/s, was 0.5).
REST_TH_ACC = GRAVITY * float(np.radians(REST_TH_GYR_DEG_S)) * REST_FILTER_TAU_S


class _StandingAccOffset:
    """The accelerometer's zero-g offset along the sensor's first standing vertical.

    VQF takes the accelerometer as its gravity reference, so an offset ``b`` (MEMS parts: 20–60
    mg per axis) tilts the estimated vertical by ~``b⊥/g``. Calibration absorbs that tilt at the
    neutral posture, but the offset's share along the neutral vertical, ``β``, comes back as an
    error of ``β·sin θ / g`` when the segment inclines by θ: at a deadlift's 60° trunk
    inclination up to 3° per sensor, under-reading or over-reading the flexion.

    While still at the neutral posture the norm of the specific force is ``g + β``, so ``β`` is
    learned from still windows (half a second of samples, counted from the stream's start, so
    the result does not depend on how the stream is cut into blocks) whose vertical lies within
    a few degrees of the first still window's, and ``β·v₀`` is taken off every sample. The
    component is along the vertical it is observed at, so learning it does not move the
    estimated vertical there, and the calibration done in that posture stays valid. The
    offset's other components are left alone: learning them needs other still postures
    (sitting, bending over), which come after calibration and would shift the neutral it
    measured.
    """

    WINDOW_S = 0.5
    #: Still: the rate of turn within ``GYR_SPREAD`` rad/s of its window mean, the mean below
    #: ``GYR_MEAN`` rad/s (gyro offsets reach 3 °/s per axis) and the specific force within
    #: ``ACC_SPREAD`` m/s² of its mean.
    GYR_SPREAD = 0.05
    GYR_MEAN = 0.12
    ACC_SPREAD = 0.3
    #: Still windows further than this from the first one's vertical are not used (degrees).
    CONE_DEG = 10.0
    #: ``β`` is the mean over at most this many windows (older ones fade out), m/s².
    MAX_WINDOWS = 240
    #: Offsets beyond this are not believed (m/s²; 60 mg per axis is ~1 m/s² in norm).
    LIMIT = 1.5

    def __init__(self, rate_hz: float) -> None:
        self.size = max(5, round(self.WINDOW_S * rate_hz))
        self._acc = np.zeros((0, 3))
        self._gyr = np.zeros((0, 3))
        self.vertical: FloatArray | None = None
        self.offset = 0.0
        self._windows = 0
        self._cos_cone = float(np.cos(np.radians(self.CONE_DEG)))

    @property
    def vector(self) -> FloatArray:
        """The offset being removed, ``(3,)`` m/s², sensor frame."""
        if self.vertical is None:
            return np.zeros(3)
        return self.offset * self.vertical

    def feed(self, acc: FloatArray, gyr: FloatArray) -> tuple[FloatArray, int | None]:
        """Raw samples ``(N, 3)`` each; every window they complete is judged.

        Returns:
            ``(offset, moved)``: ``offset`` ``(N,)`` the offset (m/s², along
            :attr:`vertical`) to remove from each sample — the one known before the sample's
            window closed — and ``moved``, the index just after the first window in which the
            sensor was not still (``None`` if none closed moving).
        """
        n = acc.shape[0]
        held = self._acc.shape[0]
        first_end = self.size - held  # index in this block where the pending window closes
        whole = max(0, (n - first_end) // self.size + 1) if n >= first_end else 0
        offsets = np.full(n, self.offset)
        if whole == 0:
            self._acc = np.concatenate([self._acc, acc])
            self._gyr = np.concatenate([self._gyr, gyr])
            return offsets, None
        used = first_end + (whole - 1) * self.size
        # Every window, the pending one first, as (W, size, 3): the same arithmetic for each,
        # whichever block its samples came in.
        acc_w = np.concatenate([self._acc, acc[:used]]).reshape(whole, self.size, 3)
        gyr_w = np.concatenate([self._gyr, gyr[:used]]).reshape(whole, self.size, 3)
        self._acc, self._gyr = acc[used:].copy(), gyr[used:].copy()
        g_mean = gyr_w.mean(axis=1)
        a_mean = acc_w.mean(axis=1)
        moving = (
            (np.linalg.norm(g_mean, axis=1) > self.GYR_MEAN)
            | (np.abs(gyr_w - g_mean[:, None, :]).max(axis=(1, 2)) > self.GYR_SPREAD)
            | (np.linalg.norm(acc_w - a_mean[:, None, :], axis=2).max(axis=1) > self.ACC_SPREAD)
        )
        norms = np.linalg.norm(a_mean, axis=1)
        moved: int | None = None
        for w in range(whole):
            end = first_end + w * self.size
            if moving[w]:
                if moved is None:
                    moved = end
                continue
            self._learn(float(norms[w]), a_mean[w] / norms[w])
            # Samples of the following windows are corrected with what is known now.
            offsets[end:] = self.offset
        return offsets, moved

    def _learn(self, norm: float, direction: FloatArray) -> None:
        """A still window whose mean specific force has ``norm`` (m/s²) along ``direction``."""
        if abs(norm - GRAVITY) > self.LIMIT:
            return
        if self.vertical is None:
            self.vertical = direction
        elif float(direction @ self.vertical) < self._cos_cone:
            return
        # |g·v + β·v + b⊥| ≈ g + β near the vertical v: the raw norm's excess is β.
        self._windows = min(self._windows + 1, self.MAX_WINDOWS)
        self.offset += (norm - GRAVITY - self.offset) / self._windows

    def correct(self, acc: FloatArray, offset: FloatArray) -> FloatArray:
        """``acc`` ``(N, 3)`` with ``offset`` ``(N,)`` along the vertical taken out and each
        sample's norm kept.

        Only the direction matters for the vertical; keeping the norm keeps the step, when the
        offset is first learned, out of VQF's rest detection (which watches the raw signal).
        """
        if self.vertical is None or not offset.any():
            return np.ascontiguousarray(acc)
        fixed = acc - offset[:, None] * self.vertical
        scale = np.linalg.norm(acc, axis=1) / np.maximum(np.linalg.norm(fixed, axis=1), 1e-9)
        return np.ascontiguousarray(fixed * scale[:, None])


class OrientationEstimator:
    """6-axis (gyro + accelerometer) orientation of one sensor.

    Heading is unobservable without a magnetometer and drifts; inclination (the direction of
    gravity) is what the spine angles use, and VQF keeps it accurate under motion and gyro bias.
    The accelerometer's offset along the standing vertical is learned and removed first (see
    :class:`_StandingAccOffset`).

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
        self._vqf = VQF(
            1.0 / self.rate_hz,
            biasClip=5.0,
            biasSigmaInit=3.0,
            tauAcc=TAU_ACC_S,
            restFilterTau=REST_FILTER_TAU_S,
            restThGyr=REST_TH_GYR_DEG_S,
            restThAcc=REST_TH_ACC,
        )
        self._acc_offset = _StandingAccOffset(self.rate_hz)
        # Until the gyro bias is learned (at rest, after ~2 s), an unknown bias b tilts the
        # vertical by up to b·tauAcc (3 °/s · 3 s), and that decays only with tauAcc: the
        # neutral calibration, seconds after the sensors start, would record a vertical that
        # later standing does not reproduce. While the sensor has been still since it started
        # a short time constant keeps the vertical on the accelerometer's; the first movement
        # switches to VQF's default, which rides out the accelerations of lifting.
        self._settling = True
        self._vqf.setTauAcc(SETTLING_TAU_ACC_S)
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
        # Each sample is corrected with the offset known before its window closed.
        offset, moved = self._acc_offset.feed(block.acc, block.gyr)
        acc = self._acc_offset.correct(block.acc, offset)
        gyr = np.ascontiguousarray(block.gyr)
        parts: list[FloatArray] = []
        if self._settling and moved is not None:
            # The first movement ends the settling (decided at window ends, which are sample
            # counts: independent of how the stream is cut into blocks).
            parts.append(self._vqf.updateBatch(gyr[:moved], acc[:moved])["quat6D"])
            self._settling = False
            self._vqf.setTauAcc(TAU_ACC_S)
            gyr, acc = gyr[moved:], acc[moved:]
        if gyr.shape[0]:
            parts.append(self._vqf.updateBatch(gyr, acc)["quat6D"])
        quat: FloatArray = parts[0] if len(parts) == 1 else np.concatenate(parts)
        return quat

    @property
    def gyro_bias(self) -> FloatArray:
        """VQF's current gyroscope bias estimate, ``(3,)`` rad/s."""
        return np.asarray(self._vqf.getBiasEstimate()[0], dtype=np.float64)

    @property
    def acc_offset(self) -> FloatArray:
        """The accelerometer offset currently removed, ``(3,)`` m/s², sensor frame."""
        return self._acc_offset.vector

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
