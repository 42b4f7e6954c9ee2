"""Is a case's per-axis anisotropy the sampler's plane order, or ensemble noise?

    python benchmarks/sampler/isotropy.py CASE [--orders cycle random] [--seeds 0 1 2]
                                               [--count 16]

The case's volumes are sampled again with its own settings (``auto`` ones as its run
chose them: the records in its ``volumes.h5`` or in ``results.json``), for each plane
order and seed, and validated as the case's are (its spec and reference). Per ensemble:
the per-axis errors of the ensemble's mean curve (S2 and L(z), z / y / x) beside the
per-axis floor (ensembles of as many real samples). An axis that is the worst for every
seed of an order is that order's anisotropy; one that moves between seeds is noise.
Needs the case's dataset and model (``python benchmarks/paper_cases/run.py CASE``).
Nothing here feeds back into a setting.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import rvegen
from rvegen.generate import resolve_grain_density
from rvegen.pipeline import reference_dataset
from rvegen.spec import AUTO_HARMONIZING

CASES = Path(__file__).resolve().parents[1] / "paper_cases"
AXES = "zyx"


def resolved(spec: rvegen.Spec, case: str) -> rvegen.spec.GenerateSpec:
    """The case's generate section with its 'auto' settings as its run chose them (the
    records in its volumes.h5, else in results.json, which run.py copies them to)."""
    volumes = spec.run_path / "volumes.h5"
    if volumes.exists():
        _, root = rvegen.read_volumes(volumes)
    else:
        root = json.loads((CASES / "results.json").read_text())[case]
    cfg = spec.generate
    if cfg.pool_sigma == "auto":
        cfg = cfg.model_copy(update={"pool_sigma": json.loads(root["pool_sigma_auto"])["chosen"]})
    if cfg.harmonizing_steps == "auto":
        chosen = json.loads(root["harmonizing_steps_auto"])["chosen"]
        cfg = cfg.model_copy(update=AUTO_HARMONIZING[chosen])
    return cfg


def axis_cells(per_axis: dict, key: str) -> list[float]:
    return [per_axis[a][key] for a in AXES]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("case")
    p.add_argument("--orders", nargs="+", default=["cycle", "random"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--count", type=int, default=16)
    args = p.parse_args()
    spec = rvegen.load_spec(CASES / f"{args.case}.yaml")
    run = spec.run_path
    ds = rvegen.load_dataset(run / "dataset.h5")
    model = rvegen.load_model(run / "model" / "model.pt")
    cfg = resolve_grain_density(resolved(spec, args.case), ds)
    reference = reference_dataset(spec, ds)  # what the case is validated against
    print(f"{args.case}: {args.count} volumes per ensemble, n_h {cfg.harmonizing_steps}, "
          f"pool_sigma {cfg.pool_sigma}, pool_repeats {cfg.pool_repeats}", flush=True)
    rows: dict[str, list[dict[str, list[float]]]] = {o: [] for o in args.orders}
    for order in args.orders:
        for seed in args.seeds:
            start = time.process_time()
            volumes = rvegen.sample_volumes(model, args.count,
                                            cfg.model_copy(update={"plane_order": order}),
                                            ds.fractions, seed, dataset=ds)
            report = rvegen.validate(volumes, reference, spec.validate_, seed=spec.seed)
            ens, floor = report.per_axis["ensemble"], report.per_axis["real_ensemble"]
            head = report.headline()
            row = {k: axis_cells(ens, k) for k in ("s2", "lineal_path")}
            rows[order].append(row)
            print(f"{order:8s} seed {seed}: S2 {head['s2']:5.2f}  L {head['lineal_path']:5.2f}"
                  f"   per axis S2 " + " / ".join(f"{v:4.1f}" for v in row["s2"]) +
                  "  L " + " / ".join(f"{v:4.1f}" for v in row["lineal_path"]) +
                  "   (floor S2 " + " / ".join(f"{v:.1f}" for v in axis_cells(floor, "s2")) +
                  "  L " + " / ".join(f"{v:.1f}" for v in axis_cells(floor, "lineal_path")) +
                  f")   {time.process_time() - start:.0f} CPU-s", flush=True)
    print("per order, over seeds: mean per axis z / y / x [range], and the worst axis per seed")
    for order, found in rows.items():
        for key, name in (("s2", "S2"), ("lineal_path", "L")):
            values = np.array([r[key] for r in found])
            cells = " / ".join(f"{m:4.1f} [{lo:.1f}-{hi:.1f}]" for m, lo, hi in
                               zip(values.mean(0), values.min(0), values.max(0)))
            worst = "".join(AXES[i] for i in values.argmax(1))
            print(f"{order:8s} {name:2s} {cells}   worst: {worst}")


if __name__ == "__main__":
    main()
