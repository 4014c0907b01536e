"""The host clock that stamps every received notification.

Everything downstream of the radio (time sync, fusion, alerts) reads time from a :class:`Clock`
rather than from :mod:`time`, so the same code runs on real hardware (:class:`MonotonicClock`) and
inside the simulator (:class:`liftguard.sensors.simulated.SimulatedWorld`), where time is simulated
and reproducible.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "MonotonicClock"]


@runtime_checkable
class Clock(Protocol):
    """A session clock on the host receive time base."""

    def now(self) -> float:
        """Seconds since the session started; never decreases."""
        ...


class MonotonicClock:
    """The clock for real hardware: ``time.monotonic()`` in seconds since construction.

    Monotonic rather than wall time, so NTP steps and DST changes cannot make receive times jump.
    """

    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> float:
        """Seconds since this clock was constructed."""
        return time.monotonic() - self._start
