"""The reference-free score against unguided and against fraction-guided 2D samples,
beside the errors against the real data, for the same volumes.

    python benchmarks/sampler/self_target.py CASE [--count 8] [--seed 0]
        [--settings NAME ...] [--cache DIR] [--reference spec|training]

CASE is a paper case with a run folder (``python benchmarks/paper_cases/run.py CASE``)
and a checkpoint in ``benchmarks/paper_cases/models/``; NAME is a setting of ``sweep.py``.
Volumes are kept in ``--cache`` (``benchmarks/out/self_target``) so that scoring again is
cheap. Per setting: S2 / L(z) errors (%) of the phase of interest against the real data
as the case's spec validates (``ref``: the whole reference data's curves, the headline of
validation since session 8), against 512 unguided 2D samples of the model
(``self old``, the target of sessions 3-6) and against 8 m fraction-guided ones (``self
new``, the target of ``pool_sigma: auto`` now). A rule is only as good as the agreement
of its ranking with ``ref``'s. Under each row: per-axis ensemble errors z / y / x against
the real crops' per-axis curves (floor in brackets), the Euler density and largest-cluster
fraction of the phase of interest beside the real samples', the gate's count, and the
share of voxels equal to those of the first setting's volumes (same seeds).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rvegen  # noqa: E402
from rvegen.pipeline import reference_dataset  # noqa: E402
from rvegen.validation.reference import reference_source  # noqa: E402
from rvegen.validation.report import self_headline  # noqa: E402
from rvegen.volumes import Volume  # noqa: E402
from sampler.sweep import SETTINGS  # noqa: E402

CASES = Path(__file__).resolve().parents[1] / "paper_cases"


def volumes_for(name: str, model: rvegen.Model, ds: rvegen.Dataset, size: int, count: int,
                seed: int, cache: Path) -> list[Volume]:
    """The setting's volumes, sampled once and kept in ``cache``."""
    path = cache / f"{name.replace(' ', '_')}_n{count}_s{seed}.npy"
    if not path.exists():
        fields = {**SETTINGS[name], "size": size}
        vols = rvegen.sample_volumes(model, count, {**fields, "count": count}, ds.fractions,
                                     seed=seed)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(path, np.stack([v.labels for v in vols]))
    return [Volume(f"v{i}", labels) for i, labels in enumerate(np.load(path))]


def shape_line(report: rvegen.Report) -> str:
    """Per-axis ensemble S2 / L(z) errors (z, y, x; floor in brackets) and the phase of
    interest's Euler density and largest-cluster fraction beside the real samples'."""
    axes = report.per_axis
    per = " ".join(f"{a} {axes['ensemble'][a]['s2']:4.1f}/{axes['ensemble'][a]['lineal_path']:4.1f}"
                   f" ({axes['real_ensemble'][a]['s2']:3.1f}/{axes['real_ensemble'][a]['lineal_path']:3.1f})"
                   for a in ("z", "y", "x"))
    p = str(report.phase_of_interest)
    gen, real = report.morphology["generated"][p], report.morphology["real"][p]
    return (f"per axis S2/L {per}; euler {gen['euler_density']:.2f} (real "
            f"{real['euler_density']:.2f}), cluster {gen['largest_cluster_fraction']:.3f} "
            f"(real {real['largest_cluster_fraction']:.3f}); accepted {report.accepted}")


def case_parser(description: str | None) -> argparse.ArgumentParser:
    """The arguments of the scripts that score cached volumes of a paper case: CASE,
    --count, --seed, --settings (names of sweep.py) and --cache."""
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("case")
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--settings", nargs="*", default=["rvegen s100"])
    p.add_argument("--cache", type=Path,
                   default=Path(__file__).resolve().parents[1] / "out" / "self_target")
    return p


def main() -> None:
    p = case_parser(__doc__)
    p.add_argument("--reference", choices=["spec", "training"], default="spec",
                   help="'ref' against what the spec validates with (default) or against "
                        "the training part of a stack (its held-out block left out)")
    a = p.parse_args()
    spec = rvegen.load_spec(CASES / f"{a.case}.yaml")
    ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
    # what the case's validate.reference asks for, or the data the model was trained on
    reference = (reference_dataset(spec, ds) if a.reference == "spec"
                 else replace(ds, holdout=None))
    model = rvegen.load_model(CASES / "models" / f"{a.case}.pt")
    size = spec.generate.size or model.image_size
    base = {"size": size, "pool_sigma": 0.0}
    old = rvegen.sample_images(model, 512, base, ds.fractions, seed=a.seed + 7)
    new = rvegen.sample_images(model, 8 * size, base, ds.fractions, seed=a.seed + 7,
                               guided=True)
    print(f"{a.case}: ref = {reference_source(reference, size)[1]}; "
          f"{a.count} volumes of {size}^3 per setting, seed {a.seed}; "
          f"phase-{1 if model.phases == 2 else 'of-interest'} fraction of the 2D samples: "
          f"unguided {np.mean(old == model.phases - 1):.3f}, guided "
          f"{np.mean(new == model.phases - 1):.3f}, data {ds.fractions[-1]:.3f}")
    print(f"{'setting':34s} {'ref S2/L':>13s} {'self old S2/L':>15s} {'self new S2/L':>15s}")
    first: np.ndarray | None = None
    for name in a.settings:
        vols = volumes_for(name, model, ds, size, a.count, a.seed, a.cache / a.case)
        labels = np.stack([v.labels for v in vols])
        first = labels if first is None else first
        report = rvegen.validate(vols, reference, spec.validate_.model_copy(
            update={"reference_samples": 64}))
        ref = report.headline()
        s_old = self_headline(vols, old, model.phases)
        s_new = self_headline(vols, new, model.phases)
        cells = [f"{h['s2']:5.1f} / {h['lineal_path']:5.1f}" for h in (ref, s_old, s_new)]
        print(f"{name:34s} {cells[0]:>13s} {cells[1]:>15s} {cells[2]:>15s}", flush=True)
        print(f"    {shape_line(report)}; voxels as in the first setting's volumes "
              f"{100 * np.mean(labels == first):.1f} %", flush=True)


if __name__ == "__main__":
    main()
