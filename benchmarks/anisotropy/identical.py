"""An isotropic micrograph given three times (``data.sources``, one model per plane)
against today's one model trained on it once.

    python benchmarks/anisotropy/identical.py [--count 16]

Trains ``carbonate_identical.yaml`` if its run folder lacks a model; today's model is the
2,500-step snapshot of ``benchmarks/convergence/carbonate_tiny.yaml`` (same data, patches,
batch). The per-plane model is scored at 2,500 steps (the same steps: each of its three
networks has seen a third of the patches) and at 7,500 (the same patches per network). Both sample ``--count`` 32^3 volumes with the paper-case carbonate
spec's sampler settings and are validated by rvegen against the one image (per-plane 2D:
ensemble S2 / L(z) of the phase of interest, per axis, the 2D ceiling); the per-plane
volumes also against the three-image dataset (each plane against its own copy). The
two should agree within the spread of real ensembles. Writes
benchmarks/results/anisotropy_identical.txt.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import rvegen

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--out", type=Path,
                   default=ROOT / "benchmarks" / "results" / "anisotropy_identical.txt")
    a = p.parse_args()
    spec_path = HERE / "carbonate_identical.yaml"
    spec = rvegen.load_spec(spec_path)
    if not (spec.run_path / "model" / "model.pt").exists():
        for stage in ("ingest", "train"):
            subprocess.run([sys.executable, "-m", "rvegen", stage, str(spec_path)], check=True)
    today = rvegen.load_spec(ROOT / "benchmarks" / "convergence" / "carbonate_tiny.yaml")
    one = rvegen.load_dataset(today.run_path / "dataset.h5")
    three = rvegen.load_dataset(spec.run_path / "dataset.h5")
    generate = rvegen.load_spec(ROOT / "benchmarks" / "paper_cases" / "carbonate.yaml")
    cfg = {**generate.generate.model_dump(), "size": 32}
    planes = spec.run_path / "model" / "snapshots"
    models = {"one model, one image (today)":
              rvegen.load_model(today.run_path / "model" / "snapshots" / "model_2500.pt"),
              "per plane x 3, 2500 steps": rvegen.load_model(planes / "model_2500.pt"),
              "per plane x 3, 7500 steps": rvegen.load_model(planes / "model_7500.pt")}
    lines = [f"# {a.count} volumes of 32^3 each, sampler of benchmarks/paper_cases/carbonate.yaml"
             f" (pool_sigma {cfg['pool_sigma']}); phase of interest: the minority phase",
             f"{'model':30s} {'against':16s} {'S2 %':>6s} {'L %':>6s} {'floor':>11s} "
             f"{'2D ceiling':>11s}  per-axis S2 z/y/x      per-axis L z/y/x"]
    for label, model in models.items():
        volumes = rvegen.sample_volumes(model, a.count, cfg, one.fractions, 0)
        images = rvegen.sample_images(model, a.count * 32, cfg, one.fractions)
        for against, ds in (("the image", one), ("3 x the image", three)):
            if against != "the image" and not model.per_plane:
                continue
            r = rvegen.validate(volumes, ds, {}, images_2d=images)
            h, f, c = r.headline(), r.headline("real_ensemble"), r.headline("ceiling_2d")
            axes = r.per_axis["generated"]
            lines.append(
                f"{label:30s} {against:16s} {h['s2']:6.2f} {h['lineal_path']:6.2f} "
                f"{f['s2']:5.2f}/{f['lineal_path']:5.2f} {c['s2']:5.2f}/{c['lineal_path']:5.2f}  "
                + "/".join(f"{axes[x]['s2']:.1f}" for x in "zyx") + "      "
                + "/".join(f"{axes[x]['lineal_path']:.1f}" for x in "zyx"))
            print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
