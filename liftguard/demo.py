"""`liftguard demo`: simulated athletes on emulated MetaMotions, through bleak, live.

Everything but the sensors is real: the emulators speak the MetaMotion wire protocol behind the
simulated bleak backend, the driver talks to them through bleak's public API, and the pipeline
is the one a live session runs. Only the clock is simulated (and may run faster than real time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from liftguard._types import FloatArray
from liftguard.config import AthleteConfig, SensorConfig, SessionConfig
from liftguard.errors import ConfigError
from liftguard.events import Event, SummaryEvent
from liftguard.firmware_bridge.emulation import MotionSource
from liftguard.firmware_bridge.metawear import MetaMotionEmulator
from liftguard.inputs import Calibrate, Input, StartSet
from liftguard.recording.recorder import Recorder
from liftguard.sensors.discovery import find_devices
from liftguard.sensors.metamotion import MetaMotionConnection, connect_metamotion
from liftguard.sensors.simulated import SimulatedWorld
from liftguard.session import Session
from liftguard.sim import SimulatedAthlete, build_deadlift_athlete

__all__ = ["DemoOptions", "run_demo"]

NAMES = ("anna", "beth", "carla", "dora", "eva", "fay", "gina", "hana")
MAX_ATHLETES = 16


@dataclass(frozen=True)
class DemoOptions:
    """``athletes`` 1–16; ``duration`` session seconds (≥ 30); ``speed`` simulated seconds per
    real second (``math.inf`` = as fast as possible); ``seed`` picks the athletes and their reps."""

    athletes: int = 2
    duration: float = 120.0
    speed: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.athletes <= MAX_ATHLETES:
            raise ConfigError(
                f"--athletes must be between 1 and {MAX_ATHLETES}, got {self.athletes}"
            )
        if not self.duration >= 30:
            raise ConfigError(
                f"--duration must be at least 30 s (calibration and one set), got {self.duration:g}"
            )
        if not self.speed > 0:
            raise ConfigError(f"--speed must be a positive factor, got {self.speed:g}")
        if self.seed < 0:
            raise ConfigError(f"--seed must not be negative, got {self.seed}")


def athlete_name(i: int) -> str:
    return NAMES[i] if i < len(NAMES) else f"athlete{i + 1}"


def _address(i: int, placement: str) -> str:
    return f"D1:5E:{i:02X}:00:00:{1 if placement == 'upper' else 2:02X}"


class _Delayed:
    """A motion source whose script starts ``offset`` seconds into the session.

    Connecting the sensors takes session time; the athletes wait, standing, until everyone is
    streaming, so no sensor misses the start of calibration.

    An emulator asks for its samples a connection event at a time (one or two samples), and
    the simulator's cost is per call, not per sample; so the next ``lookahead`` samples on the
    same grid are computed with each call and served from a cache when asked for.
    """

    def __init__(self, source: MotionSource, lookahead: int = 50) -> None:
        self.source = source
        self._offset = 0.0
        self._lookahead = lookahead
        self._period = 0.0
        self._last: float | None = None
        self._t = np.zeros(0)
        self._acc = np.zeros((0, 3))
        self._gyr = np.zeros((0, 3))

    @property
    def offset(self) -> float:
        return self._offset

    @offset.setter
    def offset(self, value: float) -> None:
        self._offset = value
        self._t = np.zeros(0)

    def imu(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        n = t.shape[0]
        cached = self._t
        if (
            0 < n <= cached.shape[0]
            and abs(cached[0] - t[0]) < 1e-9
            and abs(cached[n - 1] - t[-1]) < 1e-9
        ):
            acc, gyr = self._acc[:n], self._gyr[:n]
            self._last = float(t[-1])
            self._t, self._acc, self._gyr = self._t[n:], self._acc[n:], self._gyr[n:]
            return acc, gyr
        if n >= 2:
            self._period = float(t[-1] - t[0]) / (n - 1)
        elif n == 1 and self._last is not None:
            self._period = float(t[0]) - self._last
        if n == 0:
            return self.source.imu(t - self._offset)
        self._last = float(t[-1])
        if self._period <= 0:
            return self.source.imu(t - self._offset)
        ahead = t[-1] + self._period * np.arange(1, self._lookahead + 1)
        acc, gyr = self.source.imu(np.concatenate([t, ahead]) - self._offset)
        self._t, self._acc, self._gyr = ahead, acc[n:], gyr[n:]
        return acc[:n], gyr[:n]


def _script_inputs(sims: list[SimulatedAthlete], offset: float) -> list[Input]:
    inputs: list[Input] = []
    for sim in sims:
        for s in sim.inputs:
            if s.kind == "calibrate":
                inputs.append(Calibrate(t=s.t + offset, athletes=(sim.name,)))
            elif s.kind == "set":
                inputs.append(StartSet(s.t + offset, sim.name, s.exercise, s.set, s.target_reps))
    inputs.sort(key=lambda i: i.t)
    return inputs


async def run_demo(
    opts: DemoOptions, on_event: Callable[[Event], None], *, record: Path | None = None
) -> list[SummaryEvent]:
    """Run the demo session; every event goes to ``on_event`` as it happens.

    Args:
        opts: athletes, duration, speed, seed.
        on_event: receives every event.
        record: the MCAP file to record to (``None``: not recorded). Checked before anything
            starts: an unwritable location raises ConfigError.

    Returns the per-athlete summaries (also sent to ``on_event``), with the simulator's truth.
    """
    # Connecting takes session time (serialised, ~0.3 s a sensor); the athletes' programme
    # starts once everyone streams and must still end within --duration.
    connect_budget = 1.0 + 0.3 * 2 * opts.athletes
    sims = [
        build_deadlift_athlete(
            athlete_name(i), seed=opts.seed * 1000 + i, duration=opts.duration - connect_budget
        )
        for i in range(opts.athletes)
    ]
    emulators = []
    motions = []
    athletes = []
    for i, sim in enumerate(sims):
        sensors = []
        for placement in ("upper", "sacrum"):
            address = _address(i, placement)
            motions.append(_Delayed(sim.sensors[placement]))
            # Both MetaMotion generations: BMI270 boards (MetaMotion S) and BMI160 ones.
            chip: Literal["bmi160", "bmi270"] = "bmi270" if i % 2 == 0 else "bmi160"
            emulators.append(
                MetaMotionEmulator(motions[-1], address=address, name="MetaWear", chip=chip)
            )
            sensors.append(SensorConfig(placement=placement, address=address))
        athletes.append(AthleteConfig(name=sim.name, sensors=tuple(sensors)))
    config = SessionConfig(name="demo", athletes=tuple(athletes))
    recorder = (
        None
        if record is None
        else Recorder(
            record, config, meta={"simulated": True, "seed": opts.seed, "speed": opts.speed}
        )
    )
    session = Session(config, sinks=[on_event], recorder=recorder)
    world = SimulatedWorld(emulators, speed=opts.speed, seed=opts.seed)
    try:
        await world.start()
        try:
            t_end, truth = await _run(opts, sims, config, world, session, motions, recorder)
        finally:
            await world.stop()
        summaries = []
        for sim in sims:
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
    opts: DemoOptions,
    sims: list[SimulatedAthlete],
    config: SessionConfig,
    world: SimulatedWorld,
    session: Session,
    motions: list[_Delayed],
    recorder: Recorder | None,
) -> tuple[float, dict[str, dict[str, Any]]]:
    def link_lost(address: str) -> None:
        session.lost(address, world.now())

    devices = await find_devices(
        [s.address for _, s in config.sensors()], backend=world.scanner_backend
    )
    connections: list[MetaMotionConnection] = []
    # One connection at a time: BlueZ refuses parallel connects (InProgress).
    for _athlete, sensor in config.sensors():
        conn = await connect_metamotion(
            devices[sensor.address.upper()],
            sensor,
            clock=world,
            on_data=session.packet,
            on_link_lost=link_lost,
            backend=world.client_backend,
        )
        connections.append(conn)
        session.connected(sensor.address, world.now(), chip=conn.chip)
    offset = world.now() + 0.5
    for motion in motions:
        motion.offset = offset
    truth = {sim.name: _truth(sim, offset, opts.duration) for sim in sims}
    if recorder is not None:
        for name, payload in truth.items():
            recorder.truth(name, payload, world.now())
    for inp in _script_inputs(sims, offset):
        await world.run_until(inp.t)
        session.input(inp)
    # Tick the recorder through quiet stretches so the file never lags the session.
    while world.now() < opts.duration:
        await world.run_until(min(opts.duration, world.now() + 0.5))
        session.tick(world.now())
    t_end = world.now()
    for conn in connections:
        await conn.close()
    return t_end, truth


def _truth(sim: SimulatedAthlete, offset: float, duration: float) -> dict[str, Any]:
    reps = [r for r in sim.reps if r.t_end + offset <= duration]
    return {
        "reps": len(reps),
        "unsafe_reps": sum(r.unsafe for r in reps),
        "unsafe": [[r.set, r.rep] for r in reps if r.unsafe],
        "reps_detail": [
            {
                "set": r.set,
                "rep": r.rep,
                "t_start": r.t_start + offset,
                "t_end": r.t_end + offset,
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
