"""From a sensor's notifications to whole samples: the interface every family's assembler has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from liftguard._types import FloatArray

__all__ = ["Assembler", "RawSamples"]


@dataclass(frozen=True)
class RawSamples:
    """Complete samples decoded from notifications, not yet on the session clock.

    ``acc`` ``(n, 3)`` m/s², ``gyr`` ``(n, 3)`` rad/s, ``flags`` ``(n,)`` uint8 (see
    :mod:`liftguard.samples`), ``t_device`` ``(n,)`` device seconds (unwrapped, monotonic) or
    ``None`` when the stream has no device clock, ``quat`` ``(n, 4)`` the device's own
    orientation estimate ``[w, x, y, z]`` sensor-to-world where the stream carries one.
    ``host_time`` is when the notification completing them arrived.
    """

    host_time: float
    acc: FloatArray
    gyr: FloatArray
    flags: npt.NDArray[np.uint8]
    t_device: FloatArray | None = None
    quat: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.acc.shape[0])


class Assembler(Protocol):
    """Turns one sensor's notifications into :class:`RawSamples`.

    ``feed`` never raises on bad bytes: it counts them in ``malformed`` and returns ``None``.
    """

    rate_hz: float

    @property
    def malformed(self) -> int:
        """Notifications that were not valid data, counted and skipped."""

    def feed(self, host_time: float, data: bytes | bytearray) -> RawSamples | None: ...
