"""One athlete's stage of the pipeline: aligned back sensors → calibration, angles, reps, alarms."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from liftguard._types import BoolArray, FloatArray
from liftguard.alerts.flexion import FlexionAlarmRule, FlexionTrigger
from liftguard.config import Thresholds
from liftguard.inputs import Calibrate, Input, StartSet
from liftguard.signal.calibration import Calibrator, SegmentFrame
from liftguard.signal.exercises import (
    EXERCISE_ALIASES,
    BackAngles,
    RepCounter,
    RepMetrics,
    counter_for,
)
from liftguard.signal.heading import HeadingAlignment
from liftguard.signal.landings import Landing
from liftguard.signal.mounting import MountingCheck
from liftguard.signal.spine import (
    bend_and_twist,
    lateral_inclination,
    nlerp,
    sagittal_inclination,
    up_in_sensor,
)
from liftguard.signal.wrist import (
    WristBlock,
    WristJumpCounter,
    WristRepCounter,
    wrist_counter_for,
)

#: Both sensors turning slower than this (rad/s) is "still" (heading re-zero, mounting check).
STILL_GYRO = 0.15
#: Both segments within this of neutral (degrees, sagittal and lateral) is "upright".
UPRIGHT_DEG = 10.0
#: Exercises whose reps a wrist worn with the back sensors counts (the back sees a press
#: only as a lean or arch of a few degrees; the bar's travel is half a metre).
WRIST_ASSISTED = frozenset({"press"})
#: Back angles kept for the spine metrics of wrist-counted reps, at most (s).
ASSIST_HISTORY_S = 600.0

__all__ = ["AngleSamples", "AthleteMonitor", "SetAlarm", "SetLanding", "SetRep"]


@dataclass(frozen=True)
class AngleSamples:
    """Per-sample angles of one athlete, every field ``(N,)``, on the upper sensor's time base.

    ``t``: session seconds. ``trunk_deg``/``pelvis_deg``: forward inclination of the T12/L1 and
    sacral segments from the calibrated neutral. ``flexion_deg``: lumbar flexion (trunk −
    pelvis, + = flexion). ``bend_deg``: lumbar lateral bend (+ = the upper segment turned about
    its forward axis by the right-hand rule, its top to the athlete's right). ``twist_deg``:
    lumbar axial twist (+ = counter-clockwise seen from above; NaN until the sensors' headings
    have been aligned). All degrees.
    """

    t: FloatArray
    trunk_deg: FloatArray
    pelvis_deg: FloatArray
    flexion_deg: FloatArray
    bend_deg: FloatArray
    twist_deg: FloatArray


@dataclass(frozen=True)
class SetRep:
    """A rep, with the set it belongs to (captured when it happened, not when reported)."""

    set: StartSet
    rep: RepMetrics


@dataclass(frozen=True)
class SetLanding:
    """A drop landing, with the set it happened in."""

    set: StartSet
    landing: Landing


@dataclass(frozen=True)
class SetAlarm:
    """A flexion alarm, with the set it happened in."""

    set: StartSet
    trigger: FlexionTrigger


class _Buffer:
    """Time-ordered samples of one sensor waiting to be aligned with its partner."""

    def __init__(self) -> None:
        self.t = np.zeros(0)
        self.q = np.zeros((0, 4))
        self.gyr = np.zeros(0)
        self.acc = np.zeros(0)

    def push(
        self, t: FloatArray, quat: FloatArray, gyr_norm: FloatArray, acc_norm: FloatArray
    ) -> None:
        self.t = np.concatenate([self.t, t])
        self.q = np.concatenate([self.q, quat])
        self.gyr = np.concatenate([self.gyr, gyr_norm])
        self.acc = np.concatenate([self.acc, acc_norm])

    def drop_before(self, t: float) -> None:
        k = int(np.searchsorted(self.t, t, side="left"))
        if k:
            self.t, self.q, self.gyr = self.t[k:], self.q[k:], self.gyr[k:]
            self.acc = self.acc[k:]


class _AngleHistory:
    """The back's lumbar flexion and trunk inclination (degrees) at session times (s), kept in
    the blocks they came in."""

    def __init__(self) -> None:
        self._blocks: list[tuple[FloatArray, FloatArray, FloatArray]] = []

    def append(self, t: FloatArray, flexion: FloatArray, trunk: FloatArray) -> None:
        if t.size:
            self._blocks.append((t, flexion, trunk))

    def drop_before(self, t: float) -> None:
        while self._blocks and self._blocks[0][0][-1] < t:
            self._blocks.pop(0)

    def peak_and_range(self, t0: float, t1: float) -> tuple[float, float]:
        """Peak flexion and trunk range over ``[t0, t1]``; NaN if no angles cover it."""
        flex, trunk = [], []
        for t, f, tr in self._blocks:
            if t[-1] < t0 or t[0] > t1:
                continue
            inside = (t >= t0) & (t <= t1)
            flex.append(f[inside])
            trunk.append(tr[inside])
        if not flex or not sum(x.size for x in flex):
            return math.nan, math.nan
        tr_all = np.concatenate(trunk)
        return float(np.concatenate(flex).max()), float(tr_all.max() - tr_all.min())


def _assisted(exercise: str) -> bool:
    return EXERCISE_ALIASES.get(exercise.strip().lower(), "") in WRIST_ASSISTED


class AthleteMonitor:
    """Calibration, lumbar angles, rep counting and the flexion alarm for one athlete.

    Args:
        name: the athlete's name (used in events).
        thresholds_for: the athlete's warning/alarm thresholds for an exercise (default:
            :class:`~liftguard.config.Thresholds` defaults for every exercise).
        on_angles: optional callback receiving every processed :class:`AngleSamples` block
            (the dashboard and the benchmarks listen here).
        placements: the placements of the athlete's sensors. Without both back sensors
            (``upper`` and ``sacrum``) but with a ``wrist``, reps are counted from the wrist
            (:mod:`liftguard.signal.wrist`: press, deadlift, squat) and nothing measures the
            spine: each set start says so (``"no_spine"``). With the back sensors *and* a
            wrist, the wrist counts the press (:data:`WRIST_ASSISTED`), see below.

    Press with a wrist sensor: the back path stays in charge of everything safety-critical —
    the flexion alarm, the set's start and end, calibration — and never waits for the wrist, so
    a wrist that lags or drops out cannot delay an alarm. The wrist's own counter (fed the same
    ``set`` inputs at the wrist's sample times) decides the reps: their number, window and
    eccentric/concentric times come from the bar's travel. Each is reported once the back has
    been processed past its end, with peak lumbar flexion and trunk range taken from the back's
    angles over its window, so its content does not depend on which stream arrived first. An
    alarm's ``rep`` stays the back counter's numbering (it is raised before the wrist can
    know the rep). If the back sensors are lost, wrist reps wait for them to return.
    """

    def __init__(
        self,
        name: str,
        *,
        thresholds_for: Callable[[str], Thresholds] | None = None,
        on_angles: Callable[[AngleSamples], None] | None = None,
        placements: tuple[str, ...] = ("upper", "sacrum"),
    ) -> None:
        self.name = name
        self.wrist_only = "wrist" in placements and not {"upper", "sacrum"} <= set(placements)
        self.wrist_assist = "wrist" in placements and not self.wrist_only
        self._wrist_counter: WristRepCounter | WristJumpCounter | None = None
        # The wrist stream's own view of the program (wrist-assisted athletes): the inputs
        # still ahead of its data, its set and counter, reps waiting for the back to catch up.
        self._wrist_inputs: list[Input] = []
        self._wrist_set: StartSet | None = None
        self._assist_counter: WristRepCounter | WristJumpCounter | None = None
        self._assist_pending: list[SetRep] = []
        self._wrist_to = -np.inf
        self._history = _AngleHistory()
        self._assisted = False
        self._buf = {"upper": _Buffer(), "sacrum": _Buffer()}
        self._processed_to = -np.inf
        self._inputs: list[Input] = []
        self._calibrator = Calibrator()
        self.frames: dict[str, SegmentFrame] | None = None
        self.max_flexion_deg: float | None = None
        self._counter: RepCounter | None = None
        self._thresholds_for = thresholds_for or (lambda _exercise: Thresholds())
        self._alarm = FlexionAlarmRule()
        self._alarmed: set[int] = set()
        self._set: StartSet | None = None
        self._on_angles = on_angles
        self._heading = HeadingAlignment()
        self._mounting = MountingCheck()
        # Sums of each sensor's orientation over the neutral stand (sign-aligned), for the
        # heading alignment once the bend has given the segment axes.
        self._neutral_window: tuple[float, float] | None = None
        self._neutral_q = np.zeros((2, 4))

    @property
    def current_set(self) -> StartSet | None:
        """The set in progress, if any."""
        return self._set

    def add_input(self, inp: Input) -> None:
        """Queue a supervisor input; it takes effect when the data reaches ``inp.t``."""
        self._inputs.append(inp)
        self._inputs.sort(key=lambda i: i.t)
        if self.wrist_assist and isinstance(inp, StartSet):
            self._wrist_inputs.append(inp)
            self._wrist_inputs.sort(key=lambda i: i.t)

    def push(
        self,
        placement: str,
        t: FloatArray,
        quat: FloatArray,
        gyr_norm: FloatArray,
        acc_norm: FloatArray | None = None,
    ) -> list[tuple[float, str, object]]:
        """Add one sensor's processed samples and run everything both sensors now cover.

        Args:
            placement: ``"upper"`` or ``"sacrum"``.
            t: ``(N,)`` session seconds.
            quat: ``(N, 4)`` that sensor's orientation, sensor-to-world ``[w, x, y, z]`` (its
                filter's own world frame: the heading is arbitrary).
            gyr_norm: ``(N,)`` angular-rate norm, rad/s.
            acc_norm: ``(N,)`` specific-force norm, m/s² (landings; default 1 g).

        Returns:
            Outputs ``(t, kind, payload)`` in time order; kinds are ``"calibration"``
            (:class:`~liftguard.signal.calibration.CalibrationResult`), ``"set_start"`` and
            ``"set_end"`` (:class:`~liftguard.inputs.StartSet`), ``"rep"`` (:class:`SetRep`)
            and ``"flexion_alarm"`` (:class:`SetAlarm`), ``"calibration_invalid"`` (a one-line
            reason, str).
        """
        buf = self._buf.get(placement)
        if buf is None:
            return []
        buf.push(t, quat, gyr_norm, np.full(t.shape, 9.81) if acc_norm is None else acc_norm)
        out = self._run()
        if self._assist_pending:
            out += self._release_assisted()
        return out

    def push_wrist(
        self, t: FloatArray, h: FloatArray, still: BoolArray, acc_norm: FloatArray | None = None
    ) -> list[tuple[float, str, object]]:
        """Add the wrist sensor's height track (see
        :class:`~liftguard.signal.wrist.VerticalTrack`). It counts the reps of an athlete
        without back sensors, and the presses of one with them (see the class docstring);
        otherwise it is not used.

        Args:
            t: ``(N,)`` session seconds.
            h: ``(N,)`` height change, m.
            still: ``(N,)`` the sensor at rest.
            acc_norm: ``(N,)`` specific-force norm, m/s² (drops from the bar; default 1 g).

        Returns:
            Outputs as :meth:`push`.
        """
        if self.wrist_assist:
            return self._push_assist(t, h, still, acc_norm)
        if not self.wrist_only:
            return []

        def count(part: slice) -> list[tuple[float, str, object]]:
            if self._set is None or self._wrist_counter is None:
                return []
            current = self._set
            acc = None if acc_norm is None else acc_norm[part]
            upd = self._wrist_counter.update(WristBlock(t[part], h[part], still[part], acc))
            out: list[tuple[float, str, object]] = [
                (r.t_end, "rep", SetRep(current, r)) for r in upd.reps
            ]
            if upd.finished_at is not None:
                out += self._end_set(upd.finished_at)
            return out

        return self._between_inputs(t, count)

    def _between_inputs(
        self,
        t: FloatArray,
        process: Callable[[slice], list[tuple[float, str, object]]],
        queue: list[Input] | None = None,
        apply: Callable[[Input], list[tuple[float, str, object]]] | None = None,
    ) -> list[tuple[float, str, object]]:
        """Run ``process`` on the parts of ``t`` between queued inputs, applying each input
        where the data reaches its time, so it acts on exactly the samples after it.

        ``queue``/``apply``: another stream's inputs and how it takes them (default: the back
        path's).
        """
        inputs = self._inputs if queue is None else queue
        act = self._apply if apply is None else apply
        out: list[tuple[float, str, object]] = []
        start = 0
        while start < t.size:
            if inputs and inputs[0].t <= t[-1]:
                stop = int(np.searchsorted(t, inputs[0].t, side="left"))
            else:
                stop = t.size
            if stop > start:
                out += process(slice(start, stop))
            if stop < t.size:
                out += act(inputs.pop(0))
            start = stop
        return out

    def _push_assist(
        self, t: FloatArray, h: FloatArray, still: BoolArray, acc_norm: FloatArray | None
    ) -> list[tuple[float, str, object]]:
        """The wrist of an athlete who also wears the back sensors: count wrist-assisted sets."""

        def count(part: slice) -> list[tuple[float, str, object]]:
            counter, current = self._assist_counter, self._wrist_set
            if counter is None or current is None:
                return []
            acc = None if acc_norm is None else acc_norm[part]
            upd = counter.update(WristBlock(t[part], h[part], still[part], acc))
            self._assist_pending += [SetRep(current, r) for r in upd.reps]
            if upd.finished_at is not None:
                self._wrist_set = None
            return []

        self._between_inputs(t, count, self._wrist_inputs, self._apply_wrist)
        if t.size:
            self._wrist_to = float(t[-1])
        self._trim_history()
        return self._release_assisted()

    def _apply_wrist(self, inp: Input) -> list[tuple[float, str, object]]:
        if isinstance(inp, StartSet):
            planned = inp.target_reps if inp.target_reps > 0 else None
            assisted = _assisted(inp.exercise)
            self._wrist_set = inp if assisted else None
            self._assist_counter = (
                wrist_counter_for(inp.exercise, target_reps=planned) if assisted else None
            )
        return []

    def _trim_history(self) -> None:
        # Reps still to come start after the wrist's last samples minus a rep's length; the
        # cap bounds memory when the wrist has gone silent.
        keep_from = self._wrist_to - 60.0
        if self._assist_pending:
            keep_from = min(keep_from, self._assist_pending[0].rep.t_start)
        self._history.drop_before(max(keep_from, self._processed_to - ASSIST_HISTORY_S))

    def _release_assisted(self) -> list[tuple[float, str, object]]:
        """Wrist-counted reps the back has been processed past, with its spine metrics."""
        out: list[tuple[float, str, object]] = []
        waiting: list[SetRep] = []
        for item in self._assist_pending:
            r = item.rep
            if r.t_end > self._processed_to:
                waiting.append(item)
                continue
            peak, trunk_range = self._history.peak_and_range(r.t_start, r.t_end)
            metrics = replace(r, peak_flexion_deg=peak, trunk_range_deg=trunk_range)
            out.append((r.t_end, "rep", SetRep(item.set, metrics)))
        self._assist_pending = waiting
        return out

    def _run(self) -> list[tuple[float, str, object]]:
        upper, sacrum = self._buf["upper"], self._buf["sacrum"]
        if upper.t.size == 0 or sacrum.t.size < 2:
            return []
        # Align on the upper sensor's time base: take its samples the sacrum brackets.
        lo = max(self._processed_to, float(sacrum.t[0]))
        hi = float(sacrum.t[-1])
        sel = (upper.t > lo) & (upper.t <= hi)
        if not sel.any():
            upper.drop_before(min(lo, hi))
            return []
        t = upper.t[sel]
        qu, gu = upper.q[sel], upper.gyr[sel]
        qs = nlerp(t, sacrum.t, sacrum.q)
        gyr = np.maximum(gu, np.interp(t, sacrum.t, sacrum.gyr))
        # Nearest sacral sample, not an interpolation: interpolating blunts impact peaks.
        right = np.clip(np.searchsorted(sacrum.t, t), 1, sacrum.t.size - 1)
        nearer_left = (t - sacrum.t[right - 1]) <= (sacrum.t[right] - t)
        acc_s = sacrum.acc[np.where(nearer_left, right - 1, right)]
        acc_u = upper.acc[sel]
        self._processed_to = float(t[-1])
        upper.drop_before(self._processed_to + 1e-9)
        sacrum.drop_before(float(sacrum.t[max(0, np.searchsorted(sacrum.t, t[-1]) - 1)]))
        return self._between_inputs(
            t,
            lambda part: self._process(
                t[part], qu[part], qs[part], gyr[part], acc_u[part], acc_s[part]
            ),
        )

    def _apply(self, inp: Input) -> list[tuple[float, str, object]]:
        out: list[tuple[float, str, object]] = []
        if isinstance(inp, Calibrate):
            self._calibrator.start(inp.t)
            self._neutral_window = (inp.t, inp.t + self._calibrator.neutral_s)
            self._neutral_q = np.zeros((2, 4))
        elif isinstance(inp, StartSet):
            out += self._end_set(inp.t)
            self._set = inp
            # 0 planned reps: not known (an imported recording); the set ends on a pause.
            planned = inp.target_reps if inp.target_reps > 0 else None
            try:
                self._counter = counter_for(inp.exercise, target_reps=planned)
            except ValueError:
                self._counter = None  # an exercise we cannot count: the alarm still runs
            self._wrist_counter = (
                wrist_counter_for(inp.exercise, target_reps=planned) if self.wrist_only else None
            )
            # The wrist counts this set's reps; the back's counter still numbers the reps for
            # the alarm and ends the set.
            self._assisted = self.wrist_assist and _assisted(inp.exercise)
            # Levels are fixed per set: fractions of the maximum calibrated so far.
            th = self._thresholds_for(inp.exercise)
            warning, alarm = th.levels(self.max_flexion_deg)
            self._alarm = FlexionAlarmRule(
                alarm, th.hold_s, warning_deg=warning, hysteresis_deg=th.hysteresis_deg
            )
            self._alarmed = set()
            out.append((inp.t, "set_start", inp))
            if self.wrist_only:
                out.append((inp.t, "no_spine", inp))
            elif self.frames is None:
                out.append((inp.t, "uncalibrated", inp))
        return out

    def _end_set(self, t: float) -> list[tuple[float, str, object]]:
        if self._set is None:
            return []
        ended, self._set = self._set, None
        return [(t, "set_end", ended)]

    def _process(
        self,
        t: FloatArray,
        qu: FloatArray,
        qs: FloatArray,
        gyr: FloatArray,
        acc_u: FloatArray,
        acc_s: FloatArray,
    ) -> list[tuple[float, str, object]]:
        out: list[tuple[float, str, object]] = []
        uu, us = up_in_sensor(qu), up_in_sensor(qs)

        def angles(part: slice) -> list[tuple[float, str, object]]:
            return self._angles(
                t[part],
                (qu[part], uu[part]),
                (qs[part], us[part]),
                gyr[part],
                acc_u[part],
                acc_s[part],
            )

        start = 0
        if self._calibrator.active:
            self._collect_neutral(t, qu, qs)
            for res in self._calibrator.feed(t, uu, us, gyr):
                out.append((res.t, "calibration", res))
                if res.ok and res.frames:
                    # New axes apply from the sample after the calibration finished.
                    k = int(np.searchsorted(t, res.t, side="right"))
                    if self.frames is not None:
                        out += angles(slice(start, k))
                    start = k
                    self.frames = res.frames
                    self.max_flexion_deg = res.max_flexion_deg
                    nq = self._neutral_q
                    self._heading.calibrated(
                        nq[0] / np.linalg.norm(nq[0]), nq[1] / np.linalg.norm(nq[1]), res.frames
                    )
                    self._mounting.reset()
        if self.frames is not None and start < t.size:
            out += angles(slice(start, None))
        out.sort(key=lambda item: item[0])
        return out

    def _collect_neutral(self, t: FloatArray, qu: FloatArray, qs: FloatArray) -> None:
        if self._neutral_window is None:
            return
        t0, t1 = self._neutral_window
        inside = (t >= t0) & (t <= t1)
        for k, q in enumerate((qu[inside], qs[inside])):
            if q.shape[0] == 0:
                continue
            ref = self._neutral_q[k] if self._neutral_q[k].any() else q[0]
            sign = np.where(q @ ref < 0.0, -1.0, 1.0)
            self._neutral_q[k] += (q * sign[:, None]).sum(axis=0)

    def _angles(
        self,
        t: FloatArray,
        upper: tuple[FloatArray, FloatArray],
        sacrum: tuple[FloatArray, FloatArray],
        gyr: FloatArray,
        acc_u: FloatArray,
        acc_s: FloatArray,
    ) -> list[tuple[float, str, object]]:
        """``upper``/``sacrum``: each sensor's ``(quat (N, 4), world up in its frame (N, 3))``."""
        out: list[tuple[float, str, object]] = []
        if t.size == 0 or self.frames is None:
            return out
        fu, fs = self.frames["upper"], self.frames["sacrum"]
        (qu, uu), (qs, us) = upper, sacrum
        trunk = np.degrees(sagittal_inclination(uu, fu))
        pelvis = np.degrees(sagittal_inclination(us, fs))
        flexion = trunk - pelvis
        side_u = np.degrees(lateral_inclination(uu, fu))
        side_s = np.degrees(lateral_inclination(us, fs))
        still = gyr < STILL_GYRO
        upright = (
            (np.abs(trunk) < UPRIGHT_DEG)
            & (np.abs(pelvis) < UPRIGHT_DEG)
            & (np.abs(side_u) < UPRIGHT_DEG)
            & (np.abs(side_s) < UPRIGHT_DEG)
        )
        in_set = self._set is not None
        offsets = self._heading.update(t, qu, qs, self.frames, still & upright & (not in_set))
        bend, twist = (np.degrees(a) for a in bend_and_twist(qu, qs, fu, fs, offsets))
        if self._on_angles is not None:
            self._on_angles(AngleSamples(t, trunk, pelvis, flexion, bend, twist))
        if self.wrist_assist:
            self._history.append(t, flexion, trunk)
            self._trim_history()
        tilt_u = np.degrees(np.arccos(np.clip(uu @ fu.up, -1.0, 1.0)))
        tilt_s = np.degrees(np.arccos(np.clip(us @ fs.up, -1.0, 1.0)))
        bad = self._mounting.update(t, still, tilt_u, tilt_s, side_s, flexion, bend)
        if bad is not None:
            out.append((bad[0], "calibration_invalid", bad[1]))
        if self._set is None:
            return out
        current = self._set
        if self._counter is None:
            # No counter for this exercise: the flexion alarm still runs, once per set, and no
            # reps are reported rather than wrong ones.
            ones = np.ones(t.size, dtype=np.int64)
            for trg in self._alarm.update(t, flexion, ones, np.ones(t.size, bool)):
                out.append((trg.t, "flexion_alarm", SetAlarm(current, trg)))
            return out
        upd = self._counter.update(BackAngles(t, trunk, pelvis, flexion, acc_s, acc_u))
        s = upd.stop
        triggers = self._alarm.update(t[:s], flexion[:s], upd.candidate[:s], np.ones(s, bool))
        alarmed = {trg.rep for trg in triggers if trg.severity == "alarm"} | self._alarmed
        self._alarmed = alarmed
        timed: list[tuple[float, str, object]] = (
            [] if self._assisted else [(r.t_end, "rep", SetRep(current, r)) for r in upd.reps]
        )
        timed += [(trg.t, "flexion_alarm", SetAlarm(current, trg)) for trg in triggers]
        timed += [(ld.t_impact, "landing", SetLanding(current, ld)) for ld in upd.landings]
        level = self._alarm.threshold_deg
        for r in upd.reps:
            # A flexed landing alarms even when the flexion did not last the hold time.
            flexed = r.landing_flexion_deg
            if flexed is not None and flexed > level and r.rep not in alarmed:
                trg = FlexionTrigger(r.t_end, r.rep, flexed, "alarm", level)
                timed.append((r.t_end, "landing_alarm", SetAlarm(current, trg)))
        timed.sort(key=lambda item: item[0])
        out += timed
        if upd.finished_at is not None:
            out += self._end_set(upd.finished_at)
        return out
