"""Session configuration: the roster of athletes, their sensors and their thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field

from liftguard.errors import ConfigError

__all__ = ["PLACEMENTS", "AthleteConfig", "SensorConfig", "SessionConfig"]

#: Where a sensor may sit. ``upper`` = over T12/L1, ``sacrum`` = over S1/S2.
PLACEMENTS = ("upper", "sacrum", "wrist", "thigh")
FAMILIES = ("metawear", "dot", "witmotion")
#: The rate a sensor streams at when the roster does not say (Hz): MetaMotion's usual 100 Hz,
#: Movella DOT's fastest streaming rate, WitMotion's 100 Hz setting.
DEFAULT_RATE_HZ = {"metawear": 100.0, "dot": 60.0, "witmotion": 100.0}


@dataclass(frozen=True)
class SensorConfig:
    """One sensor of an athlete.

    ``address`` is the BLE address (or the simulator's); ``rate_hz`` the sample rate
    (0 = the family's default, :data:`DEFAULT_RATE_HZ`);
    ``acc_range_g`` and ``gyro_range_dps`` the measuring ranges (±16 g keeps landings unclipped).
    """

    placement: str
    address: str
    family: str = "metawear"
    name: str | None = None
    rate_hz: float = 0.0
    acc_range_g: int = 16
    gyro_range_dps: int = 2000
    #: Family-specific streaming mode (Movella DOT payload mode); ``None`` = the family default.
    mode: int | None = None

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ConfigError(
                f"sensor {self.address}: placement {self.placement!r} is not one of "
                f"{', '.join(PLACEMENTS)}"
            )
        if self.family not in FAMILIES:
            raise ConfigError(
                f"sensor {self.address}: family {self.family!r} is not supported "
                f"(supported: {', '.join(FAMILIES)})"
            )
        if self.rate_hz == 0:
            object.__setattr__(self, "rate_hz", DEFAULT_RATE_HZ[self.family])
        if not self.rate_hz > 0:
            raise ConfigError(f"sensor {self.address}: rate_hz must be positive")


@dataclass(frozen=True)
class AthleteConfig:
    """An athlete: name, sensors, and personal flexion alarm (degrees from neutral, hold in s).

    Lumbar flexion needs an ``upper`` and a ``sacrum`` sensor; an athlete with fewer (e.g. a
    wrist-only import) is recorded and replayed, but has no flexion alarm.
    """

    name: str
    sensors: tuple[SensorConfig, ...]
    alarm_deg: float = 30.0
    hold_s: float = 0.1

    def __post_init__(self) -> None:
        placements = [s.placement for s in self.sensors]
        if not placements:
            raise ConfigError(f"athlete {self.name}: no sensors in the roster")
        if len(set(placements)) != len(placements):
            raise ConfigError(f"athlete {self.name}: two sensors share a placement")
        if not 0 < self.alarm_deg < 90:
            raise ConfigError(f"athlete {self.name}: alarm_deg must be between 0 and 90")
        if not 0 <= self.hold_s <= 5:
            raise ConfigError(f"athlete {self.name}: hold_s must be between 0 and 5 s")


@dataclass(frozen=True)
class SessionConfig:
    """A session: its name and roster."""

    name: str
    athletes: tuple[AthleteConfig, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names = [a.name for a in self.athletes]
        if len(set(names)) != len(names):
            raise ConfigError("two athletes share a name")
        addresses = [s.address.upper() for a in self.athletes for s in a.sensors]
        if len(set(addresses)) != len(addresses):
            raise ConfigError("a sensor address appears twice in the roster")

    def sensors(self) -> list[tuple[AthleteConfig, SensorConfig]]:
        """Every (athlete, sensor) pair, roster order."""
        return [(a, s) for a in self.athletes for s in a.sensors]
