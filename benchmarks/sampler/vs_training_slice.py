"""Settings of a one-slice case scored against the training slice itself, per plane.

    python benchmarks/sampler/vs_training_slice.py [CASE] [--settings NAME ...]

For a case trained on ONE slice of a stack (Berea), the held-out block that validation
compares with differs from that slice by more than the settings differ from each other
(``../paper_cases/one_slice_limit.py``: the slice itself is ~15 % off the block). Here the
same cached volumes as ``self_target.py`` (run it first; ``--cache`` as there) are scored
per plane against the training slice, the data the model saw, beside the held-out block:
a ranking of settings by the training slice is what a reference-free rule can hope to
reproduce. Nothing here feeds back into a setting.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rvegen  # noqa: E402
from rvegen.pipeline import reference_dataset  # noqa: E402
from sampler.self_target import CASES, volumes_for  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("case", nargs="?", default="berea")
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--settings", nargs="*", default=[
        "rvegen s100", "rvegen s100 pool1.5", "rvegen s100 pool1", "rvegen s100 nh5 pool-first"])
    p.add_argument("--cache", type=Path,
                   default=Path(__file__).resolve().parents[1] / "out" / "self_target")
    a = p.parse_args()
    spec = rvegen.load_spec(CASES / f"{a.case}.yaml")
    if spec.data.train_slice is None:
        sys.exit(f"{a.case}: not a one-slice case (data.train_slice is not set)")
    ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
    train_slice = ds.source[int(spec.data.train_slice)]
    size = spec.generate.size or spec.data.patch_size
    own = rvegen.Dataset.from_array(train_slice, kind="image", patch_size=size, num_patches=8)
    held_out = reference_dataset(spec, ds)
    model = rvegen.load_model(CASES / "models" / f"{a.case}.pt")
    cfg = spec.validate_.model_copy(update={"reference_samples": 64})
    print(f"{a.case}: {a.count} volumes of {size}^3 per setting, seed {a.seed}; S2 / L(z) % "
          f"of the phase of interest")
    print(f"{'setting':34s} {'training slice (per plane)':>27s} {'held-out block (3D)':>21s}")
    for name in a.settings:
        vols = volumes_for(name, model, ds, size, a.count, a.seed, a.cache / a.case)
        cells, shapes = [], []
        for reference in (own, held_out):
            report = rvegen.validate(vols, reference, cfg)
            h, q = report.headline(), str(report.phase_of_interest)
            cells.append(f"{h['s2']:5.1f} / {h['lineal_path']:5.1f}")
            g, r = report.morphology["generated"][q], report.morphology["real"][q]
            shapes.append(f"Euler {g['euler_density']:.2f} (real {r['euler_density']:.2f}), "
                          f"cluster {g['largest_cluster_fraction']:.3f} "
                          f"(real {r['largest_cluster_fraction']:.3f})")
        print(f"{name:34s} {cells[0]:>27s} {cells[1]:>21s}", flush=True)
        print(f"    per plane vs the slice: {shapes[0]}; 3D vs the block: {shapes[1]}", flush=True)
    print(f"(the training slice holds {np.mean(train_slice == 0):.3f} of phase 0; the held-out "
          f"block {np.mean(held_out.holdout == 0):.3f})")


if __name__ == "__main__":
    main()
