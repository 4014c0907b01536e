"""Per-sensor orientation with VQF (Laidig & Seel 2023), updated one block at a time."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from vqf import VQF

from liftguard._types import FloatArray
from liftguard.samples import SampleBlock
from liftguard.signal._vec import row_norms

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
        # The pending window's samples (preallocated: live feeds them one at a time).
        self._acc = np.zeros((self.size, 3))
        self._gyr = np.zeros((self.size, 3))
        self._held = 0
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
        n, size, held = acc.shape[0], self.size, self._held
        first_end = size - held  # index in this block where the pending window closes
        if n < first_end:
            self._acc[held : held + n] = acc
            self._gyr[held : held + n] = gyr
            self._held += n
            return np.full(n, self.offset), None
        whole = (n - first_end) // size + 1
        used = first_end + (whole - 1) * size
        acc_t = _by_sample(self._acc[:held], acc[:used], whole)
        gyr_t = _by_sample(self._gyr[:held], gyr[:used], whole)
        self._held = n - used
        self._acc[: self._held] = acc[used:]
        self._gyr[: self._held] = gyr[used:]
        # Sums over a window add its samples in order, as a reduction over the windows' own
        # axis would, so the statistics are bit for bit those of one window at a time.
        g_mean = np.add.reduce(gyr_t, axis=0) / size
        a_mean = np.add.reduce(acc_t, axis=0) / size
        moving = (
            (np.linalg.norm(g_mean, axis=1) > self.GYR_MEAN)
            | (_spread(gyr_t, g_mean) > self.GYR_SPREAD)
            | (_norm_spread(acc_t, a_mean) > self.ACC_SPREAD)
        )
        norms = np.linalg.norm(a_mean, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):  # zero norms are not learned from
            directions = a_mean / norms[:, None]
        learned = self._learned(norms, directions, moving)
        offsets = np.empty(n)
        offsets[:first_end] = self.offset
        # The offset in force after each window: the following samples are corrected with it.
        after = np.empty(whole)
        done = 0
        for w, norm in zip(learned.tolist(), norms[learned].tolist(), strict=True):
            after[done:w] = self.offset
            # |g·v + β·v + b⊥| ≈ g + β near the vertical v: the raw norm's excess is β.
            self._windows = min(self._windows + 1, self.MAX_WINDOWS)
            self.offset += (norm - GRAVITY - self.offset) / self._windows
            done = w
        after[done:] = self.offset
        offsets[first_end:used].reshape(whole - 1, size)[:] = after[:-1, None]
        offsets[used:] = after[-1]
        moved = first_end + int(np.argmax(moving)) * size if moving.any() else None
        return offsets, moved

    def _learned(
        self, norms: FloatArray, directions: FloatArray, moving: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.intp]:
        """Which windows ``(W,)`` the offset is learned from, their mean specific force being
        ``norms`` (m/s²) along ``directions``: still, of a plausible norm and near the vertical
        (which the first of them sets, if not set yet)."""
        # Only a known-bad norm is rejected: a NaN one is learned from, as it always was.
        usable = np.flatnonzero(~moving & ~(np.abs(norms - GRAVITY) > self.LIMIT))
        if usable.size == 0:
            return usable
        first = self.vertical is None
        if self.vertical is None:
            self.vertical = directions[usable[0]].copy()
        vertical = self.vertical
        cos = directions[usable] @ vertical
        # The matrix product may round differently from the per-window dot product the
        # learner used: within rounding of the cone's edge, that one decides.
        for k in np.flatnonzero(np.abs(cos - self._cos_cone) < 1e-12).tolist():
            cos[k] = float(directions[usable[k]] @ vertical)
        inside = ~(cos < self._cos_cone)
        inside[0] |= first
        learned: npt.NDArray[np.intp] = usable[inside]
        return learned

    def correct(self, acc: FloatArray, offset: FloatArray) -> FloatArray:
        """``acc`` ``(N, 3)`` with ``offset`` ``(N,)`` along the vertical taken out and each
        sample's norm kept.

        Only the direction matters for the vertical; keeping the norm keeps the step, when the
        offset is first learned, out of VQF's rest detection (which watches the raw signal).
        """
        if self.vertical is None or not offset.any():
            return np.ascontiguousarray(acc)
        fixed = acc - offset[:, None] * self.vertical
        scale = row_norms(acc) / np.maximum(row_norms(fixed), 1e-9)
        return np.ascontiguousarray(fixed * scale[:, None])


def _by_sample(pending: FloatArray, x: FloatArray, whole: int) -> FloatArray:
    """``pending`` then ``x`` (``(whole·size, 3)`` in all) as ``(size, whole, 3)``: sample k of
    every window in row k, so that sums over a window run along the first axis."""
    joined = np.ascontiguousarray(np.concatenate([pending, x]) if pending.shape[0] else x)
    # Transposed as whole 3-vectors (24-byte items): much faster than float by float.
    rows = joined.view(np.dtype((np.void, 24))).reshape(whole, -1)
    out: FloatArray = np.ascontiguousarray(rows.T).view(np.float64).reshape(-1, whole, 3)
    return out


def _spread(x: FloatArray, mean: FloatArray) -> FloatArray:
    """Largest ``|x − mean|`` of any sample and axis in each window; ``x`` ``(size, W, 3)``."""
    dev = np.abs(x - mean)
    # Reduced over the samples first: numpy is slow over a last axis of only 3.
    out: FloatArray = dev.max(axis=0).max(axis=1)
    return out


def _norm_spread(x: FloatArray, mean: FloatArray) -> FloatArray:
    """Largest ``‖x − mean‖`` of any sample in each window; ``x`` ``(size, W, 3)``.

    Bit for bit ``np.linalg.norm(x - mean, axis=2).max(axis=0)``: numpy sums a last axis of 3
    as ``(a + b) + c``, and the root of the largest sum of squares is the largest root. Spelled
    out because numpy's reductions over so short an axis are slow.
    """
    sq = x - mean
    sq *= sq
    out: FloatArray = np.sqrt(((sq[..., 0] + sq[..., 1]) + sq[..., 2]).max(axis=0))
    return out


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
