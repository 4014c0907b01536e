"""Rep counting from a wrist sensor alone, against simulated ground truth.

Population: simulated athletes whose seeds no test uses (300000 + i), each doing two
planned sets of five of press, deadlift, back squat and jumping chin-ups (warm-up free:
``Program.from_list``), wearing a wrist sensor of family ``metawear``/``dot``/``witmotion``
(cycling; each family's noise, bias, scale and range). Only the wrist is in the roster, so
the pipeline counts from it (:mod:`liftguard.signal.wrist`). The simulated sensor's samples
enter the real :class:`~liftguard.pipeline.Pipeline` as decoded blocks of 40 ms (the codecs
are validated byte-exact elsewhere), the supervisor's ``set`` inputs at their times.

Measured: sets with the exact rep count (and within one), per exercise; rep-boundary error
(start and end vs the truth's rep window — for jumping chin-ups the wrist's rep is the drop,
free fall to landing, while the truth's runs from the dip before the jump to standing again, so
those differ by design); and that every set raised ``no_spine_sensors``.

Second part, the press with the back sensors worn too (the same athletes' two press sets, then
a set of deadlifts; all three sensors through the pipeline, calibrated as the session script
does): press sets with the exact
rep count counted from the back alone and from the back with the wrist, for the population as
drawn (lumbar extension at lockout 3-8°) and for the same athletes made to barely arch (1°) —
the presser the back cannot see; and that the alarms (warning and alarm at 4°/6°, low so that
the deadlifts raise some) are the same with the wrist as without.

    python benchmarks/wrist.py [--athletes 20] [--assist-athletes 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import table, write
from liftguard.config import AthleteConfig, SensorConfig, SessionConfig, Thresholds
from liftguard.events import AlertEvent, Event, RepEvent
from liftguard.inputs import StartSet
from liftguard.pipeline import Pipeline
from liftguard.samples import SampleBlock
from liftguard.sim import Program, SimulatedAthlete, build_session_athlete
from liftguard.sim.athlete import AthleteParams

SEED_BASE = 300_000
EXERCISES = ("press", "deadlift", "squat", "jumping_chinup")
FAMILIES = ("metawear", "dot", "witmotion")
RATE_HZ = {"metawear": 100.0, "dot": 60.0, "witmotion": 100.0}
ADDRESS = "AA:00:00:00:00:03"
BACK_ADDRESS = {"upper": "AA:00:00:00:00:01", "sacrum": "AA:00:00:00:00:02", "wrist": ADDRESS}
#: Low levels for the alarm comparison, so that there are alarms to compare.
LOW = Thresholds(warning_deg=4.0, alarm_deg=6.0)


def run_one(exercise: str, i: int) -> dict[str, Any]:
    family = FAMILIES[i % 3]
    rate = RATE_HZ[family]
    sim = build_session_athlete(
        f"w{i}",
        SEED_BASE + i,
        program=Program.from_list([(exercise, 2, 5)]),
        families={"upper": family, "sacrum": family, "wrist": family},
    )
    config = SessionConfig(
        "wrist",
        (AthleteConfig("w", (SensorConfig("wrist", ADDRESS, family=family, rate_hz=rate),)),),
    )
    events: list[Event] = []
    p = Pipeline(config, on_event=events.append)
    p.sensor_connected(ADDRESS, 0.0)
    for s in sim.sets:
        p.input(StartSet(s.t_input, "w", exercise, s.set, s.reps))
    t = np.arange(0.0, sim.duration, 1.0 / rate)
    acc, gyr = sim.sensors["wrist"].imu(t)[:2]
    step = max(1, round(0.04 * rate))
    for k in range(0, t.size, step):
        p.feed_samples(
            ADDRESS, SampleBlock(t=t[k : k + step], acc=acc[k : k + step], gyr=gyr[k : k + step])
        )
    reps = [e for e in events if isinstance(e, RepEvent)]
    out: dict[str, Any] = {"exercise": exercise, "family": family, "sets": [], "bounds": []}
    for s in sim.sets:
        truth = [r for r in sim.reps if r.set == s.set]
        got = [r for r in reps if r.set == s.set]
        out["sets"].append((len(got), len(truth)))
        if len(got) == len(truth):
            out["bounds"] += [
                (g.t_start - r.t_start, g.t_end - r.t_end) for g, r in zip(got, truth, strict=True)
            ]
    out["no_spine_alerts"] = sum(
        1 for e in events if isinstance(e, AlertEvent) and e.kind == "no_spine_sensors"
    )
    out["other_alerts"] = sum(
        1 for e in events if isinstance(e, AlertEvent) and e.kind != "no_spine_sensors"
    )
    return out


def _with_back(
    sim: SimulatedAthlete, family: str, roster: tuple[str, ...]
) -> tuple[dict[int, int], list[tuple[Any, ...]]]:
    """Press reps per set and the (non-degraded) alerts of ``sim`` with the ``roster``
    sensors."""
    rate = RATE_HZ[family]
    sensors = tuple(SensorConfig(p, BACK_ADDRESS[p], family=family, rate_hz=rate) for p in roster)
    config = SessionConfig("assist", (AthleteConfig("w", sensors, thresholds=LOW),))
    events: list[Event] = []
    p = Pipeline(config, on_event=events.append)
    for s in roster:
        p.sensor_connected(BACK_ADDRESS[s], 0.0)
    for inp in sim.pipeline_inputs(athlete="w"):
        p.input(inp)
    t = np.arange(0.0, sim.duration, 1.0 / rate)
    data = {s: sim.sensors[s].imu(t)[:2] for s in roster}
    step = max(1, round(0.04 * rate))
    for k in range(0, t.size, step):
        for s in roster:
            acc, gyr = data[s]
            block = SampleBlock(t=t[k : k + step], acc=acc[k : k + step], gyr=gyr[k : k + step])
            p.feed_samples(BACK_ADDRESS[s], block)
    reps: dict[int, int] = {}
    for e in events:
        if isinstance(e, RepEvent) and e.exercise == "press":
            reps[e.set] = reps.get(e.set, 0) + 1
    alerts = [
        (e.t, e.kind, e.severity, e.exercise, e.set, e.rep)
        for e in events
        if isinstance(e, AlertEvent) and e.severity != "degraded"
    ]
    return reps, alerts


def run_assisted(i: int, arch_deg: float | None) -> dict[str, Any]:
    """Athlete ``i``'s two press sets, back alone and back + wrist (see the module doc)."""
    family = FAMILIES[i % 3]
    params = AthleteParams.sample(np.random.default_rng([SEED_BASE + i, 1]))
    if arch_deg is not None:
        params = dataclasses.replace(params, press_lumbar_deg=-arch_deg, press_pelvis_deg=0.0)
    sim = build_session_athlete(
        f"w{i}",
        SEED_BASE + i,
        program=Program.from_list([("press", 2, 5), ("deadlift", 1, 5)]),
        families={"upper": family, "sacrum": family, "wrist": family},
        params=params,
    )
    truth = {s.set: s.reps for s in sim.sets if s.exercise == "press"}
    back, back_alerts = _with_back(sim, family, ("upper", "sacrum"))
    both, both_alerts = _with_back(sim, family, ("upper", "sacrum", "wrist"))
    return {
        "family": family,
        "back": [(back.get(k, 0), n) for k, n in truth.items()],
        "back_wrist": [(both.get(k, 0), n) for k, n in truth.items()],
        "alerts": len(back_alerts),
        "same_alerts": back_alerts == both_alerts,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=20)
    ap.add_argument("--assist-athletes", type=int, default=10)
    args = ap.parse_args()
    t0 = time.perf_counter()
    results = [run_one(ex, i) for ex in EXERCISES for i in range(args.athletes)]
    rows: list[tuple[str, str]] = []
    summary: dict[str, Any] = {}
    for ex in EXERCISES:
        sets = [s for r in results if r["exercise"] == ex for s in r["sets"]]
        exact = sum(c == d for c, d in sets) / len(sets)
        within = sum(abs(c - d) <= 1 for c, d in sets) / len(sets)
        bounds = [b for r in results if r["exercise"] == ex for b in r["bounds"]]
        start = statistics.median(abs(b[0]) for b in bounds) if bounds else float("nan")
        end = statistics.median(abs(b[1]) for b in bounds) if bounds else float("nan")
        wrong = [
            (r["family"], k + 1, c, d)
            for r in results
            if r["exercise"] == ex
            for k, (c, d) in enumerate(r["sets"])
            if c != d
        ]
        summary[ex] = {
            "sets": len(sets),
            "exact": exact,
            "within_1": within,
            "median_abs_start_error_s": start,
            "median_abs_end_error_s": end,
            "wrong": wrong,
        }
        rows.append(
            (
                f"{ex}: sets with exact rep count",
                f"{100 * exact:.1f} % of {len(sets)} (±1: {100 * within:.1f} %)",
            )
        )
        rows.append((f"{ex}: rep start / end error, median", f"{start:.2f} s / {end:.2f} s"))
    spine = sum(r["no_spine_alerts"] for r in results)
    n_sets = sum(len(r["sets"]) for r in results)
    rows.append(("no_spine_sensors alerts", f"{spine} for {n_sets} sets"))
    rows.append(("other alerts", str(sum(r["other_alerts"] for r in results))))
    assisted: dict[str, Any] = {}
    for label, arch in (("as drawn", None), ("barely arching (1°)", 1.0)):
        runs = [run_assisted(i, arch) for i in range(args.assist_athletes)]
        entry: dict[str, Any] = {"runs": runs}
        for mode in ("back", "back_wrist"):
            sets = [s for r in runs for s in r[mode]]
            entry[f"{mode}_exact"] = sum(c == d for c, d in sets) / len(sets)
            entry["sets"] = len(sets)
        entry["alerts"] = sum(r["alerts"] for r in runs)
        entry["same_alerts"] = all(r["same_alerts"] for r in runs)
        assisted[label] = entry
        rows.append(
            (
                f"press, back sensors worn, {label}: exact sets",
                f"back alone {100 * entry['back_exact']:.1f} %, back + wrist "
                f"{100 * entry['back_wrist_exact']:.1f} % of {entry['sets']}; "
                f"{entry['alerts']} alerts, identical with the wrist: {entry['same_alerts']}",
            )
        )
    wall = time.perf_counter() - t0
    rows.append(("wall time", f"{wall:.0f} s"))
    table(rows, f"benchmarks/wrist.py — {args.athletes} athletes × 4 exercises × 2 sets of 5")
    write(
        "wrist",
        {
            "athletes": args.athletes,
            "summary": summary,
            "no_spine_alerts": spine,
            "sets": n_sets,
            "press_with_back_sensors": assisted,
            "assist_athletes": args.assist_athletes,
            "wall_s": wall,
        },
    )


if __name__ == "__main__":
    main()
