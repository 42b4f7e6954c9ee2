"""What ``pool_sigma: auto`` and ``harmonizing_steps: auto`` choose on the paper cases,
beside what their specs say.

    python benchmarks/sampler/auto.py [CASE ...]

Both settings are made 'auto' and chosen as ``rvegen build`` chooses them
(``rvegen.generate.resolve_auto``, the case's seed, its own trial volumes): against the
training part of the stack in 3D where the case is a 3D stack trained on as a whole and
validated against other data (``rvegen.generate.auto_stack``), else against the model's
own fraction-guided 2D samples. Needs the paper-case run folders
(``python benchmarks/paper_cases/run.py CASE`` makes them).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import rvegen
from rvegen.generate import auto_stack, resolve_auto, resolve_grain_density
from rvegen.pipeline import auto_scoring

CASES = Path(__file__).resolve().parents[1] / "paper_cases"


def main() -> None:
    cases = sys.argv[1:] or ["carbonate", "berea", "nmc", "grains", "sofc", "spheres"]
    for case in cases:
        spec = rvegen.load_spec(CASES / f"{case}.yaml")
        run = spec.run_path
        ds = rvegen.load_dataset(run / "dataset.h5")
        model = rvegen.load_model(run / "model" / "model.pt")
        cfg = resolve_grain_density(spec.generate, ds).model_copy(
            update={"pool_sigma": "auto", "harmonizing_steps": "auto"})
        start = time.process_time()
        _, record = resolve_auto(model, cfg, ds.fractions, spec.seed,
                                 stack=auto_stack(ds, spec.validate_.reference),
                                 scoring=auto_scoring(spec))
        print(f"{case}: spec pool_sigma {spec.generate.pool_sigma}, harmonizing_steps "
              f"{spec.generate.harmonizing_steps}; {time.process_time() - start:.0f} CPU-s")
        for field, r in record.items():
            cells = ", ".join(f"{k}: {v:.1f}" for k, v in r["scores"].items())
            print(f"  {field}: chose {r['chosen']} by {r['score']} ({cells})", flush=True)


if __name__ == "__main__":
    main()
