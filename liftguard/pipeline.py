"""The session pipeline: raw notifications and supervisor inputs in, events out.

Live sessions, replays and tests drive the same :class:`Pipeline`; only the source differs.
It never reads the wall clock: its output is a function of the packets, their host receive
times, the configuration and the inputs, in the order they are fed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from liftguard._types import FloatArray
from liftguard.alerts.board import AlertBoard
from liftguard.alerts.health import DegradedKind, SensorHealth
from liftguard.config import AthleteConfig, SensorConfig, SessionConfig
from liftguard.events import (
    AlertEvent,
    CalibrationEvent,
    Event,
    RepEvent,
    SensorEvent,
    SetEvent,
)
from liftguard.firmware_bridge import assembler_for
from liftguard.firmware_bridge.stream import Assembler, RawSamples, feed_one_by_one
from liftguard.inputs import Acknowledge, Calibrate, Input, StartSet
from liftguard.samples import SampleBlock
from liftguard.signal._vec import row_norms
from liftguard.signal.athlete import AngleSamples, AthleteMonitor, SetAlarm, SetLanding, SetRep
from liftguard.signal.calibration import CalibrationResult
from liftguard.signal.clock_sync import DeviceClockSync, HostClockSync
from liftguard.signal.orientation import OrientationEstimator
from liftguard.signal.wrist import VerticalTrack

__all__ = ["STIFF_LANDING_G", "Pipeline"]

#: A drop landing above this sacral peak (g) gets a stiff-landing warning (soft landings of
#: 0.1-0.4 m drops peak at 2.5-4.5 g, stiff ones at 4-6 g: SIMULATION-PARAMETERS §5).
STIFF_LANDING_G = 6.0


class _SensorChannel:
    """Per-sensor stage: notifications → samples on the session clock → orientation."""

    def __init__(self, athlete: AthleteConfig, sensor: SensorConfig) -> None:
        self.athlete = athlete.name
        self.sensor = sensor
        # The pipeline runs its own filter: the device's orientation estimate is not needed.
        self.assembler: Assembler = assembler_for(sensor, device_orientation=False)
        rate = sensor.stream_rate_hz  # the merged acc + gyro stream's: the faster sensor's
        self.clock = HostClockSync(rate)
        self.device_clock = DeviceClockSync()
        self.orientation = OrientationEstimator(rate)
        self.samples = 0
        self.health = SensorHealth(rate_hz=rate)
        self.wrist = VerticalTrack(rate) if sensor.placement == "wrist" else None

    def stamp(self, raw: RawSamples) -> SampleBlock:
        if raw.t_device is not None:
            t = self.device_clock.stamp_packets(raw.t_device, *raw.arrivals())
        else:
            t = self.clock.stamp_packets(*raw.arrivals())
        return SampleBlock(t=t, acc=raw.acc, gyr=raw.gyr, flags=raw.flags, quat=raw.quat)


class Pipeline:
    """Everything between the sensors and the event stream, for a whole session.

    Args:
        config: the roster.
        on_event: called with every event as it is produced (also kept for :meth:`drain`).
        on_angles: called with ``(athlete, AngleSamples)`` for every processed block.
    """

    def __init__(
        self,
        config: SessionConfig,
        *,
        on_event: Callable[[Event], None] | None = None,
        on_angles: Callable[[str, AngleSamples], None] | None = None,
    ) -> None:
        self.config = config
        self._on_event = on_event
        self._pending: list[Event] = []
        self.board = AlertBoard()
        self._athletes: dict[str, AthleteMonitor] = {}
        self._athlete_cfg = {a.name: a for a in config.athletes}
        for a in config.athletes:
            cb = None if on_angles is None else _bind(on_angles, a.name)
            self._athletes[a.name] = AthleteMonitor(
                a.name,
                thresholds_for=a.thresholds_for,
                on_angles=cb,
                placements=tuple(s.placement for s in a.sensors),
            )
        self._channels = {s.address.upper(): _SensorChannel(a, s) for a, s in config.sensors()}
        self.rep_counts = dict.fromkeys(self._athletes, 0)
        self.alert_counts = dict.fromkeys(self._athletes, 0)
        #: Packets that arrived for an address not in the roster.
        self.unknown_packets = 0

    # -- sources -------------------------------------------------------------------------

    def feed_packet(self, address: str, host_time: float, data: bytes | bytearray) -> None:
        """A notification from sensor ``address`` arrived at ``host_time`` (session s)."""
        ch = self._channels.get(address.upper())
        if ch is None:
            self.unknown_packets += 1
            return
        if ch.health.on_data(host_time):
            self.sensor_state(address, host_time, "streaming", detail="data again")
        raw = ch.assembler.feed(host_time, data)
        if raw is not None and len(raw):
            self._check_rate(ch, host_time, len(raw))
            self.feed_samples(address, ch.stamp(raw))

    def _check_rate(self, ch: _SensorChannel, host_time: float, n: int) -> None:
        measured = ch.health.samples_arrived(host_time, n)
        if measured is not None:
            self._rate_alert(ch, host_time, measured)

    def _rate_alert(self, ch: _SensorChannel, host_time: float, measured: float) -> None:
        self._degraded(
            ch.athlete,
            host_time,
            DegradedKind.RATE,
            f"{ch.sensor.placement} sensor sends {measured:.0f} samples/s, "
            f"configured {ch.sensor.stream_rate_hz:g} Hz",
        )

    def tick(self, now: float) -> None:
        """Session time is ``now``, whether or not data came: notice silent sensors.

        Live sessions tick several times a second and record the ticks, so a replay raises
        the same staleness alerts at the same times.
        """
        for ch in self._channels.values():
            if ch.health.check(now):
                silent = now - (ch.health.last_host or now)
                self.sensor_state(ch.sensor.address, now, "stale", detail=f"{silent:.2f} s")
                self._degraded(
                    ch.athlete,
                    now,
                    DegradedKind.STALE,
                    f"{ch.sensor.placement} sensor silent for {silent:.1f} s",
                )

    def feed_packets(self, address: str, host_times: FloatArray, packets: Sequence[bytes]) -> None:
        """Many notifications of sensor ``address`` at once, in arrival order (replay).

        Gives the same events as :meth:`feed_packet` on each: every stage is built so that
        how the stream is cut into blocks does not change its output.
        """
        ch = self._channels.get(address.upper())
        if ch is None:
            self.unknown_packets += len(packets)
            return
        batch = getattr(ch.assembler, "feed_batch", None)
        raw = (
            batch(host_times, packets)
            if batch is not None
            else feed_one_by_one(ch.assembler, host_times, packets)
        )
        # Per packet, as live does it (a plain loop over floats): staleness ending, gaps
        # restarting the rate window, the rate check.
        counts = (
            raw.arrivals()[1]
            if raw is not None and len(raw)
            else np.zeros(len(host_times), dtype=np.int64)
        )
        for h, measured in ch.health.packets_arrived(host_times, counts):
            if measured is None:
                self.sensor_state(address, h, "streaming", detail="data again")
            else:
                self._rate_alert(ch, h, measured)
        if raw is not None and len(raw):
            self.feed_samples(address, ch.stamp(raw))

    def sensor_connected(
        self, address: str, t: float, *, chip: str | None = None, state: str = "connected"
    ) -> None:
        """Sensor ``address`` connected at ``t`` and reported its IMU ``chip``.

        The decoder depends on the chip (BMI160 and BMI270 reuse register numbers), so it is
        rebuilt here; samples already on their way are not affected.
        """
        ch = self._channels.get(address.upper())
        if ch is None:
            return
        ch.assembler = assembler_for(ch.sensor, chip=chip, device_orientation=False)
        ch.health.on_connected(t)
        self.sensor_state(address, t, state, detail=chip or "")

    def sensor_state(self, address: str, t: float, state: str, *, detail: str = "") -> None:
        """Sensor ``address`` changed state (``connected``, ``lost`` …) at session time ``t``.

        ``lost``, ``missing`` and ``failed`` also raise a "monitoring degraded" alert.
        """
        ch = self._channels.get(address.upper())
        if ch is None:
            return
        if state in ("lost", "missing", "failed"):
            ch.health.on_lost()
            why = {"lost": "link lost", "missing": "not found", "failed": "failed"}[state]
            self._degraded(
                ch.athlete,
                t,
                DegradedKind.LOST,
                f"{ch.sensor.placement} sensor {why}" + (f": {detail}" if detail else ""),
            )
        self._emit(
            SensorEvent(
                t=t,
                athlete=ch.athlete,
                placement=ch.sensor.placement,
                address=ch.sensor.address,
                state=state,
                detail=detail,
            )
        )

    def feed_samples(self, address: str, block: SampleBlock) -> None:
        """Already-decoded samples of sensor ``address`` on the session clock."""
        ch = self._channels.get(address.upper())
        if ch is None or len(block) == 0:
            return
        ch.samples += len(block)
        clipped = block.clipped
        if clipped.any():
            t_clip = float(block.t[int(np.argmax(clipped))])
            if ch.health.clipping(t_clip):
                self._degraded(
                    ch.athlete,
                    t_clip,
                    DegradedKind.CLIPPING,
                    f"{ch.sensor.placement} sensor at the end of its range (readings clipped)",
                )
        quat = ch.orientation.update(block)
        gyr_norm = row_norms(block.gyr)
        acc_norm = row_norms(block.acc)
        monitor = self._athletes[ch.athlete]
        if ch.wrist is not None:
            _, h, still = ch.wrist.update(block.t, quat, block.acc, block.gyr)
            outputs = monitor.push_wrist(block.t, h, still, acc_norm)
        else:
            outputs = monitor.push(ch.sensor.placement, block.t, quat, gyr_norm, acc_norm)
        for t, kind, payload in outputs:
            self._emit_output(monitor, t, kind, payload)

    def input(self, inp: Input) -> None:
        """A supervisor input (calibrate, start a set, acknowledge an alert)."""
        if isinstance(inp, Calibrate):
            for name in inp.athletes or tuple(self._athletes):
                if name in self._athletes:
                    self._athletes[name].add_input(inp)
        elif isinstance(inp, StartSet):
            if inp.athlete in self._athletes:
                self._athletes[inp.athlete].add_input(inp)
        elif isinstance(inp, Acknowledge):
            ack = self.board.acknowledge(inp.alert_id, inp.t)
            if ack is not None:
                self._emit(ack)

    # -- sinks ---------------------------------------------------------------------------

    def drain(self) -> list[Event]:
        """Events produced since the last call, in the order they were produced."""
        out, self._pending = self._pending, []
        return out

    @property
    def malformed_packets(self) -> dict[str, int]:
        """Malformed notifications counted and skipped, per sensor address."""
        return {addr: ch.assembler.malformed for addr, ch in self._channels.items()}

    def _emit(self, event: Event) -> None:
        self._pending.append(event)
        if self._on_event is not None:
            self._on_event(event)

    def _alert(
        self,
        athlete: str,
        t: float,
        kind: str,
        severity: str,
        message: str,
        set_: StartSet,
        rep: int,
    ) -> None:
        alert = AlertEvent(
            t=t,
            athlete=athlete,
            id=self.board.new_id(athlete),
            kind=kind,
            severity=severity,
            value_deg=None,
            threshold_deg=None,
            exercise=set_.exercise,
            set=set_.set,
            rep=rep,
            message=message,
        )
        self.alert_counts[athlete] += 1
        self.board.raise_(alert)
        self._emit(alert)

    def _degraded(self, athlete: str, t: float, kind: str, message: str) -> None:
        alert = AlertEvent(
            t=t,
            athlete=athlete,
            id=self.board.new_id(athlete),
            kind=kind,
            severity="degraded",
            value_deg=None,
            threshold_deg=None,
            message=f"monitoring degraded: {message}",
        )
        self.alert_counts[athlete] += 1
        self.board.raise_(alert)
        self._emit(alert)

    def _emit_output(self, monitor: AthleteMonitor, t: float, kind: str, payload: object) -> None:
        name = monitor.name
        if kind == "uncalibrated" and isinstance(payload, StartSet):
            self._degraded(
                name,
                t,
                DegradedKind.UNCALIBRATED,
                f"{payload.exercise} set {payload.set} started before calibration: "
                "no flexion alarm until calibrated",
            )
            return
        if kind == "no_spine" and isinstance(payload, StartSet):
            self._degraded(
                name,
                t,
                DegradedKind.NO_SPINE,
                f"{payload.exercise} set {payload.set}: wrist sensor only — reps are counted, "
                "lumbar flexion is not monitored",
            )
            return
        if kind == "calibration_invalid" and isinstance(payload, str):
            self._degraded(name, t, DegradedKind.CALIBRATION_INVALID, payload)
            return
        if kind == "calibration" and isinstance(payload, CalibrationResult) and not payload.ok:
            self._degraded(
                name, t, DegradedKind.CALIBRATION_FAILED, f"calibration failed: {payload.detail}"
            )
        if kind == "calibration" and isinstance(payload, CalibrationResult):
            self._emit(
                CalibrationEvent(
                    t=t,
                    athlete=name,
                    step=payload.step,
                    ok=payload.ok,
                    max_flexion_deg=payload.max_flexion_deg,
                    detail=payload.detail,
                )
            )
        elif kind in ("set_start", "set_end") and isinstance(payload, StartSet):
            self._emit(
                SetEvent(
                    t=t,
                    athlete=name,
                    exercise=payload.exercise,
                    set=payload.set,
                    target_reps=payload.target_reps,
                    state="start" if kind == "set_start" else "end",
                )
            )
        elif kind == "rep" and isinstance(payload, SetRep):
            rep = payload.rep
            self.rep_counts[name] += 1
            self._emit(
                RepEvent(
                    t=t,
                    athlete=name,
                    exercise=payload.set.exercise,
                    set=payload.set.set,
                    rep=rep.rep,
                    t_start=rep.t_start,
                    t_end=rep.t_end,
                    peak_flexion_deg=_finite(rep.peak_flexion_deg),
                    duration_s=rep.duration_s,
                    eccentric_s=rep.eccentric_s,
                    concentric_s=rep.concentric_s,
                    flexion_at_liftoff_deg=rep.flexion_at_liftoff_deg,
                    trunk_range_deg=_finite(rep.trunk_range_deg),
                    peak_landing_acc_g=rep.peak_landing_acc_g,
                    landing_flexion_deg=rep.landing_flexion_deg,
                )
            )
        elif kind == "landing" and isinstance(payload, SetLanding):
            landing = payload.landing
            if landing.peak_acc_g > STIFF_LANDING_G:
                self._alert(
                    name,
                    t,
                    "stiff_landing",
                    "warning",
                    f"stiff landing: {landing.peak_acc_g:.1f} g at the sacrum "
                    f"(above {STIFF_LANDING_G:g} g)",
                    payload.set,
                    landing.rep,
                )
        elif kind in ("flexion_alarm", "landing_alarm") and isinstance(payload, SetAlarm):
            trigger = payload.trigger
            threshold = trigger.level_deg
            alert = AlertEvent(
                t=t,
                athlete=name,
                id=self.board.new_id(name),
                kind="lumbar_flexion" if kind == "flexion_alarm" else "landing_flexion",
                severity=trigger.severity,
                value_deg=trigger.value_deg,
                threshold_deg=threshold,
                exercise=payload.set.exercise,
                set=payload.set.set,
                rep=trigger.rep,
                message=f"lumbar flexion {trigger.value_deg:.0f}° > {threshold:.0f}°",
            )
            self.alert_counts[name] += 1
            self.board.raise_(alert)
            self._emit(alert)


def _bind(fn: Callable[[str, AngleSamples], None], name: str) -> Callable[[AngleSamples], None]:
    return lambda samples: fn(name, samples)


def _finite(x: float | None) -> float | None:
    """``None`` for what was not measured (NaN): JSON has no NaN."""
    return None if x is None or math.isnan(x) else x
