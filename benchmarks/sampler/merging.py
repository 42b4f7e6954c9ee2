"""Where do the spheres' inclusions merge: in the 2D model, or in the multi-plane coupling?

    python benchmarks/sampler/merging.py CASE [--settings NAME ...] [--count 8] [--seed 0]

The spheres case's largest inclusion cluster holds 0.657 of the inclusions where real
ensembles hold 0.464 .. 0.566 (results.md): merged inclusions. This script counts, for the
phase of interest, the connected pieces per 1000 pixels, their mean area and the
fraction in the largest piece, in 2D sections of the same size (face connectivity):

- ``real``: every section of the training stack's 32^3 tiles, along each axis;
- ``2D model``: the model's own fraction-guided 2D samples (no planes; ``sample_images``);
- ``slices``: the sections of the setting's cached volumes (``self_target.py``'s cache),
  along each axis;

and the same in 3D for the volumes and the tiles (pieces per 1000 voxels; 'opened': the
largest piece after a radius-1 opening, which cuts one-voxel necks). If the model's
2D samples already hold fewer, larger pieces than the real sections, the merging is the
model's; if they match and the volumes' sections do not, it is the coupling's. Nothing is
chosen from this: it reads the training data only.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rvegen  # noqa: E402
from rvegen.validation.reference import tiled_samples  # noqa: E402
from rvegen.validation.report import phase_of_interest  # noqa: E402
from sampler.self_target import CASES, case_parser, volumes_for  # noqa: E402


def pieces(masks: np.ndarray) -> tuple[float, float, float]:
    """Pieces per 1000 pixels (voxels), their mean size and the mean fraction of the
    phase in the largest piece, over a stack of 2D (or 3D) masks."""
    counts, largest, sizes = [], [], []
    for mask in masks:
        labels, n = ndimage.label(mask)
        counts.append(n / mask.size * 1000)
        if n:
            size = np.bincount(labels.ravel())[1:]
            largest.append(size.max() / size.sum())
            sizes.extend(size.tolist())
    return float(np.mean(counts)), float(np.mean(sizes)), float(np.mean(largest))


def sections(volumes: np.ndarray, axis: int) -> np.ndarray:
    """All 2D sections of a (n, m, m, m) stack normal to volume axis ``axis`` (0 = z)."""
    return np.moveaxis(volumes, axis + 1, 1).reshape(-1, *volumes.shape[2:])


def row(name: str, masks: np.ndarray, opened: bool = False) -> str:
    """One line; ``opened``: also the largest piece after a binary opening (radius 1, face
    neighbours), which cuts necks one voxel thick."""
    n, size, largest = pieces(masks)
    after = (f" {pieces(np.stack([ndimage.binary_opening(m) for m in masks]))[2]:8.3f}"
             if opened else "")
    return f"{name:40s} {n:7.2f} {size:8.1f} {largest:8.3f}{after}   ({len(masks)} images)"


def main() -> None:
    p = case_parser(__doc__)
    a = p.parse_args()
    spec = rvegen.load_spec(CASES / f"{a.case}.yaml")
    ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
    model = rvegen.load_model(CASES / "models" / f"{a.case}.pt")
    size = spec.generate.size or model.image_size
    poi = phase_of_interest(spec.validate_, ds.fractions)
    tiles = np.stack(tiled_samples(replace(ds, holdout=None), size, 64,
                                   np.random.default_rng(a.seed))) == poi
    images = rvegen.sample_images(model, 8 * size, {"size": size, "pool_sigma": 0.0},
                                  ds.fractions, seed=a.seed + 7, guided=True) == poi
    print(f"{a.case}: phase {poi}; {len(tiles)} real {size}^3 tiles of the training stack "
          f"{ds.source.shape}; {len(images)} 2D samples; seed {a.seed}")
    print(f"{'2D sections':40s} {'pieces':>7s} {'size px':>8s} {'largest':>8s}")
    for axis, name in enumerate("zyx"):
        print(row(f"real, normal to {name}", sections(tiles, axis)))
    print(row("2D model (fraction-guided)", images))
    vols = {}
    for setting in a.settings:
        labels = np.stack([v.labels for v in volumes_for(setting, model, ds, size, a.count,
                                                         a.seed, a.cache / a.case)])
        vols[setting] = labels == poi
        for axis, name in enumerate("zyx"):
            print(row(f"{setting}, normal to {name}", sections(vols[setting], axis)))
    print(f"{'3D':40s} {'pieces':>7s} {'size vx':>8s} {'largest':>8s} {'opened':>8s}")
    print(row("real tiles", tiles, opened=True))
    for setting, masks in vols.items():
        print(row(setting, masks, opened=True))


if __name__ == "__main__":
    main()
