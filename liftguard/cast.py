"""The demo's cast: simulated athletes wearing emulated sensors of any supported family.

``liftguard demo``, the BlueZ double and the benchmarks all need the same thing: athletes
with known truth, each with an ``upper`` and a ``sacrum`` sensor whose byte-exact emulator is
fed by the athlete's motion, and the roster that names them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from liftguard._types import FloatArray
from liftguard.config import AthleteConfig, SensorConfig, SessionConfig, Thresholds
from liftguard.errors import ConfigError
from liftguard.firmware_bridge.dot import DotEmulator
from liftguard.firmware_bridge.emulation import EmulatedDevice, MotionSource
from liftguard.firmware_bridge.metawear import MetaMotionEmulator
from liftguard.firmware_bridge.witmotion import WitMotionEmulator
from liftguard.inputs import Input
from liftguard.sim import (
    FaultSpec,
    Program,
    SimulatedAthlete,
    build_deadlift_athlete,
    build_session_athlete,
)

__all__ = ["FAMILY_RATE_HZ", "NAMES", "Cast", "ScriptedMotion", "athlete_name", "build_cast"]

NAMES = ("anna", "beth", "carla", "dora", "eva", "fay", "gina", "hana")
#: The rate each family streams at in the cast (MetaMotion's usual 100 Hz; WitMotion's
#: 100 Hz setting).
FAMILY_RATE_HZ = {"metawear": 100.0, "witmotion": 100.0, "dot": 60.0}
#: Session seconds one (serialised) connection takes in the simulated world, with margin:
#: WitMotion's driver paces its unlock/rate/read-back commands 100 ms apart.
FAMILY_CONNECT_S = {"metawear": 0.3, "witmotion": 0.8, "dot": 0.8}


def connect_budget(athletes: int, families: Sequence[str]) -> float:
    """Session seconds to allow for connecting every sensor of the cast before lifting."""
    return 1.0 + sum(2 * FAMILY_CONNECT_S[families[i % len(families)]] for i in range(athletes))


def athlete_name(i: int) -> str:
    """The i-th cast member's name (0-based)."""
    return NAMES[i] if i < len(NAMES) else f"athlete{i + 1}"


def sensor_address(i: int, placement: str) -> str:
    """The i-th athlete's sensor address (upper ends in 01, sacrum in 02)."""
    return f"D1:5E:{i:02X}:00:00:{1 if placement == 'upper' else 2:02X}"


class ScriptedMotion:
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


@dataclass
class Cast:
    """Simulated athletes, their sensors' emulators and the roster naming them."""

    sims: list[SimulatedAthlete]
    motions: list[ScriptedMotion]
    emulators: list[EmulatedDevice]
    config: SessionConfig

    def start_script(self, offset: float) -> None:
        """The athletes' programmes start ``offset`` session seconds in (standing until then)."""
        for motion in self.motions:
            motion.offset = offset

    def inputs(self, offset: float) -> list[Input]:
        """The supervisor's inputs of every athlete's script, shifted by ``offset``, in order."""
        inputs = [i for sim in self.sims for i in sim.pipeline_inputs(offset=offset)]
        inputs.sort(key=lambda i: i.t)
        return inputs


def build_cast(
    athletes: int,
    seed: int,
    duration: float | None,
    *,
    families: Sequence[str] = ("metawear",),
    name: str = "demo",
    program: Program | None = None,
    names: Sequence[str] | None = None,
    faults: Mapping[str, FaultSpec] | None = None,
) -> Cast:
    """Athlete ``i`` wears sensors of ``families[i % len(families)]``.

    Without a ``program`` each athlete does deadlift sets (the demo's default); with one, the
    whole program (``duration`` ``None``: all of it). MetaMotions alternate between BMI270
    (MetaMotion S) and BMI160 boards by athlete, so both register maps are exercised.
    """
    who = list(names) if names is not None else [athlete_name(i) for i in range(athletes)]
    if len(who) != athletes:
        raise ConfigError(f"{athletes} athletes but {len(who)} names")
    sims = [
        build_deadlift_athlete(who[i], seed=seed * 1000 + i, duration=duration or 600.0)
        if program is None
        else build_session_athlete(
            who[i],
            seed * 1000 + i,
            program=program,
            duration=duration,
            families={p: families[i % len(families)] for p in ("upper", "sacrum")},
            faults=faults,
        )
        for i in range(athletes)
    ]
    motions: list[ScriptedMotion] = []
    emulators: list[EmulatedDevice] = []
    roster = []
    for i, sim in enumerate(sims):
        family = families[i % len(families)]
        if family not in FAMILY_RATE_HZ:
            raise ConfigError(
                f"family {family!r} cannot be simulated (use {', '.join(FAMILY_RATE_HZ)})"
            )
        sensors = []
        for placement in ("upper", "sacrum"):
            address = sensor_address(i, placement)
            motion = ScriptedMotion(sim.sensors[placement])
            motions.append(motion)
            emulators.append(_emulator(family, motion, address, i))
            sensors.append(
                SensorConfig(
                    placement=placement,
                    address=address,
                    family=family,
                    rate_hz=FAMILY_RATE_HZ[family],
                )
            )
        # The demo's truth calls a rep unsafe above 30°, so its roster alarms in degrees.
        roster.append(
            AthleteConfig(
                name=sim.name,
                sensors=tuple(sensors),
                thresholds=Thresholds(alarm_deg=sim.unsafe_threshold_deg),
            )
        )
    return Cast(sims, motions, emulators, SessionConfig(name=name, athletes=tuple(roster)))


def _emulator(family: str, motion: MotionSource, address: str, i: int) -> EmulatedDevice:
    if family == "witmotion":
        return WitMotionEmulator(motion, address=address, name="WT901BLE67")
    if family == "dot":
        return DotEmulator(motion, address=address, seed=i)
    chip: Literal["bmi160", "bmi270"] = "bmi270" if i % 2 == 0 else "bmi160"
    return MetaMotionEmulator(motion, address=address, name="MetaWear", chip=chip)
