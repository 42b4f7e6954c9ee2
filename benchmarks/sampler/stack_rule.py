"""Does the 3D stack score rank sampler settings as an independent reference does?

    python benchmarks/sampler/stack_rule.py CASE [--settings NAME ...] [--count 8] [--seed 0]

For a paper case trained on a 3D stack, the cached volumes of ``self_target.py`` (sampled
there once per setting, ``benchmarks/out/self_target/CASE``) are scored two ways:

- ``training stack``: what ``generate.pool_sigma / harmonizing_steps: auto`` reads for
  stacks since session 11 (``rvegen.validation.report.stack_score``): the volumes in 3D
  against the training part of the stack, each headline term (S2, L(z), Euler density,
  largest cluster) in units of the real spread (``spread_units``: the ensemble's error
  over the median error of single real samples / sqrt(count)), and their sum.
- ``independent``: the same terms against data no setting was chosen on: a fresh
  realization of a synthetic source (4x the slices, another seed), or the held-out block
  of a real stack.

A rule is as good as the agreement of the two rankings. Raw errors and morphology are
printed beside the units.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rvegen  # noqa: E402
from rvegen.pipeline import reference_dataset  # noqa: E402
from rvegen.validation.metrics import mean_chord_length  # noqa: E402
from rvegen.validation.reference import tiled_samples  # noqa: E402
from rvegen.validation.report import phase_of_interest, spread_units  # noqa: E402
from sampler.self_target import CASES, case_parser, volumes_for  # noqa: E402


def line(name: str, where: str, report: rvegen.Report, units: dict[str, float]) -> str:
    p = str(report.phase_of_interest)
    e, f = report.headline(), report.headline("real_ensemble")
    means, ranges = report.ensemble["scalars"][p], report.real_ensemble["scalar_range"][p]
    eu, cl = ranges["euler_density"], ranges["largest_cluster"]
    per_axis = report.per_axis["ensemble"]
    axes = "/".join(f"{per_axis[a]['lineal_path']:.1f}" for a in ("z", "y", "x"))
    return (f"{name:32s} {where:15s} S2 {e['s2']:5.2f} L {e['lineal_path']:5.2f} "
            f"(floor {f['s2']:4.2f}/{f['lineal_path']:4.2f})  "
            f"Euler {means['euler_density']:6.2f} ({eu[0]:.2f}..{eu[1]:.2f})  "
            f"cluster {means['largest_cluster']:.3f} ({cl[0]:.3f}..{cl[1]:.3f})  | "
            f"units S2 {units['s2']:4.1f} L {units['lineal_path']:4.1f} "
            f"Euler {units['euler_density']:4.1f} cluster {units['largest_cluster']:4.1f} "
            f"sum {units['sum']:5.1f}  | L z/y/x {axes}")


def chords(volumes: np.ndarray, phase: int, first_axis: int = 1) -> str:
    """Mean chord length of ``phase`` along z / y / x of a stack of volumes."""
    return "/".join(f"{mean_chord_length(volumes, phase, first_axis + a):.2f}" for a in range(3))


def main() -> None:
    p = case_parser(__doc__)
    a = p.parse_args()
    spec = rvegen.load_spec(CASES / f"{a.case}.yaml")
    ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
    if ds.kind != "stack":
        p.error(f"{a.case}: 2D data; the stack score needs a 3D training stack")
    if spec.data.synthetic is not None:
        fresh = spec.model_copy(deep=True)
        fresh.validate_.reference = "fresh"
        independent, label = reference_dataset(fresh, ds), "fresh"
    else:
        independent, label = ds, "held-out block"
    # the fresh / held-out data as the only data (the scores drop a holdout)
    independent = replace(independent, source=independent.holdout, holdout=None)
    model = rvegen.load_model(CASES / "models" / f"{a.case}.pt")
    size = spec.generate.size or model.image_size
    poi = phase_of_interest(spec.validate_, ds.fractions)
    print(f"{a.case}: training stack {ds.source.shape}, independent = {label} "
          f"{independent.source.shape}; {a.count} volumes of {size}^3 per setting, seed {a.seed}")
    # chords cut by a volume's faces count with their visible length: compare equal sizes
    tiles = {w: np.stack(tiled_samples(replace(d, holdout=None), size, 64,
                                       np.random.default_rng(0)))
             for w, d in (("training stack", ds), (label, independent))}
    print(f"mean chord of phase {poi} along z/y/x in {size}^3 tiles: "
          + ", ".join(f"{w} {chords(t, poi)}" for w, t in tiles.items()))
    for name in a.settings:
        vols = volumes_for(name, model, ds, size, a.count, a.seed, a.cache / a.case)
        for where, data in (("training stack", ds), (label, independent)):
            report = rvegen.validate(vols, replace(data, holdout=None),
                                     {"reference_samples": 64, "floor_draws": 5}, seed=1)
            print(line(name, where, report, spread_units(report)), flush=True)
        print(f"{name:32s} mean chord z/y/x {chords(np.stack([v.labels for v in vols]), poi)}")


if __name__ == "__main__":
    main()
