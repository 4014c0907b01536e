"""Session configuration: the roster of athletes, their sensors and their thresholds."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liftguard.errors import ConfigError

__all__ = [
    "PLACEMENTS",
    "AthleteConfig",
    "SensorConfig",
    "SessionConfig",
    "Thresholds",
    "load_config",
]

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
    (0 = the family's default, :data:`DEFAULT_RATE_HZ`) — the accelerometer's when
    ``gyro_rate_hz`` gives the gyroscope its own (MetaMotion only; ``None`` = ``rate_hz``);
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
    #: Gyroscope rate (Hz) when it differs from the accelerometer's ``rate_hz`` (MetaMotion);
    #: ``None`` = ``rate_hz``. The two streams are merged at the faster rate.
    gyro_rate_hz: float | None = None

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
        try:
            for name, kind in (("rate_hz", float), ("acc_range_g", int), ("gyro_range_dps", int)):
                value = getattr(self, name)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise TypeError
                object.__setattr__(self, name, kind(value))
        except TypeError:
            raise ConfigError(
                f"sensor {self.address}: rate_hz, acc_range_g and gyro_range_dps must be numbers"
            ) from None
        if self.rate_hz == 0:
            object.__setattr__(self, "rate_hz", DEFAULT_RATE_HZ[self.family])
        if not self.rate_hz > 0:
            raise ConfigError(f"sensor {self.address}: rate_hz must be positive")
        gyro = self.gyro_rate_hz
        if gyro is not None:
            if isinstance(gyro, bool) or not isinstance(gyro, int | float) or not gyro > 0:
                raise ConfigError(
                    f"sensor {self.address}: gyro_rate_hz must be a positive number, got {gyro!r}"
                )
            object.__setattr__(self, "gyro_rate_hz", float(gyro))
            if self.family != "metawear" and self.gyro_rate_hz != self.rate_hz:
                raise ConfigError(
                    f"sensor {self.address}: a {self.family} sensor streams acc and gyro "
                    f"together, so gyro_rate_hz ({gyro:g}) must equal rate_hz "
                    f"({self.rate_hz:g}) or be left out"
                )

    @property
    def stream_rate_hz(self) -> float:
        """Rate of the sensor's merged acc + gyro sample stream, Hz: the faster of the two."""
        if self.gyro_rate_hz is None:
            return self.rate_hz
        return max(self.rate_hz, self.gyro_rate_hz)


#: Default flexion levels as fractions of the athlete's calibrated maximum (published
#: biofeedback cued at 80 % of maximum lumbar flexion), and in degrees from neutral when no
#: maximum was calibrated.
WARNING_FRACTION, ALARM_FRACTION = 0.6, 0.8
WARNING_DEG, ALARM_DEG = 20.0, 30.0


@dataclass(frozen=True)
class Thresholds:
    """When lumbar flexion warns and alarms.

    Degrees (``warning_deg``/``alarm_deg``, from neutral) win when given; otherwise fractions
    of the athlete's calibrated maximum flexion; without a calibrated maximum, 20° and 30°.
    ``hold_s``: how long flexion must stay above a level; ``hysteresis_deg``: how far below
    it must fall to end an excursion (so a wobble at the edge is one excursion, not many).
    """

    warning_fraction: float = WARNING_FRACTION
    alarm_fraction: float = ALARM_FRACTION
    warning_deg: float | None = None
    alarm_deg: float | None = None
    hold_s: float = 0.1
    hysteresis_deg: float = 2.0

    def check(self, who: str) -> None:
        """Raise ConfigError naming ``who`` for impossible values."""
        if not 0 < self.warning_fraction <= self.alarm_fraction <= 1.0:
            raise ConfigError(f"{who}: need 0 < warning_fraction <= alarm_fraction <= 1")
        for name in ("warning_deg", "alarm_deg"):
            value = getattr(self, name)
            if value is not None and not 0 < value < 90:
                raise ConfigError(f"{who}: {name} must be between 0 and 90")
        if (
            self.warning_deg is not None
            and self.alarm_deg is not None
            and self.warning_deg > self.alarm_deg
        ):
            raise ConfigError(f"{who}: warning_deg is above alarm_deg")
        if not 0 <= self.hold_s <= 5:
            raise ConfigError(f"{who}: hold_s must be between 0 and 5 s")
        if not 0 <= self.hysteresis_deg <= 10:
            raise ConfigError(f"{who}: hysteresis_deg must be between 0 and 10")

    def levels(self, max_flexion_deg: float | None) -> tuple[float, float]:
        """``(warning, alarm)`` in degrees from neutral for this athlete now."""
        if self.alarm_deg is not None:
            warning = (
                self.warning_deg
                if self.warning_deg is not None
                else self.alarm_deg * WARNING_DEG / ALARM_DEG
            )
            return warning, self.alarm_deg
        if max_flexion_deg is not None and max_flexion_deg > 0:
            return (
                self.warning_fraction * max_flexion_deg,
                self.alarm_fraction * max_flexion_deg,
            )
        return (self.warning_deg if self.warning_deg is not None else WARNING_DEG), ALARM_DEG


@dataclass(frozen=True)
class AthleteConfig:
    """An athlete: name, sensors, and personal flexion thresholds.

    ``thresholds`` apply to every exercise unless ``exercises`` overrides them for one
    (``(("deadlift", Thresholds(...)), …)``). Lumbar flexion needs an ``upper`` and a
    ``sacrum`` sensor; an athlete with fewer (e.g. a wrist-only import) is recorded and
    replayed, but has no flexion alarm.
    """

    name: str
    sensors: tuple[SensorConfig, ...]
    thresholds: Thresholds = field(default_factory=Thresholds)
    exercises: tuple[tuple[str, Thresholds], ...] = ()

    def __post_init__(self) -> None:
        placements = [s.placement for s in self.sensors]
        if not placements:
            raise ConfigError(f"athlete {self.name}: no sensors in the roster")
        if len(set(placements)) != len(placements):
            raise ConfigError(f"athlete {self.name}: two sensors share a placement")
        self.thresholds.check(f"athlete {self.name}")
        for exercise, th in self.exercises:
            th.check(f"athlete {self.name}, {exercise}")

    def thresholds_for(self, exercise: str) -> Thresholds:
        """The thresholds in force for ``exercise``."""
        return dict(self.exercises).get(exercise, self.thresholds)


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


_THRESHOLD_KEYS = {
    "warning_fraction",
    "alarm_fraction",
    "warning_deg",
    "alarm_deg",
    "hold_s",
    "hysteresis_deg",
}
_ATHLETE_KEYS = {"name", "sensor", "exercise"} | _THRESHOLD_KEYS
_SENSOR_KEYS = {
    "placement",
    "address",
    "family",
    "name",
    "rate_hz",
    "acc_range_g",
    "gyro_range_dps",
    "mode",
    "gyro_rate_hz",
}


def load_config(path: str | Path) -> SessionConfig:
    """Read a session TOML (see ``examples/session.toml``).

    Raises:
        ConfigError: the file is missing, not TOML, or describes an impossible roster; the
            message is one line naming the file and the problem.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return _config_from_doc(doc, default_name=path.stem)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}", reason=exc.reason) from None


def _config_from_doc(doc: dict[str, Any], *, default_name: str) -> SessionConfig:
    unknown = set(doc) - {"name", "defaults", "athlete"}
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(sorted(unknown))}")
    defaults: dict[str, Any] = doc.get("defaults", {})
    if not isinstance(defaults, dict) or set(defaults) - _THRESHOLD_KEYS:
        raise ConfigError(f"[defaults] may only set {', '.join(sorted(_THRESHOLD_KEYS))}")
    athletes_doc = doc.get("athlete")
    if not isinstance(athletes_doc, list) or not athletes_doc:
        raise ConfigError("no [[athlete]] in the roster")
    athletes = []
    for i, a in enumerate(athletes_doc, 1):
        if not isinstance(a, dict) or "name" not in a:
            raise ConfigError(f"athlete #{i} has no name")
        extra = set(a) - _ATHLETE_KEYS
        if extra:
            raise ConfigError(f"athlete {a['name']}: unknown key(s) {', '.join(sorted(extra))}")
        sensors = []
        for s in a.get("sensor", []):
            if not isinstance(s, dict):
                raise ConfigError(f"athlete {a['name']}: [[athlete.sensor]] must be a table")
            extra = set(s) - _SENSOR_KEYS
            if extra:
                raise ConfigError(
                    f"athlete {a['name']}: unknown sensor key(s) {', '.join(sorted(extra))}"
                )
            for needed in ("placement", "address"):
                if needed not in s:
                    raise ConfigError(f"athlete {a['name']}: a sensor has no {needed}")
            try:
                sensors.append(SensorConfig(**s))
            except TypeError as exc:
                raise ConfigError(f"athlete {a['name']}: bad sensor ({exc})") from None
        base = _thresholds({**defaults, **{k: a[k] for k in _THRESHOLD_KEYS if k in a}}, a["name"])
        per_exercise = []
        exercises_doc = a.get("exercise", {})
        if not isinstance(exercises_doc, dict):
            raise ConfigError(f"athlete {a['name']}: [athlete.exercise.NAME] must be tables")
        for exercise, overrides in exercises_doc.items():
            if not isinstance(overrides, dict) or set(overrides) - _THRESHOLD_KEYS:
                raise ConfigError(
                    f"athlete {a['name']}, {exercise}: only "
                    f"{', '.join(sorted(_THRESHOLD_KEYS))} can be set per exercise"
                )
            merged = {**defaults, **{k: a[k] for k in _THRESHOLD_KEYS if k in a}, **overrides}
            per_exercise.append((str(exercise), _thresholds(merged, a["name"])))
        athletes.append(
            AthleteConfig(
                name=str(a["name"]),
                sensors=tuple(sensors),
                thresholds=base,
                exercises=tuple(per_exercise),
            )
        )
    return SessionConfig(name=str(doc.get("name", default_name)), athletes=tuple(athletes))


def _thresholds(values: dict[str, Any], who: object) -> Thresholds:
    try:
        kwargs: dict[str, Any] = {k: (None if v is None else float(v)) for k, v in values.items()}
        return Thresholds(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"athlete {who}: thresholds must be numbers ({exc})") from None
