"""Sampler settings against cost and fidelity, for a trained model.

    python benchmarks/sampling.py SPEC [--count 16] [--settings NAME ...] [--out FILE]

SPEC is an rvegen spec whose run directory holds a trained model (`rvegen train SPEC`)
and an ingested dataset. For every setting the script samples ``count`` volumes (seeds
0..count-1, the same for every setting) and prints: 2D network evaluations and wall
time per volume, the ensemble-mean S2 and L(z) errors (eq. 24) and volume-fraction error
(the paper's figures), the per-axis L(z) error, and the mean per-volume errors; first the
same figures for real samples of the same size (the floor that natural variability sets).
Column `seam` tells whether volumes tile (see `seam_ratio`; ~1 = periodic). `--size M`
samples M^3 volumes from an n x n model (M > n: the denoiser is fully convolutional).
Then the Pareto front of evaluations against the larger of the S2 and L(z) errors.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from rvegen.device import pick_device
from rvegen.diffusion.checkpoint import load_model
from rvegen.diffusion.multiplane import SamplerSettings, match_fraction, sample_volume, smooth
from rvegen.generate import volume_seed
from rvegen.ingest import load_dataset
from rvegen.pipeline import RunDir, reference_dataset
from rvegen.spec import load_spec
from rvegen.validate import validate
from rvegen.volumes import Volume

#: name -> settings (T = 1000 for our models; "faithful" is the paper's Algorithm 1).
SETTINGS = {
    "faithful T1000 nh10": SamplerSettings(steps=1000, harmonizing_steps=10),
    "T1000 nh2": SamplerSettings(steps=1000, harmonizing_steps=2),
    "T1000 nh1": SamplerSettings(steps=1000, harmonizing_steps=1),
    "s200 nh1": SamplerSettings(steps=200, harmonizing_steps=1),
    "s100 nh1": SamplerSettings(steps=100, harmonizing_steps=1),
    "s100 nh2": SamplerSettings(steps=100, harmonizing_steps=2),
    "s100 nh2 across": SamplerSettings(steps=100, harmonizing_steps=2, harmonize_across_planes=True),
    "s100 nh1 fusion": SamplerSettings(steps=100, harmonizing_steps=1, fusion=True),
    "s100 nh1 clip": SamplerSettings(steps=100, harmonizing_steps=1, clip_x0=True),
    "s100 nh1 vf": SamplerSettings(steps=100, harmonizing_steps=1, target_fraction=-1),
    "s50 nh1 vf": SamplerSettings(steps=50, harmonizing_steps=1, target_fraction=-1),
    "s100 nh2 ddim0 vf": SamplerSettings(steps=100, harmonizing_steps=2, method="ddim", eta=0.0,
                                         target_fraction=-1),
    "T1000 nh1 vf": SamplerSettings(steps=1000, harmonizing_steps=1, target_fraction=-1),
    "s100 nh1 vf s0.75": SamplerSettings(steps=100, harmonizing_steps=1, target_fraction=-1,
                                         smooth_sigma=0.75),
    "s100 nh1 vf s1": SamplerSettings(steps=100, harmonizing_steps=1, target_fraction=-1,
                                      smooth_sigma=1.0),
    "s100 nh1 vf s1.5": SamplerSettings(steps=100, harmonizing_steps=1, target_fraction=-1,
                                        smooth_sigma=1.5),
    "s50 nh1 vf s1.5": SamplerSettings(steps=50, harmonizing_steps=1, target_fraction=-1,
                                       smooth_sigma=1.5),
    "s100 nh1 vf s2": SamplerSettings(steps=100, harmonizing_steps=1, target_fraction=-1,
                                      smooth_sigma=2.0),
    "s100 nh1 vf s1.5 periodic": SamplerSettings(steps=100, harmonizing_steps=1,
                                                 target_fraction=-1, smooth_sigma=1.5,
                                                 periodic=True),
    "s100 nh2 ddim0": SamplerSettings(steps=100, harmonizing_steps=2, method="ddim", eta=0.0),
    "s100 nh4 ddim0": SamplerSettings(steps=100, harmonizing_steps=4, method="ddim", eta=0.0),
    "s50 nh1": SamplerSettings(steps=50, harmonizing_steps=1),
    "s50 nh4 ddim0": SamplerSettings(steps=50, harmonizing_steps=4, method="ddim", eta=0.0),
}


def gaussian_random_field(size: int, sigma: float, fraction: float, seed: int) -> np.ndarray:
    """Baseline without any model: smoothed white noise cut at the data's volume fraction."""
    noise = torch.from_numpy(np.random.default_rng(seed).normal(size=(1,) + (size,) * 3))
    return match_fraction(smooth(noise, sigma, False)[0], fraction)


def seam_ratio(volumes: list[np.ndarray]) -> float:
    """How well volumes tile: the rate of phase changes across the wrap-around faces
    (last slice -> first slice) over the rate between neighbouring interior slices,
    averaged over the three axes. About 1 for a periodic structure; for independent
    faces it is 2 phi (1 - phi) over the interior rate (> 1 for any correlated structure).
    """
    ratios = []
    for v in volumes:
        for axis in range(3):
            a = np.moveaxis(v, axis, 0)
            interior = np.mean(a[1:] != a[:-1])
            ratios.append(np.mean(a[0] != a[-1]) / interior)
    return float(np.mean(ratios))


def row(name: str, report: dict, evals: float, seconds: float) -> dict:
    e = report["ensemble"]["errors"]
    axes = report["mean_per_axis_errors"]
    mean = report["mean_volume_errors"]
    return {
        "setting": name, "evaluations": evals, "seconds": seconds,
        "s2": e["s2"], "lp": e["lineal_path"], "vf": e["volume_fraction"],
        "lp_z": axes["z"]["lineal_path"], "lp_y": axes["y"]["lineal_path"],
        "lp_x": axes["x"]["lineal_path"],
        "vol_s2": mean["s2"], "vol_lp": mean["lineal_path"],
        "seam": float("nan"),
    }


def print_table(rows: list[dict], header: str) -> None:
    print(header)
    print(f"{'setting':22s} {'evals/vol':>10s} {'s/vol':>7s} {'S2 %':>7s} {'L %':>7s} "
          f"{'|dvf|':>7s} {'Lz %':>7s} {'Ly %':>7s} {'Lx %':>7s} {'1-vol S2':>9s} {'1-vol L':>8s} "
          f"{'seam':>5s}")
    for r in rows:
        print(f"{r['setting']:22s} {r['evaluations']:10.0f} {r['seconds']:7.1f} {r['s2']:7.2f} "
              f"{r['lp']:7.2f} {r['vf']:7.4f} {r['lp_z']:7.2f} {r['lp_y']:7.2f} {r['lp_x']:7.2f} "
              f"{r['vol_s2']:9.2f} {r['vol_lp']:8.2f} {r['seam']:5.2f}")


def pareto(rows: list[dict]) -> list[dict]:
    """Settings no other setting beats in both evaluations and max(S2, L) error."""
    front = []
    for r in rows:
        worse = [o for o in rows if o is not r and o["evaluations"] <= r["evaluations"]
                 and max(o["s2"], o["lp"]) < max(r["s2"], r["lp"])]
        if not worse:
            front.append(r)
    return sorted(front, key=lambda r: r["evaluations"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", type=Path)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--settings", nargs="*", default=None,
                        help=f"subset of: {', '.join(SETTINGS)}, or 'grf SIGMA' (the "
                        "model-free Gaussian-random-field baseline)")
    parser.add_argument("--counts", type=str, default="",
                        help="per-setting volume counts, e.g. 'faithful T1000 nh10=2'")
    parser.add_argument("--out", type=Path, default=None, help="also write rows as JSON")
    args = parser.parse_args()

    spec = load_spec(args.spec)
    run = RunDir(spec.run_path)
    ds = reference_dataset(spec, load_dataset(run.dataset))
    model = load_model(run.model, phases=ds.phases, image_size=ds.patch_size)
    device = pick_device("auto")
    net = model.net.to(device)
    size = args.size or spec.generate.size or ds.patch_size
    overrides = dict(item.rsplit("=", 1) for item in args.counts.split(",") if item)
    cfg = spec.validate_.model_copy(update={"reference_samples": 64})

    names = args.settings or list(SETTINGS)
    rows = []
    for name in names:
        count = int(overrides.get(name, args.count))
        if name.startswith("grf"):  # "grf 2.0": the model-free baseline with sigma 2.0
            sigma, vf = float(name.split()[1]), ds.meta["volume_fractions"][1]
            vols = [Volume(f"volume_{i:03d}", gaussian_random_field(size, sigma, vf, i))
                    for i in range(count)]
            report = validate(ds, vols, cfg, spec.seed)
            rows.append(row(f"{name} (n={count})", report, 0.0, 0.0))
            print_table([rows[-1]], "")
            continue
        settings = replace(SETTINGS[name], batch_slices=spec.generate.batch_slices)
        if settings.target_fraction is not None:  # "vf": match the data's volume fraction
            settings = replace(settings, target_fraction=ds.meta["volume_fractions"][1])
        vols, evals, secs = [], [], []
        for i in range(count):
            labels, info = sample_volume(net, model.schedule, model.phases, model.channels,
                                         size, settings, volume_seed(spec.seed, i), device)
            vols.append(Volume(f"volume_{i:03d}", labels, {"seed": info.seed}))
            evals.append(info.evaluations)
            secs.append(info.seconds)
        report = validate(ds, vols, cfg, spec.seed)
        r = row(f"{name} (n={count})", report, float(np.mean(evals)), float(np.median(secs)))
        r["seam"] = seam_ratio([v.labels for v in vols])
        if not rows:
            spread = report["natural_spread"]
            print(f"real {size}^3 samples ({report['reference']['data']}): one sample vs the "
                  f"mean, median S2 {spread['s2']['median']:.2f} %, L "
                  f"{spread['lineal_path']['median']:.2f} %, |dvf| "
                  f"{spread['volume_fraction']['median']:.4f}; {report['comparison']}")
        rows.append(r)
        print_table([r], "")
    print_table(rows, f"\nall settings, {size}^3 volumes, device {device}")
    print_table(pareto(rows), "\nPareto front (evaluations vs max(S2, L) error)")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
