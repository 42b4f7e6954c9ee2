"""Can a closed 3D grain-boundary network have the 2D grain images' slices? Real 3D
Laguerre tessellations, validated exactly as the generated grains volumes are.

    python benchmarks/paper_cases/grains_3d_truth.py [--scales 1.0 1.25 1.5] [--count 25]

Case II trains on 2D images of 2D Laguerre tessellations (1 px boundaries) and validates
3D volumes per plane against them. Whether any 3D structure can match both their
per-plane statistics and their connectivity is a property of the data, not of a sampler.
This builds 3D Laguerre tessellations with the case's grain-size mix (equal volume
fractions, sizes times ``scale``; a section of a 3D grain is smaller than the grain), marks
a voxel as boundary when a face neighbour (+1 along any axis, as the 2D images mark
in-plane neighbours) belongs to another grain, cuts ``count`` 32^3 sub-volumes from 64^3
blocks, and scores them with ``rvegen.validate`` against the case's reference, beside the
generated ensemble (``../out/paper_cases/grains/report.json``; run ``run.py grains``
first). A row here is a closed 3D network with the case's grains: every slice of it cuts
closed sheets, so where it misses the images' S2, L(z), Euler density or largest
cluster, the 2D data and a closed 3D network disagree.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

import rvegen
from rvegen.pipeline import reference_dataset
from rvegen.validation.morphology import largest_cluster_fraction
from rvegen.volumes import Volume

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from sampler.self_target import shape_line  # noqa: E402

BLOCK = 64


def closure(vols: list[Volume]) -> tuple[float, float, float]:
    """3D largest-cluster fraction of the boundaries (phase 1), and of the grains (phase 0)
    with their number of face-connected pieces per volume: closed boundaries keep the
    grains apart (many pieces, none dominant); broken ones let them run together."""
    bound = np.mean([largest_cluster_fraction(v.labels, 1) for v in vols])
    grain = np.mean([largest_cluster_fraction(v.labels, 0) for v in vols])
    pieces = np.mean([ndimage.label(v.labels == 0)[1] for v in vols])
    return float(bound), float(grain), float(pieces)


def tessellation_3d(sizes: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Boundary voxels (1) of a 3D Laguerre tessellation of a BLOCK^3 box.

    As ``rvegen.data.synthetic.grains`` in 2D: sizes in equal volume fractions (numbers
    proportional to 1 / size^3), seeds over a 10 % margin, power weights (d / 2)^2.
    """
    d_all = sizes * scale
    share = (1 / d_all**3) / (1 / d_all**3).sum()
    n = max(2, int(round(BLOCK**3 / np.sum(share * np.pi * d_all**3 / 6))))
    d = rng.choice(d_all, size=n, p=share)
    seeds = rng.uniform(-0.1, 1.1, (n, 3)) * BLOCK
    weight = (d / 2) ** 2
    yy, xx = np.mgrid[0:BLOCK, 0:BLOCK]
    plane = np.stack([yy.ravel(), xx.ravel()], 1).astype(np.float64)
    ids = np.empty((BLOCK, BLOCK, BLOCK), dtype=np.int64)
    for z in range(BLOCK):  # one z plane at a time: (BLOCK^2 x n) distances fit in memory
        dist = ((plane[:, None, :] - seeds[None, :, 1:]) ** 2).sum(-1) + (z - seeds[:, 0]) ** 2
        ids[z] = (dist - weight).argmin(1).reshape(BLOCK, BLOCK)
    edge = np.zeros(ids.shape, dtype=bool)
    edge[:-1] |= ids[:-1] != ids[1:]
    edge[:, :-1] |= ids[:, :-1] != ids[:, 1:]
    edge[:, :, :-1] |= ids[:, :, :-1] != ids[:, :, 1:]
    return edge.astype(np.uint8)


def sub_volumes(scale: float, count: int, size: int, sizes: np.ndarray, seed: int) -> list[Volume]:
    """``count`` size^3 sub-volumes of independent 64^3 tessellations (8 per block)."""
    rng = np.random.default_rng(seed)
    out: list[Volume] = []
    while len(out) < count:
        block = tessellation_3d(sizes, scale, rng)
        for z in (0, size):
            for y in (0, size):
                for x in (0, size):
                    if len(out) < count:
                        out.append(Volume(f"t{len(out)}",
                                          block[z:z + size, y:y + size, x:x + size].copy()))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scales", type=float, nargs="*", default=[1.0, 1.25, 1.5])
    p.add_argument("--count", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    spec = rvegen.load_spec(HERE / "grains.yaml")
    ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
    reference = reference_dataset(spec, ds)
    sizes = np.asarray(spec.data.synthetic.grain_sizes, dtype=np.float64)
    size = spec.generate.size
    generated = json.loads((spec.run_path / "report.json").read_text())
    gen = generated["ensemble"]["errors"]["1"]
    gen_vols, _ = rvegen.read_volumes(spec.run_path / "volumes.h5")
    gen_closure = closure(gen_vols)
    print(f"grains: phase 1 (boundaries), {a.count} sub-volumes of {size}^3 per row, per-plane "
          f"validation against the case's 2D images (boundary fraction {ds.fractions[1]:.3f})")
    print(f"{'3D tessellation, size x':26s} {'S2 / L %':>14s} {'fraction':>9s} "
          f"{'3D cluster':>11s} {'grains: largest':>16s} {'pieces':>7s}")
    for scale in a.scales:
        vols = sub_volumes(scale, a.count, size, sizes, a.seed)
        report = rvegen.validate(vols, reference, spec.validate_)
        h = report.headline()
        frac = np.mean([v.labels.mean() for v in vols])
        bound, grain, pieces = closure(vols)
        print(f"{scale:<26.2f} {h['s2']:6.2f} / {h['lineal_path']:5.2f} {frac:9.3f} "
              f"{bound:11.3f} {grain:16.3f} {pieces:7.1f}", flush=True)
        print(f"    {shape_line(report)}", flush=True)
    print(f"{'generated (report.json)':26s} {gen['s2']:6.2f} / {gen['lineal_path']:5.2f} "
          f"{np.mean([v.labels.mean() for v in gen_vols]):9.3f} {gen_closure[0]:11.3f} "
          f"{gen_closure[1]:16.3f} {gen_closure[2]:7.1f}")
    print(f"    euler {generated['morphology']['generated']['1']['euler_density']:.2f}, cluster "
          f"{generated['morphology']['generated']['1']['largest_cluster_fraction']:.3f}, "
          f"accepted {generated['accepted']}/{len(generated['volumes'])}")


if __name__ == "__main__":
    main()
