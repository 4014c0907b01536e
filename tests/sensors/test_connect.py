"""check_sensor: what no driver could stream is refused before any radio traffic."""

from __future__ import annotations

import pytest

from liftguard.config import SensorConfig
from liftguard.errors import ConfigError
from liftguard.sensors.connect import check_sensor


def test_a_metamotion_gyro_rate_the_chip_cannot_run_is_refused_before_connecting() -> None:
    sensor = SensorConfig("upper", "AA:00:00:00:00:01", rate_hz=100.0, gyro_rate_hz=150.0)
    with pytest.raises(ConfigError) as info:
        check_sensor(sensor)
    assert str(info.value).startswith("sensor AA:00:00:00:00:01: gyro_rate_hz must be one of")


def test_a_metamotion_with_its_own_valid_gyro_rate_passes() -> None:
    check_sensor(SensorConfig("upper", "AA:00:00:00:00:01", rate_hz=50.0, gyro_rate_hz=200.0))


def test_a_refused_metamotion_rate_names_the_roster_key() -> None:
    with pytest.raises(ConfigError, match=r"AA:00:00:00:00:01: rate_hz must be one of 25, 50"):
        check_sensor(SensorConfig("upper", "AA:00:00:00:00:01", rate_hz=150.0))
