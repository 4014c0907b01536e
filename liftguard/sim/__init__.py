"""Biomechanical motion and IMU simulator with ground truth.

Layers, each usable on its own: keyframe tracks (:mod:`.tracks`, C2 minimum-jerk; velocity tracks
integrated exactly for walking) and closed-form drop landings (:mod:`.landing`) → segment
kinematics (:mod:`.body`) → sensor model per placement and family (:mod:`.imu`) → session scripts
and truth (:mod:`.deadlift` for the demo; :mod:`.script`, :mod:`.exercises`, :mod:`.liftmor` for
whole LIFTMOR sessions; :mod:`.session` for the truth types). Athletes are drawn from a seed
(:mod:`.athlete`); programs and faults are :mod:`.program` and :mod:`.faults`.

Typical use::

    athlete = build_deadlift_athlete("ann", seed=3, duration=180.0)
    acc, gyr = athlete.sensors["upper"].imu(t)        # MotionSource for an emulator
    athlete.reps, athlete.inputs                       # truth and supervisor inputs

    session = build_session_athlete("ann", seed=3)     # the whole LIFTMOR session
    session.reps[0].exercise, session.reps[0].faults   # per-rep truth with fault labels
    session.landings, session.activities, session.clipped("sacrum", t)
"""

from __future__ import annotations

from liftguard.sim.athlete import AthleteParams
from liftguard.sim.body import ALL_PLACEMENTS, PLACEMENTS, BodyMotion
from liftguard.sim.deadlift import build_deadlift_athlete
from liftguard.sim.faults import (
    DEFAULT_FAULTS,
    FAULT_KINDS,
    NO_FAULTS,
    FaultKind,
    FaultLabel,
    FaultSpec,
    around_threshold,
)
from liftguard.sim.imu import (
    SENSOR_FAMILIES,
    ImuSamples,
    SensorFamily,
    SimulatedImu,
    Slip,
    SoftTissueBurst,
)
from liftguard.sim.landing import LandingProfile, solve_landing
from liftguard.sim.liftmor import DEFAULT_FAMILIES, build_group_session, build_session_athlete
from liftguard.sim.program import EXERCISES, Program, SetPlan
from liftguard.sim.session import (
    ScriptInput,
    SimulatedAthlete,
    TruthActivity,
    TruthLanding,
    TruthPhase,
    TruthRep,
    TruthSet,
    TruthSlip,
)
from liftguard.sim.tracks import IntegratedTrack, QuinticTrack, TrackBuilder

__all__ = [
    "ALL_PLACEMENTS",
    "DEFAULT_FAMILIES",
    "DEFAULT_FAULTS",
    "EXERCISES",
    "FAULT_KINDS",
    "NO_FAULTS",
    "PLACEMENTS",
    "SENSOR_FAMILIES",
    "AthleteParams",
    "BodyMotion",
    "FaultKind",
    "FaultLabel",
    "FaultSpec",
    "ImuSamples",
    "IntegratedTrack",
    "LandingProfile",
    "Program",
    "QuinticTrack",
    "ScriptInput",
    "SensorFamily",
    "SetPlan",
    "SimulatedAthlete",
    "SimulatedImu",
    "Slip",
    "SoftTissueBurst",
    "TrackBuilder",
    "TruthActivity",
    "TruthLanding",
    "TruthPhase",
    "TruthRep",
    "TruthSet",
    "TruthSlip",
    "around_threshold",
    "build_deadlift_athlete",
    "build_group_session",
    "build_session_athlete",
    "solve_landing",
]
