"""Replay throughput: a 10-minute, 2-athlete (4 sensors at 100 Hz) session, end to end.

End to end = read the MCAP file + decode every notification + the whole pipeline (clock sync,
VQF, calibration, angles, reps, alarms), as ``liftguard replay --fast`` does. Reported as a
multiple of real time (median of several runs, on one core), plus file size per sensor-hour.

    python benchmarks/replay.py [--minutes 10] [--runs 5] [--window-s S]

``--window-s`` overrides the replay's fast window (session seconds fed per step; default: what
:func:`~liftguard.recording.replay` picks when running fast).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import table, write
from liftguard.demo import DemoOptions, run_demo_sync
from liftguard.events import Event
from liftguard.recording import read_recording, replay


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--window-s", type=float, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.mcap"
        t0 = time.perf_counter()
        live: list[Event] = []
        run_demo_sync(
            DemoOptions(athletes=2, duration=args.minutes * 60, speed=math.inf, seed=11),
            live.append,
            record=path,
        )
        record_s = time.perf_counter() - t0
        size = path.stat().st_size
        read_s, total_s = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            rec = read_recording(path)
            t1 = time.perf_counter()
            events: list[Event] = []
            replay(rec, events.append, window_s=args.window_s)
            t2 = time.perf_counter()
            read_s.append(t1 - t0)
            total_s.append(t2 - t0)
        session_s = rec.end_time
        sensors = len(list(rec.config.sensors()))
        same = [e.to_json() for e in events if e.type in ("rep", "alert")] == [
            e.to_json() for e in live if e.type in ("rep", "alert")
        ]
    med = statistics.median(total_s)
    result = {
        "session_s": session_s,
        "sensors": sensors,
        "rate_hz": 100,
        "runs": args.runs,
        "window_s": args.window_s,
        "replay_s_median": med,
        "replay_s_all": total_s,
        "read_s_median": statistics.median(read_s),
        "x_real_time_median": session_s / med,
        "file_bytes": size,
        "mb_per_sensor_hour": size / 1e6 / sensors / (session_s / 3600),
        "recording_s": record_s,
        "reps_alerts_equal_live": same,
        "reps": sum(e.type == "rep" for e in live),
        "alerts": sum(e.type == "alert" for e in live),
    }
    table(
        [
            ("session", f"{session_s / 60:.1f} min, {sensors} sensors at 100 Hz"),
            ("replay end to end (median)", f"{med:.2f} s  ({session_s / med:.0f}x real time)"),
            ("  of which reading the file", f"{statistics.median(read_s):.2f} s"),
            ("file size", f"{size / 1e6:.2f} MB = {result['mb_per_sensor_hour']:.2f} MB/sensor-h"),
            ("reps / alerts equal to live", str(same)),
        ],
        "benchmarks/replay.py",
    )
    write("replay", result)


if __name__ == "__main__":
    main()
