"""Simulated back-sensor streams for the rep-counter and landing tests (cached per process).

The counters are fed the simulator's TRUE trunk and pelvis inclinations and lumbar flexion (the
pipeline's measured angles are within ~1–2° of them) plus the simulated accelerometers' norms,
sampled at the rate under test — the sensors are asked for exactly those instants, so every rate
is a genuine recording at that rate, not a decimation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from liftguard.signal.exercises import BackAngles, ExerciseUpdate, Landing, RepCounter, RepMetrics
from liftguard.sim import Program, SimulatedAthlete, build_session_athlete

Stream = dict[str, np.ndarray]
FIELDS = ("t", "trunk_deg", "pelvis_deg", "flexion_deg", "sacrum_acc", "upper_acc")


@cache
def athlete(exercise: str, seed: int, sets: int = 2, reps: int = 5) -> SimulatedAthlete:
    """One athlete doing ``sets`` × ``reps`` of ``exercise`` (noise on), or a whole LIFTMOR
    session when ``exercise`` is ``"liftmor"``."""
    if exercise == "liftmor":
        return build_session_athlete(f"liftmor{seed}", seed)
    program = Program.from_list([(exercise, sets, reps)])
    return build_session_athlete(f"{exercise}{seed}", seed, program=program)


@cache
def stream(exercise: str, seed: int, rate: float) -> Stream:
    """The whole session of :func:`athlete` sampled at ``rate`` Hz: the :class:`BackAngles`
    fields, each ``(N,)``."""
    a = athlete(exercise, seed)
    t = np.arange(0.0, a.duration, 1.0 / rate)
    return {
        "t": t,
        "trunk_deg": a.trunk_inclination_deg(t),
        "pelvis_deg": a.pelvis_inclination_deg(t),
        "flexion_deg": a.lumbar_angles_deg(t)[:, 0],
        "sacrum_acc": np.linalg.norm(a.sensors["sacrum"].imu(t)[0], axis=1),
        "upper_acc": np.linalg.norm(a.sensors["upper"].imu(t)[0], axis=1),
    }


def noisy(s: Stream, seed: int, sd_deg: float = 2.0, bias_deg: float = 1.0) -> Stream:
    """``s`` with white Gaussian noise (``sd_deg``) and a constant ``bias_deg`` added to each
    of the three angles independently."""
    rng = np.random.default_rng(seed)
    out = dict(s)
    for k in ("trunk_deg", "pelvis_deg", "flexion_deg"):
        out[k] = s[k] + bias_deg + rng.normal(0.0, sd_deg, s[k].shape)
    return out


def cut(s: Stream, keep: np.ndarray) -> Stream:
    """The samples of ``s`` where ``keep`` ``(N,)`` is True."""
    return {k: v[keep] for k, v in s.items()}


def set_windows(a: SimulatedAthlete, t: np.ndarray) -> list[tuple[int, int, int]]:
    """``(set number, first index, end index)`` of each set: from the supervisor's "set" input
    to the next set's input (the rest after the set included), indices into ``t``."""
    out = []
    for k, s in enumerate(a.sets):
        end = a.sets[k + 1].t_input if k + 1 < len(a.sets) else a.duration
        out.append((s.set, int(np.searchsorted(t, s.t_input)), int(np.searchsorted(t, end))))
    return out


@dataclass
class Fed:
    """Everything a counter said over a stretch of stream (indices absolute in the stream)."""

    reps: list[RepMetrics] = field(default_factory=list)
    landings: list[Landing] = field(default_factory=list)
    candidate: list[np.ndarray] = field(default_factory=list)
    finished_at: list[float] = field(default_factory=list)
    stop: list[int] = field(default_factory=list)

    @property
    def candidates(self) -> np.ndarray:
        return np.concatenate(self.candidate) if self.candidate else np.zeros(0, np.int64)


def feed(
    counter: RepCounter,
    s: Stream,
    lo: int = 0,
    hi: int | None = None,
    *,
    block_s: float = 0.5,
    sizes: list[int] | None = None,
) -> Fed:
    """Feed ``s[lo:hi]`` to ``counter`` in blocks of ``block_s`` seconds, or of ``sizes``
    samples (cycled) when given."""
    hi = s["t"].size if hi is None else hi
    if sizes is None:
        dt = float(np.median(np.diff(s["t"][: min(hi, 100)])))
        sizes = [max(1, round(block_s / dt))]
    out = Fed()
    i, k = lo, 0
    while i < hi:
        j = min(hi, i + sizes[k % len(sizes)])
        k += 1
        upd: ExerciseUpdate = counter.update(BackAngles(*(s[f][i:j] for f in FIELDS)))
        assert upd.candidate.shape == (j - i,)
        out.reps += upd.reps
        out.landings += upd.landings
        out.candidate.append(upd.candidate)
        if upd.finished_at is not None:
            out.finished_at.append(upd.finished_at)
            out.stop.append(i + upd.stop)
        i = j
    return out
