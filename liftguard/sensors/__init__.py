"""Getting IMU data off the radio: the connection manager, the host clock, the simulated backend.

Driver code talks to bleak's public API only; :class:`ConnectionManager` connects a roster and
keeps it streaming, :class:`SimulatedWorld` supplies backend classes that put emulated sensors
behind bleak, and :class:`Clock` is the time base receive times use.
"""

from __future__ import annotations

from liftguard.sensors.clock import Clock, MonotonicClock
from liftguard.sensors.manager import ConnectionManager, StateCallback
from liftguard.sensors.simulated import SimulatedWorld

__all__ = ["Clock", "ConnectionManager", "MonotonicClock", "SimulatedWorld", "StateCallback"]
