"""The real-time signal pipeline: clock sync, orientation, calibration, spine angles, reps.

Everything here is causal and block-based: it sees each sample once, in time order, and never
reads the wall clock — time comes only from the samples' timestamps.
"""

from __future__ import annotations

from liftguard.signal.calibration import CalibrationResult, SegmentFrame
from liftguard.signal.clock_sync import HostClockSync
from liftguard.signal.orientation import OrientationEstimator
from liftguard.signal.reps import DeadliftRepCounter, RepWindow
from liftguard.signal.spine import sagittal_inclination, up_in_sensor

__all__ = [
    "CalibrationResult",
    "DeadliftRepCounter",
    "HostClockSync",
    "OrientationEstimator",
    "RepWindow",
    "SegmentFrame",
    "sagittal_inclination",
    "up_in_sensor",
]
