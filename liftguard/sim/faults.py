"""Technique faults with continuous, graded severity, and how they are drawn per rep.

Each fault moves one quantity of a rep between the athlete's own *good* value for that rep
(severity 0) and a *worst* plausible value (severity 1), linearly; the rep's truth records the
fault's name, its severity and the resulting peak (in the quantity's unit). Because severity is
continuous, a detector's threshold can be tested right at its edge: :func:`around_threshold`
draws the resulting peak uniformly in a band around a threshold for every eligible rep.

The worst values are engineering assumptions (A) bracketed by the parameter sheet; see
:data:`FAULT_KINDS` and the exercise scripts in :mod:`liftguard.sim.exercises`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from liftguard.errors import ConfigError

__all__ = [
    "DEFAULT_FAULTS",
    "FAULT_KINDS",
    "NO_FAULTS",
    "FaultKind",
    "FaultLabel",
    "FaultSpec",
    "around_threshold",
    "check_faults",
]


@dataclass(frozen=True)
class FaultKind:
    """A technique fault: which ``exercise`` it belongs to, which ``quantity`` it drives and in
    which ``unit`` (``"deg"`` or ``"g"``); ``worst`` describes severity 1."""

    name: str
    exercise: str
    quantity: str
    unit: str
    worst: str


#: Every fault the simulator scripts, in the order they are drawn for a rep.
FAULT_KINDS: dict[str, FaultKind] = {
    k.name: k
    for k in (
        FaultKind(
            "rounded_back",
            "deadlift",
            "lumbar_flexion",
            "deg",
            "peak lumbar flexion 95 % of the athlete's maximum (sheet §2 'rounded' > 70–80 %), A",
        ),
        FaultKind(
            "hips_rise_first",
            "deadlift",
            "trunk_inclination",
            "deg",
            "trunk inclination rises 25° while the bar is still on the floor (knees extend "
            "first), A",
        ),
        FaultKind(
            "lockout_hyperextension",
            "deadlift",
            "lumbar_extension",
            "deg",
            "20° lumbar extension at lockout (Walsh et al. 2007 recorded −20.3° under heavy "
            "axial load, P-y), A",
        ),
        FaultKind(
            "squat_lumbar_flexion",
            "squat",
            "lumbar_flexion",
            "deg",
            "lumbar flexion at the bottom 90 % of maximum (sheet §3 flags > 60 % or a butt "
            "wink > 15°), A",
        ),
        FaultKind(
            "forward_lean",
            "squat",
            "trunk_inclination",
            "deg",
            "trunk inclination 65° at the bottom (normal 35–50°, sheet §3), A",
        ),
        FaultKind(
            "press_hyperextension",
            "press",
            "lumbar_extension",
            "deg",
            "25° lumbar extension (sheet §4 'excessive arch' −12 to −25°), A",
        ),
        FaultKind(
            "flexed_landing",
            "jumping_chinup",
            "lumbar_flexion",
            "deg",
            "lumbar flexion 85 % of maximum during absorption (normal soft landing +5–20°, "
            "sheet §5), A",
        ),
        FaultKind(
            "stiff_landing",
            "jumping_chinup",
            "sacrum_peak",
            "g",
            "stiff-landing peak 4–6 g rigid (sheet §5: 4–6 BW stiff), 30 ms to peak, 0.3 s "
            "absorption, half the trunk flexion, A",
        ),
    )
}


@dataclass(frozen=True)
class FaultLabel:
    """A fault as it happened in one rep: ``severity`` in [0, 1] and the resulting ``peak`` of
    ``quantity`` in ``unit`` (extension as a positive number of degrees)."""

    name: str
    severity: float
    peak: float
    quantity: str
    unit: str


@dataclass(frozen=True)
class FaultSpec:
    """How often a fault happens and how bad.

    ``probability``: per eligible rep (working sets; warm-up sets at half of it, later working
    sets a little more — fatigue). ``severity``: uniform ``(low, high)`` in [0, 1]. ``peak``:
    if given, the resulting peak is drawn uniformly in this band (the quantity's unit) instead,
    and the severity follows from it; a band outside what the athlete can reach is clipped to it.
    """

    probability: float = 0.0
    severity: tuple[float, float] = (0.25, 1.0)
    peak: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ConfigError(f"fault probability must be in [0, 1], got {self.probability!r}")
        lo, hi = self.severity
        if not 0.0 <= lo <= hi <= 1.0:
            raise ConfigError(f"severity must be 0 <= low <= high <= 1, got {self.severity!r}")
        if self.peak is not None and not (
            math.isfinite(self.peak[0])
            and math.isfinite(self.peak[1])
            and self.peak[0] <= self.peak[1]
        ):
            raise ConfigError(f"peak band must be finite (low, high), got {self.peak!r}")

    def draw(
        self, rng: np.random.Generator, good: float, worst: float, probability: float
    ) -> tuple[float, float] | None:
        """``(severity, peak)`` for one rep, or None when the fault does not happen.

        ``good``/``worst``: the quantity at severity 0 and 1 for this rep. Always consumes the
        same number of draws, so one fault's settings never shift another's randomness.
        """
        happens = float(rng.uniform()) < probability
        u = float(rng.uniform())
        if not happens:
            return None
        span = worst - good
        if self.peak is not None:
            lo, hi = sorted((good, worst))
            peak = float(np.clip(self.peak[0] + u * (self.peak[1] - self.peak[0]), lo, hi))
            severity = (peak - good) / span if span != 0 else 1.0
            return float(np.clip(severity, 0.0, 1.0)), peak
        s_lo, s_hi = self.severity
        severity = s_lo + u * (s_hi - s_lo)
        return severity, good + severity * span


def around_threshold(threshold: float, width: float, *, probability: float = 1.0) -> FaultSpec:
    """A spec whose resulting peaks are uniform in ``threshold ± width`` (the fault's unit)."""
    if not (math.isfinite(threshold) and width >= 0):
        raise ConfigError("threshold must be finite and width >= 0")
    return FaultSpec(probability=probability, peak=(threshold - width, threshold + width))


#: Default per-rep fault rates (A: no published rates for this population; chosen so that a full
#: LIFTMOR session shows each fault a few times).
DEFAULT_FAULTS: dict[str, FaultSpec] = {
    "rounded_back": FaultSpec(0.15),
    "hips_rise_first": FaultSpec(0.10),
    "lockout_hyperextension": FaultSpec(0.08),
    "squat_lumbar_flexion": FaultSpec(0.12),
    "forward_lean": FaultSpec(0.10),
    "press_hyperextension": FaultSpec(0.15),
    "flexed_landing": FaultSpec(0.15),
    "stiff_landing": FaultSpec(0.15),
}


#: Every fault switched off (merge a few specs over it to study just those).
NO_FAULTS: dict[str, FaultSpec] = {name: FaultSpec(0.0) for name in FAULT_KINDS}


def check_faults(faults: Mapping[str, FaultSpec]) -> dict[str, FaultSpec]:
    """Merge ``faults`` over the defaults; unknown names are a :class:`ConfigError`."""
    unknown = set(faults) - set(FAULT_KINDS)
    if unknown:
        raise ConfigError(f"unknown faults {sorted(unknown)}; known: {sorted(FAULT_KINDS)}")
    merged = dict(DEFAULT_FAULTS)
    merged.update(faults)
    return merged
