"""A fast, offline session driver: emulators straight into the pipeline, no asyncio, no bleak.

The simulated bleak world (``liftguard demo``) runs every connection event through the event
loop, which is what a live session does but is far too slow for validating an hour-long session
of many athletes. Here the same byte-exact emulators are driven directly:

* every sensor is connected and started with the command sequence its family's driver sends
  (MetaMotion: module discovery, then ``configure_commands`` + ``start_commands``; Movella DOT:
  stop, output rate, read back, start; WitMotion: unlock, rate, read back, and nothing forwarded
  before the read-back reply, as :mod:`liftguard.sensors.witmotion` does);
* time moves from one timeline instant to the next: the supervisor's inputs at their times and a
  clock tick every 0.25 s (as the demo ticks). At each instant every emulator is advanced to it;
  each data notification gets a host receive time = emission + a seeded BLE latency (uniform in
  ``latency_s``, FIFO per sensor), and every notification received by then is handed to
  :meth:`Pipeline.feed_packets` in one batch per sensor; then the input or tick is applied;
* the pipeline's output does not depend on how the stream is cut into batches, so this gives
  the events a live session with these receive times would give.

Each athlete's pipeline is independent of the others', so benchmarks may run one athlete per
:class:`OfflineSession` (and per process).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from liftguard.cast import FAMILY_RATE_HZ, ScriptedMotion
from liftguard.config import AthleteConfig, SensorConfig, SessionConfig, Thresholds
from liftguard.events import Event
from liftguard.firmware_bridge import dot, metawear, witmotion
from liftguard.firmware_bridge.emulation import EmulatedDevice, Notification
from liftguard.inputs import Input
from liftguard.pipeline import Pipeline
from liftguard.signal.athlete import AngleSamples
from liftguard.sim import SimulatedAthlete

__all__ = ["FAMILIES", "AlertArrivals", "OfflineSession", "Wearer"]

#: The families the benchmarks cycle through, athlete ``i`` wearing ``FAMILIES[i % 3]``.
FAMILIES = ("metawear", "dot", "witmotion")
#: Samples the motion wrapper computes ahead per simulator call (the simulator's cost is per
#: call, not per sample): a minute at 200 Hz.
_LOOKAHEAD = 12_000


def _address(i: int, placement: str) -> str:
    return f"D1:5E:{i // 256:02X}:{i % 256:02X}:00:{1 if placement == 'upper' else 2:02X}"


@dataclass
class _Sensor:
    """One emulated sensor and its radio queue towards the host."""

    address: str
    placement: str
    family: str
    device: EmulatedDevice
    data_char: str
    rng: np.random.Generator
    chip: str | None = None
    last_host: float = -math.inf
    hosts: list[float] = field(default_factory=list)
    packets: list[bytes] = field(default_factory=list)
    notifications: int = 0


@dataclass
class Wearer:
    """A simulated athlete, the family of the two sensors they wear, their index, and their
    flexion thresholds in the roster (``None``: the roster's defaults)."""

    sim: SimulatedAthlete
    family: str
    index: int
    thresholds: Thresholds | None = None


class AlertArrivals:
    """When each sample reached the host, to say when an alert could first be shown.

    The athlete stage processes an ``upper`` sample once a ``sacrum`` sample at or after it has
    arrived too, so an alert at sample time ``t`` exists on the host at
    ``max(arrival of upper sample t, arrival of the first sacrum sample ≥ t)``.

    It listens to each channel's time stamping (a private hook of :class:`Pipeline`; only the
    benchmarks do this), and stays empty if the pipeline's internals change.
    """

    def __init__(self) -> None:
        self._t: dict[str, list[np.ndarray]] = {}
        self._host: dict[str, list[np.ndarray]] = {}
        self.placement: dict[str, tuple[str, str]] = {}  # address -> (athlete, placement)

    def attach(self, pipeline: Pipeline) -> bool:
        channels = getattr(pipeline, "_channels", None)
        if not isinstance(channels, dict):
            return False
        for address, ch in channels.items():
            stamp = getattr(ch, "stamp", None)
            if stamp is None:
                return False
            self.placement[address] = (ch.athlete, ch.sensor.placement)
            self._t[address], self._host[address] = [], []
            ch.stamp = self._wrap(address, stamp)
        return True

    def _wrap(self, address: str, stamp: Callable[..., object]) -> Callable[..., object]:
        def stamped(raw):  # type: ignore[no-untyped-def]
            block = stamp(raw)
            hosts, counts = raw.arrivals()
            self._t[address].append(np.asarray(block.t))  # type: ignore[attr-defined]
            self._host[address].append(np.repeat(hosts, counts))
            return block

        return stamped

    def _arrays(self, athlete: str, placement: str) -> tuple[np.ndarray, np.ndarray] | None:
        for address, (who, where) in self.placement.items():
            if who == athlete and where == placement and self._t[address]:
                return np.concatenate(self._t[address]), np.concatenate(self._host[address])
        return None

    def shown_at(self, athlete: str, t: Sequence[float]) -> np.ndarray | None:
        """Host times at which alerts at sample times ``t`` (session s) existed; None if unknown."""
        upper = self._arrays(athlete, "upper")
        sacrum = self._arrays(athlete, "sacrum")
        if upper is None or sacrum is None:
            return None
        tt = np.asarray(t, dtype=np.float64)
        iu = np.clip(np.searchsorted(upper[0], tt - 1e-9), 0, upper[0].size - 1)
        isx = np.clip(np.searchsorted(sacrum[0], tt - 1e-9), 0, sacrum[0].size - 1)
        return np.maximum(upper[1][iu], sacrum[1][isx])


class OfflineSession:
    """Simulated athletes on emulated sensors, driven through one :class:`Pipeline` offline.

    Args:
        wearers: the athletes and their sensor families.
        seed: seeds the BLE latencies (per sensor).
        latency_s: ``(low, high)`` BLE latency from emission to host receive time, s.
        tick_s: how often the session clock ticks (stale-sensor checks), s.
        on_event, on_angles: handed to the :class:`Pipeline`.
        arrivals: record per-sample host arrivals (see :class:`AlertArrivals`).

    Attributes:
        offset: session second at which the athletes' scripts start (sensors connect before).
        end: the session's last second.
    """

    def __init__(
        self,
        wearers: Sequence[Wearer],
        *,
        seed: int,
        latency_s: tuple[float, float] = (0.0075, 0.030),
        tick_s: float = 0.25,
        on_event: Callable[[Event], None] | None = None,
        on_angles: Callable[[str, AngleSamples], None] | None = None,
        arrivals: bool = False,
    ) -> None:
        self.wearers = list(wearers)
        self.latency_s = latency_s
        self.tick_s = tick_s
        self._sensors: list[_Sensor] = []
        roster = []
        for w in self.wearers:
            configs = []
            for placement in ("upper", "sacrum"):
                address = _address(w.index, placement)
                motion = ScriptedMotion(w.sim.sensors[placement], lookahead=_LOOKAHEAD)
                device, data_char = _emulator(w.family, motion, address, w.index)
                rng = np.random.default_rng([seed, w.index, 0 if placement == "upper" else 1])
                self._sensors.append(_Sensor(address, placement, w.family, device, data_char, rng))
                configs.append(
                    SensorConfig(
                        placement=placement,
                        address=address,
                        family=w.family,
                        rate_hz=FAMILY_RATE_HZ[w.family],
                    )
                )
            roster.append(
                AthleteConfig(name=w.sim.name, sensors=tuple(configs))
                if w.thresholds is None
                else AthleteConfig(name=w.sim.name, sensors=tuple(configs), thresholds=w.thresholds)
            )
        self.config = SessionConfig(name="offline", athletes=tuple(roster))
        self.pipeline = Pipeline(self.config, on_event=on_event, on_angles=on_angles)
        self.arrivals: AlertArrivals | None = None
        if arrivals:
            self.arrivals = AlertArrivals()
            if not self.arrivals.attach(self.pipeline):
                self.arrivals = None
        self._motions = [s.device.motion for s in self._sensors]  # type: ignore[attr-defined]
        # Sensors connect at 0.1 s (WitMotion's paced setup takes 0.2 s); the scripts start at
        # 1 s, everyone streaming, as the demo starts them once every sensor streams.
        self.offset = 1.0
        self.end = self.offset + max(w.sim.duration for w in self.wearers)
        self.now = 0.0

    @property
    def notifications(self) -> int:
        """Data notifications handed to the pipeline so far."""
        return sum(s.notifications for s in self._sensors)

    def inputs(self) -> list[Input]:
        """The supervisor's inputs of every script, on the session clock, in time order."""
        out = [i for w in self.wearers for i in w.sim.pipeline_inputs(offset=self.offset)]
        out.sort(key=lambda i: i.t)
        return out

    def run(self, until: float | None = None) -> None:
        """Connect every sensor, then run the session to ``until`` (default: its end)."""
        end = self.end if until is None else min(until, self.end)
        for motion in self._motions:
            motion.offset = self.offset
        for sensor in self._sensors:
            self._start(sensor, 0.1)
        n_ticks = math.floor((end - self.offset) / self.tick_s + 1e-9)
        timeline: list[tuple[float, int, Input | None]] = [
            (round(self.offset + self.tick_s * k, 9), 1, None) for k in range(1, n_ticks + 1)
        ]
        timeline += [(inp.t, 0, inp) for inp in self.inputs() if inp.t <= end]
        timeline.sort(key=lambda item: (item[0], item[1]))
        for t, _, inp in timeline:
            self._advance(t)
            if inp is not None:
                self.pipeline.input(inp)
            else:
                self.pipeline.tick(t)
        self._advance(end)

    # -- internals -----------------------------------------------------------------------

    def _start(self, s: _Sensor, t: float) -> None:
        """Connect and start ``s`` at session time ``t``, as its family's driver does."""
        dev = s.device
        dev.connect(t)
        if s.family == "metawear":
            replies = dev.write(
                metawear.COMMAND_CHAR,
                metawear.module_info_request(metawear.MODULE_ACCELEROMETER),
                t,
            )
            info = next(i for n in replies if (i := metawear.parse_module_info(n.data)) is not None)
            chip = metawear.chip_from_module_info(info[1])
            cfg = metawear.MetaWearConfig(chip=chip, odr_hz=FAMILY_RATE_HZ["metawear"])
            for cmd in metawear.configure_commands(cfg) + metawear.start_commands(cfg):
                dev.write(metawear.COMMAND_CHAR, cmd, t + 0.01)
            s.chip, ready = chip, t + 0.01
        elif s.family == "dot":
            cfg_dot = dot.DotConfig(rate_hz=FAMILY_RATE_HZ["dot"])
            dev.write(dot.CONTROL_CHAR, dot.stop_command(cfg_dot), t)
            dev.write(dot.DEVICE_CONTROL_CHAR, dot.output_rate_command(cfg_dot.rate_hz), t + 0.01)
            rate = dot.parse_output_rate(dev.read(dot.DEVICE_CONTROL_CHAR, t + 0.02))
            if rate != cfg_dot.rate_code:
                raise RuntimeError(f"{s.address}: DOT rate reads {rate}")
            dev.write(dot.CONTROL_CHAR, dot.start_command(cfg_dot), t + 0.03)
            ready = t + 0.03
        else:
            # Unlock, rate, read back (100 ms apart); frames before the reply are not forwarded.
            rate_cmd = witmotion.rate_command(FAMILY_RATE_HZ["witmotion"])
            dev.write(witmotion.WRITE_CHAR, witmotion.unlock_command(), t)
            dev.write(witmotion.WRITE_CHAR, rate_cmd, t + 0.1)
            ready = t + 0.2
            dev.advance(ready)
            replies = dev.write(witmotion.WRITE_CHAR, witmotion.read_register_command(0x03), ready)
            if not replies:
                raise RuntimeError(f"{s.address}: no RATE read-back reply")
        self.pipeline.sensor_connected(s.address, ready, chip=s.chip)

    def _advance(self, t: float) -> None:
        """Every emulator to session time ``t``; feed what has reached the host by then."""
        lo, hi = self.latency_s
        for s in self._sensors:
            notes: list[Notification] = [
                n for n in s.device.advance(t) if n.uuid.lower() == s.data_char
            ]
            if notes:
                emitted = np.fromiter((n.t for n in notes), np.float64, len(notes))
                host = emitted + s.rng.uniform(lo, hi, len(notes))
                host = np.maximum.accumulate(np.maximum(host, s.last_host))
                s.last_host = float(host[-1])
                s.hosts += host.tolist()
                s.packets += [n.data for n in notes]
            k = bisect.bisect_right(s.hosts, t)
            if k:
                self.pipeline.feed_packets(s.address, np.array(s.hosts[:k]), s.packets[:k])
                s.notifications += k
                del s.hosts[:k], s.packets[:k]
        self.now = t


def _emulator(
    family: str, motion: ScriptedMotion, address: str, i: int
) -> tuple[EmulatedDevice, str]:
    """The emulator for ``family`` and the characteristic its data arrive on."""
    if family == "witmotion":
        return (
            witmotion.WitMotionEmulator(motion, address=address, name="WT901BLE67"),
            witmotion.NOTIFY_CHAR.lower(),
        )
    if family == "dot":
        cfg = dot.DotConfig(rate_hz=FAMILY_RATE_HZ["dot"])
        return dot.DotEmulator(motion, address=address, seed=i), cfg.notify_char.lower()
    chip: Literal["bmi160", "bmi270"] = "bmi270" if i % 2 == 0 else "bmi160"
    return (
        metawear.MetaMotionEmulator(motion, address=address, name="MetaWear", chip=chip),
        metawear.NOTIFY_CHAR.lower(),
    )
