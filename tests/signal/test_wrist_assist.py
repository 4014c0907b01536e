"""Press with a wrist sensor worn alongside the back sensors: the wrist counts the reps, the
back keeps the alarm — and a wrist that lags, arrives late or stays silent changes nothing the
back decides."""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest

from liftguard.config import AthleteConfig, SensorConfig, SessionConfig, Thresholds
from liftguard.events import AlertEvent, Event, RepEvent
from liftguard.pipeline import Pipeline
from liftguard.samples import SampleBlock
from liftguard.sim import Program, SimulatedAthlete, build_session_athlete
from liftguard.sim.athlete import AthleteParams

RATE = 100.0
ADDRESS = {
    "upper": "AA:00:00:00:00:01",
    "sacrum": "AA:00:00:00:00:02",
    "wrist": "AA:00:00:00:00:03",
}
BACK = ("upper", "sacrum")
WITH_WRIST = ("upper", "sacrum", "wrist")


@cache
def athlete(seed: int, program: tuple[tuple[str, int, int], ...], arch_deg: float | None):
    """A simulated athlete; ``arch_deg`` sets how far the lumbar spine extends at a press's
    lockout (the back's only sign of a press; athletes arch 3-8°)."""
    params = AthleteParams.sample(np.random.default_rng([seed, 1]))
    if arch_deg is not None:
        params = dataclasses.replace(params, press_lumbar_deg=-arch_deg, press_pelvis_deg=0.0)
    families = dict.fromkeys(WITH_WRIST, "metawear")
    return build_session_athlete(
        f"a{seed}", seed, program=Program.from_list(list(program)), families=families, params=params
    )


@cache
def imu(sim: SimulatedAthlete) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    t = np.arange(0.0, sim.duration, 1.0 / RATE)
    return t, {p: sim.sensors[p].imu(t)[:2] for p in WITH_WRIST}


def run(
    sim: SimulatedAthlete,
    roster: tuple[str, ...],
    *,
    feed: tuple[str, ...] | None = None,
    block_s: dict[str, float] | None = None,
    wrist_last: bool = False,
    thresholds: Thresholds | None = None,
) -> list[Event]:
    """The session through the pipeline; ``feed``: the sensors that actually send (default:
    the roster), ``block_s``: block length per sensor, ``wrist_last``: the wrist's samples
    only after all of the back's."""
    sensors = tuple(SensorConfig(p, ADDRESS[p], family="metawear", rate_hz=RATE) for p in roster)
    config = SessionConfig(
        "s", (AthleteConfig("a", sensors, thresholds=thresholds or Thresholds()),)
    )
    events: list[Event] = []
    p = Pipeline(config, on_event=events.append)
    for s in roster:
        p.sensor_connected(ADDRESS[s], 0.0)
    for inp in sim.pipeline_inputs(athlete="a"):
        p.input(inp)
    t, data = imu(sim)
    sending = feed if feed is not None else roster
    steps = {s: max(1, round((block_s or {}).get(s, 0.04) * RATE)) for s in sending}
    cursor = dict.fromkeys(sending, 0)
    now = 0.0
    order = [s for s in sending if not (wrist_last and s == "wrist")]
    while any(cursor[s] < t.size for s in order):
        now += 0.04
        for s in order:
            while cursor[s] < t.size and t[cursor[s]] <= now:
                k = cursor[s]
                acc, gyr = data[s]
                end = k + steps[s]
                p.feed_samples(ADDRESS[s], SampleBlock(t=t[k:end], acc=acc[k:end], gyr=gyr[k:end]))
                cursor[s] = min(end, t.size)
    if wrist_last and "wrist" in sending:
        acc, gyr = data["wrist"]
        for k in range(0, t.size, 500):
            block = SampleBlock(t=t[k : k + 500], acc=acc[k : k + 500], gyr=gyr[k : k + 500])
            p.feed_samples(ADDRESS["wrist"], block)
    return events


def reps_per_set(events: list[Event]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for e in events:
        if isinstance(e, RepEvent):
            out[e.exercise, e.set] = out.get((e.exercise, e.set), 0) + 1
    return out


PRESS = (("press", 2, 5),)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_wrist_counts_the_presses_of_an_athlete_who_barely_arches(seed: int) -> None:
    sim = athlete(seed, PRESS, arch_deg=1.0)
    truth = {(s.exercise, s.set): s.reps for s in sim.sets}
    assert reps_per_set(run(sim, BACK)) != truth  # the back alone cannot see these presses
    events = run(sim, WITH_WRIST)
    assert reps_per_set(events) == truth
    t = np.arange(0.0, sim.duration, 0.01)
    flexion, trunk = sim.lumbar_angles_deg(t)[:, 0], sim.trunk_inclination_deg(t)
    for e in (e for e in events if isinstance(e, RepEvent)):
        truth_rep = next(r for r in sim.reps if r.set == e.set and r.rep == e.rep)
        assert abs(e.t_start - truth_rep.t_start) < 0.3
        assert e.eccentric_s > 0 and e.concentric_s > 0
        # The spine metrics come from the back's angles over the wrist's rep window.
        inside = (t >= e.t_start) & (t <= e.t_end)
        assert e.peak_flexion_deg == pytest.approx(flexion[inside].max(), abs=2.0)
        assert e.trunk_range_deg == pytest.approx(np.ptp(trunk[inside]), abs=2.0)


def test_wrist_counted_reps_are_the_same_whichever_stream_arrives_first() -> None:
    sim = athlete(0, PRESS, arch_deg=None)
    together = run(sim, WITH_WRIST)
    late = run(sim, WITH_WRIST, wrist_last=True, block_s={"upper": 0.2, "sacrum": 0.07})
    assert len([e for e in together if isinstance(e, RepEvent)]) == 10

    def key(events: list[Event]) -> list[dict]:
        kept = [e for e in events if e.type in ("rep", "alert", "set")]
        return [e.to_json() for e in sorted(kept, key=lambda e: (e.t, e.type))]

    assert key(late) == key(together)


def test_the_wrist_never_changes_an_alarm_even_when_it_stays_silent() -> None:
    # Low levels, so the deadlift and the press both alarm; the wrist counts the press.
    program = (("press", 1, 5), ("deadlift", 1, 5))
    sim = athlete(2, program, arch_deg=None)
    low = Thresholds(warning_deg=4.0, alarm_deg=6.0)

    def alerts(events: list[Event]) -> list[tuple]:
        return [
            (e.t, e.kind, e.severity, e.set, e.rep, e.value_deg)
            for e in events
            if isinstance(e, AlertEvent) and e.severity != "degraded"
        ]

    back_only = alerts(run(sim, BACK, thresholds=low))
    assert {a[1] for a in back_only} == {"lumbar_flexion"} and len(back_only) >= 2
    assert alerts(run(sim, WITH_WRIST, thresholds=low)) == back_only
    silent = run(sim, WITH_WRIST, feed=BACK, thresholds=low)
    assert alerts(silent) == back_only
    # With the wrist silent, the press reps wait for it; the deadlift's come from the back.
    assert reps_per_set(silent) == {("deadlift", 1): 5}
