"""How firmly ``method: auto`` chooses: its trial scores on fresh trial seeds.

    python benchmarks/sampler/method_margin.py CASE [--seeds 1 2 3] [--methods ddpm "ddim 0.8"]
        [--trials N]   # trial volumes per candidate; the spec's generate.auto_trials by default

``method: auto`` scores each reverse step on ``generate.auto_trials`` (8 by default)
trial volumes, at the pooling width and n_h that the case's own run chose (its
``volumes.h5`` records), and keeps the lowest sum. This scores the same candidates
exactly as ``rvegen build`` does (``rvegen.generate.AutoTrials``: in 3D against the
training part of the stack, or against the model's own 2D samples), but with other trial
seeds, so the spread of each margin says whether the choice is settled or noise. Nothing here reads the validation reference.
Needs the case's run folder (``python benchmarks/paper_cases/run.py CASE``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import h5py
import numpy as np

import rvegen
from rvegen.generate import AutoTrials, auto_stack, resolve_grain_density
from rvegen.pipeline import auto_scoring
from rvegen.spec import AUTO_HARMONIZING, AUTO_METHODS

CASES = Path(__file__).resolve().parents[1] / "paper_cases"


def chosen_settings(volumes: Path) -> dict[str, object]:
    """The pooling width and n_h the run chose (the fields its records set)."""
    with h5py.File(volumes, "r") as f:
        records = {k: json.loads(f.attrs[f"{k}_auto"])
                   for k in ("pool_sigma", "harmonizing_steps") if f"{k}_auto" in f.attrs}
    fields: dict[str, object] = {}
    if "pool_sigma" in records:
        fields["pool_sigma"] = float(records["pool_sigma"]["chosen"])
    if "harmonizing_steps" in records:
        fields.update(AUTO_HARMONIZING[records["harmonizing_steps"]["chosen"]])
    return fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--methods", nargs="+", default=list(AUTO_METHODS))
    parser.add_argument("--trials", type=int, default=None)
    args = parser.parse_args()
    spec = rvegen.load_spec(CASES / f"{args.case}.yaml")
    run = spec.run_path
    ds = rvegen.load_dataset(run / "dataset.h5")
    model = rvegen.load_model(run / "model" / "model.pt")
    fixed = chosen_settings(run / "volumes.h5")
    count = args.trials or spec.generate.auto_trials
    cfg = resolve_grain_density(spec.generate, ds).model_copy(
        update={**fixed, "auto_trials": count})
    stack = auto_stack(ds, spec.validate_.reference)
    print(f"# python benchmarks/sampler/method_margin.py {args.case} --seeds "
          f"{' '.join(map(str, args.seeds))} --trials {count}   (at the run's {fixed}; "
          f"{'3D vs training stack' if stack is not None else 'self score'})")
    print(f"{'seed':>4}  " + "  ".join(f"{m:>9}" for m in args.methods) + "  chosen   CPU s")
    scoring = auto_scoring(spec)
    sums: dict[str, list[float]] = {m: [] for m in args.methods}
    for seed in args.seeds:
        start = time.process_time()
        trials = AutoTrials(model, cfg, ds.fractions, seed, stack=stack, scoring=scoring)
        scores = {m: trials.score(cfg, **AUTO_METHODS[m]) for m in args.methods}
        for m, s in scores.items():
            sums[m].append(s)
        best = min(scores, key=scores.__getitem__)
        print(f"{seed:>4}  " + "  ".join(f"{scores[m]:>9.2f}" for m in args.methods)
              + f"  {best:<8} {time.process_time() - start:6.0f}", flush=True)
    print("median " + "  ".join(f"{np.median(sums[m]):>9.2f}" for m in args.methods))


if __name__ == "__main__":
    main()
