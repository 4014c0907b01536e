"""What is in a recording: ``liftguard info``."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from liftguard.recording.decode import decode_sensors
from liftguard.recording.reader import Recording

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
    sensors = []
    for d in decode_sensors(rec):
        batch = rec.packets_of(d.sensor.address)
        times = batch.t_host if batch.t_host.size else d.block.t
        sensors.append(
            SensorInfo(
                address=d.sensor.address,
                athlete=d.athlete.name,
                placement=d.sensor.placement,
                family=d.sensor.family,
                packets=d.packets,
                samples=len(d.block),
                malformed=d.malformed,
                gaps=int(np.count_nonzero(np.diff(times) > GAP_S)),
                lost_samples=d.lost_samples,
                first_s=float(times[0]) if times.size else None,
                last_s=float(times[-1]) if times.size else None,
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
