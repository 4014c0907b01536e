"""Is the calibration still valid? Catching a sensor that slipped or was remounted.

Calibration ties each sensor's axes to its segment. If a sensor is knocked, re-stuck or swapped,
every angle after that is wrong in a way no single sample shows. Still moments show it: when the
athlete stands or sits still with the spine near upright, a body cannot hold

* the pelvis tilted sideways by more than ``lateral_deg`` (people stand and sit level),
* a lateral bend of the lumbar spine beyond ``bend_deg`` (its full active range is 20–30°),
* or the lumbar spine extended beyond ``extension_deg`` (relaxed standing is within a few
  degrees of the calibrated neutral; full active extension is 20–30°),

for ``still_s`` without moving. A calibration that reads such a posture throughout a still moment
no longer describes the sensors on the body. Postures far from upright (lying down, bent to the
floor) are not judged: both segments more than ``upright_deg`` from neutral. A slip of a few
degrees (a sensor re-seating on the skin) stays within these bounds and is not caught; it shows
up as an offset of the same size in the angles.
"""

from __future__ import annotations

import math

import numpy as np

from liftguard._types import BoolArray, FloatArray
from liftguard.signal.heading import StillRuns

__all__ = ["MountingCheck"]


class MountingCheck:
    """Flags, once per calibration, a still moment that the calibrated angles cannot explain.

    Args:
        still_s: how long the athlete must be still, s.
        lateral_deg: largest lateral inclination of the pelvis while still, degrees.
        extension_deg: deepest lumbar extension while still, degrees (positive number).
        bend_deg: largest lateral bend while still, degrees.
        upright_deg: postures with both segments tilted further than this are not judged.
    """

    def __init__(
        self,
        *,
        still_s: float = 2.0,
        lateral_deg: float = 15.0,
        extension_deg: float = 25.0,
        bend_deg: float = 20.0,
        upright_deg: float = 35.0,
    ) -> None:
        self.still_s = float(still_s)
        self.lateral_deg = float(lateral_deg)
        self.extension_deg = float(extension_deg)
        self.bend_deg = float(bend_deg)
        self.upright_deg = float(upright_deg)
        self._runs = StillRuns()
        self._plausible_since = -math.inf  # last plausible sample of the current still run, s
        self.flagged = False

    def reset(self) -> None:
        """A new calibration: judge afresh."""
        self._runs.reset()
        self._plausible_since = -math.inf
        self.flagged = False

    def update(
        self,
        t: FloatArray,
        still: BoolArray,
        tilt_upper_deg: FloatArray,
        tilt_sacrum_deg: FloatArray,
        lateral_sacrum_deg: FloatArray,
        flexion_deg: FloatArray,
        bend_deg: FloatArray,
    ) -> tuple[float, str] | None:
        """Feed aligned samples (every array ``(N,)``); returns ``(t, why)`` the first time a
        still moment contradicts the calibration, else None.

        Args:
            t: session seconds.
            still: both sensors still.
            tilt_upper_deg, tilt_sacrum_deg: each segment's angle from its neutral up, degrees.
            lateral_sacrum_deg: the pelvis's lateral inclination, degrees.
            flexion_deg, bend_deg: lumbar flexion and lateral bend, degrees (a NaN bend —
                headings not aligned yet — is not judged).
        """
        if self.flagged or t.size == 0:
            return None
        lasted = self._runs.update(t, still)
        judged = np.minimum(tilt_upper_deg, tilt_sacrum_deg) <= self.upright_deg
        sideways = np.abs(lateral_sacrum_deg)
        odd = judged & (
            (sideways > self.lateral_deg)
            | (flexion_deg < -self.extension_deg)
            | (np.abs(bend_deg) > self.bend_deg)
        )
        # The still run must have been odd from its start: the last sample that was not.
        not_odd = np.where(~odd | (lasted < 0), t, -np.inf)
        not_odd[0] = max(not_odd[0], self._plausible_since)
        last_ok = np.maximum.accumulate(not_odd)
        run_start = t - lasted
        fire = (lasted >= self.still_s) & (last_ok < run_start)
        self._plausible_since = float(last_ok[-1])
        if not fire.any():
            return None
        k = int(np.argmax(fire))
        self.flagged = True
        if sideways[k] > self.lateral_deg:
            why = f"the pelvis reads {sideways[k]:.0f}° sideways while the athlete is still"
        elif flexion_deg[k] < -self.extension_deg:
            why = f"lumbar extension reads {-flexion_deg[k]:.0f}° while the athlete is still"
        else:
            why = f"lateral bend reads {abs(bend_deg[k]):.0f}° while the athlete is still"
        return float(t[k]), f"{why}: a sensor may have slipped or been remounted — recalibrate"
