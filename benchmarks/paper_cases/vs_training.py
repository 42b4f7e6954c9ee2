"""The same volumes scored against the held-out block and against the training part.

    python benchmarks/paper_cases/vs_training.py [CASE ...]   (default: nmc sofc separator)

(Synthetic cases, spheres and grains, also against a fresh realization of their source.)

The 3D cases validate against a part of the stack the model never saw (``data.holdout``):
the honest figure, and the one results.md shows. A protocol that scores against the data
the model was trained on (``validate.reference: training``) can only look better where
the two parts of the stack differ. This prints both for the cases' volumes (run
``run.py CASE`` first), with the training patches' own error against each (the data
limit, ``ceiling_2d.training_patches``), so that a figure can be set beside one made
the other way. Nothing here feeds back into a setting.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import rvegen
from rvegen.validation.metrics import error_rate, lineal_path_axis
from rvegen.validation.reference import fresh_realization
from rvegen.volumes import read_images, read_volumes

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import PAPER  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cases", nargs="*", default=["nmc", "sofc", "separator"])
    a = p.parse_args()
    print(f"{'case':10s} {'reference':34s} {'S2 / L % (ensemble)':>20s} {'floor':>14s} "
          f"{'patches (2D)':>14s}  paper")
    for case in a.cases:
        spec = rvegen.load_spec(HERE / f"{case}.yaml")
        run = spec.run_path
        ds = rvegen.load_dataset(run / "dataset.h5")
        vols, _ = read_volumes(run / "volumes.h5")
        images = read_images(run / "volumes.h5")
        # synthetic data also against a new realization (another seed), as
        # validate.reference 'fresh' compares
        choices = ["auto"] + (["training"] if ds.holdout is not None else [])
        choices += ["fresh"] if spec.data.synthetic else []
        for reference in choices:
            cfg = spec.validate_.model_copy(update={"reference": reference})
            data = (fresh_realization(ds, spec.data, spec.resolve("."), spec.seed)
                    if reference == "fresh" else ds)
            report = rvegen.validate(vols, data, cfg, spec.seed, images_2d=images)
            h, f = report.headline(), report.headline("real_ensemble")
            d = report.headline("training_patches")
            paper = PAPER.get(case, (None, None))
            print(f"{case:10s} {report.reference['data']:34s} {h['s2']:8.2f} / {h['lineal_path']:6.2f}"
                  f" {f['s2']:6.2f} / {f['lineal_path']:5.2f} {d['s2']:6.2f} / {d['lineal_path']:5.2f}"
                  f"  {paper[0] or '-'} / {paper[1] or '-'}", flush=True)
        if ds.kind != "stack":
            continue
        # the real data's own anisotropy: L(z) along each axis of the training part against
        # the mean of the three (what one isotropic 2D model cannot reproduce)
        poi, max_r = report.phase_of_interest, report.max_r
        axes = [lineal_path_axis(ds.source, poi, a, max_r) for a in range(3)]
        mean = np.mean(axes, axis=0)
        print(f"{'':10s} training part's own L(z) along z / y / x against their mean: "
              + " / ".join(f"{error_rate(mean, c):.2f}" for c in axes) + " %")


if __name__ == "__main__":
    main()
