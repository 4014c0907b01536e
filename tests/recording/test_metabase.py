"""MetaBase CSV import: both header spellings, unequal rates, bad files named clearly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from liftguard.errors import ConfigError
from liftguard.events import Event
from liftguard.recording import read_recording, replay
from liftguard.recording.metabase import import_metabase
from liftguard.samples import FLAG_INTERPOLATED

MAC = "E8:5D:3C:12:34:56"
T0 = 1553524384683.0


def write_csv(
    folder: Path,
    stream: str,
    rate: float,
    seconds: float,
    *,
    spelling: str,
    mac: str = MAC,
    start_ms: float = T0,
) -> Path:
    n = int(seconds * rate)
    t_ms = start_ms + np.arange(n) * 1000.0 / rate
    first = "epoc (ms),timestamp (+0100)" if spelling == "epoc" else "epoch (ms),time (+0100)"
    if stream == "acc":
        unit, name = "(g)", "Accelerometer"
        vals = np.stack([0.1 * np.sin(t_ms / 1000), 0.2 * np.cos(t_ms / 1000), 1 + 0 * t_ms], 1)
    else:
        unit, name = "(deg/s)", "Gyroscope"
        vals = np.stack([10 * np.sin(t_ms / 500), -5 + 0 * t_ms, 3 * np.cos(t_ms / 700)], 1)
    lines = [f"{first},elapsed (s),x-axis {unit},y-axis {unit},z-axis {unit}"]
    for t, v in zip(t_ms, vals, strict=True):
        lines.append(
            f"{int(t)},2019-03-25T15:33:04.683,{(t - t_ms[0]) / 1000:.3f},"
            f"{v[0]:.6f},{v[1]:.6f},{v[2]:.6f}"
        )
    path = folder / f"s1_2019-03-25T15.33.04.683_{mac.replace(':', '')}_{name}_{rate}Hz_1.4.4.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("spelling", ["epoc", "epoch"])
def test_acc_and_gyro_at_different_rates_become_one_sensor(spelling: str, tmp_path: Path) -> None:
    acc = write_csv(tmp_path, "acc", 12.5, 20, spelling=spelling)
    gyr = write_csv(tmp_path, "gyr", 25.0, 20, spelling=spelling)
    out = import_metabase(
        [acc, gyr], athlete="ann", placement="wrist", out=tmp_path / "o.mcap", exercise="deadlift"
    )
    rec = read_recording(out)
    assert rec.clean and rec.meta["source"] == "metabase"
    (sensor,) = rec.config.athletes[0].sensors
    assert sensor.placement == "wrist" and sensor.address == MAC
    assert sensor.rate_hz == pytest.approx(25.0)
    block = np.concatenate([b.t for _, _, b in rec.samples])
    assert block[0] == 0.0 and np.all(np.diff(block) > 0)
    gyr_vals = np.concatenate([b.gyr for _, _, b in rec.samples])
    acc_vals = np.concatenate([b.acc for _, _, b in rec.samples])
    flags = np.concatenate([b.flags for _, _, b in rec.samples])
    # gyro kept at its own 25 Hz timestamps, converted to rad/s
    assert gyr_vals[0, 1] == pytest.approx(np.radians(-5.0))
    # acc in m/s²; every other sample is interpolated between two real 12.5 Hz samples
    assert acc_vals[0, 2] == pytest.approx(9.80665)
    assert np.count_nonzero(flags & FLAG_INTERPOLATED) == pytest.approx(len(flags) / 2, abs=2)
    assert [i.kind if hasattr(i, "kind") else type(i).__name__ for _, i in rec.inputs] == [
        "StartSet"
    ]
    events: list[Event] = []
    replay(rec, events.append)
    # A wrist-only athlete: the set runs (reps from the wrist), and nothing watches the spine.
    assert [e.type for e in events] == ["set", "alert", "summary"]
    assert getattr(events[1], "kind", None) == "no_spine_sensors"


def test_info_reads_an_imported_recording(tmp_path: Path) -> None:
    acc = write_csv(tmp_path, "acc", 12.5, 10, spelling="epoc")
    gyr = write_csv(tmp_path, "gyr", 25.0, 10, spelling="epoc")
    out = tmp_path / "o.mcap"
    lg = [sys.executable, "-m", "liftguard"]
    run = subprocess.run(
        [
            *lg,
            "import",
            "metabase",
            str(acc),
            str(gyr),
            "--athlete",
            "ann",
            "--placement",
            "upper",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    info = subprocess.run([*lg, "info", str(out)], capture_output=True, text=True, timeout=60)
    # gyro samples after the last accelerometer sample (9.92 s) have no acc to pair with
    assert "imported  249 decoded samples" in info.stdout


def test_a_file_without_its_columns_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("epoc (ms),timestamp (+0100),elapsed (s),x-axis (g),z-axis (g)\n1,a,0,1,2\n")
    gyr = write_csv(tmp_path, "gyr", 25.0, 5, spelling="epoc")
    with pytest.raises(ConfigError, match=r"bad\.csv: missing column 'y-axis"):
        import_metabase([bad, gyr], athlete="a", placement="upper", out=tmp_path / "o.mcap")


def test_unsorted_timestamps_are_refused_with_the_row(tmp_path: Path) -> None:
    acc = write_csv(tmp_path, "acc", 12.5, 5, spelling="epoc")
    lines = acc.read_text().splitlines()
    lines[5], lines[6] = lines[6], lines[5]
    acc.write_text("\n".join(lines) + "\n")
    gyr = write_csv(tmp_path, "gyr", 25.0, 5, spelling="epoc")
    with pytest.raises(ConfigError, match="not increasing at line 7"):
        import_metabase([acc, gyr], athlete="a", placement="upper", out=tmp_path / "o.mcap")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("acc_only", "no gyroscope file"),
        ("two_sensors", "different sensors"),
        ("no_overlap", "do not overlap"),
        ("not_metabase", "not a MetaBase CSV"),
    ],
)
def test_files_that_do_not_belong_together_are_one_clear_line(
    case: str, message: str, tmp_path: Path
) -> None:
    acc = write_csv(tmp_path, "acc", 12.5, 5, spelling="epoc")
    if case == "acc_only":
        files = [acc]
    elif case == "two_sensors":
        files = [acc, write_csv(tmp_path, "gyr", 25.0, 5, spelling="epoc", mac="AA:BB:CC:DD:EE:FF")]
    elif case == "no_overlap":
        files = [acc, write_csv(tmp_path, "gyr", 25.0, 5, spelling="epoc", start_ms=T0 + 60e3)]
    else:
        other = tmp_path / "x.csv"
        other.write_text("time,ax\n0,1\n")
        files = [acc, other]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "liftguard",
            "import",
            "metabase",
            *map(str, files),
            "--athlete",
            "a",
            "--placement",
            "sacrum",
            "-o",
            str(tmp_path / "o.mcap"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert len(out.stderr.strip().splitlines()) == 1
    assert message in out.stderr
    assert not (tmp_path / "o.mcap").exists()
