"""The session TOML: the shipped example loads; every mistake is one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from liftguard.config import load_config
from liftguard.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "session.toml"


def test_the_shipped_example_config_loads() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.name == "tuesday-group"
    anna, beth = cfg.athletes
    assert anna.thresholds.levels(50.0) == (28.0 * 2 / 3, 28.0)  # degrees win
    assert anna.thresholds_for("jumping_chinup").alarm_deg == 25.0
    assert beth.thresholds.levels(50.0) == (30.0, 40.0)  # 60 % / 80 % of the maximum
    assert beth.thresholds.levels(None) == (20.0, 30.0)  # nothing calibrated
    assert [s.family for s in beth.sensors] == ["dot", "witmotion"]
    assert beth.sensors[0].rate_hz == 60.0 and beth.sensors[0].mode == 21
    assert anna.sensors[1].rate_hz == 100.0  # family default


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = ", "not valid TOML"),
        ("name = 'x'", "no [[athlete]]"),
        ("[[athlete]]\nname='a'\nfoo=1", "unknown key(s) foo"),
        ("[[athlete]]\nname='a'\n[[athlete.sensor]]\nplacement='upper'", "has no address"),
        (
            "[[athlete]]\nname='a'\n[[athlete.sensor]]\nplacement='knee'\naddress='x'",
            "placement 'knee'",
        ),
        (
            "[[athlete]]\nname='a'\n[[athlete.sensor]]\nplacement='upper'\naddress='x'\n"
            "family='polar'",
            "family 'polar' is not supported",
        ),
        (
            "[[athlete]]\nname='a'\n[[athlete.sensor]]\nplacement='upper'\naddress='x'\n"
            "rate_hz='fast'",
            "must be numbers",
        ),
        (
            "[[athlete]]\nname='a'\nalarm_deg=120\n[[athlete.sensor]]\nplacement='upper'\n"
            "address='x'",
            "alarm_deg must be between",
        ),
        (
            "[[athlete]]\nname='a'\nwarning_fraction=0.9\nalarm_fraction=0.7\n"
            "[[athlete.sensor]]\nplacement='upper'\naddress='x'",
            "warning_fraction <= alarm",
        ),
        (
            "[[athlete]]\nname='a'\n[athlete.exercise.squat]\ncolour='red'\n"
            "[[athlete.sensor]]\nplacement='upper'\naddress='x'",
            "can be set per exercise",
        ),
        (
            "[[athlete]]\nname='a'\n[[athlete.sensor]]\nplacement='upper'\naddress='x'\n"
            "[[athlete]]\nname='b'\n[[athlete.sensor]]\nplacement='upper'\naddress='X'",
            "appears twice",
        ),
        ("[[athlete]]\nname='a'", "no sensors"),
    ],
)
def test_config_mistakes_are_one_line_naming_the_file(
    text: str, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert message in msg and str(path) in msg and "\n" not in msg


def test_a_missing_config_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")
