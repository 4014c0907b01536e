"""The command line: help that explains, and one clear line for every mistake."""

from __future__ import annotations

import subprocess
import sys

import pytest


def liftguard(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "liftguard", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_explains_the_commands() -> None:
    out = liftguard("--help")
    assert out.returncode == 0
    assert "demo" in out.stdout
    assert "not a medical device" in out.stdout


def test_demo_help_lists_its_options() -> None:
    out = liftguard("demo", "--help")
    assert out.returncode == 0
    for flag in ("--athletes", "--duration", "--speed", "--seed", "--json"):
        assert flag in out.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["demo", "--athletes", "0"], "--athletes"),
        (["demo", "--athletes", "17"], "--athletes"),
        (["demo", "--athletes", "two"], "--athletes"),
        (["demo", "--speed", "-1"], "--speed"),
        (["demo", "--speed", "0"], "--speed"),
        (["demo", "--speed", "inf"], "--speed"),
        (["demo", "--duration", "10"], "--duration"),
        (["demo", "--seed", "-3"], "--seed"),
        (["demo", "--bogus"], "--bogus"),
        (["nonsense"], "nonsense"),
        ([], "required"),
    ],
)
def test_bad_input_gets_one_line_and_a_non_zero_exit(args: list[str], expected: str) -> None:
    out = liftguard(*args)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert expected in lines[0]
    assert "Traceback" not in out.stderr
