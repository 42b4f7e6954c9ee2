"""The 3D data limit: what a generator that reproduced the training part exactly would score.

    python benchmarks/paper_cases/data_limit.py [CASE ...] [--draws 3] [--count 25]

For each 3D case (default: spheres nmc sofc separator), ensembles of ``count``
non-overlapping sub-volumes of the stack's training part (the volumes' size, drawn with
replacement where the part holds fewer) are validated exactly as a
case's generated volumes are: against the case's reference (the held-out block, or a
fresh realization of a synthetic source), with the same floor. A perfect model of the
training data can do no better than these figures on average; where they are above the
paper's, the paper's figure (scored against its own training volume) is out of reach of
an honest protocol on this data. The median over ``draws`` ensembles is printed, with
the range. Run ``rvegen ingest`` on the case spec first (for its dataset.h5). Nothing here
feeds back into a setting.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

import rvegen
from rvegen.pipeline import reference_dataset
from rvegen.validation.reference import tiled_samples
from rvegen.volumes import Volume

HERE = Path(__file__).resolve().parent
PAPER = {"spheres": (1.88, 4.56), "nmc": (4.56, 1.26)}


def sub_volumes(ds: rvegen.Dataset, size: int, count: int,
                rng: np.random.Generator) -> list[Volume]:
    """``count`` size^3 tiles of the training part (non-overlapping, drawn with replacement
    where it holds fewer) as volumes to validate. Tiles weigh every voxel alike; random
    crops of a small block over-weight its middle (``patch_bias.py``)."""
    tiles = tiled_samples(replace(ds, holdout=None), size, count, rng)
    return [Volume(f"real_{i:03d}", t.copy()) for i, t in enumerate(tiles)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cases", nargs="*", default=["spheres", "nmc", "sofc", "separator"])
    p.add_argument("--draws", type=int, default=3)
    p.add_argument("--count", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    print(f"{'case':10s} {'reference':40s} {'S2 %':>13s} {'L %':>13s} {'floor S2/L':>11s} "
          f"{'L z/y/x':>15s}  paper S2/L")
    for case in a.cases:
        spec = rvegen.load_spec(HERE / f"{case}.yaml")
        ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
        if ds.kind != "stack":
            print(f"{case:10s} 2D data: no 3D training part")
            continue
        reference = reference_dataset(spec, ds)
        size = spec.generate.size or ds.patch_size
        rng = np.random.default_rng(a.seed)
        rows = []
        for d in range(a.draws):
            vols = sub_volumes(ds, size, a.count, rng)
            report = rvegen.validate(vols, reference, {"reference_samples": 64},
                                     seed=a.seed + d)
            axes = report.per_axis["ensemble"]
            rows.append((report.headline()["s2"], report.headline()["lineal_path"],
                         report.headline("real_ensemble")["s2"],
                         report.headline("real_ensemble")["lineal_path"],
                         [axes[k]["lineal_path"] for k in ("z", "y", "x")]))
            where = report.reference["data"]
        s2, lp = [r[0] for r in rows], [r[1] for r in rows]
        fs2, flp = np.median([r[2] for r in rows]), np.median([r[3] for r in rows])
        per_axis = np.median([r[4] for r in rows], axis=0)
        paper = "%.2f / %.2f" % PAPER[case] if case in PAPER else "-"
        print(f"{case:10s} {str(where)[:40]:40s} "
              f"{np.median(s2):5.2f} ({min(s2):4.1f}-{max(s2):4.1f}) "
              f"{np.median(lp):5.2f} ({min(lp):4.1f}-{max(lp):4.1f}) {fs2:5.2f}/{flp:5.2f} "
              f"{'/'.join(f'{v:.1f}' for v in per_axis):>15s}  {paper}", flush=True)


if __name__ == "__main__":
    main()
