"""`liftguard simulate`: recordings like live ones, with truth, reproducible from the seed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from liftguard.events import Event
from liftguard.recording import read_recording, replay

PROGRAM = """
[[exercise]]
name = "deadlift"
sets = 1
reps = 3
[[exercise]]
name = "jumping_chinup"
sets = 1
reps = 2
"""


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "liftguard", "simulate", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prog") / "program.toml"
    path.write_text(PROGRAM)
    return path


def test_same_seed_gives_a_bit_identical_file_and_another_seed_does_not(
    program: Path, tmp_path: Path
) -> None:
    files = []
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        out = simulate("--program", str(program), "--seed", seed, "-o", str(tmp_path / name))
        assert out.returncode == 0, out.stderr
        files.append((tmp_path / name).read_bytes())
    assert files[0] == files[1]
    assert files[0] != files[2]


def test_a_simulated_recording_carries_truth_and_replays(program: Path, tmp_path: Path) -> None:
    path = tmp_path / "s.mcap"
    out = simulate("--program", str(program), "--seed", "3", "--family", "dot", "-o", str(path))
    assert out.returncode == 0, out.stderr
    rec = read_recording(path)
    assert rec.clean and rec.simulated
    assert {s.family for _, s in rec.config.sensors()} == {"dot"}
    (truth,) = rec.truth
    assert truth["reps_by_exercise"] == {"deadlift": 3, "jumping_chinup": 2}
    assert {r["exercise"] for r in truth["reps_detail"]} == {"deadlift", "jumping_chinup"}
    cols = rec.truth_samples
    t = np.concatenate([c["t"] for c in cols])
    assert np.allclose(np.diff(t), 0.01)  # 100 Hz truth
    phases = set(np.concatenate([c["phase"] for c in cols]))
    assert {"flight", "landing"} <= phases
    assert rec.batches  # raw notifications, like a live session
    events: list[Event] = []
    replay(rec, events.append)
    reps = [e.to_json() for e in events if e.type == "rep"]
    assert [r["exercise"] for r in reps] == ["deadlift"] * 3 + ["jumping_chinup"] * 2
    assert all(r["peak_landing_acc_g"] > 2.0 for r in reps[3:])  # jumps carry landing metrics


def test_dataset_writes_k_sessions_of_different_athletes(program: Path, tmp_path: Path) -> None:
    out = simulate(
        "--program", str(program), "--dataset", str(tmp_path / "ds"), "--count", "2", "--seed", "10"
    )
    assert out.returncode == 0, out.stderr
    files = sorted((tmp_path / "ds").glob("*.mcap"))
    assert [f.name for f in files] == ["session_00010.mcap", "session_00011.mcap"]
    names = {read_recording(f).config.athletes[0].name for f in files}
    assert len(names) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--program", "/nonexistent.toml", "-o", "x.mcap"], "no such program file"),
        (["--program", "liftmor"], "one of the arguments -o/--output --dataset is required"),
    ],
)
def test_bad_simulate_arguments_are_one_line(args: list[str], message: str) -> None:
    out = simulate(*args)
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1 and message in out.stderr
