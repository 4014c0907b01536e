"""What is in a recording: ``liftguard info``."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from liftguard.firmware_bridge.families import assembler_for
from liftguard.firmware_bridge.stream import feed_one_by_one
from liftguard.recording.reader import Recording
from liftguard.signal.clock_sync import HostClockSync

__all__ = ["RecordingInfo", "SensorInfo", "inspect_recording"]

#: A pause between two notifications of a streaming sensor longer than this is a gap
#: (the pipeline calls a sensor stale after the same 250 ms).
GAP_S = 0.25


@dataclass(frozen=True)
class SensorInfo:
    """One sensor's share of a recording."""

    address: str
    athlete: str
    placement: str
    family: str
    packets: int
    samples: int
    malformed: int
    gaps: int
    lost_samples: int
    first_s: float | None
    last_s: float | None


@dataclass(frozen=True)
class RecordingInfo:
    """Summary of a recording (``liftguard info``)."""

    path: str
    clean: bool
    problems: list[str]
    name: str
    software: str
    created_utc: str
    simulated: bool
    duration_s: float
    athletes: list[str]
    sensors: list[SensorInfo]
    reps: dict[str, int]
    alerts: dict[str, int]
    imported_samples: int = 0
    truth: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def inspect_recording(rec: Recording) -> RecordingInfo:
    """Count what a recording holds, decoding every notification with today's codecs."""
    chips = {addr.upper(): chip for _, _, addr, state, chip in rec.connections if chip}
    sensors = []
    for athlete, sensor in rec.config.sensors():
        batch = rec.packets_of(sensor.address)
        asm = assembler_for(sensor, chip=chips.get(sensor.address.upper()))
        samples = lost = gaps = 0
        if batch.packets:
            feed_batch = getattr(asm, "feed_batch", None)
            raw = (
                feed_batch(batch.t_host, batch.packets)
                if feed_batch is not None
                else feed_one_by_one(asm, batch.t_host, batch.packets)
            )
            if raw is not None:
                samples = len(raw)
                sync = HostClockSync(sensor.rate_hz)
                sync.stamp_packets(*raw.arrivals())
                lost = sync.lost_samples
            gaps = int(np.count_nonzero(np.diff(batch.t_host) > GAP_S))
        sensors.append(
            SensorInfo(
                address=sensor.address,
                athlete=athlete.name,
                placement=sensor.placement,
                family=sensor.family,
                packets=len(batch.packets),
                samples=samples,
                malformed=asm.malformed,
                gaps=gaps,
                lost_samples=lost,
                first_s=float(batch.t_host[0]) if batch.t_host.size else None,
                last_s=float(batch.t_host[-1]) if batch.t_host.size else None,
            )
        )
    names = [a.name for a in rec.config.athletes]
    reps = Counter(e.get("athlete") for e in rec.events if e.get("type") == "rep")
    alerts = Counter(e.get("athlete") for e in rec.events if e.get("type") == "alert")
    return RecordingInfo(
        path=str(rec.path),
        clean=rec.clean,
        problems=list(rec.problems),
        name=str(rec.meta.get("name", "")),
        software=str(rec.meta.get("software", "")),
        created_utc=str(rec.meta.get("created_utc", "")),
        simulated=rec.simulated,
        duration_s=rec.end_time,
        athletes=names,
        sensors=sensors,
        reps={n: reps.get(n, 0) for n in names},
        alerts={n: alerts.get(n, 0) for n in names},
        imported_samples=sum(len(b) for _, _, b in rec.samples),
        truth={t["athlete"]: {k: t.get(k) for k in ("reps", "unsafe_reps")} for t in rec.truth},
    )


def format_info(info: RecordingInfo) -> str:
    """The human-readable ``liftguard info`` text."""
    state = "closed cleanly" if info.clean else "RECOVERED — " + "; ".join(info.problems)
    lines = [
        f"{info.path}",
        f"  session   {info.name}  ({info.software}, {info.created_utc}"
        + (", simulated" if info.simulated else "")
        + ")",
        f"  file      {state}",
        f"  duration  {info.duration_s:.1f} s",
    ]
    if info.problems and info.clean:
        lines.append(f"  problems  {'; '.join(info.problems)}")
    for name in info.athletes:
        truth = info.truth.get(name)
        extra = f"  (truth: {truth['reps']} reps, {truth['unsafe_reps']} unsafe)" if truth else ""
        lines.append(
            f"  athlete   {name}: {info.reps[name]} reps, {info.alerts[name]} alerts{extra}"
        )
    for s in info.sensors:
        lines.append(
            f"  sensor    {s.athlete}/{s.placement} {s.address} ({s.family}): {s.packets} packets, "
            f"{s.samples} samples, {s.gaps} gaps, ~{s.lost_samples} samples lost, "
            f"{s.malformed} malformed"
        )
    if info.imported_samples:
        lines.append(f"  imported  {info.imported_samples} decoded samples")
    return "\n".join(lines)
