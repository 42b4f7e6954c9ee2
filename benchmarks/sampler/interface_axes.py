"""Interfaces per voxel along each axis: generated volumes beside the real stack.

    python benchmarks/sampler/interface_axes.py CASE [--phase P]

Under the ``cycle`` plane order with 100 steps the last denoising pass is on the yz
slices, so the slices stacked along x are the last to be denoised independently of each
other. If that pass left the x direction behind, the generated volumes would have more
interfaces along x than along z and y. This counts, per axis, the fraction of
neighbouring voxel pairs that straddle an interface of phase P (the generated volumes
of the case's ``volumes.h5``; 64 random 32^3 windows of the training part and of the
held-out block), with the standard error of the mean. Needs a case with volumes
(``rvegen generate CASE.yaml`` in ``benchmarks/paper_cases``). Seconds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import rvegen

CASES = Path(__file__).resolve().parents[1] / "paper_cases"


def crossings(labels: np.ndarray, phase: int) -> np.ndarray:
    """Fraction of neighbouring pairs along z, y, x that straddle an interface."""
    inside = labels == phase
    return np.array([np.mean(np.diff(inside, axis=a)) for a in range(3)])


def line(name: str, rows: list[np.ndarray]) -> str:
    values = np.array(rows)
    mean, se = values.mean(0), values.std(0) / np.sqrt(len(values))
    cells = " / ".join(f"{m:.4f} ({s:.4f})" for m, s in zip(mean, se))
    return f"{name:18s} {cells}   ratio to their mean {' / '.join(f'{r:.3f}' for r in mean / mean.mean())}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("case")
    p.add_argument("--phase", type=int, default=1)
    args = p.parse_args()
    spec = rvegen.load_spec(CASES / f"{args.case}.yaml")
    volumes, _ = rvegen.read_volumes(spec.run_path / "volumes.h5")
    ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
    print(f"{args.case}, phase {args.phase}: interfaces per neighbouring pair along z / y / x "
          "(standard error)")
    print(line(f"generated ({len(volumes)})", [crossings(v.labels, args.phase) for v in volumes]))
    rng = np.random.default_rng(0)
    size = volumes[0].labels.shape[0]
    for name, block in (("training part", ds.source), ("held-out block", ds.holdout)):
        if block is None or block.ndim != 3 or min(block.shape) < size:
            continue
        windows = []
        for _ in range(64):
            i, j, k = (int(rng.integers(0, d - size + 1)) for d in block.shape)
            windows.append(crossings(block[i:i + size, j:j + size, k:k + size], args.phase))
        print(line(f"{name} (64)", windows))


if __name__ == "__main__":
    main()
