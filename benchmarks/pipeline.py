"""Pipeline throughput on one core, replay style: samples per second through the whole pipeline.

Per sensor family, a recorded session (2 athletes, one 5-rep set of each LIFTMOR exercise,
≈ 15 min; the raw notifications with their host receive times, made offline by
``benchmarks/_offline.py``) is pushed through a fresh :class:`~liftguard.pipeline.Pipeline` as a
replay does: the supervisor's inputs first (they take effect when the data reaches them), then
every sensor's notifications in large batches (``--batch-s`` seconds of each sensor per call,
sensors interleaved; by default the window a fast replay feeds,
:data:`liftguard.recording.replay.FAST_WINDOW_S`), with a clock tick after each batch. Two
measurements:

* ``feed_packets``: decode included — reassembly and decoding of the notification bytes,
  clock sync, orientation (VQF), the athlete stage (calibration, angles, reps, alarms);
* ``feed_samples``: decode excluded — the same session's already decoded and time-stamped
  sample blocks (captured from a ``feed_packets`` pass) straight into ``feed_samples``.

Both must give the same events (checked). The process is pinned to one CPU; each figure is the
median of ``--runs`` runs, as samples per CPU-second of the process (what one core does, even
when other processes share it) and per wall-clock second. A cProfile of each family's
``feed_packets`` pass shows where the time goes (top 15 functions by own time; the first
family's is printed, all are in the JSON).
Goal: ≥ 1 M samples/s.

    python benchmarks/pipeline.py [--runs 5] [--batch-s 60] [--families metawear,dot,witmotion]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import table, write
from benchmarks._offline import FAMILIES, OfflineSession, Wearer
from liftguard._types import FloatArray
from liftguard.config import SessionConfig
from liftguard.events import AlertEvent, Event
from liftguard.inputs import Input
from liftguard.pipeline import Pipeline
from liftguard.recording.replay import FAST_WINDOW_S
from liftguard.samples import SampleBlock
from liftguard.sim import EXERCISES, Program, build_session_athlete

GOAL_SAMPLES_PER_S = 1e6
SEED = 300_000
ATHLETES = 2


@dataclass
class Recording:
    """A session's raw notifications per sensor, the inputs, and the decoded blocks."""

    config: SessionConfig
    inputs: list[Input]
    chips: dict[str, str | None] = field(default_factory=dict)
    hosts: dict[str, list[float]] = field(default_factory=dict)
    packets: dict[str, list[bytes]] = field(default_factory=dict)
    host_arrays: dict[str, FloatArray] = field(default_factory=dict)
    end: float = 0.0
    blocks: list[tuple[str, SampleBlock]] = field(default_factory=list)

    def add_block(self, address: str, block: SampleBlock) -> None:
        self.blocks.append((address, block))

    @property
    def samples(self) -> int:
        return sum(len(b) for _, b in self.blocks)

    @property
    def notifications(self) -> int:
        return sum(len(p) for p in self.packets.values())


def record(family: str) -> Recording:
    """Simulate and capture a session of ``family`` sensors (not timed)."""
    program = Program.from_list([(ex, 1, 5) for ex in EXERCISES])
    wearers = [
        Wearer(
            build_session_athlete(
                f"a{i}",
                SEED + i,
                program=program,
                families={"upper": family, "sacrum": family},
            ),
            family,
            i,
        )
        for i in range(ATHLETES)
    ]
    session = OfflineSession(wearers, seed=SEED)
    rec = Recording(session.config, session.inputs(), end=session.end)
    pipeline = session.pipeline
    connected, feed = pipeline.sensor_connected, pipeline.feed_packets

    def on_connected(address: str, t: float, *, chip: str | None = None, **kw: Any) -> None:
        rec.chips[address] = chip
        connected(address, t, chip=chip, **kw)

    def on_packets(address: str, host_times: FloatArray, packets: Sequence[bytes]) -> None:
        rec.hosts.setdefault(address, []).extend(host_times.tolist())
        rec.packets.setdefault(address, []).extend(packets)
        feed(address, host_times, packets)

    pipeline.sensor_connected = on_connected  # type: ignore[method-assign]
    pipeline.feed_packets = on_packets  # type: ignore[method-assign]
    session.run()
    # As a recording's reader holds them: arrays, converted once (not inside the timed runs).
    rec.host_arrays = {a: np.asarray(h, dtype=np.float64) for a, h in rec.hosts.items()}
    return rec


def _fresh(rec: Recording, events: list[Event] | None = None) -> Pipeline:
    pipeline = Pipeline(rec.config, on_event=None if events is None else events.append)
    for address, chip in rec.chips.items():
        pipeline.sensor_connected(address, 0.0, chip=chip)
    for inp in rec.inputs:
        pipeline.input(inp)
    return pipeline


def replay_packets(
    rec: Recording, batch_s: float, pipeline: Pipeline, on_block: Callable[..., None] | None = None
) -> None:
    """Every sensor's notifications in batches of ``batch_s`` seconds, a tick after each."""
    hosts = rec.host_arrays
    cursor = dict.fromkeys(hosts, 0)
    if on_block is not None:
        feed_samples = pipeline.feed_samples

        def capture(address: str, block: SampleBlock) -> None:
            on_block(address, block)
            feed_samples(address, block)

        pipeline.feed_samples = capture  # type: ignore[method-assign]
    for t in np.arange(batch_s, rec.end + batch_s, batch_s):
        for address, h in hosts.items():
            i0 = cursor[address]
            i1 = int(np.searchsorted(h, t, side="right"))
            if i1 > i0:
                pipeline.feed_packets(address, h[i0:i1], rec.packets[address][i0:i1])
                cursor[address] = i1
        pipeline.tick(min(float(t), rec.end))  # not past the recording: that would be silence


def replay_blocks(rec: Recording, pipeline: Pipeline) -> None:
    """The captured, decoded sample blocks straight into ``feed_samples``."""
    for address, block in rec.blocks:
        pipeline.feed_samples(address, block)


def _key(events: list[Event]) -> list[dict[str, Any]]:
    """What the athlete stage decides (sensor health is judged on packets, so not compared)."""
    return [
        e.to_json()
        for e in events
        if e.type in ("rep", "calibration")
        or (isinstance(e, AlertEvent) and e.kind == "lumbar_flexion")
    ]


def _timed(run: Callable[[Pipeline], None], rec: Recording, runs: int) -> dict[str, list[float]]:
    """Wall and CPU seconds of ``runs`` runs, each on a fresh pipeline."""
    out: dict[str, list[float]] = {"wall": [], "cpu": []}
    for _ in range(runs):
        pipeline = _fresh(rec)
        w0, c0 = time.perf_counter(), time.process_time()
        run(pipeline)
        out["cpu"].append(time.process_time() - c0)
        out["wall"].append(time.perf_counter() - w0)
    return out


def profile(rec: Recording, batch_s: float, top: int = 15) -> tuple[str, list[dict[str, Any]]]:
    """cProfile of one ``feed_packets`` pass: the ``top`` functions by own time."""
    pipeline = _fresh(rec)
    prof = cProfile.Profile()
    prof.enable()
    replay_packets(rec, batch_s, pipeline)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats("tottime")
    stats.print_stats(top)
    rows = []
    entries = stats.stats  # type: ignore[attr-defined]
    for func in stats.fcn_list[:top]:  # type: ignore[attr-defined]
        _cc, ncalls, tottime, cumtime, _callers = entries[func]
        filename, line, name = func
        rows.append(
            {
                "function": f"{_short(filename)}:{line}({name})",
                "ncalls": ncalls,
                "tottime_s": tottime,
                "cumtime_s": cumtime,
            }
        )
    return buf.getvalue(), rows


def _short(filename: str) -> str:
    for marker in ("/liftguard/", "/site-packages/", "/lib/python"):
        if marker in filename:
            return filename[filename.index(marker) + 1 :]
    return filename


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch-s", type=float, default=FAST_WINDOW_S)
    ap.add_argument("--families", default=",".join(FAMILIES))
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        # One core: this process and any thread it starts run on a single CPU.
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    t_start = time.perf_counter()
    load_before = os.getloadavg()[0]
    results = []
    profile_text = ""
    profiles: dict[str, list[dict[str, Any]]] = {}
    for k, family in enumerate(args.families.split(",")):
        t0 = time.perf_counter()
        rec = record(family)
        record_s = time.perf_counter() - t0
        # Capture the decoded blocks and check that both paths give the same events.
        ev_packets: list[Event] = []
        replay_packets(
            rec,
            args.batch_s,
            _fresh(rec, ev_packets),
            on_block=rec.add_block,
        )
        ev_blocks: list[Event] = []
        replay_blocks(rec, _fresh(rec, ev_blocks))
        same = _key(ev_packets) == _key(ev_blocks)
        packets_s = _timed(partial(replay_packets, rec, args.batch_s), rec, args.runs)
        blocks_s = _timed(partial(replay_blocks, rec), rec, args.runs)
        n = rec.samples
        session_s = rec.end * len(rec.hosts) / 2  # athlete-seconds (two sensors each)
        result = {
            "family": family,
            "athletes": ATHLETES,
            "sensors": len(rec.hosts),
            "session_s": rec.end,
            "samples": n,
            "notifications": rec.notifications,
            "batches_of_s": args.batch_s,
            "feed_packets_s": packets_s,
            "feed_samples_s": blocks_s,
            # Headline: per CPU-second (robust to other processes sharing the core); wall too.
            "feed_packets_samples_per_s": n / statistics.median(packets_s["cpu"]),
            "feed_samples_samples_per_s": n / statistics.median(blocks_s["cpu"]),
            "feed_packets_samples_per_wall_s": n / statistics.median(packets_s["wall"]),
            "feed_samples_samples_per_wall_s": n / statistics.median(blocks_s["wall"]),
            "feed_packets_x_real_time_per_athlete": session_s / statistics.median(packets_s["cpu"]),
            "same_events": same,
            "events": {
                kind: sum(e.type == kind for e in ev_packets) for kind in ("rep", "alert", "set")
            },
            "degraded_alerts": sum(
                isinstance(e, AlertEvent) and e.severity == "degraded" for e in ev_packets
            ),
            "record_s": record_s,
        }
        results.append(result)
        text, profiles[family] = profile(rec, args.batch_s)
        if k == 0:
            profile_text = text
    rows: list[tuple[str, str]] = []
    for r in results:
        rate_p, rate_s = r["feed_packets_samples_per_s"], r["feed_samples_samples_per_s"]
        rows += [
            (
                f"{r['family']}",
                f"{r['sensors']} sensors, {r['samples']:,} samples, {r['notifications']:,} "
                f"notifications, {r['session_s'] / 60:.1f} min session",
            ),
            (
                "  feed_packets (decode included)",
                f"{rate_p / 1e6:.2f} M samples/CPU-s (wall: "
                f"{r['feed_packets_samples_per_wall_s'] / 1e6:.2f} M/s; "
                f"{r['feed_packets_x_real_time_per_athlete']:.0f}× real time per athlete)"
                "   goal ≥ 1 M: "
                f"{'meets goal' if rate_p >= GOAL_SAMPLES_PER_S else 'MISSES goal'}",
            ),
            (
                "  feed_samples (decode excluded)",
                f"{rate_s / 1e6:.2f} M samples/CPU-s (wall: "
                f"{r['feed_samples_samples_per_wall_s'] / 1e6:.2f} M/s)   goal ≥ 1 M: "
                f"{'meets goal' if rate_s >= GOAL_SAMPLES_PER_S else 'MISSES goal'}",
            ),
            ("  same events both ways", str(r["same_events"])),
        ]
    wall = time.perf_counter() - t_start
    load = [load_before, os.getloadavg()[0]]
    rows.append(
        (
            "benchmark wall time",
            f"{wall:.0f} s (median of {args.runs} runs, one CPU); machine load average "
            f"{load[0]:.1f} before, {load[1]:.1f} after",
        )
    )
    table(rows, "benchmarks/pipeline.py")
    print(f"\ncProfile, feed_packets pass, {results[0]['family']} (top 15 by tottime):")
    print(profile_text)
    write(
        "pipeline",
        {
            "goal_samples_per_s": GOAL_SAMPLES_PER_S,
            "runs": args.runs,
            "results": results,
            "profile_top15_by_tottime": profiles,
            "wall_s": wall,
            "loadavg_1min_before_after": load,
        },
    )


if __name__ == "__main__":
    main()
