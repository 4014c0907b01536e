"""MetaMotions streaming acc and gyro at different rates, from the roster to reps and flexion.

Two emulated MetaMotions on one simulated athlete — the upper one with acc 100 Hz / gyro
200 Hz, the sacral one with acc 200 Hz / gyro 100 Hz — are started with the driver's command
sequence and their notifications fed, one by one with a seeded BLE latency, to
:meth:`Pipeline.feed_packet` through a calibration and a set of five deadlifts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from liftguard.cast import ScriptedMotion
from liftguard.config import AthleteConfig, SensorConfig, SessionConfig, load_config
from liftguard.errors import ConfigError
from liftguard.events import Event, RepEvent
from liftguard.firmware_bridge import assembler_for
from liftguard.firmware_bridge.metawear import (
    COMMAND_CHAR,
    MODULE_ACCELEROMETER,
    NOTIFY_CHAR,
    MetaMotionEmulator,
    MetaWearAssembler,
    MetaWearConfig,
    chip_from_module_info,
    configure_commands,
    module_info_request,
    parse_module_info,
    start_commands,
)
from liftguard.pipeline import Pipeline
from liftguard.signal.athlete import AngleSamples
from liftguard.sim import SimulatedAthlete, build_deadlift_athlete

# --- roster ---------------------------------------------------------------------------------


def test_gyro_rate_defaults_to_rate_and_stream_rate_is_the_faster() -> None:
    plain = SensorConfig(placement="upper", address="A")
    assert plain.gyro_rate_hz is None
    assert plain.stream_rate_hz == 100.0
    faster_gyro = SensorConfig(placement="upper", address="A", rate_hz=50, gyro_rate_hz=200)
    assert faster_gyro.gyro_rate_hz == 200.0 and isinstance(faster_gyro.gyro_rate_hz, float)
    assert faster_gyro.stream_rate_hz == 200.0
    faster_acc = SensorConfig(placement="upper", address="A", rate_hz=200, gyro_rate_hz=100)
    assert faster_acc.stream_rate_hz == 200.0


@pytest.mark.parametrize("bad", [0, -100, True, "200", float("nan")])
def test_gyro_rate_must_be_a_positive_number(bad: object) -> None:
    with pytest.raises(ConfigError, match="gyro_rate_hz") as err:
        SensorConfig(placement="upper", address="A", gyro_rate_hz=bad)  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("family", ["dot", "witmotion"])
def test_families_streaming_acc_and_gyro_together_reject_a_different_gyro_rate(
    family: str,
) -> None:
    rate = 60.0 if family == "dot" else 100.0
    with pytest.raises(ConfigError, match="gyro_rate_hz") as err:
        SensorConfig(placement="upper", address="A", family=family, gyro_rate_hz=2 * rate)
    assert "\n" not in str(err.value)
    same = SensorConfig(placement="upper", address="A", family=family, gyro_rate_hz=rate)
    assert same.stream_rate_hz == rate


def test_toml_key_gyro_rate_hz_reaches_the_assembler_and_the_wire_config(tmp_path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        '[[athlete]]\nname = "anna"\n'
        '  [[athlete.sensor]]\n  placement = "upper"\n  address = "D1:5E:00:00:00:01"\n'
        "  rate_hz = 50\n  gyro_rate_hz = 200\n"
    )
    sensor = load_config(path).athletes[0].sensors[0]
    assert (sensor.rate_hz, sensor.gyro_rate_hz) == (50.0, 200.0)
    asm = assembler_for(sensor, chip="bmi270")
    assert isinstance(asm, MetaWearAssembler)
    assert asm.rate_hz == 200.0
    assert asm.config == MetaWearConfig(chip="bmi270", odr_hz=50.0, gyr_odr_hz=200.0)
    assert [c.hex() for c in configure_commands(asm.config)] == ["0303a703", "13032900"]


def test_example_session_documents_gyro_rate_hz() -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "session.toml"
    assert "gyro_rate_hz" in example.read_text(encoding="utf-8")
    sensor = load_config(example).athletes[0].sensors[0]
    assert (sensor.rate_hz, sensor.gyro_rate_hz, sensor.stream_rate_hz) == (100.0, 200.0, 200.0)


def test_pipeline_runs_its_filters_at_the_merged_rate() -> None:
    sensors = (
        SensorConfig(placement="upper", address="A1", rate_hz=100, gyro_rate_hz=200),
        SensorConfig(placement="sacrum", address="A2", rate_hz=200, gyro_rate_hz=100),
    )
    pipe = Pipeline(SessionConfig("s", (AthleteConfig("anna", sensors),)))
    for ch in pipe._channels.values():
        assert ch.orientation.rate_hz == 200.0
        assert ch.clock.rate_hz == 200.0
        assert ch.assembler.rate_hz == 200.0


# --- a simulated session --------------------------------------------------------------------

OFFSET = 1.0  # the script starts when both sensors stream
LATENCY = (0.0075, 0.030)
RATES = {"upper": (100.0, 200.0), "sacrum": (200.0, 100.0)}  # (acc, gyro) Hz


@dataclass
class _Worn:
    address: str
    placement: str
    device: MetaMotionEmulator
    rng: np.random.Generator
    last_host: float = -math.inf
    queue: list[tuple[float, bytes]] = field(default_factory=list)


@dataclass
class Run:
    sim: SimulatedAthlete
    events: list[Event]
    angles: list[AngleSamples]

    def angle_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        t = np.concatenate([a.t for a in self.angles])
        flex = np.concatenate([a.flexion_deg for a in self.angles])
        return t, flex


def run_session(seed: int, *, duration: float = 56.0, batched: bool = False) -> Run:
    """The athlete's calibration and deadlift set through the pipeline, packet by packet
    (``batched``: each sensor's arrivals since the last instant in one ``feed_packets``)."""
    sim = build_deadlift_athlete("anna", seed=seed, duration=duration)
    worn: list[_Worn] = []
    sensors = []
    for i, placement in enumerate(("upper", "sacrum")):
        acc_hz, gyr_hz = RATES[placement]
        address = f"D1:5E:00:00:00:0{i + 1}"
        motion = ScriptedMotion(sim.sensors[placement], lookahead=2000)
        motion.offset = OFFSET
        chip: Literal["bmi160", "bmi270"] = "bmi270" if i == 0 else "bmi160"
        device = MetaMotionEmulator(motion, address=address, chip=chip)
        worn.append(_Worn(address, placement, device, np.random.default_rng([seed, i])))
        sensors.append(
            SensorConfig(placement=placement, address=address, rate_hz=acc_hz, gyro_rate_hz=gyr_hz)
        )
    config = SessionConfig("unequal", (AthleteConfig(sim.name, tuple(sensors)),))
    events: list[Event] = []
    angles: list[AngleSamples] = []
    pipe = Pipeline(config, on_event=events.append, on_angles=lambda _a, s: angles.append(s))

    # Connect and start as the driver does: discovery, then configure + start.
    for w, sensor in zip(worn, sensors, strict=True):
        w.device.connect(0.1)
        reply = w.device.write(COMMAND_CHAR, module_info_request(MODULE_ACCELEROMETER), 0.1)
        info = next(i for n in reply if (i := parse_module_info(n.data)) is not None)
        cfg = MetaWearConfig.for_sensor(sensor, chip_from_module_info(info[1]))
        for cmd in configure_commands(cfg) + start_commands(cfg):
            w.device.write(COMMAND_CHAR, cmd, 0.11)
        pipe.sensor_connected(w.address, 0.11, chip=cfg.chip)

    inputs = sim.pipeline_inputs(offset=OFFSET)
    end = OFFSET + sim.duration
    ticks = [round(OFFSET + 0.25 * k, 9) for k in range(1, int((end - OFFSET) / 0.25) + 1)]
    timeline = sorted([(t, 1, None) for t in ticks] + [(i.t, 0, i) for i in inputs])

    def advance(now: float) -> None:
        for w in worn:
            notes = [n for n in w.device.advance(now) if n.uuid == NOTIFY_CHAR]
            for n in notes:
                host = max(n.t + w.rng.uniform(*LATENCY), w.last_host)  # FIFO per link
                w.last_host = host
                w.queue.append((host, n.data))
        # Everything that reached the host by `now`, in arrival order across both sensors.
        # Ties in host time keep each link's FIFO order (never the packets' bytes).
        ready = sorted(
            (h, k, seq, w.address, d)
            for k, w in enumerate(worn)
            for seq, (h, d) in enumerate(w.queue)
            if h <= now
        )
        for w in worn:
            if batched:
                hosts = [h for h, _ in w.queue if h <= now]
                if hosts:
                    packets = [d for h, d in w.queue if h <= now]
                    pipe.feed_packets(w.address, np.array(hosts), packets)
            w.queue = [(h, d) for h, d in w.queue if h > now]
        if not batched:
            for h, _k, _seq, address, data in ready:
                pipe.feed_packet(address, h, data)

    for t, _, inp in timeline:
        advance(t)
        if inp is not None:
            pipe.input(inp)
        else:
            pipe.tick(t)
    advance(end)
    return Run(sim, events, angles)


@pytest.fixture(scope="module")
def session() -> Run:
    return run_session(seed=7)


def test_every_rep_of_the_set_is_counted(session: Run) -> None:
    reps = [e for e in session.events if isinstance(e, RepEvent)]
    assert len(session.sim.reps) == 5
    assert len(reps) == len(session.sim.reps)


def test_flexion_follows_the_truth_within_two_degrees_rmse(session: Run) -> None:
    t, flex = session.angle_arrays()
    assert np.all(np.diff(t) > 0)
    # The merged stream is on the faster sensor's 200 Hz grid.
    assert np.median(np.diff(t)) == pytest.approx(1 / 200, rel=0.01)
    ok = np.isfinite(flex)
    truth = session.sim.lumbar_flexion_deg(t[ok] - OFFSET)
    rmse = float(np.sqrt(np.mean((flex[ok] - truth) ** 2)))
    assert ok.sum() > 0.9 * 200 * (session.sim.duration - 12)
    assert rmse < 2.0, rmse
    # Inside the reps too, where the trunk moves fastest.
    in_reps = np.zeros(ok.sum(), dtype=bool)
    for rep in session.sim.reps:
        in_reps |= (t[ok] - OFFSET >= rep.t_start) & (t[ok] - OFFSET <= rep.t_end)
    assert in_reps.sum() > 0
    rep_rmse = float(np.sqrt(np.mean((flex[ok][in_reps] - truth[in_reps]) ** 2)))
    assert rep_rmse < 2.0, rep_rmse


def test_replaying_the_session_in_batches_gives_the_same_reps_and_angles(session: Run) -> None:
    # Every stage is independent of how the stream is cut, so live and replay agree: sample
    # times to the bit, angles to rounding (1e-14°). A first version of this test sorted equal
    # arrival times by packet bytes, swapping acc and gyro packets of one sensor: the merge
    # then differed, by up to 0.07° of flexion.
    replay = run_session(seed=7, batched=True)
    live_reps = [e for e in session.events if isinstance(e, RepEvent)]
    replay_reps = [e for e in replay.events if isinstance(e, RepEvent)]
    assert [(e.rep, round(e.t, 6)) for e in replay_reps] == [
        (e.rep, round(e.t, 6)) for e in live_reps
    ]
    t_live, flex_live = session.angle_arrays()
    t_replay, flex_replay = replay.angle_arrays()
    assert t_replay.tobytes() == t_live.tobytes()
    np.testing.assert_allclose(flex_replay, flex_live, rtol=0, atol=1e-9)
