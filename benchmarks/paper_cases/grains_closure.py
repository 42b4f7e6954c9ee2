"""What closing the boundary networks (``generate.close_boundaries``) does on the grains case.

    python benchmarks/paper_cases/grains_closure.py [--count 25] [--seed SEED]

The case's volumes are sampled once with its spec (closure on) while a first filter
keeps each sampler output as it was (``rvegen.boundaries`` not applied): the same
samples without and with closure. Both are validated as the case's volumes are (per plane
against the training images), under the spec's metric options (boundaries counted with
corner neighbours, grains with face neighbours) and under face connectivity for every
phase (the rows of sessions 2-12). Then, in 32 x 32 sections: the largest boundary
cluster and the boundaries' Euler density under face (4) and full (8) connectivity, and
in 3D the grains' largest cluster and face-connected pieces per volume (closed boundaries
keep the grains apart), of the training images, a real 3D tessellation at the matched
boundary fraction (``grains_3d_truth.py``, sizes x 1.6) and both ensembles; last, the
boundary fraction of the volumes' outermost voxel layer beside that of their inside.
``--seed``: another set of samples (default: the spec's, the case's own volumes); the
reference, the real spreads and the tessellation stay the spec's.

Needs the case's run folder (``python run.py grains``, or in this folder
``rvegen ingest grains.yaml && rvegen train grains.yaml``). Nothing here feeds back
into a setting.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import rvegen
from rvegen.boundaries import grain_density
from rvegen.plugins import build_registry, hookimpl
from rvegen.validation.morphology import euler_density, largest_cluster_fraction
from rvegen.volumes import Volume

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from grains_3d_truth import closure, sub_volumes  # noqa: E402


class KeepUnclosed:
    """A filter that runs first and keeps what the sampler returned, as labels."""

    def __init__(self) -> None:
        self.volumes: list[Volume] = []

    @hookimpl(tryfirst=True)
    def rvegen_on_volume_generated(self, volume, context):  # noqa: ANN001, ANN201
        labels = (volume[0] > 0).cpu().numpy().astype(np.uint8)
        self.volumes.append(Volume(f"unclosed_{context.index:03d}", labels))


def sections(volumes: list[Volume]) -> np.ndarray:
    """Every slice of every volume along the three axes."""
    return np.concatenate([np.moveaxis(v.labels, a, 0) for v in volumes for a in range(3)])


def connectivity_line(name: str, images: np.ndarray, volumes: list[Volume] | None) -> str:
    def mean(fn) -> float:  # noqa: ANN001
        return float(np.mean([fn(s) for s in images]))

    cluster = [mean(lambda s, c=c: largest_cluster_fraction(s, 1, connectivity=c))
               for c in ("face", "full")]
    euler = [mean(lambda s, c=c: euler_density(s, 1, connectivity=c)) for c in ("face", "full")]
    line = (f"{name:28s} cluster {cluster[0]:.3f} / {cluster[1]:.3f}   "
            f"Euler {euler[0]:6.2f} / {euler[1]:6.2f}")
    if volumes is not None:
        _, grain, pieces = closure(volumes)
        line += f"   3D grains: largest {grain:.3f}, pieces {pieces:5.1f}"
    return line


def report_line(name: str, report: rvegen.Report) -> str:
    p = str(report.phase_of_interest)
    e, f = report.headline(), report.headline("real_ensemble")
    m, r = report.ensemble["scalars"][p], report.real_ensemble["scalar_range"][p]
    eu, cl = r["euler_density"], r["largest_cluster"]
    return (f"{name:34s} S2 {e['s2']:5.2f}  L {e['lineal_path']:5.2f}  (floor "
            f"{f['s2']:.2f} / {f['lineal_path']:.2f})  Euler {m['euler_density']:6.2f} "
            f"({eu[0]:.2f} .. {eu[1]:.2f})  cluster {m['largest_cluster']:.3f} "
            f"({cl[0]:.3f} .. {cl[1]:.3f})  accepted {report.accepted}/{len(report.volumes)}")


def sample_case(case: str, keep: object,
                description: str) -> tuple[rvegen.Spec, rvegen.Dataset, int, list[Volume]]:
    """Read ``--count`` and ``--seed``, then sample the case's volumes (its spec, its run
    folder) with ``keep`` as a first filter: (spec, dataset, seed, volumes)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--count", type=int, default=25)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    spec = rvegen.load_spec(HERE / f"{case}.yaml")
    seed = spec.seed if args.seed is None else args.seed  # of the samples only
    ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
    model = rvegen.load_model(spec.run_path / "model" / "model.pt")
    volumes = rvegen.sample_volumes(model, args.count, spec.generate, ds.fractions, seed,
                                    build_registry(extra_plugins=[keep]), dataset=ds)
    return spec, ds, seed, volumes


def main() -> None:
    keep = KeepUnclosed()
    spec, ds, seed, closed = sample_case("grains", keep, __doc__.splitlines()[0])
    count = len(closed)
    density = grain_density(ds.patches)
    print(f"grains: {count} volumes of {spec.generate.size}^3, seed {seed}; "
          f"boundary fraction {ds.fractions[1]:.3f}, training patches' grain density "
          f"{density:.2f} per 1000 px")
    face = spec.validate_.model_copy(update={"metric_options": {}})
    for name, volumes in (("without closure", keep.volumes), ("closed (the spec)", closed)):
        for how, cfg in (("spec's connectivity", spec.validate_), ("face", face)):
            report = rvegen.validate(volumes, ds, cfg, seed=spec.seed)
            print(report_line(f"{name}, {how}", report), flush=True)
    print("32 x 32 sections, boundaries under face (4) / full (8) connectivity:")
    rng = np.random.default_rng(spec.seed)
    n = spec.generate.size
    crops = np.stack([ds.source[rng.integers(0, len(ds.source)), y:y + n, x:x + n]
                      for y, x in rng.integers(0, ds.source.shape[1] - n + 1, (512, 2))])
    truth = sub_volumes(1.6, count, n, np.asarray(spec.data.synthetic.grain_sizes, float),
                        spec.seed)
    print(connectivity_line("training images", crops, None))
    for name, volumes in (("3D tessellation x1.6", truth), ("without closure", keep.volumes),
                          ("closed (the spec)", closed)):
        print(connectivity_line(name, sections(volumes), volumes), flush=True)
    for name, volumes in (("without closure", keep.volumes), ("closed (the spec)", closed)):
        labels = np.stack([v.labels for v in volumes]).astype(bool)
        inside = labels[:, 1:-1, 1:-1, 1:-1]
        outer = (labels.sum() - inside.sum()) / (labels[0].size - inside[0].size) / len(labels)
        print(f"{name:28s} boundary fraction: outermost layer {outer:.3f}, inside "
              f"{inside.mean():.3f}")


if __name__ == "__main__":
    main()
