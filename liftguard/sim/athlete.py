"""Who is lifting: per-athlete anthropometry, posture, mobility and pace, drawn from a seeded rng.

Population: LIFTMOR participants, postmenopausal women about 55–75 y with low bone mass
(Watson et al. 2018). Ranges carry an evidence tag: P = published for a close population,
P-y = published for young/trained lifters, D = derived, A = engineering assumption.
Angles are degrees here because that is how the sources and the script state them; the body
model converts to radians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

__all__ = ["AthleteParams"]

#: Standing shoulder-joint height as a fraction of stature: acromion 0.818 H minus ≈ 0.02 H to
#: the joint centre — Drillis & Contini 1966 segment proportions (as tabulated by Winter 2009),
#: general adults, P. Used to derive the thoracic lever from T12 to the shoulder (D).
SHOULDER_HEIGHT_PER_STATURE = 0.80
#: Arm length shoulder → wrist per stature: upper arm 0.186 H + forearm 0.146 H — Drillis &
#: Contini 1966, general adults, P.
ARM_PER_STATURE = 0.332


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
    # --- Drawn after the fields above (so an athlete's deadlift numbers do not change) --------
    #: Shoulder → wrist: 0.332 × stature × U(0.97, 1.03) — Drillis & Contini 1966, P.
    arm_length_m: float = 0.537
    #: Vertical lever T12/L1 skin site → shoulder joint when standing: 0.80 H − sacrum height −
    #: lumbar span, clipped to [0.12, 0.28] m — D from Drillis & Contini 1966.
    shoulder_above_upper_m: float = 0.19
    #: Shoulder joint in front of the back surface: U(0.04, 0.08) m. A.
    shoulder_forward_m: float = 0.06
    #: Habitual asymmetry: lateral bend and axial twist bias per rep, U(−3, 3)° each. A (no
    #: published number for lifting asymmetry in this population).
    bend_bias_deg: float = 0.0
    twist_bias_deg: float = 0.0
    #: Peak lumbar flexion drift per working set: U(1, 3)°/set — sheet §2 simulated fatigue, A.
    session_fatigue_deg_per_set: float = 2.0
    #: Concentric slow-down per rep within a set: U(0.05, 0.10) — sheet §2 "+5–10 % rep duration
    #: per rep", A.
    rep_slowdown: float = 0.07
    #: Squat: sacrum descent U(0.35, 0.55) m; trunk (T12) inclination at the bottom U(35, 50)°;
    #: lumbar flexion at the bottom U(5, 15)° (McKean et al. 2010: women ≈ 13° range, P-y; Walsh
    #: et al. 2007: 6.8° at 80 % 1RM, P-y); backward hip travel U(0.10, 0.20) m. Sheet §3, A.
    squat_depth_m: float = 0.45
    squat_trunk_deg: float = 42.0
    squat_lumbar_deg: float = 10.0
    squat_back_m: float = 0.15
    #: Habitual "butt wink" (posterior pelvic tilt in the last 15 % of depth): 0 in half of the
    #: athletes, else U(5, 10)° — the lower part of the sheet's 5–15° in ~50 % of lifters (§3, A),
    #: leaving the fault scale room above it.
    butt_wink_deg: float = 0.0
    #: Press: bar travel U(0.40, 0.55) m (sheet §4, A); lumbar at lockout U(−8, −3)° (extension,
    #: sheet §4 good technique, A); pelvis tilt U(−4, 4)° (sheet §4: < 5°, A).
    press_travel_m: float = 0.47
    press_lumbar_deg: float = -5.0
    press_pelvis_deg: float = 0.0
    #: Chin-up: feet above the floor when hanging = drop height, U(0.10, 0.40) m (sheet §5, A).
    drop_height_m: float = 0.25
    #: Soft-landing peak offset, U(−0.3, 0.3) g around the athlete-independent law (§5 law in
    #: :mod:`liftguard.sim.exercises`). A.
    landing_offset_g: float = 0.0
    #: Normal (soft) landing: time to peak U(0.04, 0.075) s (30–80 ms once solved, sheet §5);
    #: absorption U(0.45, 0.8) s; T12
    #: inclination U(15, 35)° and lumbar flexion U(5, 12)° during absorption (sheet §5, A; the
    #: lumbar range is the lower part of the sheet's 5–20° so the flexed-landing fault has room).
    landing_peak_time_s: float = 0.06
    landing_absorb_s: float = 0.6
    landing_trunk_deg: float = 25.0
    landing_lumbar_deg: float = 8.0
    #: Walking: cadence U(1.7, 1.9) steps/s, step U(0.55, 0.65) m, vertical pelvis bounce
    #: half-amplitude U(0.010, 0.020) m, lateral sway U(0.010, 0.020) m, pelvic rotation U(2, 5)°.
    #: A (typical older-adult gait; no number in the parameter sheet).
    cadence_hz: float = 1.8
    step_m: float = 0.6
    bounce_m: float = 0.015
    sway_m: float = 0.015
    pelvis_rotation_deg: float = 3.5
    #: Sitting on a bench: lumbar flexion U(10, 25)°, pelvis U(−20, −8)° (posterior tilt). A.
    sit_lumbar_deg: float = 18.0
    sit_pelvis_deg: float = -14.0

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
        ).with_session_params(rng)

    def with_session_params(self, rng: np.random.Generator) -> AthleteParams:
        """Draw the fields the whole-session simulator adds, from ``rng`` (fixed order)."""
        h = self.height_m
        shoulder = SHOULDER_HEIGHT_PER_STATURE * h
        lever = shoulder - self.sacrum_height_m - self.lumbar_length_m
        trunk = float(rng.uniform(35.0, 50.0))
        return replace(
            self,
            arm_length_m=ARM_PER_STATURE * h * float(rng.uniform(0.97, 1.03)),
            shoulder_above_upper_m=float(np.clip(lever, 0.12, 0.28)),
            shoulder_forward_m=float(rng.uniform(0.04, 0.08)),
            bend_bias_deg=float(rng.uniform(-3.0, 3.0)),
            twist_bias_deg=float(rng.uniform(-3.0, 3.0)),
            session_fatigue_deg_per_set=float(rng.uniform(1.0, 3.0)),
            rep_slowdown=float(rng.uniform(0.05, 0.10)),
            squat_depth_m=float(rng.uniform(0.35, 0.55)),
            squat_trunk_deg=trunk,
            squat_lumbar_deg=float(rng.uniform(5.0, 15.0)),
            squat_back_m=float(rng.uniform(0.10, 0.20)),
            butt_wink_deg=float(rng.uniform(5.0, 10.0)) if rng.uniform() < 0.5 else 0.0,
            press_travel_m=float(rng.uniform(0.40, 0.55)),
            press_lumbar_deg=float(rng.uniform(-8.0, -3.0)),
            press_pelvis_deg=float(rng.uniform(-4.0, 4.0)),
            drop_height_m=float(rng.uniform(0.10, 0.40)),
            landing_offset_g=float(rng.uniform(-0.3, 0.3)),
            landing_peak_time_s=float(rng.uniform(0.04, 0.075)),
            landing_absorb_s=float(rng.uniform(0.45, 0.8)),
            landing_trunk_deg=float(rng.uniform(15.0, 35.0)),
            landing_lumbar_deg=float(rng.uniform(5.0, 12.0)),
            cadence_hz=float(rng.uniform(1.7, 1.9)),
            step_m=float(rng.uniform(0.55, 0.65)),
            bounce_m=float(rng.uniform(0.010, 0.020)),
            sway_m=float(rng.uniform(0.010, 0.020)),
            pelvis_rotation_deg=float(rng.uniform(2.0, 5.0)),
            sit_lumbar_deg=float(rng.uniform(10.0, 25.0)),
            sit_pelvis_deg=float(rng.uniform(-20.0, -8.0)),
        )

    def on_day(self, rng: np.random.Generator) -> AthleteParams:
        """The same athlete on another day: posture, mobility and pace shifted slightly.

        Body size, equipment-given values (drop height) and habits (asymmetry sign) stay. The
        shifts are A (no day-to-day numbers in the parameter sheet): standard deviations of
        2.5° on maximum flexion, 2° on the neutral tilts (lordosis) and set-up angles, 1.5° on
        technique angles, 0.1 on tempo, 10 % on durations; each clipped to the drawn range.
        """

        def shift(value: float, sd: float, lo: float, hi: float) -> float:
            return float(np.clip(value + rng.normal(0.0, sd), lo, hi))

        return replace(
            self,
            sacrum_tilt_deg=shift(self.sacrum_tilt_deg, 2.0, 13.0, 27.0),
            upper_tilt_deg=shift(self.upper_tilt_deg, 2.0, -14.0, -1.0),
            max_flexion_deg=shift(self.max_flexion_deg, 2.5, 38.0, 62.0),
            max_pelvis_deg=shift(self.max_pelvis_deg, 3.0, 33.0, 77.0),
            setup_pelvis_deg=shift(self.setup_pelvis_deg, 2.0, 16.0, 44.0),
            setup_flexion_deg=shift(self.setup_flexion_deg, 1.5, 7.0, 17.0),
            tempo=shift(self.tempo, 0.1, 0.0, 1.0),
            squat_trunk_deg=shift(self.squat_trunk_deg, 1.5, 33.0, 52.0),
            squat_lumbar_deg=shift(self.squat_lumbar_deg, 1.5, 4.0, 16.0),
            butt_wink_deg=(
                shift(self.butt_wink_deg, 1.5, 3.0, 12.0) if self.butt_wink_deg > 0 else 0.0
            ),
            press_lumbar_deg=shift(self.press_lumbar_deg, 1.0, -9.0, -2.0),
            landing_offset_g=shift(self.landing_offset_g, 0.15, -0.45, 0.45),
            landing_absorb_s=shift(self.landing_absorb_s, 0.06, 0.4, 0.85),
            landing_trunk_deg=shift(self.landing_trunk_deg, 2.0, 13.0, 37.0),
            landing_lumbar_deg=shift(self.landing_lumbar_deg, 1.5, 4.0, 13.0),
            sit_lumbar_deg=shift(self.sit_lumbar_deg, 2.0, 8.0, 27.0),
        )

    def differs_from(self, other: AthleteParams) -> list[str]:
        """Names of the fields whose values differ (for tests and reports)."""
        return [
            f.name
            for f in fields(self)
            if not math.isclose(getattr(self, f.name), getattr(other, f.name), abs_tol=0.0)
        ]
