"""Who is lifting: per-athlete anthropometry, posture, mobility and pace, drawn from a seeded rng.

Population: LIFTMOR participants, postmenopausal women about 55–75 y with low bone mass
(Watson et al. 2018). Ranges carry an evidence tag: P = published for a close population,
P-y = published for young/trained lifters, D = derived, A = engineering assumption.
Angles are degrees here because that is how the sources and the script state them; the body
model converts to radians.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AthleteParams"]


def _truncated_normal(
    rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float
) -> float:
    # Redraw rather than clip: clipping would pile probability on the bounds (N(45, 8) clipped at
    # 40 would give 27 % of athletes exactly 40°).
    while True:
        x = float(rng.normal(mean, sd))
        if lo <= x <= hi:
            return x


@dataclass(frozen=True)
class AthleteParams:
    """One simulated athlete. Lengths in metres, angles in degrees, fractions dimensionless."""

    #: Stature. N(1.618, 0.059) m truncated to ±2 SD — Watson et al. 2018 (LIFTMOR), P.
    height_m: float
    #: Height of the S1/S2 sensor site above the floor when standing: 0.50–0.56 × stature. A.
    sacrum_height_m: float
    #: Distance along the back from the S1/S2 to the T12/L1 sensor: U(0.22, 0.28) m. A
    #: (≈ 15 % of stature; a skin-surface span, not a vertebral-body length).
    lumbar_length_m: float
    #: Neutral forward tilt of the sacral skin surface when standing: U(15, 25)°. A (flatter than
    #: the radiographic sacral slope 24–55°, Mac-Thiong et al. 2011, P-y).
    sacrum_tilt_deg: float
    #: Neutral tilt of the T12/L1 skin surface: U(−12, −3)° (tilted back). A, chosen so the skin
    #: lordosis sacrum − upper is 18–37°, inside skin-surface lordosis of women 29.6 ± 11.3° and of
    #: over-50s 20.9 ± 10.4° (Lang-Tapia et al. 2011, P).
    upper_tilt_deg: float
    #: Maximum active lumbar flexion from standing: N(45, 8)° truncated to [40, 60]. A, anchored on
    #: Troke et al. 2001/2005 (about 40–50° at 60–75 y, P) and Dreischarf et al. 2014 (−12 % range
    #: of flexion over 50 y, P).
    max_flexion_deg: float
    #: Pelvis (sacral) forward inclination at a full forward bend: N(55, 12)° truncated to
    #: [35, 75]. A (trunk ≈ 100–120° minus lumbar ≈ 45°).
    max_pelvis_deg: float
    #: Pelvis forward inclination with hands on the bar: N(30, 8)° truncated to [18, 42]. A (trunk
    #: 50 ± 10° minus a lumbar share).
    setup_pelvis_deg: float
    #: Lumbar flexion with hands on the bar in set 1: U(8, 16)°. A: a cued older beginner, well
    #: below the ≈33° of trained lifters at 70 % 1RM (Bengtsson et al. 2022, D) so that good reps
    #: stay clearly under the default 30° alarm.
    setup_flexion_deg: float
    #: Extra setup flexion per set (fatigue): U(0, 2)°/set. A; forward bending grows with
    #: repetitive-lifting fatigue (Ergonomics 2014, doi:10.1080/00140139.2014.887788, P-y).
    fatigue_flexion_deg_per_set: float
    #: Concentric slow-down per set (fatigue): U(0.02, 0.06) × duration per set. A; velocity loss
    #: over a set at 70–90 % 1RM is 0.09–0.16 m/s (Beck et al. 2020, P-y).
    fatigue_slowdown_per_set: float
    #: Sacrum descent from standing to the bar: U(0.15, 0.30) m. A (bar travel is 0.45–0.55 m).
    bar_drop_m: float
    #: Sacrum backward travel from standing to the bar (hip hinge): U(0.10, 0.20) m. A.
    hinge_back_m: float
    #: Sacrum backward / downward travel in the calibration toe-touch (knees straight):
    #: U(0.08, 0.15) m and U(0.02, 0.06) m. A.
    bend_back_m: float
    bend_drop_m: float
    #: Pace: where this athlete tends to sit inside every phase-duration range (0 quick, 1 slow),
    #: U(0, 1). A.
    tempo: float

    @classmethod
    def sample(cls, rng: np.random.Generator) -> AthleteParams:
        """Draw one athlete; the draw order is fixed, so one generator state gives one athlete."""
        height = _truncated_normal(rng, 1.618, 0.059, 1.618 - 2 * 0.059, 1.618 + 2 * 0.059)
        return cls(
            height_m=height,
            sacrum_height_m=height * float(rng.uniform(0.50, 0.56)),
            lumbar_length_m=float(rng.uniform(0.22, 0.28)),
            sacrum_tilt_deg=float(rng.uniform(15.0, 25.0)),
            upper_tilt_deg=float(rng.uniform(-12.0, -3.0)),
            max_flexion_deg=_truncated_normal(rng, 45.0, 8.0, 40.0, 60.0),
            max_pelvis_deg=_truncated_normal(rng, 55.0, 12.0, 35.0, 75.0),
            setup_pelvis_deg=_truncated_normal(rng, 30.0, 8.0, 18.0, 42.0),
            setup_flexion_deg=float(rng.uniform(8.0, 16.0)),
            fatigue_flexion_deg_per_set=float(rng.uniform(0.0, 2.0)),
            fatigue_slowdown_per_set=float(rng.uniform(0.02, 0.06)),
            bar_drop_m=float(rng.uniform(0.15, 0.30)),
            hinge_back_m=float(rng.uniform(0.10, 0.20)),
            bend_back_m=float(rng.uniform(0.08, 0.15)),
            bend_drop_m=float(rng.uniform(0.02, 0.06)),
            tempo=float(rng.uniform(0.0, 1.0)),
        )
