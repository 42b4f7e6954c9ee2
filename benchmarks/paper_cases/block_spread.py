"""How far is a synthetic case's training block from its process, and is that unusual?

    python benchmarks/paper_cases/block_spread.py [CASE] [--crops 2000] [--blocks 5]

For a case with a synthetic 3D source (default: spheres) and ``validate.reference:
fresh``: the 2D statistics (S2 and L of the phase of interest, eq. 24) of random 32 x 32
crops of the training block's slices along ``data.slice_axes`` (what the patches are),
and of blocks of the same shape cut from the fresh realization, each against the fresh
realization's crops of all three planes (the process's 2D statistics). If the training
block is as far off as other blocks of its size, the '2D ceiling' and 'patches' columns
of results.md measure the data's own sampling noise, not the model. Run ``rvegen ingest``
on the case spec first (for its dataset.h5). Nothing here feeds back into a setting.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import rvegen
from rvegen.data.ingest import random_crops
from rvegen.pipeline import reference_dataset
from rvegen.validation.metrics import error_rate, lineal_path, two_point_correlation

HERE = Path(__file__).resolve().parent


def crop_curves(volume: np.ndarray, axes: list[int], size: int, count: int, phase: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """S2 and L(z) (r = 0..size/2) of ``count`` random size^2 crops of the slices along
    ``axes``, and the crops' fraction of ``phase``."""
    planes = [np.take(volume, i, axis=a) for a in axes for i in range(volume.shape[a])]
    crops = random_crops(planes, size, count, rng)
    r = size // 2
    return (two_point_correlation(crops, phase, r, plane_axis=0),
            lineal_path(crops, phase, r, plane_axis=0), float(np.mean(crops == phase)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("case", nargs="?", default="spheres")
    p.add_argument("--crops", type=int, default=2000)
    p.add_argument("--blocks", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    spec = rvegen.load_spec(HERE / f"{a.case}.yaml")
    if spec.data.synthetic is None or spec.validate_.reference != "fresh":
        sys.exit(f"{a.case}: needs a synthetic source validated against a fresh realization")
    ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
    fresh = reference_dataset(spec, ds).holdout
    axes = list(ds.meta.get("slice_axes", [0]))
    phase, size, rng = 1, ds.patch_size, np.random.default_rng(a.seed)
    per_plane = [crop_curves(fresh, [ax], size, a.crops, phase, rng) for ax in range(3)]
    s2_ref, lp_ref = (np.mean([c[i] for c in per_plane], axis=0) for i in (0, 1))
    print(f"{a.case}: training block {'x'.join(map(str, ds.source.shape))} (slices along "
          f"{axes}), fresh realization {'x'.join(map(str, fresh.shape))}; {a.crops} crops "
          f"of {size}^2 each; errors (eq. 24) against the fresh crops of all three planes")
    print(f"{'data':34s} {'fraction':>8s} {'crops':>6s} {'S2 %':>6s} {'L %':>6s}")

    def row(name: str, volume: np.ndarray, plane_axes: list[int]) -> None:
        s2, lp, f = crop_curves(volume, plane_axes, size, a.crops, phase, rng)
        print(f"{name:34s} {np.mean(volume == phase):8.3f} {f:6.3f} "
              f"{error_rate(s2_ref, s2):6.2f} {error_rate(lp_ref, lp):6.2f}")

    for ax in range(3):
        row(f"fresh, plane axis {ax}", fresh, [ax])
    row("training block (the patches' planes)", ds.source, axes)
    depth = ds.source.shape[0]
    for b in range(min(a.blocks, fresh.shape[0] // depth)):
        row(f"fresh block {b} ({depth} slices)", fresh[b * depth:(b + 1) * depth], axes)


if __name__ == "__main__":
    main()
