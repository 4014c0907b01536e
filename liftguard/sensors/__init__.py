"""Getting IMU data off the radio: the host clock and the simulated bleak backend.

Driver code talks to bleak's public API only; :class:`SimulatedWorld` supplies backend classes
that put emulated sensors behind it, and :class:`Clock` is the time base receive times use.
"""

from __future__ import annotations

from liftguard.sensors.clock import Clock, MonotonicClock
from liftguard.sensors.simulated import SimulatedWorld

__all__ = ["Clock", "MonotonicClock", "SimulatedWorld"]
