"""``liftguard export FILE --csv DIR``: spreadsheets of samples, reps and alerts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from liftguard.errors import ConfigError
from liftguard.recording.decode import decode_sensors
from liftguard.recording.reader import Recording
from liftguard.samples import FLAG_CLIPPED, FLAG_INTERPOLATED

__all__ = ["ALERT_COLUMNS", "REP_COLUMNS", "SAMPLE_COLUMNS", "export_csv"]

#: Columns of each sensor's CSV (``quat_*`` only for sensors that report an orientation).
SAMPLE_COLUMNS = (
    "t_s",
    "acc_x_mps2",
    "acc_y_mps2",
    "acc_z_mps2",
    "gyr_x_radps",
    "gyr_y_radps",
    "gyr_z_radps",
)
QUAT_COLUMNS = ("quat_w", "quat_x", "quat_y", "quat_z")
FLAG_COLUMNS = ("clipped", "interpolated")
REP_COLUMNS = ("athlete", "exercise", "set", "rep", "t_start_s", "t_end_s", "peak_flexion_deg")
ALERT_COLUMNS = (
    "athlete",
    "id",
    "t_s",
    "kind",
    "severity",
    "value_deg",
    "threshold_deg",
    "exercise",
    "set",
    "rep",
    "acknowledged_t_s",
)


def export_csv(rec: Recording, folder: Path | str) -> list[Path]:
    """Write one CSV per sensor plus ``reps.csv`` and ``alerts.csv`` into ``folder``.

    Sensor files are ``<athlete>_<placement>.csv``: session seconds, SI units, the device
    quaternion where present, and 0/1 flags. Reps and alerts are the ones recorded live.

    Returns:
        The files written.

    Raises:
        ConfigError: ``folder`` cannot be created or written.
    """
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {out}: {exc.strerror}") from exc
    written: list[Path] = []
    try:
        for d in decode_sensors(rec):
            b = d.block
            cols: list[np.ndarray] = [b.t[:, None], b.acc, b.gyr]
            header = list(SAMPLE_COLUMNS)
            if b.quat is not None:
                cols.append(b.quat)
                header += QUAT_COLUMNS
            flags = np.stack(
                [(b.flags & FLAG_CLIPPED) != 0, (b.flags & FLAG_INTERPOLATED) != 0], axis=1
            )
            header += FLAG_COLUMNS
            path = out / f"{d.athlete.name}_{d.sensor.placement}.csv"
            with open(path, "w", newline="") as f:
                f.write(",".join(header) + "\n")
                # 17 significant digits: a float64 read back is the same float64.
                values = np.concatenate(cols, axis=1) if len(b) else np.zeros((0, len(cols)))
                for row, fl in zip(values.tolist(), flags.astype(int).tolist(), strict=True):
                    f.write(",".join([*(repr(v) for v in row), str(fl[0]), str(fl[1])]) + "\n")
            written.append(path)
        written.append(_write_rows(out / "reps.csv", REP_COLUMNS, _reps(rec)))
        written.append(_write_rows(out / "alerts.csv", ALERT_COLUMNS, _alerts(rec)))
    except OSError as exc:
        raise ConfigError(f"cannot write into {out}: {exc.strerror}") from exc
    return written


def _reps(rec: Recording) -> list[list[object]]:
    return [
        [
            e["athlete"],
            e["exercise"],
            e["set"],
            e["rep"],
            e["t_start"],
            e["t_end"],
            e["peak_flexion_deg"],
        ]
        for e in rec.events
        if e.get("type") == "rep"
    ]


def _alerts(rec: Recording) -> list[list[object]]:
    acked = {e["alert_id"]: e["t"] for e in rec.events if e.get("type") == "alert_ack"}
    return [
        [
            e["athlete"],
            e["id"],
            e["t"],
            e["kind"],
            e["severity"],
            e.get("value_deg"),
            e.get("threshold_deg"),
            e.get("exercise"),
            e.get("set"),
            e.get("rep"),
            acked.get(e["id"]),
        ]
        for e in rec.events
        if e.get("type") == "alert"
    ]


def _write_rows(path: Path, header: tuple[str, ...], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(["" if v is None else v for v in row] for row in rows)
    return path
