"""Plot one simulated athlete's lumbar flexion over a set of good and a set of rounded-back
deadlifts, as LiftGuard measured it from the emulated sensors, with the truth's rep windows.

    python scripts/plot_deadlift_flexion.py [-o docs/deadlift_flexion.png] [--seed 3]

Needs matplotlib (in the ``dev`` extra).
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from liftguard.demo import DemoOptions, run_demo_sync
from liftguard.recording import read_recording, replay
from liftguard.signal.athlete import AngleSamples
from liftguard.sim import FaultSpec, Program


def one_set(seed: int, rounded: bool, folder: Path) -> tuple[np.ndarray, np.ndarray, Any]:
    """The same athlete, one set of 5: measured flexion ``(t, deg)`` and the recorded truth."""
    spec = FaultSpec(1.0, severity=(0.85, 1.0)) if rounded else FaultSpec(0.0)
    path = folder / ("rounded.mcap" if rounded else "good.mcap")
    opts = DemoOptions(
        athletes=1,
        duration=None,
        speed=math.inf,
        seed=seed,
        program=Program.from_list([("deadlift", 1, 5)]),
        faults={"rounded_back": spec},
    )
    run_demo_sync(opts, lambda _e: None, record=path)
    blocks: list[AngleSamples] = []
    rec = read_recording(path)
    replay(rec, lambda _e: None, on_angles=lambda _athlete, a: blocks.append(a))
    t = np.concatenate([a.t for a in blocks])
    return t, np.concatenate([a.flexion_deg for a in blocks]), rec.truth[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", type=Path, default=Path("docs/deadlift_flexion.png"))
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True, sharey=True)
    with tempfile.TemporaryDirectory() as tmp:
        for ax, rounded in zip(axes, (False, True), strict=True):
            t, flexion, truth = one_set(args.seed, rounded, Path(tmp))
            reps = truth["reps_detail"]
            t0, t1 = reps[0]["t_start"] - 4.0, reps[-1]["t_end"] + 4.0
            sel = (t >= t0) & (t <= t1)
            ax.plot(t[sel] - t0, flexion[sel], lw=1.2, label="measured (emulated sensors)")
            for r in reps:
                ax.axvspan(r["t_start"] - t0, r["t_end"] - t0, color="0.9", zorder=0)
            ax.axhline(30, color="tab:red", ls="--", lw=1, label="alarm 30°")
            ax.axhline(20, color="tab:orange", ls=":", lw=1, label="warning 20°")
            ax.set_ylabel("lumbar flexion (°)")
            ax.set_title("rounded-back deadlifts" if rounded else "good deadlifts")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[1].set_xlabel("time in set (s); grey: rep windows (simulator truth)")
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=110)
    print(args.output)


if __name__ == "__main__":
    main()
