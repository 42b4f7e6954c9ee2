"""What ``pool_sigma: auto`` chooses on the paper cases, beside the width their specs fix.

    python benchmarks/sampler/auto.py [CASE ...]

The specs' fixed widths were picked by hand with the same reference-free rule (README.md
here: lowest self S2 + L among 1, 1.5, 2 on 8 volumes of the sweep's seeds); ``auto``
applies it inside the sampler with trial volumes of its own seeds, against fraction-guided
2D samples since session 7. Needs the paper-case run folders
(``python benchmarks/paper_cases/run.py CASE`` makes them).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import rvegen
from rvegen.generate import choose_pool_sigma

CASES = Path(__file__).resolve().parents[1] / "paper_cases"


def main() -> None:
    cases = sys.argv[1:] or ["carbonate", "berea", "nmc", "grains", "sofc", "spheres"]
    print(f"{'case':10s} {'spec':>5s} {'auto':>5s}  self S2 + L (%) per width        CPU-s")
    for case in cases:
        spec = rvegen.load_spec(CASES / f"{case}.yaml")
        run = spec.run_path
        ds = rvegen.load_dataset(run / "dataset.h5")
        model = rvegen.load_model(run / "model" / "model.pt")
        start = time.process_time()
        best, scores = choose_pool_sigma(model, spec.generate, ds.fractions, spec.seed)
        cells = "  ".join(f"{k}: {v:6.1f}" for k, v in scores.items())
        print(f"{case:10s} {str(spec.generate.pool_sigma):>5s} {best:5.1f}  {cells}  "
              f"{time.process_time() - start:6.0f}", flush=True)


if __name__ == "__main__":
    main()
