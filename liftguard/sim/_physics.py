"""Physical constants shared by the simulator's modules."""

from __future__ import annotations

__all__ = ["GRAVITY"]

#: Gravity used for the specific force, m/s² (standard gravity rounded as the pipeline uses it).
GRAVITY = 9.81
