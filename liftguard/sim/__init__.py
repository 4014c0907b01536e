"""Biomechanical motion and IMU simulator with ground truth.

Layers, each usable on its own: keyframe tracks (:mod:`.tracks`, C2 minimum-jerk) → segment
kinematics (:mod:`.body`) → sensor model (:mod:`.imu`) → session script and truth
(:mod:`.deadlift`, :mod:`.session`). Athletes are drawn from a seed (:mod:`.athlete`).

Typical use::

    athlete = build_deadlift_athlete("ann", seed=3, duration=180.0)
    acc, gyr = athlete.sensors["upper"].imu(t)        # MotionSource for an emulator
    athlete.reps, athlete.inputs                       # truth and supervisor inputs
"""

from __future__ import annotations

from liftguard.sim.athlete import AthleteParams
from liftguard.sim.body import PLACEMENTS, BodyMotion
from liftguard.sim.deadlift import build_deadlift_athlete
from liftguard.sim.imu import SimulatedImu
from liftguard.sim.session import ScriptInput, SimulatedAthlete, TruthPhase, TruthRep
from liftguard.sim.tracks import QuinticTrack, TrackBuilder

__all__ = [
    "PLACEMENTS",
    "AthleteParams",
    "BodyMotion",
    "QuinticTrack",
    "ScriptInput",
    "SimulatedAthlete",
    "SimulatedImu",
    "TrackBuilder",
    "TruthPhase",
    "TruthRep",
    "build_deadlift_athlete",
]
