"""CSV export: samples round-trip exactly; reps and alerts as seen live."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np

from liftguard.events import Event
from liftguard.recording import read_recording
from liftguard.recording.decode import decode_sensors
from liftguard.recording.export import REP_COLUMNS, SAMPLE_COLUMNS


def test_export_writes_one_csv_per_sensor_and_reps_and_alerts(
    demo_recording: tuple[Path, list[Event]], tmp_path: Path
) -> None:
    path, live = demo_recording
    out = tmp_path / "csv"
    run = subprocess.run(
        [sys.executable, "-m", "liftguard", "export", str(path), "--csv", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "alerts.csv",
        "anna_sacrum.csv",
        "anna_upper.csv",
        "beth_sacrum.csv",
        "beth_upper.csv",
        "reps.csv",
    ]
    with open(out / "reps.csv") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == REP_COLUMNS
    assert len(rows) == sum(e.type == "rep" for e in live)
    with open(out / "alerts.csv") as f:
        assert len(list(csv.DictReader(f))) == sum(e.type == "alert" for e in live)


def test_exported_samples_read_back_to_the_same_float64(
    demo_recording: tuple[Path, list[Event]], tmp_path: Path
) -> None:
    path, _ = demo_recording
    rec = read_recording(path)
    from liftguard.recording.export import export_csv

    export_csv(rec, tmp_path)
    for d in decode_sensors(rec):
        f = tmp_path / f"{d.athlete.name}_{d.sensor.placement}.csv"
        header = f.read_text().splitlines()[0].split(",")
        assert header[: len(SAMPLE_COLUMNS)] == list(SAMPLE_COLUMNS)
        table = np.loadtxt(f, delimiter=",", skiprows=1)
        assert table.shape[0] == len(d.block) > 5000
        np.testing.assert_array_equal(table[:, 0], d.block.t)
        np.testing.assert_array_equal(table[:, 1:4], d.block.acc)
        np.testing.assert_array_equal(table[:, 4:7], d.block.gyr)
