"""BLE path throughput: 16 emulated MetaMotions at 100 Hz, connected and streaming.

Two paths, the same driver and pipeline code:
* ``simulated`` — the simulated bleak backend (in-process, paced to real time);
* ``bluez`` — bleak's real Linux (BlueZ) backend against the bluetoothd double, which runs
  as its own process on a private dbus-daemon.

Per path: sustained notifications/s, lost samples (from the clock sync's gap accounting),
CPU time of the LiftGuard process per sensor, and processing latency from a notification's
arrival to (a) its decoded, time-stamped block and (b) the whole pipeline having run on it.

    python benchmarks/ble_throughput.py [--seconds 20] [--athletes 8] [--paths simulated,bluez]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import table, write
from liftguard.cast import build_cast
from liftguard.pipeline import Pipeline
from liftguard.sensors.clock import MonotonicClock
from liftguard.sensors.connect import connect_sensor
from liftguard.sensors.discovery import find_devices
from liftguard.sensors.simulated import SimulatedWorld


class Probe:
    """Times each notification through the per-sensor decode and the whole pipeline."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.decode_us: list[float] = []
        self.total_us: list[float] = []
        self.count: dict[str, int] = {}
        self.recording = False

    def on_data(self, address: str, host_time: float, data: bytearray) -> None:
        t0 = time.perf_counter()
        if not self.recording:
            self.pipeline.feed_packet(address, host_time, data)
            return
        ch = self.pipeline._channels[address.upper()]
        raw = ch.assembler.feed(host_time, data)
        t1 = time.perf_counter()
        if raw is not None and len(raw):
            block = ch.stamp(raw)
            t1 = time.perf_counter()
            self.pipeline.feed_samples(address, block)
        t2 = time.perf_counter()
        self.decode_us.append((t1 - t0) * 1e6)
        self.total_us.append((t2 - t0) * 1e6)
        self.count[address] = self.count.get(address, 0) + 1


async def measure(path: str, athletes: int, seconds: float) -> dict[str, Any]:
    cast = build_cast(athletes, 7, seconds + 60.0)
    pipeline = Pipeline(cast.config)
    probe = Probe(pipeline)
    sensors = [s for _, s in cast.config.sensors()]
    proc: subprocess.Popen[str] | None = None
    bus = None
    world: SimulatedWorld | None = None
    if path == "simulated":
        world = SimulatedWorld(cast.emulators, speed=1.0, seed=7)
        await world.start()
        clock: Any = world
        scanner, client = world.scanner_backend, world.client_backend
    else:
        from liftguard.sensors.bluez_double import start_private_bus

        bus = start_private_bus()
        os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = bus.address
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "liftguard.sensors.bluez_double",
                "--bus-address",
                bus.address,
                "--demo-athletes",
                str(athletes),
                "--seed",
                "7",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        clock = MonotonicClock()
        scanner = client = None
    try:
        devices = await find_devices([s.address for s in sensors], backend=scanner, timeout=20)
        conns = []
        for s in sensors:
            conn, chip = await connect_sensor(
                devices[s.address.upper()], s, clock=clock, on_data=probe.on_data, backend=client
            )
            pipeline.sensor_connected(s.address, clock.now(), chip=chip)
            conns.append(conn)
        await asyncio.sleep(2.0)  # settle
        lost_before = sum(ch.clock.lost_samples for ch in pipeline._channels.values())
        probe.recording = True
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        cpu1, wall1 = time.process_time(), time.perf_counter()
        probe.recording = False
        lost = sum(ch.clock.lost_samples for ch in pipeline._channels.values()) - lost_before
        for conn in conns:
            await conn.close()
    finally:
        if world is not None:
            await world.stop()
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        if bus is not None:
            bus.stop()
    wall = wall1 - wall0
    notifications = sum(probe.count.values())
    dec = np.array(probe.decode_us)
    tot = np.array(probe.total_us)
    return {
        "path": path,
        "sensors": len(sensors),
        "seconds": wall,
        "notifications_per_s": notifications / wall,
        "expected_notifications_per_s": len(sensors) * 2 * 100 / 3,
        "lost_samples": int(lost),
        "cpu_percent_of_one_core": 100 * (cpu1 - cpu0) / wall,
        "cpu_percent_per_sensor": 100 * (cpu1 - cpu0) / wall / len(sensors),
        "decode_latency_us_p50": float(np.percentile(dec, 50)),
        "decode_latency_us_p99": float(np.percentile(dec, 99)),
        "pipeline_latency_us_p50": float(np.percentile(tot, 50)),
        "pipeline_latency_us_p99": float(np.percentile(tot, 99)),
        "per_sensor_rate_min": min(probe.count.values()) / wall,
        "per_sensor_rate_median": statistics.median(probe.count.values()) / wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--athletes", type=int, default=8)
    ap.add_argument("--paths", default="simulated,bluez")
    args = ap.parse_args()
    results = [asyncio.run(measure(p, args.athletes, args.seconds)) for p in args.paths.split(",")]
    for r in results:
        table(
            [
                ("sensors", f"{r['sensors']} MetaMotions at 100 Hz, packed acc + gyro"),
                (
                    "notifications/s",
                    f"{r['notifications_per_s']:.0f} "
                    f"(expected {r['expected_notifications_per_s']:.0f})",
                ),
                ("lost samples", str(r["lost_samples"])),
                ("CPU, whole process", f"{r['cpu_percent_of_one_core']:.1f} % of one core"),
                ("CPU per sensor", f"{r['cpu_percent_per_sensor']:.2f} % of one core"),
                (
                    "notification -> decoded block",
                    f"p50 {r['decode_latency_us_p50']:.0f} µs, "
                    f"p99 {r['decode_latency_us_p99']:.0f} µs",
                ),
                (
                    "notification -> pipeline done",
                    f"p50 {r['pipeline_latency_us_p50']:.0f} µs, "
                    f"p99 {r['pipeline_latency_us_p99']:.0f} µs",
                ),
            ],
            f"benchmarks/ble_throughput.py — {r['path']}",
        )
    write("ble_throughput", {"results": results})


if __name__ == "__main__":
    main()
