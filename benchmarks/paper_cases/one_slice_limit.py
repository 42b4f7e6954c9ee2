"""What one training slice can know: each real slice's own error against the held-out block.

    python benchmarks/paper_cases/one_slice_limit.py [CASE]   (default: berea)

For a case trained on ONE slice of a real stack (``data.train_slice``) and validated
against the held-out part (``data.holdout``), a generator that reproduced the training
slice's statistics exactly would still be as far from the held-out block as the slice
itself is. This prints, for the phase of interest at the case's r range (size / 2), eq. 24
errors against the whole held-out block's 3D curves (the validation headline's reference):
the training slice's, the median and range over every slice of the training part and of
the held-out block (what any single slice would give), and the whole training part's (a
model trained on the full stack), beside the generated ensemble's (``report.json``; run
``run.py CASE`` first). Nothing here feeds back into a setting.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import rvegen
from rvegen.validation.metrics import error_rate, lineal_path, two_point_correlation

HERE = Path(__file__).resolve().parent


def curves(labels: np.ndarray, phase: int, max_r: int) -> tuple[np.ndarray, np.ndarray]:
    """S2 and L(z) of ``phase``: isotropic 2D curves for a slice, 3D for a block."""
    return two_point_correlation(labels, phase, max_r), lineal_path(labels, phase, max_r)


def errors(ref: tuple[np.ndarray, np.ndarray], labels: np.ndarray, phase: int,
           max_r: int) -> tuple[float, float, float]:
    """(S2 %, L %, fraction of ``phase``) of ``labels`` against ``ref``."""
    s2, lp = curves(labels, phase, max_r)
    return error_rate(ref[0], s2), error_rate(ref[1], lp), float((labels == phase).mean())


def spread(rows: list[tuple[float, float, float]]) -> str:
    a = np.asarray(rows)
    med, lo, hi = np.median(a, axis=0), a.min(axis=0), a.max(axis=0)
    return (f"S2 {med[0]:5.2f} [{lo[0]:5.2f}, {hi[0]:5.2f}]  L {med[1]:5.2f} [{lo[1]:5.2f}, "
            f"{hi[1]:5.2f}]  fraction {med[2]:.4f} [{lo[2]:.4f}, {hi[2]:.4f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", nargs="?", default="berea")
    args = parser.parse_args()
    spec = rvegen.load_spec(HERE / f"{args.case}.yaml")
    run = spec.run_path
    report = json.loads((run / "report.json").read_text())
    phase, max_r = int(report["phase_of_interest"]), int(report["max_r"])
    ds = rvegen.load_dataset(run / "dataset.h5")
    source, holdout = ds.source, ds.holdout
    train_slice = str(ds.meta.get("train_slice", "?"))
    ref = curves(holdout, phase, max_r)
    index = int(spec.data.train_slice)
    print(f"{args.case}: phase {phase}, r = 0..{max_r}; reference = held-out block "
          f"{'x'.join(map(str, holdout.shape))} (fraction {(holdout == phase).mean():.4f}); "
          f"training slice {train_slice}")
    print(f"  training slice alone         {spread([errors(ref, source[index], phase, max_r)])}")
    print(f"  any slice of the training part ({len(source)}), median [range]:")
    print(f"                               {spread([errors(ref, s, phase, max_r) for s in source])}")
    print(f"  any slice of the held-out block ({len(holdout)}), median [range]:")
    print(f"                               {spread([errors(ref, s, phase, max_r) for s in holdout])}")
    print(f"  the whole training part (3D) {spread([errors(ref, source, phase, max_r)])}")
    ens = report["ensemble"]["errors"][str(phase)]
    floor = report["real_ensemble"]["errors"][str(phase)]
    print(f"  generated ensemble ({len(report['volumes'])} volumes): S2 {ens['s2']:5.2f}  "
          f"L {ens['lineal_path']:5.2f}; floor of real ensembles {floor['s2']:.2f} / "
          f"{floor['lineal_path']:.2f}")


if __name__ == "__main__":
    main()
