"""Importing MbientLab MetaBase CSV exports into a LiftGuard recording.

MetaBase writes one CSV per sensor stream, e.g.::

    epoc (ms),timestamp (+0100),elapsed (s),x-axis (g),y-axis (g),z-axis (g)
    1553524384683,2019-03-25T15:33:04.683,0.000,-0.010,0.997,0.063

(some app versions spell the first columns ``epoch (ms),time (…)``); gyroscope files carry
``(deg/s)``, sensor-fusion quaternion files ``w (number),x (number),…``. The accelerometer and
the gyroscope of one session usually come at different rates (e.g. 12.5 Hz and 25 Hz).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from liftguard.config import AthleteConfig, SensorConfig, SessionConfig
from liftguard.errors import ConfigError
from liftguard.firmware_bridge.metawear.resample import interpolate_onto
from liftguard.inputs import StartSet
from liftguard.recording.recorder import Recorder
from liftguard.samples import FLAG_INTERPOLATED, SampleBlock

__all__ = ["MetaBaseStream", "import_metabase", "read_metabase_csv"]

G = 9.80665
_EPOCH = ("epoc (ms)", "epoch (ms)")
_MAC = re.compile(r"_((?:[0-9A-F]{2}[:-]?){5}[0-9A-F]{2})_", re.IGNORECASE)
#: samples per message in the recording (about a second at MetaBase's usual rates)
_BLOCK = 100


@dataclass(frozen=True)
class MetaBaseStream:
    """One MetaBase CSV: ``kind`` is ``acc`` (m/s²), ``gyr`` (rad/s) or ``quat`` ([w,x,y,z]).

    ``t_ms`` ``(N,)`` device epoch milliseconds; ``values`` ``(N, 3)`` or ``(N, 4)`` SI.
    """

    path: Path
    kind: str
    t_ms: np.ndarray
    values: np.ndarray
    mac: str | None

    @property
    def rate_hz(self) -> float:
        if self.t_ms.size < 2:
            return 0.0
        return float(1000.0 / np.median(np.diff(self.t_ms)))


def read_metabase_csv(path: Path | str) -> MetaBaseStream:
    """Parse one MetaBase CSV; raises ConfigError with the file and the problem in one line."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from exc
    if not rows:
        raise ConfigError(f"{path}: empty file")
    header = [h.strip().lower() for h in rows[0]]
    if not header or header[0] not in _EPOCH:
        raise ConfigError(
            f"{path}: not a MetaBase CSV (first column must be 'epoc (ms)' or 'epoch (ms)')"
        )
    kind, cols, scale = _columns(path, header)
    try:
        data = np.array([[float(r[0])] + [float(r[c]) for c in cols] for r in rows[1:] if r])
    except (ValueError, IndexError) as exc:
        raise ConfigError(f"{path}: a row is malformed or short ({exc})") from exc
    if data.shape[0] == 0:
        raise ConfigError(f"{path}: no samples")
    t_ms = data[:, 0]
    bad = np.nonzero(np.diff(t_ms) <= 0)[0]
    if bad.size:
        raise ConfigError(f"{path}: timestamps are not increasing at line {int(bad[0]) + 3}")
    if not np.all(np.isfinite(data)):
        raise ConfigError(f"{path}: non-numeric or infinite values")
    match = _MAC.search(path.name)
    mac = None
    if match:
        hexes = re.sub(r"[^0-9A-Fa-f]", "", match.group(1)).upper()
        mac = ":".join(hexes[i : i + 2] for i in range(0, 12, 2))
    return MetaBaseStream(path, kind, t_ms, data[:, 1:] * scale, mac)


def _columns(path: Path, header: list[str]) -> tuple[str, list[int], float]:
    def find(name: str) -> int:
        for i, h in enumerate(header):
            if h.startswith(name):
                return i
        raise ConfigError(f"{path}: missing column '{name} (…)'")

    units = " ".join(header[3:])
    if "(g)" in units:
        return "acc", [find("x-axis"), find("y-axis"), find("z-axis")], G
    if "(deg/s)" in units:
        return "gyr", [find("x-axis"), find("y-axis"), find("z-axis")], float(np.pi / 180)
    if "w (number)" in header:
        return (
            "quat",
            [find("w (number)"), find("x (number)"), find("y (number)"), find("z (number)")],
            1.0,
        )
    raise ConfigError(
        f"{path}: unsupported MetaBase stream (columns {', '.join(header[3:]) or 'none'}); "
        "LiftGuard imports accelerometer (g), gyroscope (deg/s) and quaternion files"
    )


def pair_streams(streams: list[MetaBaseStream]) -> tuple[SampleBlock, float]:
    """One sensor's accelerometer and gyroscope (and quaternion) on one time base.

    The faster of acc and gyro keeps its own device timestamps; the other is interpolated
    onto them (flagged ``interpolated`` where it had no sample of its own). Times are
    session seconds from the first common instant.

    Returns:
        ``(block, rate_hz)``.
    """
    by_kind: dict[str, MetaBaseStream] = {}
    for s in streams:
        if s.kind in by_kind:
            raise ConfigError(f"{s.path}: a second {s.kind} file for the same sensor")
        by_kind[s.kind] = s
    macs = {s.mac for s in streams if s.mac}
    if len(macs) > 1:
        raise ConfigError(f"the files come from different sensors ({', '.join(sorted(macs))})")
    if "acc" not in by_kind or "gyr" not in by_kind:
        missing = "accelerometer" if "acc" not in by_kind else "gyroscope"
        raise ConfigError(f"no {missing} file given: LiftGuard needs both acc and gyro")
    acc, gyr = by_kind["acc"], by_kind["gyr"]
    base, other = (gyr, acc) if gyr.rate_hz >= acc.rate_hz else (acc, gyr)
    lo = max(acc.t_ms[0], gyr.t_ms[0])
    hi = min(acc.t_ms[-1], gyr.t_ms[-1])
    if hi <= lo:
        raise ConfigError(f"{acc.path.name} and {gyr.path.name} do not overlap in time")
    keep = (base.t_ms >= lo) & (base.t_ms <= hi)
    t_ms = base.t_ms[keep]
    resampled, own = interpolate_onto(t_ms, other.t_ms, other.values)
    flags = np.where(own, 0, FLAG_INTERPOLATED).astype(np.uint8)
    quat = None
    if "quat" in by_kind:
        q = by_kind["quat"]
        quat, _ = interpolate_onto(t_ms, q.t_ms, q.values)
        quat /= np.linalg.norm(quat, axis=1, keepdims=True)
    acc_v = base.values[keep] if base is acc else resampled
    gyr_v = base.values[keep] if base is gyr else resampled
    block = SampleBlock(t=(t_ms - t_ms[0]) / 1000.0, acc=acc_v, gyr=gyr_v, quat=quat, flags=flags)
    return block, base.rate_hz


def import_metabase(
    files: list[Path | str],
    *,
    athlete: str,
    placement: str,
    out: Path | str,
    exercise: str | None = None,
) -> Path:
    """Write a recording of one sensor from its MetaBase CSVs.

    Raises:
        ConfigError: a file is missing, malformed or unsupported, the files do not belong
            together, or ``out`` cannot be written — one line naming the file and the problem.
    """
    streams = [read_metabase_csv(f) for f in files]
    block, rate = pair_streams(streams)
    mac = next((s.mac for s in streams if s.mac), None) or "00:00:00:00:00:01"
    sensor = SensorConfig(placement=placement, address=mac, family="metawear", rate_hz=rate)
    config = SessionConfig(
        name=f"metabase_{athlete}", athletes=(AthleteConfig(athlete, (sensor,)),)
    )
    recorder = Recorder(
        out,
        config,
        meta={
            "source": "metabase",
            "imported_from": [str(Path(f).name) for f in files],
            "device_epoch_ms": float(streams[0].t_ms[0]),
        },
    )
    try:
        if exercise is not None:
            recorder.input(StartSet(0.0, athlete, exercise, 1, 0))
        for i in range(0, len(block), _BLOCK):
            recorder.samples(mac, block.slice(i, i + _BLOCK))
    finally:
        recorder.close()
    return Path(out)
