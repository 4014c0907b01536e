"""Two-step calibration that makes sensor mounting free.

1. *Neutral*: the athlete stands tall and still for 3 s. Gravity gives each segment's vertical
   in its sensor's frame.
2. *Bend*: the athlete bends forward as far as is comfortable and comes back up. At the deepest
   point gravity has swung backwards in each segment's frame; that direction, made orthogonal
   to the vertical, is the segment's forward axis (and with the vertical fixes left-right).
   The deepest lumbar flexion of the bend is the athlete's maximum, for personal thresholds.

No axis convention on the skin is assumed: a sensor stuck on upside down or rotated calibrates
the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from liftguard._types import FloatArray
from liftguard.signal.spine import sagittal_inclination

__all__ = ["CalibrationResult", "Calibrator", "SegmentFrame"]

PLACEMENTS = ("upper", "sacrum")


@dataclass(frozen=True)
class SegmentFrame:
    """A body segment's axes in its sensor's frame: ``up``, ``forward`` and ``left``; ``(3,)``
    orthogonal unit vectors."""

    up: FloatArray
    forward: FloatArray
    #: ``up × forward``, the segment's left axis (derived; kept so it is computed once).
    left: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "left", np.cross(self.up, self.forward))

    @staticmethod
    def from_neutral_and_bend(up_neutral: FloatArray, up_bent: FloatArray) -> SegmentFrame:
        """Axes from world-up in the sensor frame at neutral and at the deepest forward bend.

        Args:
            up_neutral: ``(3,)`` world up seen by the sensor while standing tall.
            up_bent: ``(3,)`` world up seen by the sensor at the deepest point of the bend.
        """
        v = up_neutral / np.linalg.norm(up_neutral)
        back = up_bent - (up_bent @ v) * v
        n = float(np.linalg.norm(back))
        if n < 1e-6:
            raise ValueError("the bend did not tilt the segment")
        return SegmentFrame(up=v, forward=-back / n)


@dataclass(frozen=True)
class CalibrationResult:
    """Outcome of one calibration step.

    ``step`` is ``"neutral"`` or ``"bend"``; ``frames`` maps placement → :class:`SegmentFrame`
    (only after a successful bend); ``max_flexion_deg`` is the deepest lumbar flexion seen
    during the bend.
    """

    t: float
    step: str
    ok: bool
    detail: str = ""
    frames: dict[str, SegmentFrame] = field(default_factory=dict)
    max_flexion_deg: float | None = None


class Calibrator:
    """Streaming calibration for one athlete's two back sensors.

    Args:
        neutral_s: how long the athlete stands still, in seconds.
        bend_timeout_s: how long after the neutral step the bend may take.
        still_gyro: the fastest rotation (rad/s) still counted as standing still.
        still_spread_deg: how far (degrees) the vertical may wander during the neutral step.
        bend_min_deg: the upper segment must tilt at least this far (degrees) to count as a bend.
    """

    def __init__(
        self,
        *,
        neutral_s: float = 3.0,
        bend_timeout_s: float = 15.0,
        still_gyro: float = 0.35,
        still_spread_deg: float = 4.0,
        bend_min_deg: float = 30.0,
    ) -> None:
        self.neutral_s = neutral_s
        self.bend_timeout_s = bend_timeout_s
        self.still_gyro = still_gyro
        self.still_spread_deg = still_spread_deg
        self.bend_min_deg = bend_min_deg
        self._state = "idle"
        self._t0 = 0.0
        self._chunks: list[tuple[FloatArray, FloatArray, FloatArray, FloatArray]] = []
        self._neutral: dict[str, FloatArray] = {}
        self._peak_tilt = 0.0

    @property
    def active(self) -> bool:
        """True while a calibration is under way."""
        return self._state != "idle"

    def start(self, t: float) -> None:
        """The supervisor asked for calibration at session time ``t`` (seconds)."""
        self._state = "neutral"
        self._t0 = t
        self._chunks = []
        self._peak_tilt = 0.0

    def feed(
        self, t: FloatArray, up_upper: FloatArray, up_sacrum: FloatArray, gyr_norm: FloatArray
    ) -> list[CalibrationResult]:
        """Feed aligned samples.

        Args:
            t: ``(N,)`` session seconds.
            up_upper, up_sacrum: ``(N, 3)`` world up in each sensor's frame.
            gyr_norm: ``(N,)`` the larger of the two sensors' angular-rate norms, rad/s.

        Returns:
            The calibration steps completed by these samples (0, 1 or 2 results).
        """
        results: list[CalibrationResult] = []
        if self._state == "neutral":
            keep = t >= self._t0
            self._chunks.append((t[keep], up_upper[keep], up_sacrum[keep], gyr_norm[keep]))
            end = self._t0 + self.neutral_s
            if t.size and t[-1] >= end:
                results.append(self._finish_neutral(end))
                if self._state == "bend":
                    rest = t > end
                    results += self._feed_bend(t[rest], up_upper[rest], up_sacrum[rest])
        elif self._state == "bend":
            results += self._feed_bend(t, up_upper, up_sacrum)
        return results

    def _finish_neutral(self, end: float) -> CalibrationResult:
        t, uu, us, g = (np.concatenate(c) for c in zip(*self._chunks, strict=True))
        self._chunks = []
        inside = t <= end
        uu, us, g = uu[inside], us[inside], g[inside]
        if uu.shape[0] < 10:
            self._state = "idle"
            return CalibrationResult(end, "neutral", False, "no sensor data during the still stand")
        if float(np.max(g)) > self.still_gyro or max(_spread_deg(uu), _spread_deg(us)) > (
            self.still_spread_deg
        ):
            self._state = "idle"
            return CalibrationResult(end, "neutral", False, "athlete moved during the still stand")
        self._neutral = {"upper": _unit(uu.mean(axis=0)), "sacrum": _unit(us.mean(axis=0))}
        self._state = "bend"
        self._t0 = end
        return CalibrationResult(end, "neutral", True)

    def _feed_bend(
        self, t: FloatArray, up_upper: FloatArray, up_sacrum: FloatArray
    ) -> list[CalibrationResult]:
        # Every decision is taken at a sample, never at a block's end, so the result does not
        # depend on how the stream was cut into blocks (a replay batches, live does not).
        if t.size == 0:
            return []
        tilt = np.degrees(np.arccos(np.clip(up_upper @ self._neutral["upper"], -1.0, 1.0)))
        n = t.size
        search_from = 0
        if self._peak_tilt < self.bend_min_deg:
            deep = np.nonzero(tilt >= self.bend_min_deg)[0]
            search_from = int(deep[0]) if deep.size else n
        self._peak_tilt = max(self._peak_tilt, float(tilt.max()))
        back = np.nonzero(tilt[search_from:] < self.bend_min_deg / 3.0)[0]
        up_at = search_from + int(back[0]) if back.size else n
        late = np.nonzero(t > self._t0 + self.bend_timeout_s)[0]
        late_at = int(late[0]) if late.size else n
        if up_at < n and up_at <= late_at:
            k = up_at + 1
            self._chunks.append((t[:k], up_upper[:k], up_sacrum[:k], np.zeros(k)))
            return [self._finish_bend(float(t[up_at]))]
        if late_at < n:
            self._state = "idle"
            self._chunks = []
            why = (
                "no forward bend seen"
                if self._peak_tilt < self.bend_min_deg
                else "athlete did not come back up"
            )
            return [CalibrationResult(float(t[late_at]), "bend", False, why)]
        self._chunks.append((t, up_upper, up_sacrum, np.zeros(n)))
        return []

    def _finish_bend(self, t_end: float) -> CalibrationResult:
        _, uu, us, _ = (np.concatenate(c) for c in zip(*self._chunks, strict=True))
        self._chunks = []
        self._state = "idle"
        frames: dict[str, SegmentFrame] = {}
        for name, up in (("upper", uu), ("sacrum", us)):
            tilt = up @ self._neutral[name]
            deepest = int(np.argmin(tilt))
            if np.degrees(np.arccos(np.clip(tilt[deepest], -1.0, 1.0))) < 10.0:
                return CalibrationResult(t_end, "bend", False, f"the {name} sensor did not tilt")
            frames[name] = SegmentFrame.from_neutral_and_bend(self._neutral[name], up[deepest])
        flexion = sagittal_inclination(uu, frames["upper"]) - sagittal_inclination(
            us, frames["sacrum"]
        )
        return CalibrationResult(
            t_end, "bend", True, frames=frames, max_flexion_deg=float(np.degrees(flexion.max()))
        )


def _unit(v: FloatArray) -> FloatArray:
    return v / np.linalg.norm(v)


def _spread_deg(up: FloatArray) -> float:
    mean = _unit(up.mean(axis=0))
    return float(np.degrees(np.arccos(np.clip((up @ mean).min(), -1.0, 1.0))))
