"""A simulated athlete's session: sensors, supervisor inputs, and the ground truth to score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from liftguard.sim.athlete import AthleteParams
from liftguard.sim.body import BodyMotion, check_placement
from liftguard.sim.imu import SimulatedImu
from liftguard.sim.quat import quat_mul

__all__ = [
    "TRUTH_GRID_S",
    "UNSAFE_HOLD_S",
    "ScriptInput",
    "SimulatedAthlete",
    "TruthPhase",
    "TruthRep",
    "longest_run_s",
    "rep_truth",
]

FloatArray = npt.NDArray[np.float64]

#: Grid on which rep truth (peak, unsafe hold) is evaluated, seconds.
TRUTH_GRID_S = 1e-3
#: How long flexion must stay above the threshold for a rep to count as unsafe, seconds.
UNSAFE_HOLD_S = 0.1


@dataclass(frozen=True)
class TruthRep:
    """One scripted rep as it really happened (times in session seconds, angles in degrees)."""

    set: int  # 1-based set number
    rep: int  # 1-based rep number within the set
    t_start: float  # lift-off: start of the concentric
    t_end: float  # touchdown: end of the eccentric (bar back on the floor)
    peak_flexion_deg: float  # true peak lumbar flexion within [t_start, t_end]
    unsafe: bool  # flexion > threshold held for ≥ UNSAFE_HOLD_S within [t_start, t_end]
    rounded: bool  # the script made this a rounded-back rep


@dataclass(frozen=True)
class ScriptInput:
    """What the supervisor does, timestamped (session seconds); enters the pipeline as an input.

    ``kind``: ``"calibrate"`` (stand tall and still for 3 s from ``t``, then bend forward fully and
    return) or ``"set"`` (set ``set`` of ``exercise`` with ``target_reps`` reps begins).
    """

    t: float
    kind: str
    exercise: str = "deadlift"
    set: int = 0
    target_reps: int = 0


@dataclass(frozen=True)
class TruthPhase:
    """A scripted movement phase ``[t_start, t_end)`` in session seconds.

    ``kind`` is one of: ``stand``, ``calibrate_still``, ``bend``, ``bend_hold``, ``bend_return``,
    ``setup`` (descent to the bar), ``pause`` (hands on the bar before the first rep),
    ``concentric``, ``lockout``, ``eccentric``, ``bottom`` (bar on the floor between reps),
    ``final_pause``, ``standup`` (unloaded), ``rest``, ``turn`` (heading turn, inside a rest).
    ``set``/``rep`` are 0 where they do not apply; ``rest`` and ``turn`` carry the number of the
    set that follows them.
    """

    kind: str
    t_start: float
    t_end: float
    set: int = 0
    rep: int = 0


def longest_run_s(mask: npt.NDArray[np.bool_], dt: float) -> float:
    """Longest span, seconds, of consecutive True samples in ``mask`` ``(N,)`` spaced ``dt`` s.

    A run of k samples spans ``(k − 1)·dt`` (from its first to its last sample).
    """
    if not mask.any():
        return 0.0
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return float((stops - starts).max() - 1) * dt


@dataclass(eq=False)
class SimulatedAthlete:
    """One athlete's simulated session: two sensors, the supervisor's inputs, and ground truth.

    ``sensors``: ``{"upper": …, "sacrum": …}`` :class:`SimulatedImu` (each a ``MotionSource``).
    ``inputs`` and ``reps`` are time-ordered. ``end_time``: when the last scripted movement ends
    (the athlete stands still afterwards). ``phases``: every scripted phase, time-ordered.
    """

    name: str
    params: AthleteParams
    sensors: dict[str, SimulatedImu]
    inputs: list[ScriptInput]
    reps: list[TruthRep]
    end_time: float
    duration: float
    unsafe_threshold_deg: float
    phases: list[TruthPhase]
    body: BodyMotion

    def lumbar_flexion_deg(self, t: npt.ArrayLike) -> FloatArray:
        """True lumbar flexion ``(N,)`` degrees from standing (+ = flexion) at ``t`` ``(N,)`` s."""
        return np.degrees(self.body.lumbar_flexion(_times(t)))

    def segment_inclination_deg(self, placement: str, t: npt.ArrayLike) -> FloatArray:
        """True sagittal forward inclination ``(N,)`` degrees of ``placement``'s segment relative to
        its standing neutral, at ``t`` ``(N,)`` s (upper − sacrum = lumbar flexion)."""
        return np.degrees(self.body.inclination(placement, _times(t)))

    def segment_quat(self, placement: str, t: npt.ArrayLike) -> FloatArray:
        """True segment-to-world orientation ``(N, 4)`` ``[w, x, y, z]`` at ``t`` ``(N,)`` s."""
        return self.body.segment_quat(placement, _times(t))

    def sensor_quat(self, placement: str, t: npt.ArrayLike) -> FloatArray:
        """True sensor-to-world orientation ``(N, 4)`` ``[w, x, y, z]`` at ``t`` ``(N,)`` s."""
        check_placement(placement)
        return quat_mul(self.segment_quat(placement, t), self.sensors[placement].mounting)

    def reps_at(self, unsafe_threshold_deg: float) -> list[TruthRep]:
        """:attr:`reps` re-judged against another flexion threshold (degrees)."""
        return [
            rep_truth(self.body, r.set, r.rep, r.t_start, r.t_end, r.rounded, unsafe_threshold_deg)
            for r in self.reps
        ]


def _times(t: npt.ArrayLike) -> FloatArray:
    return np.asarray(t, dtype=np.float64).reshape(-1)


def rep_truth(
    body: BodyMotion,
    set_no: int,
    rep_no: int,
    t_start: float,
    t_end: float,
    rounded: bool,
    unsafe_threshold_deg: float,
) -> TruthRep:
    """Judge one rep on a :data:`TRUTH_GRID_S` grid over ``[t_start, t_end]`` (seconds)."""
    n = int(np.floor((t_end - t_start) / TRUTH_GRID_S)) + 1
    grid = t_start + TRUTH_GRID_S * np.arange(n)
    flex = np.degrees(body.lumbar_flexion(grid))
    held = longest_run_s(flex > unsafe_threshold_deg, TRUTH_GRID_S)
    # Extrema of a minimum-jerk track sit on keyframes, which the grid generally misses by < 1 ms;
    # adding them makes the peak the scripted value exactly.
    knots = body.lumbar.times
    knots = knots[(knots >= t_start) & (knots <= t_end)]
    at_knots = np.degrees(body.lumbar_flexion(np.append(knots, t_end)))
    return TruthRep(
        set=set_no,
        rep=rep_no,
        t_start=t_start,
        t_end=t_end,
        peak_flexion_deg=float(max(flex.max(), at_knots.max())),
        unsafe=held >= UNSAFE_HOLD_S - 1e-9,
        rounded=rounded,
    )
