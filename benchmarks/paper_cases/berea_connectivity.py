"""Can a connected-pore-space rule after sampling mend Berea's pore connectivity?

    python benchmarks/paper_cases/berea_connectivity.py [--count 25] [--seed SEED]

Berea trained on ONE slice keeps its S2 and L(z) near the one-slice limit, but its pore
space is not one network: largest pore cluster 0.61 against 0.93-0.95 in real 32^3
sub-volumes, Euler density +2.9 against ~0 (results.md, row V). A user of a sandstone
knows that its pore space is connected; this asks whether that knowledge, applied after
sampling as a rule without a setting, would close the gap. Where the pores of a volume
lie, by the share of them in

* pieces that touch no face of the volume and are not its largest (isolated pores: in a
  connected pore space there are none, since every piece of it leaves the window), and
* pieces that touch a face but are not the largest (connected outside the window, or not),

for real 32^3 windows of the training part and the held-out block, and for the case's
volumes (sampled with the spec, the sampler's field kept). Then the volumes under two rules,
each keeping the volume's pore fraction, validated as the case is (against the held-out
block):

* **no isolated pores**: isolated pieces are given to the grain phase and the kept pore
  space grows into its face neighbours where the sampled field is most pore-like, ring by
  ring, until the fraction is back;
* **one network**: the pore voxels are the most pore-like ones connected to the largest
  piece, by the field's connected strength (a grey-level reconstruction: the best over
  paths of the weakest voxel on the path), cut at the fraction.

Needs the case's run folder (``python run.py berea``, or in this folder ``rvegen ingest
berea.yaml && rvegen train berea.yaml``). Nothing here feeds back into a setting.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import ndimage

import rvegen
from rvegen.boundaries import thicken_lines
from rvegen.pipeline import reference_dataset
from rvegen.plugins import build_registry, hookimpl
from rvegen.volumes import Volume

HERE = Path(__file__).resolve().parent
PORE = 0


class KeepFields:
    """A filter that keeps each sampler output as it was (continuous, > 0 on grain)."""

    def __init__(self) -> None:
        self.fields: list[np.ndarray] = []

    @hookimpl(tryfirst=True)
    def rvegen_on_volume_generated(self, volume, context):  # noqa: ANN001, ANN201
        self.fields.append(volume[0].float().cpu().numpy())


def piece_shares(mask: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(isolated share, face-touching-not-largest share, isolated mask) of a phase mask."""
    pieces, n = ndimage.label(mask)
    if n == 0:
        return 0.0, 0.0, np.zeros_like(mask)
    sizes = np.bincount(pieces.ravel())
    sizes[0] = 0
    shell = np.ones(mask.shape, bool)
    shell[1:-1, 1:-1, 1:-1] = False
    touching = np.zeros(n + 1, bool)
    touching[np.unique(pieces[shell & mask])] = True
    largest = np.zeros(n + 1, bool)
    largest[np.argmax(sizes)] = True
    isolated = ~touching & ~largest
    isolated[0] = False
    total = sizes.sum()
    return (float(sizes[isolated].sum() / total),
            float(sizes[touching & ~largest].sum() / total), isolated[pieces])


def no_isolated_pores(strength: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Drop the isolated pieces; regrow the rest into its most pore-like face neighbours."""
    count = int(mask.sum())
    kept = mask & ~piece_shares(mask)[2]
    while kept.sum() < count:
        grown = thicken_lines(strength, kept, (count + 0.5) / mask.size)
        if grown.sum() == kept.sum():
            break
        kept = grown
    return kept


def one_network(strength: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The most pore-like voxels by connected strength from the largest piece."""
    from skimage.morphology import reconstruction

    pieces, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = np.bincount(pieces.ravel())
    sizes[0] = 0
    seed = np.where(pieces == np.argmax(sizes), strength, strength.min())
    connected = reconstruction(seed, strength, method="dilation",
                               footprint=ndimage.generate_binary_structure(3, 1))
    # ties at the cut (plateaus of the reconstruction) are kept: the fraction may rise
    return connected >= np.sort(connected.ravel())[::-1][int(mask.sum()) - 1]


def windows(block: np.ndarray, size: int, count: int, rng: np.random.Generator) -> list:
    starts = [rng.integers(0, s - size + 1, count) for s in block.shape]
    return [block[z:z + size, y:y + size, x:x + size] for z, y, x in zip(*starts)]


def share_line(name: str, masks: list[np.ndarray]) -> str:
    shares = np.array([piece_shares(m)[:2] for m in masks])
    return (f"{name:26s} pores isolated {np.median(shares[:, 0]):.3f} (max "
            f"{shares[:, 0].max():.3f}), in other face-touching pieces "
            f"{np.median(shares[:, 1]):.3f} (median of {len(masks)})")


def report_line(name: str, report: rvegen.Report, labels: list[np.ndarray]) -> str:
    p = str(report.phase_of_interest)
    e, f = report.headline(), report.headline("real_ensemble")
    m, r = report.ensemble["scalars"][p], report.real_ensemble["scalar_range"][p]
    eu, cl = r["euler_density"], r["largest_cluster"]
    fraction = np.mean([(v == PORE).mean() for v in labels])
    return (f"{name:18s} S2 {e['s2']:5.2f}  L {e['lineal_path']:5.2f}  (floor "
            f"{f['s2']:.2f} / {f['lineal_path']:.2f})  Euler {m['euler_density']:5.2f} "
            f"({eu[0]:.2f} .. {eu[1]:.2f})  cluster {m['largest_cluster']:.3f} "
            f"({cl[0]:.3f} .. {cl[1]:.3f})  pores {fraction:.3f}  accepted "
            f"{report.accepted}/{len(report.volumes)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=25)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    spec = rvegen.load_spec(HERE / "berea.yaml")
    seed = spec.seed if args.seed is None else args.seed  # of the samples only
    ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
    model = rvegen.load_model(spec.run_path / "model" / "model.pt")
    keep = KeepFields()
    sampled = rvegen.sample_volumes(model, args.count, spec.generate, ds.fractions, seed,
                                    build_registry(extra_plugins=[keep]), dataset=ds)
    n = spec.generate.size
    print(f"berea: {args.count} volumes of {n}^3, seed {seed}; pores = phase {PORE}, "
          "face connectivity")
    rng = np.random.default_rng(spec.seed)
    for name, block in (("real, training part", ds.source), ("real, held-out block", ds.holdout)):
        print(share_line(name, [w == PORE for w in windows(block, n, 64, rng)]))
    print(share_line("generated (the case)", [v.labels == PORE for v in sampled]), flush=True)
    ref = reference_dataset(spec, ds)
    rules = {"the case": lambda s, m: m, "no isolated pores": no_isolated_pores,
             "one network": one_network}
    for name, rule in rules.items():
        labels = []
        for field, volume in zip(keep.fields, sampled):
            mask = rule(-field.astype(np.float64), volume.labels == PORE)
            labels.append(np.where(mask, PORE, 1 - PORE).astype(np.uint8))
        report = rvegen.validate([Volume(f"v{i:03d}", v) for i, v in enumerate(labels)], ref,
                                 spec.validate_, seed=spec.seed)
        print(report_line(name, report, labels), flush=True)


if __name__ == "__main__":
    main()
