"""Validity of the safety core against simulated ground truth: angles, rep counts, flexion alarms.

Population: simulated athletes whose seeds no test uses (100000 + i for the run with the
simulator's default fault rates, 200000 + i for the run with lumbar-flexion faults drawn around
the alarm threshold), each doing the whole LIFTMOR session (``Program.liftmor()``: warm-ups,
5 × 5 of deadlift, back squat, overhead press and jumping chin-ups with drop landings, rests,
walking, sitting, picking things up). Athlete ``i`` wears two sensors of family
``metawear``/``dot``/``witmotion`` (cycling). Runs:

* ``default``: every fault type at the simulator's default rates and severities
  (``DEFAULT_FAULTS``);
* ``threshold``: the three lumbar-flexion faults (``rounded_back``, ``squat_lumbar_flexion``,
  ``flexed_landing``) in every eligible rep with their peak drawn uniformly in
  ``alarm ± width`` (``around_threshold``); the other faults at their default rates.

Each athlete is driven offline (``benchmarks/_offline.py``): byte-exact emulators, the family's
start commands, a seeded 7.5–30 ms BLE latency per notification, the supervisor's inputs and a
0.25 s clock tick, all through one :class:`~liftguard.pipeline.Pipeline` per athlete (athletes
are independent, so they run in parallel processes).

Measured against the simulator's truth:

* lumbar flexion RMSE: every ``AngleSamples`` sample vs ``sim.lumbar_angles_deg`` at the same
  session time (minus the script offset); split by exercise (samples inside rep windows; the
  jumping chin-up's include its landings), landings alone (touchdown to absorbed), in sets
  between reps, and outside sets;
* peak flexion error per rep (measured peak inside the true rep window − true peak);
* lateral bend and axial twist RMSE, over all samples and inside reps, next to the truth's own
  RMS (the simulator scripts small asymmetries: a per-athlete bias plus ±1° per rep, within
  ±6°, and postural sway), so an estimator that read zero would score the truth's RMS;
* sets with the exact rep count, per exercise (only exercises the pipeline reports reps for);
* unsafe-rep alarm sensitivity: the roster sets each athlete's alarm level in degrees
  (``--alarm-deg``, 30° by default; warning, hold and hysteresis at the roster defaults); a rep
  is unsafe if true flexion stays above that level for ≥ 100 ms (``TruthRep.unsafe``); it is
  detected if a ``lumbar_flexion`` alert of severity ``alarm`` falls inside its
  ``[t_start, t_end]``, or — for exercises without rep events — anywhere in its set. The strict
  figure (alarm inside the rep's own window) is shown too. Warnings are counted, not scored;
* false alarms: alarms that detect no unsafe rep, per 100 safe reps (inside sets: in a safe
  rep or between reps) and outside sets (rests, walking, picking things up, adjusting plates);
* alarm delay: alert time minus the instant true flexion had been above the threshold for
  100 ms; also the host-side figure (when the alert could first be shown, i.e. when the samples
  it needs had arrived over BLE).

``--quick`` runs 4 athletes per run with one 5-rep set per exercise (≈ 30 s). The default runs
20 athletes per run through the whole program (≈ 41 session-hours in all), one worker process
per CPU.

    python benchmarks/validity.py [--quick] [--athletes 20] [--jobs 2] [--runs default,threshold]
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import table, write
from benchmarks._offline import FAMILIES, OfflineSession, Wearer
from liftguard.config import Thresholds
from liftguard.events import AlertEvent, Event, RepEvent
from liftguard.signal.athlete import AngleSamples
from liftguard.sim import (
    EXERCISES,
    FAULT_KINDS,
    FaultSpec,
    Program,
    SimulatedAthlete,
    around_threshold,
    build_session_athlete,
)
from liftguard.sim.session import UNSAFE_HOLD_S

SEED_BASE = {"default": 100_000, "threshold": 200_000}
GOALS = {
    "rmse_deg": 2.0,
    "exact_sets": 0.98,
    "sensitivity": 0.99,
    "fa_per_100_safe": 1.0,
    "fa_outside": 0,
    "delay_p95_s": 0.100,
}
#: Angle-error categories, in print order.
CATEGORIES = (
    "all",
    *(f"reps:{ex}" for ex in EXERCISES),
    "landings",
    "sets, between reps",
    "outside sets",
)


@dataclass(frozen=True)
class Job:
    """One athlete of one run."""

    run: str
    index: int
    seed: int
    family: str
    quick: bool
    alarm_deg: float
    width_deg: float


def _program(quick: bool) -> Program:
    if quick:
        return Program.from_list([(ex, 1, 5) for ex in EXERCISES])
    return Program.liftmor()


def _faults(job: Job) -> dict[str, FaultSpec] | None:
    if job.run == "default":
        return None  # DEFAULT_FAULTS
    return {
        name: around_threshold(job.alarm_deg, job.width_deg)
        for name, kind in FAULT_KINDS.items()
        if kind.quantity == "lumbar_flexion"
    }


# -- one athlete (runs in a worker process) ---------------------------------------------------


def evaluate(job: Job) -> dict[str, Any]:
    """Simulate, drive and score one athlete; returns plain data for the aggregation."""
    t0 = time.perf_counter()
    sim = build_session_athlete(
        f"{job.run}{job.index}",
        job.seed,
        program=_program(job.quick),
        families={"upper": job.family, "sacrum": job.family},
        faults=_faults(job),
        unsafe_threshold_deg=job.alarm_deg,
    )
    events: list[Event] = []
    blocks: list[AngleSamples] = []
    session = OfflineSession(
        [Wearer(sim, job.family, job.index, Thresholds(alarm_deg=job.alarm_deg))],
        seed=job.seed,
        on_event=events.append,
        on_angles=lambda _name, a: blocks.append(a),
        arrivals=True,
    )
    session.run()
    result = _score(job, sim, session, events, blocks)
    result["seconds"] = time.perf_counter() - t0
    return result


def _held_crossing(sim: SimulatedAthlete, t0: float, t1: float, threshold: float) -> float:
    """First sim time in ``[t0, t1]`` at which true flexion has been above ``threshold`` for
    :data:`UNSAFE_HOLD_S` (1 ms grid, as the truth's own judgement); NaN if never."""
    dt = 1e-3
    grid = t0 + dt * np.arange(int((t1 - t0) / dt) + 1)
    above = sim.lumbar_flexion_deg(grid) > threshold
    if not above.any():
        return math.nan
    edges = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    need = math.ceil((UNSAFE_HOLD_S - 1e-9) / dt)
    for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if stop - 1 - start >= need:
            return float(grid[start + need])
    return math.nan


def _score(
    job: Job,
    sim: SimulatedAthlete,
    session: OfflineSession,
    events: list[Event],
    blocks: list[AngleSamples],
) -> dict[str, Any]:
    off = session.offset
    name = sim.name
    out: dict[str, Any] = {
        "run": job.run,
        "athlete": name,
        "seed": job.seed,
        "family": job.family,
        "session_s": session.end,
        "notifications": session.notifications,
        "calibrated": bool(blocks),
    }
    # --- angles ------------------------------------------------------------------------
    if blocks:
        t = np.concatenate([b.t for b in blocks])
        flex = np.concatenate([b.flexion_deg for b in blocks])
        bend = np.concatenate([b.bend_deg for b in blocks])
        twist = np.concatenate([b.twist_deg for b in blocks])
    else:
        t = flex = bend = twist = np.zeros(0)
    ts = t - off
    truth = sim.lumbar_angles_deg(ts) if t.size else np.zeros((0, 3))
    err = flex - truth[:, 0]
    phase = sim.phase_index(ts)
    kinds = np.array([p.kind for p in sim.phases] + [""], dtype=object)[phase]
    in_set = np.array([p.exercise for p in sim.phases] + [""], dtype=object)[phase] != ""
    rep_idx = sim.rep_index(ts)
    rep_ex = np.array([r.exercise for r in sim.reps] + [""], dtype=object)[rep_idx]
    masks = {
        "all": np.ones(t.size, bool),
        **{f"reps:{ex}": rep_ex == ex for ex in EXERCISES},
        "landings": np.isin(kinds, ["landing", "absorption"]),
        "sets, between reps": in_set & (rep_idx < 0),
        "outside sets": ~in_set,
    }
    out["error"] = {
        k: {
            "sse": float(np.sum(err[m] ** 2)),
            "sum": float(np.sum(err[m])),
            "n": int(m.sum()),
            "max_abs": float(np.abs(err[m]).max()) if m.any() else 0.0,
        }
        for k, m in masks.items()
    }
    # Bend and twist: every sample, and inside reps (where the asymmetries are scripted).
    # Twist is NaN until the two sensors' headings are first aligned (at calibration).
    for key, est, col in (("bend_error", bend, 1), ("twist_error", twist, 2)):
        e = est - truth[:, col]
        out[key] = {}
        for cat, m in (("all", masks["all"]), ("in reps", rep_idx >= 0)):
            ok = m & np.isfinite(e)
            out[key][cat] = {
                "sse": float(np.sum(e[ok] ** 2)),
                "sum": float(np.sum(e[ok])),
                "n": int(ok.sum()),
                "truth_sq": float(np.sum(truth[ok, col] ** 2)),
            }

    # --- events --------------------------------------------------------------------------
    flexion = [e for e in events if isinstance(e, AlertEvent) and e.kind == "lumbar_flexion"]
    flex_alerts = [e for e in flexion if e.severity == "alarm"]
    warnings = [e.t for e in flexion if e.severity == "warning"]
    out["degraded"] = [
        {"t": e.t, "kind": e.kind, "message": e.message}
        for e in events
        if isinstance(e, AlertEvent) and e.severity == "degraded"
    ]
    rep_events = Counter((e.exercise, e.set) for e in events if isinstance(e, RepEvent))
    shown = (
        session.arrivals.shown_at(name, [a.t for a in flex_alerts])
        if session.arrivals is not None and flex_alerts
        else None
    )

    # --- reps --------------------------------------------------------------------------
    reps: list[dict[str, Any]] = []
    for k, r in enumerate(sim.reps):
        i0 = int(np.searchsorted(t, r.t_start + off))
        i1 = int(np.searchsorted(t, r.t_end + off, "right"))
        in_window = [
            i for i, a in enumerate(flex_alerts) if r.t_start + off <= a.t <= r.t_end + off
        ]
        cross = (
            _held_crossing(sim, r.t_start, r.t_end, job.alarm_deg) + off if r.unsafe else math.nan
        )
        reps.append(
            {
                "k": k,
                "exercise": r.exercise,
                "set": r.set,
                "rep": r.rep,
                "warmup": r.warmup,
                "unsafe": r.unsafe,
                "truth_peak": r.peak_flexion_deg,
                "measured_peak": float(flex[i0:i1].max()) if i1 > i0 else math.nan,
                "faults": [f.name for f in r.faults],
                "t_start": r.t_start + off,
                "t_cross": cross,
                "alerts": in_window,
            }
        )
    out["reps"] = reps

    # --- sets --------------------------------------------------------------------------
    sets: list[dict[str, Any]] = []
    for s in sim.sets:
        lo, hi = s.t_input + off, s.t_end + off
        sets.append(
            {
                "exercise": s.exercise,
                "set": s.set,
                "warmup": s.warmup,
                "truth_reps": sum(
                    1 for r in sim.reps if r.exercise == s.exercise and r.set == s.set
                ),
                "rep_events": rep_events.get((s.exercise, s.set), 0),
                "alerts": [i for i, a in enumerate(flex_alerts) if lo <= a.t <= hi],
                "reps": [
                    k for k, r in enumerate(sim.reps) if r.exercise == s.exercise and r.set == s.set
                ],
            }
        )
    out["sets"] = sets
    windows = [(s.t_input + off, s.t_end + off) for s in sim.sets]
    in_sets = sum(any(lo <= w <= hi for lo, hi in windows) for w in warnings)
    out["warnings"] = {"in_sets": in_sets, "outside_sets": len(warnings) - in_sets}

    # --- alerts ------------------------------------------------------------------------
    alerts = []
    for i, a in enumerate(flex_alerts):
        rep_k = next((r["k"] for r in reps if i in r["alerts"]), None)
        set_k = next((j for j, s in enumerate(sets) if i in s["alerts"]), None)
        p = int(sim.phase_index([a.t - off])[0])
        alerts.append(
            {
                "t": a.t,
                "shown_at": float(shown[i]) if shown is not None else math.nan,
                "value_deg": a.value_deg,
                "pipeline_set": [a.exercise, a.set, a.rep],
                "rep": rep_k,
                "set": set_k,
                "activity": sim.phases[p].kind if p >= 0 else "",
            }
        )
    out["alerts"] = alerts
    return out


# -- aggregation ------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def _rmse(parts: list[dict[str, float]]) -> tuple[float, float, int]:
    n = int(sum(p["n"] for p in parts))
    if not n:
        return math.nan, math.nan, 0
    return (
        math.sqrt(sum(p["sse"] for p in parts) / n),
        sum(p["sum"] for p in parts) / n,
        n,
    )


def aggregate(results: list[dict[str, Any]], alarm_deg: float, width_deg: float) -> dict[str, Any]:
    """Population figures of one run."""
    # Exercises the pipeline reports reps for (anywhere in the population).
    counted = sorted({s["exercise"] for r in results for s in r["sets"] if s["rep_events"]})
    agg: dict[str, Any] = {
        "athletes": len(results),
        "families": dict(Counter(r["family"] for r in results)),
        "calibrated": sum(r["calibrated"] for r in results),
        "session_hours": sum(r["session_s"] for r in results) / 3600,
        "exercises_with_rep_events": counted,
        # The roster's levels: the alarm in degrees, the rest Thresholds' defaults.
        "alarm_deg": alarm_deg,
        "warning_deg": Thresholds(alarm_deg=alarm_deg).levels(None)[0],
        "hold_s": Thresholds().hold_s,
        "hysteresis_deg": Thresholds().hysteresis_deg,
    }
    # Angles.
    agg["flexion_rmse_deg"] = {}
    for cat in CATEGORIES:
        rmse, bias, n = _rmse([r["error"][cat] for r in results])
        agg["flexion_rmse_deg"][cat] = {"rmse": rmse, "bias": bias, "samples": n}
    agg["flexion_rmse_by_family_deg"] = {
        fam: _rmse([r["error"]["all"] for r in results if r["family"] == fam])[0]
        for fam in FAMILIES
        if any(r["family"] == fam for r in results)
    }
    per_athlete = [_rmse([r["error"]["all"]])[0] for r in results if r["calibrated"]]
    agg["flexion_rmse_worst_athlete_deg"] = max(per_athlete) if per_athlete else math.nan
    for key, name in (
        ("bend_error", "lateral_bend_rmse_deg"),
        ("twist_error", "axial_twist_rmse_deg"),
    ):
        agg[name] = {}
        for cat in ("all", "in reps"):
            parts = [r[key][cat] for r in results]
            rmse, bias, n = _rmse(parts)
            truth_rms = math.sqrt(sum(p["truth_sq"] for p in parts) / n) if n else math.nan
            agg[name][cat] = {"rmse": rmse, "bias": bias, "samples": n, "truth_rms": truth_rms}

    # Peak error per rep.
    all_reps = [(r, rep) for r in results for rep in r["reps"]]
    agg["peak_error_deg"] = {}
    for ex in (*EXERCISES, "all"):
        errs = [
            rep["measured_peak"] - rep["truth_peak"]
            for _, rep in all_reps
            if (ex == "all" or rep["exercise"] == ex) and not math.isnan(rep["measured_peak"])
        ]
        agg["peak_error_deg"][ex] = {
            "reps": len(errs),
            "mean": float(np.mean(errs)) if errs else math.nan,
            "rms": float(np.sqrt(np.mean(np.square(errs)))) if errs else math.nan,
            "p95_abs": _pct([abs(e) for e in errs], 95),
            "max_abs": max((abs(e) for e in errs), default=math.nan),
        }

    # Rep counts per set.
    agg["exact_sets"] = {}
    for ex in EXERCISES:
        sets = [s for r in results for s in r["sets"] if s["exercise"] == ex]
        if ex not in counted:
            agg["exact_sets"][ex] = {"sets": len(sets), "exact": None, "within_1": None}
            continue
        agg["exact_sets"][ex] = {
            "sets": len(sets),
            "exact": sum(s["rep_events"] == s["truth_reps"] for s in sets) / max(len(sets), 1),
            "within_1": sum(abs(s["rep_events"] - s["truth_reps"]) <= 1 for s in sets)
            / max(len(sets), 1),
            "missed_or_extra": [
                [r["athlete"], s["set"], s["truth_reps"], s["rep_events"]]
                for r in results
                for s in r["sets"]
                if s["exercise"] == ex and s["rep_events"] != s["truth_reps"]
            ],
        }

    # Alarms: which alerts detect an unsafe rep, which are false.
    detected = strict = unsafe_n = 0
    delays: list[float] = []
    host_delays: list[float] = []
    fa_in_sets = fa_outside = safe_n = 0
    by_ex: dict[str, Counter[str]] = defaultdict(Counter)
    missed: list[list[Any]] = []
    outside_kinds: Counter[str] = Counter()
    outside_armed_by: Counter[str] = Counter()  # the set the pipeline still had open
    in_set_where: Counter[str] = Counter()
    for r in results:
        alerts, reps, sets = r["alerts"], r["reps"], r["sets"]
        used: set[int] = set()  # alerts that detect an unsafe rep
        for s in sets:
            set_reps = [reps[k] for k in s["reps"]]
            set_unsafe = [rep for rep in set_reps if rep["unsafe"]]
            for rep in set_unsafe:
                own = rep["alerts"]
                lenient = s["exercise"] not in counted and bool(s["alerts"])
                hit = bool(own) or lenient
                unsafe_n += 1
                detected += hit
                strict += bool(own)
                by_ex[rep["exercise"]]["unsafe"] += 1
                by_ex[rep["exercise"]]["detected"] += hit
                if own:
                    a = alerts[own[0]]
                    delays.append(a["t"] - rep["t_cross"])
                    host_delays.append(a["shown_at"] - rep["t_cross"])
                    used.update(own)
                elif lenient:
                    used.update(s["alerts"])
                else:
                    missed.append(
                        [r["athlete"], rep["exercise"], rep["set"], rep["rep"], rep["truth_peak"]]
                    )
            for rep in set_reps:
                if not rep["unsafe"]:
                    safe_n += 1
                    by_ex[rep["exercise"]]["safe"] += 1
        for i, a in enumerate(alerts):
            if i in used:
                continue
            if a["set"] is None:
                fa_outside += 1
                outside_kinds[a["activity"]] += 1
                outside_armed_by[str(a["pipeline_set"][0])] += 1
            else:
                fa_in_sets += 1
                by_ex[sets[a["set"]]["exercise"]]["false"] += 1
                if a["rep"] is None:
                    in_set_where[f"between reps ({a['activity']})"] += 1
                else:
                    rep = reps[a["rep"]]
                    near = rep["truth_peak"] > agg["alarm_deg"] - 2
                    in_set_where[
                        "safe rep, true peak within 2° below" if near else "safe rep, further below"
                    ] += 1
    hours = agg["session_hours"]
    agg["alarms"] = {
        "unsafe_reps": unsafe_n,
        "safe_reps": safe_n,
        "sensitivity": detected / unsafe_n if unsafe_n else math.nan,
        "sensitivity_own_window": strict / unsafe_n if unsafe_n else math.nan,
        "missed": missed,
        "false_alarms_in_sets": fa_in_sets,
        "false_alarms_per_100_safe_reps": 100 * fa_in_sets / safe_n if safe_n else math.nan,
        "false_alarms_outside_sets": fa_outside,
        "false_alarms_outside_sets_per_hour": fa_outside / hours if hours else math.nan,
        "false_alarms_outside_sets_by_activity": dict(outside_kinds.most_common()),
        "false_alarms_outside_sets_by_open_set": dict(outside_armed_by.most_common()),
        "false_alarms_in_sets_where": dict(in_set_where.most_common()),
        "delay_s_p50": _pct(delays, 50),
        "delay_s_p95": _pct(delays, 95),
        "delay_s_max": max(delays, default=math.nan),
        "host_delay_s_p50": _pct([d for d in host_delays if not math.isnan(d)], 50),
        "host_delay_s_p95": _pct([d for d in host_delays if not math.isnan(d)], 95),
        "delays_measured": len(delays),
        "by_exercise": {ex: dict(c) for ex, c in sorted(by_ex.items())},
    }
    agg["warnings"] = {
        k: sum(r["warnings"][k] for r in results) for k in ("in_sets", "outside_sets")
    }
    degraded = Counter(d["kind"] for r in results for d in r["degraded"])
    agg["degraded_alerts"] = dict(degraded.most_common())

    # Near the threshold: how often a rep gets its own alert, by how far its true peak is from
    # the threshold. Exercises without rep events alarm once per set, so there only reps up to
    # the set's first alert could have had one.
    eligible = []
    for r in results:
        for s in r["sets"]:
            first = min((r["alerts"][i]["t"] for i in s["alerts"]), default=math.inf)
            for k in s["reps"]:
                rep = r["reps"][k]
                if s["exercise"] in counted or rep["t_start"] <= first:
                    eligible.append(rep)
    edges = [-math.inf, -width_deg, -2.0, -1.0, 0.0, 1.0, 2.0, width_deg, math.inf]
    bins = []
    for lo, hi in itertools.pairwise(edges):
        sel = [
            rep
            for rep in eligible
            if lo <= rep["truth_peak"] - alarm_deg < hi and rep["truth_peak"] > alarm_deg - 10
        ]
        bins.append(
            {
                "peak_minus_threshold_deg": [lo, hi],
                "reps": len(sel),
                "unsafe": sum(rep["unsafe"] for rep in sel),
                "alerted": sum(bool(rep["alerts"]) for rep in sel),
            }
        )
    agg["alert_rate_by_true_peak"] = bins
    return agg


# -- printing -------------------------------------------------------------------------------


def _mark(ok: bool) -> str:
    return "meets goal" if ok else "MISSES goal"


def _deg(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}°"


def _ms(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{1000 * x:.0f} ms"


def print_run(run: str, agg: dict[str, Any], seconds: float, alarm_deg: float) -> None:
    g = GOALS
    rm = agg["flexion_rmse_deg"]
    al = agg["alarms"]
    families = ", ".join(f"{n} {f}" for f, n in agg["families"].items())
    outside = ", ".join(f"{k} {v}" for k, v in al["false_alarms_outside_sets_by_activity"].items())
    rows: list[tuple[str, str]] = [
        (
            "population",
            f"{agg['athletes']} athletes ({families}), {agg['session_hours']:.1f} session-hours,"
            f" calibrated {agg['calibrated']}/{agg['athletes']}",
        ),
        (
            "roster thresholds",
            f"alarm {agg['alarm_deg']:g}°, warning {agg['warning_deg']:g}°, hold "
            f"{agg['hold_s']:g} s, hysteresis {agg['hysteresis_deg']:g}°",
        ),
        (
            "lumbar flexion RMSE, all samples",
            f"{_deg(rm['all']['rmse'])} (bias {rm['all']['bias']:+.2f}°)   goal ≤ 2°: "
            f"{_mark(rm['all']['rmse'] <= g['rmse_deg'])}",
        ),
    ]
    for cat in CATEGORIES[1:]:
        label = cat.replace("reps:", "  in reps, ").replace("jumping_chinup", "jumping chin-up")
        if cat == "reps:jumping_chinup":
            label += " (incl. landings)"
        elif not cat.startswith("reps:"):
            label = f"  {cat}"
        rows.append((label, f"{_deg(rm[cat]['rmse'])} (bias {rm[cat]['bias']:+.2f}°)"))
    rows += [
        (
            "  by family",
            ", ".join(f"{f} {_deg(v)}" for f, v in agg["flexion_rmse_by_family_deg"].items()),
        ),
        ("  worst athlete", _deg(agg["flexion_rmse_worst_athlete_deg"])),
    ]
    for name, label in (
        ("lateral_bend_rmse_deg", "lateral bend RMSE"),
        ("axial_twist_rmse_deg", "axial twist RMSE"),
    ):
        for cat in ("all", "in reps"):
            b = agg[name][cat]
            rows.append(
                (
                    f"{label}, {'all samples' if cat == 'all' else 'in reps'}",
                    f"{_deg(b['rmse'])} (bias {b['bias']:+.2f}°; the truth's own RMS "
                    f"{_deg(b['truth_rms'])})",
                )
            )
    pe = agg["peak_error_deg"]
    for ex in (*EXERCISES, "all"):
        p = pe[ex]
        rows.append(
            (
                f"peak flexion error per rep, {ex}",
                f"mean {p['mean']:+.2f}°, RMS {p['rms']:.2f}°, p95 |err| {p['p95_abs']:.2f}°"
                f" ({p['reps']} reps)",
            )
        )
    for ex in EXERCISES:
        e = agg["exact_sets"][ex]
        if e["exact"] is None:
            value = f"n/a: the pipeline reports no reps for {ex} ({e['sets']} sets)"
        else:
            value = (
                f"{100 * e['exact']:.1f} % of {e['sets']} sets (±1: {100 * e['within_1']:.1f} %)"
                f"   goal ≥ 98 %: {_mark(e['exact'] >= g['exact_sets'])}"
            )
        rows.append((f"sets with exact rep count, {ex}", value))
    rows += [
        (
            f"unsafe-rep sensitivity (> {alarm_deg:g}° held 100 ms)",
            f"{100 * al['sensitivity']:.1f} % of {al['unsafe_reps']} unsafe reps   goal ≥ 99 %: "
            f"{_mark(al['sensitivity'] >= g['sensitivity'])}",
        ),
        (
            "  alert inside the rep's own window",
            f"{100 * al['sensitivity_own_window']:.1f} %",
        ),
    ]
    for ex, c in al["by_exercise"].items():
        if c.get("unsafe"):
            rows.append(
                (
                    f"  {ex}",
                    f"{c.get('detected', 0)}/{c['unsafe']} detected, "
                    f"{c.get('false', 0)} false in sets / {c.get('safe', 0)} safe reps",
                )
            )
    rows += [
        (
            "false alarms per 100 safe reps",
            f"{al['false_alarms_per_100_safe_reps']:.2f} ({al['false_alarms_in_sets']} false "
            f"alerts in sets / {al['safe_reps']} safe reps)   goal ≤ 1: "
            f"{_mark(al['false_alarms_per_100_safe_reps'] <= g['fa_per_100_safe'])}",
        ),
        (
            "  in sets, where",
            ", ".join(f"{k} {v}" for k, v in al["false_alarms_in_sets_where"].items()) or "-",
        ),
        (
            "false alarms outside sets",
            f"{al['false_alarms_outside_sets']} ({al['false_alarms_outside_sets_per_hour']:.2f}"
            f"/h; during: {outside or '-'})"
            f"   goal 0: {_mark(al['false_alarms_outside_sets'] == g['fa_outside'])}",
        ),
        (
            "  outside sets, set still open in the pipeline",
            ", ".join(f"{k} {v}" for k, v in al["false_alarms_outside_sets_by_open_set"].items())
            or "-",
        ),
        (
            "alarm delay (alert t − true 100 ms hold)",
            f"p50 {_ms(al['delay_s_p50'])}, p95 {_ms(al['delay_s_p95'])}, max "
            f"{_ms(al['delay_s_max'])} ({al['delays_measured']} alerts)   goal p95 ≤ 100 ms: "
            f"{_mark(al['delay_s_p95'] <= g['delay_p95_s'])}",
        ),
        (
            "  on the host (samples arrived over BLE)",
            f"p50 {_ms(al['host_delay_s_p50'])}, p95 {_ms(al['host_delay_s_p95'])}",
        ),
        (
            f"flexion warnings (level {agg['warning_deg']:g}°)",
            f"{agg['warnings']['in_sets']} in sets, {agg['warnings']['outside_sets']} outside sets"
            " (not counted as alarms)",
        ),
        (
            "monitoring-degraded alerts",
            ", ".join(f"{k} {v}" for k, v in agg["degraded_alerts"].items()) or "none",
        ),
        ("worker time of this run", f"{seconds:.0f} s (all athletes, summed)"),
    ]
    table(rows, f"benchmarks/validity.py — run '{run}'")
    if run == "threshold":
        bins = [
            (
                f"true peak − threshold in [{lo:+g}, {hi:+g})°",
                f"{b['reps']} reps, {b['unsafe']} unsafe, "
                f"{b['alerted']} with an alert in their window",
            )
            for b in agg["alert_rate_by_true_peak"]
            for lo, hi in [b["peak_minus_threshold_deg"]]
            if b["reps"]
        ]
        uncounted = [ex for ex in EXERCISES if ex not in agg["exercises_with_rep_events"]]
        note = (
            f"; {', '.join(uncounted)} alarm once per set: only reps up to the set's first alarm"
            if uncounted
            else ""
        )
        table(
            bins, f"alarms near the threshold (reps with a true peak above threshold − 10°{note})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 athletes, one set per exercise")
    ap.add_argument("--athletes", type=int, default=None, help="per run (default 20; quick 4)")
    ap.add_argument("--runs", default="default,threshold")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--alarm-deg", type=float, default=30.0)
    ap.add_argument("--width-deg", type=float, default=5.0, help="threshold run: peak ± width")
    ap.add_argument("--name", default=None, help="result name (default validity[_quick])")
    args = ap.parse_args()
    athletes = args.athletes or (4 if args.quick else 20)
    runs = [r for r in args.runs.split(",") if r]
    for r in runs:
        if r not in SEED_BASE:
            ap.error(f"unknown run {r!r}; use {', '.join(SEED_BASE)}")
    jobs = [
        Job(
            run,
            i,
            SEED_BASE[run] + i,
            FAMILIES[i % len(FAMILIES)],
            args.quick,
            args.alarm_deg,
            args.width_deg,
        )
        for run in runs
        for i in range(athletes)
    ]
    t_start = time.perf_counter()
    load_before = os.getloadavg()[0]
    results: dict[str, list[dict[str, Any]]] = {r: [] for r in runs}
    run_cpu: Counter[str] = Counter()
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=get_context("fork")) as pool:
        for job, res in zip(jobs, pool.map(evaluate, jobs), strict=True):
            results[job.run].append(res)
            run_cpu[job.run] += res["seconds"]
            print(
                f"  {job.run:9s} {res['athlete']:12s} {job.family:9s} "
                f"{res['session_s'] / 60:5.1f} min session in {res['seconds']:5.1f} s",
                flush=True,
            )
    wall = time.perf_counter() - t_start
    out: dict[str, Any] = {
        "options": {
            "quick": args.quick,
            "athletes_per_run": athletes,
            "program": "one 5-rep set per exercise" if args.quick else "Program.liftmor()",
            "alarm_deg": args.alarm_deg,
            "threshold_width_deg": args.width_deg,
            "jobs": args.jobs,
            "seeds": {r: [SEED_BASE[r], SEED_BASE[r] + athletes - 1] for r in runs},
            "ble_latency_s": [0.0075, 0.030],
        },
        "goals": GOALS,
        "wall_s": wall,
        "loadavg_1min_before_after": [load_before, os.getloadavg()[0]],
        "runs": {},
    }
    for run in runs:
        agg = aggregate(results[run], args.alarm_deg, args.width_deg)
        agg["cpu_s"] = run_cpu[run]
        out["runs"][run] = agg
        print_run(run, agg, run_cpu[run], args.alarm_deg)
    print(
        f"\ntotal wall time {wall:.0f} s with {args.jobs} worker processes (machine load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after)"
    )
    write(args.name or ("validity_quick" if args.quick else "validity"), out)


if __name__ == "__main__":
    main()
