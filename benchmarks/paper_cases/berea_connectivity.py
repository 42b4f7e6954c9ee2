"""Can a connected-pore-space rule mend Berea's pore connectivity, after or during sampling?

    python benchmarks/paper_cases/berea_connectivity.py [--count 25] [--seed SEED]

Berea trained on ONE slice keeps its S2 and L(z) near the one-slice limit, but its pore
space is not one network: largest pore cluster 0.61 against 0.93-0.95 in real 32^3
sub-volumes, Euler density +2.9 against ~0 (results.md, row V). A user of a sandstone
knows that its pore space is connected; this asks whether that knowledge, applied as a
rule without a setting, would close the gap. First, where the pores of a volume lie, by
the share of them in

* pieces that touch no face of the volume and are not its largest (isolated pores: in a
  connected pore space there are none, since every piece of it leaves the window), and
* pieces that touch a face but are not the largest (connected outside the window, or not),

for real 32^3 windows of the training part and the held-out block, and for the case's
volumes (sampled with the spec, the sampler's field kept). Then two rules, each keeping
the volume's pore fraction, both by the field's connected strength from seed pieces (a
grey-level reconstruction: at each voxel, the best over paths from a seed of the least
pore-like voxel on the path; a piece apart from the seeds sinks to the level of its best
connection to them):

* **no isolated pores**: seeds = the largest piece and every piece touching a face;
* **one network**: seed = the largest piece.

Each rule is applied after sampling (the connected strength cut at the pore fraction)
and, separately, during sampling as guidance (volumes sampled again with the same seeds:
at every step but the last, the x0 prediction is replaced by its connected strength and
then guided to the fraction as usual, so that the model denoises from a connected
structure). All rows are validated as the case is (against the held-out block), each
with the criteria on which its ensemble is outside the spread of real ensembles
(``Report.outside_real_spread``); last, the median error of single real sub-volumes,
the spread the gate judges one volume by.

Needs the case's run folder (``python run.py berea``, or in this folder ``rvegen ingest
berea.yaml && rvegen train berea.yaml``). Nothing here feeds back into a setting.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

import rvegen
from rvegen.diffusion import multiplane
from rvegen.pipeline import reference_dataset
from rvegen.plugins import hookimpl
from rvegen.volumes import Volume

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from grains_closure import report_line, sample_case  # noqa: E402

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


def connected_strength(strength: np.ndarray, only_largest: bool) -> np.ndarray:
    """The pore-likeness reachable from the seed pieces of ``strength > 0`` (see above)."""
    from skimage.morphology import reconstruction

    mask = strength > 0
    pieces, n = ndimage.label(mask)
    if n <= 1:
        return strength
    sizes = np.bincount(pieces.ravel())
    sizes[0] = 0
    seeds = pieces == np.argmax(sizes)
    if not only_largest:
        seeds |= mask & ~piece_shares(mask)[2]
    return reconstruction(np.where(seeds, strength, strength.min()), strength,
                          method="dilation", footprint=ndimage.generate_binary_structure(3, 1))


RULES = {"no isolated pores": False, "one network": True}  # name: only_largest


def after_sampling(field: np.ndarray, only_largest: bool) -> np.ndarray:
    """Labels: the connected strength of the pores (-field) cut at the pore fraction; ties
    at the cut (plateaus of the reconstruction) are kept, so the fraction may rise."""
    strength = -field.astype(np.float64)
    connected = connected_strength(strength, only_largest)
    cut = np.sort(connected.ravel())[::-1][int((strength > 0).sum()) - 1]
    return np.where(connected >= cut, PORE, 1 - PORE).astype(np.uint8)


@contextmanager
def guided_by(only_largest: bool, steps: int):
    """Sample with the rule applied to every x0 prediction but the last step's."""
    original = multiplane.guide
    calls = [0]

    def guide(x0, settings, channels):  # noqa: ANN001, ANN202
        x0 = original(x0, settings, channels)
        calls[0] += 1
        if calls[0] % steps == 0:  # the last step of a volume: the model's own
            return x0
        pores = connected_strength(-x0[0].double().cpu().numpy(), only_largest)
        return original(torch.from_numpy(-pores).to(x0)[None], settings, channels)

    multiplane.guide = guide
    try:
        yield
    finally:
        multiplane.guide = original


def windows(block: np.ndarray, size: int, count: int, rng: np.random.Generator) -> list:
    starts = [rng.integers(0, s - size + 1, count) for s in block.shape]
    return [block[z:z + size, y:y + size, x:x + size] for z, y, x in zip(*starts)]


def share_line(name: str, masks: list[np.ndarray]) -> str:
    shares = np.array([piece_shares(m)[:2] for m in masks])
    return (f"{name:26s} pores isolated {np.median(shares[:, 0]):.3f} (max "
            f"{shares[:, 0].max():.3f}), in other face-touching pieces "
            f"{np.median(shares[:, 1]):.3f} (median of {len(masks)})")


def main() -> None:
    keep = KeepFields()
    spec, ds, seed, sampled = sample_case("berea", keep, __doc__.splitlines()[0])
    n = spec.generate.size
    print(f"berea: {len(sampled)} volumes of {n}^3, seed {seed}; pores = phase {PORE}, "
          "face connectivity")
    rng = np.random.default_rng(spec.seed)
    for name, block in (("real, training part", ds.source), ("real, held-out block", ds.holdout)):
        print(share_line(name, [w == PORE for w in windows(block, n, 64, rng)]))
    print(share_line("generated (the case)", [v.labels == PORE for v in sampled]), flush=True)
    ref = reference_dataset(spec, ds)

    def score(name: str, labels: list[np.ndarray]) -> rvegen.Report:
        report = rvegen.validate([Volume(f"v{i:03d}", v) for i, v in enumerate(labels)],
                                 ref, spec.validate_, seed=spec.seed)
        pores = np.mean([(v == PORE).mean() for v in labels])
        print(report_line(f"{name} (pores {pores:.3f})", report), flush=True)
        print(f"{'':34s} outside the real ensembles' spread: "
              f"{', '.join(report.outside_real_spread()) or 'nothing'}", flush=True)
        return report

    spread = score("the case", [v.labels for v in sampled]).natural_spread
    for name, only_largest in RULES.items():
        score(f"{name}, after", [after_sampling(f, only_largest) for f in keep.fields])
    # one pass of the sampler per step (n_h 1) is what the step count of guided_by assumes
    assert spec.generate.harmonizing_steps == 1, "the case spec's n_h changed"
    model = rvegen.load_model(spec.run_path / "model" / "model.pt")
    for name, only_largest in RULES.items():
        with guided_by(only_largest, spec.generate.steps):
            volumes = rvegen.sample_volumes(model, len(sampled), spec.generate, ds.fractions,
                                            seed, dataset=ds)
        score(f"{name}, guided", [v.labels for v in volumes])
    key = f"/{PORE}"
    print(f"single real {n}^3 sub-volumes against the whole block (the gate's spread), "
          f"median: S2 {spread['s2' + key]['median']:.2f} %, "
          f"L {spread['lineal_path' + key]['median']:.2f} %")


if __name__ == "__main__":
    main()
