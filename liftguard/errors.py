"""The exception tree.

Every error LiftGuard raises on purpose derives from :class:`LiftGuardError` and carries a
``reason`` code, so callers (the CLI, the dashboard, tests) can tell failures apart without
parsing messages::

    LiftGuardError
    ├── ConfigError              bad session config or command-line value
    ├── SensorNotFoundError      a roster sensor was not seen while scanning
    ├── BluetoothUnavailableError  no adapter / no BlueZ on this machine
    ├── ProtocolError            bytes that do not follow a sensor family's wire format
    ├── CorruptRecordingError    a recording that cannot be read
    └── IncompatibleModelError   a technique model this version cannot run
"""

from __future__ import annotations

__all__ = [
    "BluetoothUnavailableError",
    "ConfigError",
    "CorruptRecordingError",
    "IncompatibleModelError",
    "LiftGuardError",
    "ProtocolError",
    "SensorNotFoundError",
]


class LiftGuardError(Exception):
    """Root of every error LiftGuard raises deliberately.

    ``reason`` is a short, stable, machine-readable code (``"bad_value"``, ``"truncated"`` …);
    ``str(error)`` is the one-line, human-readable message the CLI prints.
    """

    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class ConfigError(LiftGuardError):
    """A session configuration or command-line value is invalid."""

    reason = "bad_config"


class SensorNotFoundError(LiftGuardError):
    """A sensor named in the roster was not found."""

    reason = "sensor_not_found"


class BluetoothUnavailableError(LiftGuardError):
    """The machine has no usable Bluetooth stack (no adapter, no BlueZ, no system bus)."""

    reason = "no_bluetooth"


class ProtocolError(LiftGuardError):
    """Bytes that do not follow the sensor family's wire format."""

    reason = "protocol"


class CorruptRecordingError(LiftGuardError):
    """A recording file is damaged, truncated or not a LiftGuard recording."""

    reason = "corrupt_recording"


class IncompatibleModelError(LiftGuardError):
    """A technique model file this version of LiftGuard cannot run."""

    reason = "incompatible_model"
