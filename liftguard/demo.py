"""`liftguard demo`: simulated athletes on emulated sensors, through bleak, live.

Everything but the sensors is real: the emulators speak each family's wire protocol behind the
simulated bleak backend, the drivers talk to them through bleak's public API, and the pipeline
is the one a live session runs. Only the clock is simulated (and may run faster than real time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from liftguard.cast import FAMILY_RATE_HZ, Cast, build_cast, connect_budget
from liftguard.errors import ConfigError
from liftguard.events import Event, SummaryEvent
from liftguard.inputs import Input
from liftguard.recording.recorder import Recorder
from liftguard.sensors.connect import Connection, connect_sensor
from liftguard.sensors.discovery import find_devices
from liftguard.sensors.simulated import SimulatedWorld
from liftguard.session import Session
from liftguard.sim import FaultSpec, Program, SimulatedAthlete

__all__ = ["MAX_ATHLETES", "DemoOptions", "run_demo", "run_demo_sync"]

MAX_ATHLETES = 16
#: A script offset far in the future: the athletes stand in their starting pose meanwhile.
HOLD_S = 1e6


@dataclass(frozen=True)
class DemoOptions:
    """``athletes`` 1–16; ``duration`` session seconds (≥ 30); ``speed`` simulated seconds per
    real second (``math.inf`` = as fast as possible); ``seed`` picks the athletes and their
    reps; ``families`` the sensor families, athlete ``i`` wearing ``families[i % len]``."""

    athletes: int = 2
    duration: float | None = 120.0
    speed: float = 1.0
    seed: int = 0
    families: Sequence[str] = ("metawear",)
    #: the athletes' program (``None``: deadlift sets); with ``duration`` ``None``, all of it
    program: Program | None = None
    #: athlete names (default anna, beth, …)
    names: Sequence[str] | None = None
    #: record the simulator's per-sample truth at this rate (Hz) — for datasets
    truth_hz: float | None = None
    #: the session's name in the recording
    session_name: str = "demo"
    #: technique faults for the program's athletes (merged over the simulator's defaults)
    faults: Mapping[str, FaultSpec] | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.athletes <= MAX_ATHLETES:
            raise ConfigError(
                f"--athletes must be between 1 and {MAX_ATHLETES}, got {self.athletes}"
            )
        if self.duration is None and self.program is None:
            raise ConfigError("a session without a duration needs a program")
        if self.duration is not None and not self.duration >= 30:
            raise ConfigError(
                f"--duration must be at least 30 s (calibration alone takes ~12 s, one set of "
                f"five ~30 s more), got {self.duration:g}"
            )
        if not self.speed > 0:
            raise ConfigError(f"--speed must be a positive factor, got {self.speed:g}")
        if self.seed < 0:
            raise ConfigError(f"--seed must not be negative, got {self.seed}")
        for family in self.families:
            if family not in FAMILY_RATE_HZ:
                raise ConfigError(
                    f"--family {family!r} is not simulated (use {', '.join(FAMILY_RATE_HZ)})"
                )


async def run_demo(
    opts: DemoOptions, on_event: Callable[[Event], None], *, record: Path | None = None
) -> list[SummaryEvent]:
    """Run the demo session; every event goes to ``on_event`` as it happens.

    Args:
        opts: athletes, duration, speed, seed, families.
        on_event: receives every event.
        record: the MCAP file to record to (``None``: not recorded). Checked before anything
            starts: an unwritable location raises ConfigError.

    Returns the per-athlete summaries (also sent to ``on_event``), with the simulator's truth.
    """
    # Connecting takes session time (serialised, ~0.3-0.7 s a sensor); the athletes'
    # programme starts once everyone streams and must still end within --duration.
    budget = connect_budget(opts.athletes, opts.families)
    cast = build_cast(
        opts.athletes,
        opts.seed,
        None if opts.duration is None else opts.duration - budget,
        families=opts.families,
        program=opts.program,
        names=opts.names,
        name=opts.session_name,
        faults=opts.faults,
    )
    duration = (
        opts.duration
        if opts.duration is not None
        else max(sim.duration for sim in cast.sims) + budget
    )
    recorder = (
        None
        if record is None
        else Recorder(
            record,
            cast.config,
            meta={
                "simulated": True,
                "seed": opts.seed,
                "speed": opts.speed,
                # a dataset file depends on its seed alone, never on when it was made
                **({"created_utc": "reproducible"} if opts.truth_hz else {}),
            },
        )
    )
    session = Session(cast.config, sinks=[on_event], recorder=recorder)
    world = SimulatedWorld(cast.emulators, speed=opts.speed, seed=opts.seed)
    try:
        await world.start()
        try:
            t_end, truth = await _run(opts, duration, cast, world, session)
        finally:
            await world.stop()
        summaries = []
        for sim in cast.sims:
            summary = SummaryEvent(
                t=t_end,
                athlete=sim.name,
                reps=session.pipeline.rep_counts[sim.name],
                alerts=session.pipeline.alert_counts[sim.name],
                truth={k: v for k, v in truth[sim.name].items() if k != "reps_detail"},
            )
            summaries.append(summary)
            session.emit(summary)
        return summaries
    finally:
        session.close()


async def _run(
    opts: DemoOptions, duration: float, cast: Cast, world: SimulatedWorld, session: Session
) -> tuple[float, dict[str, dict[str, Any]]]:
    def link_lost(address: str) -> None:
        session.lost(address, world.now())

    sensors = [s for _, s in cast.config.sensors()]
    # Everyone stands still until every sensor streams: connecting 32 sensors takes ~8 s, and
    # an athlete already into the calibration bend by then would fail the still stand.
    cast.start_script(HOLD_S)
    devices = await find_devices([s.address for s in sensors], backend=world.scanner_backend)
    connections: list[Connection] = []
    # One connection at a time: BlueZ refuses parallel connects (InProgress).
    for sensor in sensors:
        conn, chip = await connect_sensor(
            devices[sensor.address.upper()],
            sensor,
            clock=world,
            on_data=session.packet,
            on_link_lost=link_lost,
            backend=world.client_backend,
        )
        connections.append(conn)
        session.connected(sensor.address, world.now(), chip=chip)
    offset = world.now() + 0.5
    cast.start_script(offset)
    truth = {sim.name: _truth(sim, offset, duration) for sim in cast.sims}
    if session.recorder is not None:
        for name, payload in truth.items():
            session.recorder.truth(name, payload, world.now())
    # The clock ticks four times a second, data or not: a silent sensor is noticed within
    # 0.25 + 0.25 s, and the recording never lags the session.
    ticks = [round(offset + 0.25 * k, 6) for k in range(1, int((duration - offset) * 4))]
    timeline: list[tuple[float, int, Input | None]] = [(t, 1, None) for t in ticks]
    timeline += [(inp.t, 0, inp) for inp in cast.inputs(offset)]
    timeline.sort(key=lambda item: (item[0], item[1]))
    for t, _, inp in timeline:
        await world.run_until(t)
        if inp is not None:
            session.input(inp)
        else:
            session.tick(world.now())
    await world.run_until(duration)
    t_end = world.now()
    for conn in connections:
        await conn.close()
    if session.recorder is not None and opts.truth_hz:
        for sim in cast.sims:
            _record_truth_samples(session.recorder, sim, offset, t_end, opts.truth_hz)
    return t_end, truth


def _record_truth_samples(
    recorder: Recorder, sim: SimulatedAthlete, offset: float, t_end: float, rate_hz: float
) -> None:
    """The simulator's per-sample truth on a regular grid, a minute per message."""
    grid = offset + np.arange(int((t_end - offset) * rate_hz)) / rate_hz
    per_message = int(60 * rate_hz)
    for i in range(0, grid.size, per_message):
        t = grid[i : i + per_message]
        samples = sim.truth_samples(t - offset)
        samples["t"] = t
        recorder.truth_samples(sim.name, samples)


def _truth(sim: SimulatedAthlete, offset: float, duration: float) -> dict[str, Any]:
    reps = [r for r in sim.reps if r.t_end + offset <= duration]
    by_exercise: dict[str, int] = {}
    for r in reps:
        by_exercise[r.exercise] = by_exercise.get(r.exercise, 0) + 1
    return {
        "reps_by_exercise": by_exercise,
        "reps": len(reps),
        "unsafe_reps": sum(r.unsafe for r in reps),
        "unsafe": [[r.set, r.rep] for r in reps if r.unsafe],
        "reps_detail": [
            {
                "set": r.set,
                "rep": r.rep,
                "t_start": r.t_start + offset,
                "t_end": r.t_end + offset,
                "exercise": r.exercise,
                "peak_flexion_deg": r.peak_flexion_deg,
                "unsafe": r.unsafe,
            }
            for r in reps
        ],
        "unsafe_threshold_deg": sim.unsafe_threshold_deg,
    }


def run_demo_sync(
    opts: DemoOptions, on_event: Callable[[Event], None], *, record: Path | None = None
) -> list[SummaryEvent]:
    """:func:`run_demo` in a fresh event loop."""
    return asyncio.run(run_demo(opts, on_event, record=record))
