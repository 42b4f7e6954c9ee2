"""Score a model and a sampler setting the way validation does, as one table row.

Used by the benchmark scripts (training curve, sampler sweep, ablation); only rvegen's
public API. A row holds, for the phase of interest: the ensemble-mean S2 and L(z) errors
of the generated volumes and of as many real samples (the floor), the same for the
model's own 2D samples (the 2D ceiling), and the morphology (Euler characteristic
density, largest-cluster fraction) of generated, real and 2D-ceiling samples.

    python benchmarks/fidelity.py RUN_DIR [--model PATH] [--count 16] [--set key=value ...]

RUN_DIR is a run folder with dataset.h5 (and model/model.pt unless --model is given);
``--set`` overrides fields of the generate section (e.g. ``--set pool_sigma=0``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

import rvegen


def morph(report: rvegen.Report, where: str) -> dict[str, float]:
    """Euler density and largest-cluster fraction of the phase of interest."""
    p = str(report.phase_of_interest)
    if where == "generated":
        m = report.morphology["generated"][p]
    elif where == "real":
        m = report.morphology["real"][p]
    elif where == "ceiling":
        m = (report.ceiling_2d or {}).get("morphology", {}).get(p, {})
    else:
        m = (report.ceiling_2d or {}).get("real_morphology", {}).get(p, {})
    return {"euler": m.get("euler_density", float("nan")),
            "cluster": m.get("largest_cluster_fraction", float("nan"))}


def score(
    model: rvegen.Model,
    dataset: rvegen.Dataset,
    generate: dict[str, Any],
    count: int = 16,
    seed: int = 0,
    validate: dict[str, Any] | None = None,
    images: Any = None,
    details: bool = False,
) -> Any:
    """Sample ``count`` volumes and score them with the 2D ceiling; one table row.

    ``images``: the model's own 2D samples when already drawn (they depend on the step
    count only), else drawn here. ``details``: return (row, volumes, images).
    """
    start = time.perf_counter()
    volumes = rvegen.sample_volumes(model, count, generate, dataset.fractions, seed)
    seconds = (time.perf_counter() - start) / count
    if images is None:
        images = rvegen.sample_images(model, count * volumes[0].labels.shape[0], generate,
                                      dataset.fractions, seed)
    report = rvegen.validate(volumes, dataset, {"reference_samples": 64, **(validate or {})},
                             seed, images_2d=images)
    e, f = report.headline("ensemble"), report.headline("real_ensemble")
    c = report.headline("ceiling_2d")
    p = str(report.phase_of_interest)
    ranges = report.real_ensemble["scalar_range"][p]
    row = {
        "phase": report.phase_of_interest, "count": count,
        "evaluations": volumes[0].attrs["evaluations"], "s_per_volume": seconds,
        "s2": e["s2"], "lp": e["lineal_path"], "dvf": e["volume_fraction"],
        "floor_s2": f["s2"], "floor_lp": f["lineal_path"],
        "ceil_s2": c.get("s2", float("nan")), "ceil_lp": c.get("lineal_path", float("nan")),
        "accepted": report.accepted,
        "gen": morph(report, "generated"), "real": morph(report, "real"),
        "euler": report.ensemble["scalars"][p]["euler_density"],
        "cluster": report.ensemble["scalars"][p]["largest_cluster"],
        "real_euler": ranges["euler_density"], "real_cluster": ranges["largest_cluster"],
        "ceil": morph(report, "ceiling"), "real2d": morph(report, "real2d"),
        "per_axis": report.per_axis,
    }
    slices = (report.ceiling_2d or {}).get("volume_slices")
    if slices:  # stacks: the volumes' own slices against the same 2D reference
        s = slices["errors"][str(report.phase_of_interest)]
        row["slices_s2"], row["slices_lp"] = s["s2"], s["lineal_path"]
    return (row, volumes, images) if details else row


HEADER = (f"{'setting':28s} {'evals':>6s} {'s/vol':>6s} {'S2 %':>6s} {'L %':>6s} "
          f"{'floor':>11s} {'2D ceil':>11s} {'euler gen/real':>15s} {'cluster gen/real':>17s} "
          f"{'2D euler/real':>14s} {'acc':>4s}")


def line(name: str, r: dict[str, Any]) -> str:
    """One printed row."""
    return (f"{name:28s} {r['evaluations']:6d} {r['s_per_volume']:6.1f} {r['s2']:6.2f} "
            f"{r['lp']:6.2f} {r['floor_s2']:5.2f}/{r['floor_lp']:5.2f} "
            f"{r['ceil_s2']:5.2f}/{r['ceil_lp']:5.2f} "
            f"{r['gen']['euler']:7.2f}/{r['real']['euler']:7.2f} "
            f"{r['gen']['cluster']:8.3f}/{r['real']['cluster']:8.3f} "
            f"{r['ceil']['euler']:6.2f}/{r['real2d']['euler']:7.2f} "
            f"{r['accepted']:4d}")


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``key=value`` pairs with JSON values (bare words stay strings)."""
    out = {}
    for item in items:
        key, value = item.split("=", 1)
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", nargs="*", default=[], dest="sets")
    args = parser.parse_args()
    ds = rvegen.load_dataset(args.run_dir / "dataset.h5")
    model = rvegen.load_model(args.model or args.run_dir / "model" / "model.pt")
    row = score(model, ds, parse_sets(args.sets), args.count, args.seed)
    print(HEADER)
    print(line(" ".join(args.sets) or "default", row))
    print(json.dumps(row, default=float))


if __name__ == "__main__":
    np.set_printoptions(precision=4, suppress=True)
    main()
