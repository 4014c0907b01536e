"""Supervisor inputs: timestamped actions that enter the pipeline (and the recording).

The pipeline applies an input when its athletes' data reaches the input's time, so live runs
and replays of a recording act on exactly the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Acknowledge", "Calibrate", "Input", "StartSet"]


@dataclass(frozen=True)
class Input:
    """Base of supervisor inputs; ``t`` is session seconds."""

    t: float


@dataclass(frozen=True)
class Calibrate(Input):
    """Everyone (or the named athletes) stands tall and still for 3 s, then bends forward and
    comes back up."""

    athletes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class StartSet(Input):
    """``athlete`` starts set ``set`` of ``exercise``, aiming for ``target_reps``."""

    athlete: str
    exercise: str
    set: int
    target_reps: int


@dataclass(frozen=True)
class Acknowledge(Input):
    """The supervisor acknowledged alert ``alert_id``."""

    alert_id: str
