"""Fail loud: lost, silent, clipping sensors and uncalibrated athletes raise 'monitoring
degraded' within a second, and every alert stays until acknowledged."""

from __future__ import annotations

import numpy as np
import pytest

from liftguard.config import AthleteConfig, SensorConfig, SessionConfig
from liftguard.events import AlertAckEvent, AlertEvent, Event, SensorEvent
from liftguard.firmware_bridge.metawear import MetaWearConfig, encode_samples
from liftguard.inputs import Acknowledge, Calibrate, StartSet
from liftguard.pipeline import Pipeline

UPPER, SACRUM = "AA:00:00:00:00:01", "AA:00:00:00:00:02"
CONFIG = SessionConfig(
    "t", (AthleteConfig("ann", (SensorConfig("upper", UPPER), SensorConfig("sacrum", SACRUM))),)
)
WIRE = MetaWearConfig()  # BMI160, ±16 g, ±2000 °/s, packed


def standing(n: int, *, acc_z_g: float = 1.0) -> tuple[list[bytes], list[bytes]]:
    acc = np.tile([0, 0, round(acc_z_g * 2048)], (n, 1)).clip(-32768, 32767).astype(np.int16)
    gyr = np.zeros((n, 3), np.int16)
    return encode_samples(WIRE, "acc", acc), encode_samples(WIRE, "gyr", gyr)


class Session:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.p = Pipeline(CONFIG, on_event=self.events.append)
        self.t = 0.0
        for addr in (UPPER, SACRUM):
            self.p.sensor_connected(addr, 0.0, chip="bmi160")

    def stream(self, seconds: float, *, silent: str | None = None, acc_z_g: float = 1.0) -> None:
        """Both sensors at 100 Hz (3 samples a packet) and a tick every 0.25 s."""
        for _ in range(round(seconds * 100 / 3)):
            self.t += 0.03
            for addr in (UPPER, SACRUM):
                if addr == silent:
                    continue
                acc, gyr = standing(3, acc_z_g=acc_z_g)
                self.p.feed_packet(addr, self.t, acc[0])
                self.p.feed_packet(addr, self.t, gyr[0])
            if round(self.t * 100) % 25 < 3:
                self.p.tick(self.t)

    def alerts(self, kind: str) -> list[AlertEvent]:
        return [e for e in self.events if isinstance(e, AlertEvent) and e.kind == kind]


def test_a_silent_sensor_raises_monitoring_degraded_within_a_second() -> None:
    s = Session()
    s.stream(2.0)
    assert s.alerts("sensor_stale") == []
    silent_from = s.t
    s.stream(1.5, silent=SACRUM)
    (alert,) = s.alerts("sensor_stale")
    assert alert.severity == "degraded" and "sacrum" in alert.message
    assert silent_from + 0.25 < alert.t <= silent_from + 1.0
    states = [e.state for e in s.events if isinstance(e, SensorEvent) and e.address == SACRUM]
    assert states[-1] == "stale"
    s.stream(0.5)
    states = [e.state for e in s.events if isinstance(e, SensorEvent) and e.address == SACRUM]
    assert states[-1] == "streaming"
    assert len(s.alerts("sensor_stale")) == 1  # one alert per silent episode


def test_a_lost_link_raises_monitoring_degraded_at_once() -> None:
    s = Session()
    s.stream(1.0)
    s.p.sensor_state(UPPER, s.t, "lost")
    (alert,) = s.alerts("sensor_lost")
    assert alert.t == s.t and alert.severity == "degraded" and "upper" in alert.message
    s.stream(1.0, silent=UPPER)
    assert s.alerts("sensor_stale") == []  # a lost sensor is not also 'stale'


def test_a_saturating_sensor_raises_clipping_and_does_not_nag() -> None:
    s = Session()
    s.stream(1.0)
    s.stream(1.0, acc_z_g=17.0)  # beyond ±16 g
    s.stream(1.0, acc_z_g=17.0)
    alerts = s.alerts("sensor_clipping")  # one per sensor, not one per clipped sample
    assert sorted(a.message.split()[2] for a in alerts) == ["sacrum", "upper"]
    assert all(a.severity == "degraded" and 1.0 <= a.t <= 1.1 for a in alerts)


def test_a_set_started_before_calibration_is_flagged() -> None:
    s = Session()
    s.stream(0.5)
    s.p.input(StartSet(s.t, "ann", "deadlift", 1, 5))
    s.stream(0.5)
    (alert,) = s.alerts("uncalibrated")
    assert "no flexion alarm until calibrated" in alert.message


def test_a_failed_calibration_is_flagged() -> None:
    s = Session()
    s.stream(0.5)
    s.p.input(Calibrate(s.t))
    s.stream(20.0)  # stands still: no forward bend
    (alert,) = s.alerts("calibration_failed")
    assert "no forward bend seen" in alert.message


def test_an_alert_stays_until_acknowledged_and_the_ack_is_an_event() -> None:
    s = Session()
    s.stream(1.0)
    s.p.sensor_state(UPPER, s.t, "lost")
    (alert,) = s.alerts("sensor_lost")
    assert [a.id for a in s.p.board.active] == [alert.id]
    s.stream(2.0, silent=UPPER)
    assert [a.id for a in s.p.board.active] == [alert.id]  # still on screen
    s.p.input(Acknowledge(s.t, alert.id))
    assert s.p.board.active == []
    acks = [e for e in s.events if isinstance(e, AlertAckEvent)]
    assert [a.alert_id for a in acks] == [alert.id]


@pytest.mark.parametrize("bogus", ["nope-1", ""])
def test_acknowledging_an_unknown_alert_changes_nothing(bogus: str) -> None:
    s = Session()
    s.p.sensor_state(UPPER, 0.1, "lost")
    s.p.input(Acknowledge(0.2, bogus))
    assert len(s.p.board.active) == 1


def test_a_sensor_streaming_at_the_wrong_rate_is_flagged_once() -> None:
    s = Session()
    # packets every 45 ms instead of 30 ms: 66.7 samples/s where 100 Hz is configured
    for _ in range(300):
        s.t += 0.045
        for addr in (UPPER, SACRUM):
            acc, gyr = standing(3)
            s.p.feed_packet(addr, s.t, acc[0])
            s.p.feed_packet(addr, s.t, gyr[0])
    alerts = s.alerts("sensor_rate")
    assert len(alerts) == 2  # one per sensor, once
    assert "sends 67 samples/s, configured 100 Hz" in alerts[0].message
    assert alerts[0].t <= 6.0


def test_the_right_rate_with_a_burst_of_lost_packets_is_not_a_rate_alert() -> None:
    s = Session()
    s.stream(3.0)
    s.t += 0.6  # a 0.6 s outage, then normal again
    s.stream(8.0)
    assert s.alerts("sensor_rate") == []


@pytest.mark.parametrize("swapped", [False, True])  # host times out of order (an edited file)
@pytest.mark.parametrize("rate_hz", [100.0, 46.0])  # a slow sensor; about the right rate
@pytest.mark.parametrize("n_cuts", [0, 3, 12])
@pytest.mark.parametrize("seed", range(8))
def test_a_run_of_packets_judges_health_as_packet_by_packet(
    seed: int, n_cuts: int, rate_hz: float, swapped: bool
) -> None:
    # Replay hands the health checks a run of packets at once; live, one at a time. Gaps
    # (restarting the rate window), stale episodes ending and a slow sensor alike.
    from liftguard.alerts.health import SensorHealth

    rng = np.random.default_rng(seed)
    steps = rng.choice([0.03, 0.03, 0.05, 0.4], size=400, p=[0.6, 0.2, 0.19, 0.01])
    hosts = np.cumsum(steps).tolist()
    if swapped:
        for k in rng.choice(np.arange(1, 398), size=6, replace=False).tolist():
            hosts[k], hosts[k + 1] = hosts[k + 1], hosts[k]
    counts = rng.choice([0, 2, 3], size=400).tolist()
    one, run = SensorHealth(rate_hz=rate_hz), SensorHealth(rate_hz=rate_hz)
    one.on_connected(0.0)
    run.on_connected(0.0)
    expected: list[tuple[float, float | None]] = []
    cuts = sorted(rng.choice(np.arange(1, 400), size=n_cuts, replace=False).tolist())
    for a, b in zip([0, *cuts], [*cuts, 400], strict=True):
        for h, n in zip(hosts[a:b], counts[a:b], strict=True):
            if one.on_data(h):
                expected.append((h, None))
            if n and (m := one.samples_arrived(h, n)) is not None:
                expected.append((h, m))
        got_run = run.packets_arrived(hosts[a:b], counts[a:b])
        assert got_run == [e for e in expected if a <= hosts.index(e[0]) < b]
        for s in (one, run):
            s.check(hosts[b - 1] + 0.3)  # a tick between runs may find the sensor stale
    assert (run.last_host, run.stale, run.rate_alerted) == (
        one.last_host,
        one.stale,
        one.rate_alerted,
    )
    if not one.rate_alerted:
        assert (run._window_start, run._window_samples) == (
            one._window_start,
            one._window_samples,
        )
