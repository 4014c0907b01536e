"""LiftGuard: spine-flexion monitoring for supervised heavy lifting and impact training.

The public surface is deliberately small; everything else lives in the subpackages
(``sensors``, ``firmware_bridge``, ``signal``, ``sim``, ``alerts``) named for what they hold.
"""

from __future__ import annotations

from liftguard.errors import (
    BluetoothUnavailableError,
    ConfigError,
    CorruptRecordingError,
    IncompatibleModelError,
    LiftGuardError,
    ProtocolError,
    SensorNotFoundError,
)
from liftguard.samples import FLAG_CLIPPED, FLAG_INTERPOLATED, SampleBlock

__version__ = "0.1.0"

__all__ = [
    "FLAG_CLIPPED",
    "FLAG_INTERPOLATED",
    "BluetoothUnavailableError",
    "ConfigError",
    "CorruptRecordingError",
    "IncompatibleModelError",
    "LiftGuardError",
    "ProtocolError",
    "SampleBlock",
    "SensorNotFoundError",
    "__version__",
]
