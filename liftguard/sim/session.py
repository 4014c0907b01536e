"""A simulated athlete's session: sensors, supervisor inputs, and the ground truth to score."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from liftguard.inputs import Calibrate, Input, StartSet
from liftguard.sim.athlete import AthleteParams
from liftguard.sim.body import BodyMotion, check_placement
from liftguard.sim.faults import FaultLabel
from liftguard.sim.imu import SimulatedImu

if TYPE_CHECKING:
    from liftguard.sim.program import Program

__all__ = [
    "TRUTH_GRID_S",
    "UNSAFE_HOLD_S",
    "ScriptInput",
    "SimulatedAthlete",
    "TruthActivity",
    "TruthLanding",
    "TruthPhase",
    "TruthRep",
    "TruthSet",
    "TruthSlip",
    "longest_run_s",
    "rep_truth",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Grid on which rep truth (peak, unsafe hold) is evaluated, seconds.
TRUTH_GRID_S = 1e-3
#: How long flexion must stay above the threshold for a rep to count as unsafe, seconds.
UNSAFE_HOLD_S = 0.1


@dataclass(frozen=True)
class TruthPhase:
    """A scripted movement phase ``[t_start, t_end)`` in session seconds.

    Deadlift-demo kinds: ``stand``, ``calibrate_still``, ``bend``, ``bend_hold``, ``bend_return``,
    ``setup`` (descent to the bar), ``pause`` (hands on the bar before the first rep),
    ``concentric``, ``lockout``, ``eccentric``, ``bottom`` (bar on the floor between reps),
    ``final_pause``, ``standup`` (unloaded), ``rest``, ``turn`` (heading turn, inside a rest).
    Whole sessions add ``walk``, ``sit_down``, ``sit``, ``stand_up``, ``pick_up``,
    ``adjust_plates``, ``unrack``, ``walkout``, ``brace``, ``walkin``, ``rerack``, and for jumping
    chin-ups ``dip``, ``jump``, ``hang``, ``top``, ``release``, ``flight``, ``landing`` (touchdown
    to the end of the impact), ``absorption``, ``recover``, ``reset``; a session's phases tile
    the session without overlapping. ``set``/``rep`` are 0 where they do not apply (in the
    deadlift demo ``rest`` and ``turn`` carry the number of the set that follows them); in
    sessions ``set`` and ``exercise`` label every phase of a set, from its "set" input to
    stepping away, and ``exercise`` is ``""`` outside sets.
    """

    kind: str
    t_start: float
    t_end: float
    set: int = 0
    rep: int = 0
    exercise: str = ""


@dataclass(frozen=True)
class TruthRep:
    """One scripted rep as it really happened (times in session seconds, angles in degrees).

    ``t_start``/``t_end`` per exercise: deadlift lift-off → bar back on the floor; squat start
    of descent → standing; press start of the press → bar back at the shoulders; jumping chin-up
    start of the dip → standing after the landing. ``rounded``: the rep carries a lumbar-flexion
    fault (``rounded_back``, ``squat_lumbar_flexion`` or ``flexed_landing``). ``faults``: the
    faults scripted into it; ``phases``: its phases.
    """

    set: int  # 1-based set number (within the exercise; warm-up sets count)
    rep: int  # 1-based rep number within the set
    t_start: float
    t_end: float
    peak_flexion_deg: float  # true peak lumbar flexion within [t_start, t_end]
    unsafe: bool  # flexion > threshold held for ≥ UNSAFE_HOLD_S within [t_start, t_end]
    rounded: bool
    exercise: str = "deadlift"
    faults: tuple[FaultLabel, ...] = ()
    phases: tuple[TruthPhase, ...] = ()
    warmup: bool = False
    load: float = 0.0  # fraction of 1RM (0: not given)

    def fault(self, name: str) -> FaultLabel | None:
        """The label of fault ``name`` in this rep, or None."""
        return next((f for f in self.faults if f.name == name), None)


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
class TruthSet:
    """One set: what was planned (``reps``, ``load`` fraction of 1RM, ``warmup``) and when it ran
    (``t_input`` the supervisor's input, ``t_end`` when the athlete stepped away), seconds."""

    exercise: str
    set: int
    reps: int
    load: float
    warmup: bool
    t_input: float
    t_end: float


@dataclass(frozen=True)
class TruthActivity:
    """A movement that is not a rep (walking, sitting, bending to pick something up, adjusting
    plates, racking a bar, the calibration bend): where rep counters and alarms must not fire,
    or where a fired alarm is a false alarm. ``peak_flexion_deg``: its peak lumbar flexion."""

    kind: str
    t_start: float
    t_end: float
    peak_flexion_deg: float


@dataclass(frozen=True)
class TruthLanding:
    """One drop landing (session seconds; accelerations as specific force in g).

    ``t_release`` start of letting go; ``t_touchdown``; ``drop_m`` fall height; ``free_fall_s``
    from mid-release to touchdown (≈ √(2h/g)); ``peak_sacrum_g``/``t_peak_sacrum`` and
    ``peak_upper_g``/``t_peak_upper``: rigid-body (bone) vertical peaks; ``sensor_peak_g``: the
    peak specific-force norm each back sensor really experiences (skin wobble included, found on
    a 1 kHz grid); ``absorb_s`` touchdown → at rest; ``depth_m`` how far the pelvis sinks;
    ``compression_m`` transient T12–S1 shortening of the model.
    """

    set: int
    rep: int
    t_release: float
    t_touchdown: float
    drop_m: float
    free_fall_s: float
    peak_sacrum_g: float
    t_peak_sacrum: float
    peak_upper_g: float
    t_peak_upper: float
    absorb_s: float
    depth_m: float
    compression_m: float
    sensor_peak_g: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TruthSlip:
    """A sensor re-seating on the skin between ``t_start`` and ``t_end`` (s) by ``angle_deg``."""

    placement: str
    t_start: float
    t_end: float
    angle_deg: float


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
    """One athlete's simulated session: sensors, the supervisor's inputs, and ground truth.

    ``sensors``: ``{"upper": …, "sacrum": …}`` (and ``"wrist"`` if worn) :class:`SimulatedImu`
    (each a ``MotionSource``). ``inputs`` and ``reps`` are time-ordered. ``end_time``: when the last
    scripted movement ends (the athlete stands still afterwards). ``phases``: every scripted phase,
    time-ordered. Whole sessions also fill ``sets``, ``activities``, ``landings`` and ``slips``.
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
    sets: list[TruthSet] = field(default_factory=list)
    activities: list[TruthActivity] = field(default_factory=list)
    landings: list[TruthLanding] = field(default_factory=list)
    slips: list[TruthSlip] = field(default_factory=list)
    day: int = 0
    program: Program | None = None

    def pipeline_inputs(self, *, offset: float = 0.0, athlete: str | None = None) -> list[Input]:
        """The supervisor's inputs as the pipeline takes them: ``calibrate`` for this athlete
        and each ``set``, ``offset`` seconds later on the session clock, in time order.

        ``athlete``: the roster name (default: :attr:`name`).
        """
        who = self.name if athlete is None else athlete
        out: list[Input] = []
        for s in self.inputs:
            if s.kind == "calibrate":
                out.append(Calibrate(t=s.t + offset, athletes=(who,)))
            elif s.kind == "set":
                out.append(StartSet(s.t + offset, who, s.exercise, s.set, s.target_reps))
        return out

    # --- per-sample truth ---------------------------------------------------------------------
    def lumbar_flexion_deg(self, t: npt.ArrayLike) -> FloatArray:
        """True lumbar flexion ``(N,)`` degrees from standing (+ = flexion) at ``t`` ``(N,)`` s."""
        return np.degrees(self.body.lumbar_flexion(_times(t)))

    def lumbar_angles_deg(self, t: npt.ArrayLike) -> FloatArray:
        """``(N, 3)`` degrees at ``t`` ``(N,)`` s: lumbar flexion, lateral bend, axial twist
        (see :meth:`BodyMotion.lumbar_angles`)."""
        return np.degrees(self.body.lumbar_angles(_times(t)))

    def segment_inclination_deg(self, placement: str, t: npt.ArrayLike) -> FloatArray:
        """True sagittal forward inclination ``(N,)`` degrees of ``placement``'s segment relative to
        its standing neutral, at ``t`` ``(N,)`` s (upper − sacrum = lumbar flexion)."""
        return np.degrees(self.body.inclination(placement, _times(t)))

    def trunk_inclination_deg(self, t: npt.ArrayLike) -> FloatArray:
        """Forward inclination of the T12 segment relative to standing, ``(N,)`` degrees."""
        return self.segment_inclination_deg("upper", t)

    def pelvis_inclination_deg(self, t: npt.ArrayLike) -> FloatArray:
        """Forward inclination of the pelvis (sacrum) relative to standing, ``(N,)`` degrees."""
        return self.segment_inclination_deg("sacrum", t)

    def segment_quat(self, placement: str, t: npt.ArrayLike) -> FloatArray:
        """True segment-to-world orientation ``(N, 4)`` ``[w, x, y, z]`` at ``t`` ``(N,)`` s."""
        return self.body.segment_quat(placement, _times(t))

    def sensor_quat(self, placement: str, t: npt.ArrayLike) -> FloatArray:
        """True sensor-to-world orientation ``(N, 4)`` ``[w, x, y, z]`` at ``t`` ``(N,)`` s
        (slips and soft-tissue rocking included)."""
        check_placement(placement, self.body.placements)
        return self.sensors[placement].quat(_times(t))

    def sensor_position(self, placement: str, t: npt.ArrayLike) -> FloatArray:
        """True sensor position ``(N, 3)`` m (world) at ``t`` ``(N,)`` s."""
        return self.sensors[placement].position(_times(t))

    def clipped(
        self, placement: str, t: npt.ArrayLike, rate_hz: float | None = None
    ) -> npt.NDArray[np.bool_]:
        """``(N,)`` True where ``placement``'s sensor saturates (any axis) at ``t`` s."""
        return self.sensors[placement].clipped(_times(t), rate_hz)

    def rep_index(self, t: npt.ArrayLike) -> IntArray:
        """``(N,)`` index into :attr:`reps` of the rep in progress at ``t`` s, −1 outside reps."""
        tt = _times(t)
        starts = np.array([r.t_start for r in self.reps])
        ends = np.array([r.t_end for r in self.reps])
        k = np.searchsorted(starts, tt, side="right") - 1
        inside = (k >= 0) & (tt <= ends[np.maximum(k, 0)]) if self.reps else k >= 0
        return np.where(inside, k, -1).astype(np.int64)

    def phase_index(self, t: npt.ArrayLike) -> IntArray:
        """``(N,)`` index into :attr:`phases` of the phase at ``t`` s (the latest one that has
        started; −1 before the first). Meant for sessions, whose phases tile the timeline."""
        starts = np.array([p.t_start for p in self.phases])
        return (np.searchsorted(starts, _times(t), side="right") - 1).astype(np.int64)

    def truth_samples(self, t: npt.ArrayLike) -> dict[str, npt.NDArray[np.generic]]:
        """Per-sample truth at ``t`` ``(N,)`` s, as arrays of length N: ``t``; lumbar
        ``flexion_deg``, ``bend_deg``, ``twist_deg``; ``trunk_deg`` and ``pelvis_deg``
        inclinations; ``phase`` (kind, str); ``exercise`` (str, "" outside sets); ``set``,
        ``rep`` (0 outside reps); ``clipped_<placement>`` (bool) for every sensor."""
        tt = _times(t)
        angles = self.lumbar_angles_deg(tt)
        p_idx = self.phase_index(tt)
        kinds = np.array([p.kind for p in self.phases] + [""], dtype=object)
        exercises = np.array([p.exercise for p in self.phases] + [""], dtype=object)
        r_idx = self.rep_index(tt)
        rep_no = np.array([r.rep for r in self.reps] + [0])
        set_no = np.array([p.set for p in self.phases] + [0])
        out: dict[str, npt.NDArray[np.generic]] = {
            "t": tt,
            "flexion_deg": angles[:, 0],
            "bend_deg": angles[:, 1],
            "twist_deg": angles[:, 2],
            "trunk_deg": self.trunk_inclination_deg(tt),
            "pelvis_deg": self.pelvis_inclination_deg(tt),
            "phase": kinds[p_idx],
            "exercise": exercises[p_idx],
            "set": set_no[p_idx],
            "rep": rep_no[r_idx],
        }
        for placement in self.sensors:
            out[f"clipped_{placement}"] = self.clipped(placement, tt)
        return out

    def reps_at(self, unsafe_threshold_deg: float) -> list[TruthRep]:
        """:attr:`reps` re-judged against another flexion threshold (degrees)."""
        return [
            rep_truth(
                self.body,
                r.set,
                r.rep,
                r.t_start,
                r.t_end,
                r.rounded,
                unsafe_threshold_deg,
                exercise=r.exercise,
                faults=r.faults,
                phases=r.phases,
                warmup=r.warmup,
                load=r.load,
            )
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
    *,
    exercise: str = "deadlift",
    faults: tuple[FaultLabel, ...] = (),
    phases: tuple[TruthPhase, ...] = (),
    warmup: bool = False,
    load: float = 0.0,
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
        exercise=exercise,
        faults=faults,
        phases=phases,
        warmup=warmup,
        load=load,
    )
