"""The paper's four cases and a real-3D single-slice case, end to end, into results.md.

    python benchmarks/paper_cases/run.py [CASE ...] [--results FILE]

CASE is any of spheres, grains, nmc, carbonate, berea (default: all, in that order); each
is the spec ``benchmarks/paper_cases/CASE.yaml``. For each case the pipeline's own stages
run (ingest, train, generate, validate; a stage already up to date in the run directory is
reused, so a trained checkpoint is not retrained), then the validation report is read
back. results.md gets one table row per case in the results file (earlier rows of cases
not rerun are kept) and each case's figure panels are copied to ``figures/``.

Figures per case: ensemble-mean S2 and L(z) error of the volumes (eq. 24, the paper's
figure), the same for as many fresh real samples of the same size (the floor that natural
variability sets for an ensemble of that count), the median per-volume error against the
median of one real sample, volume-fraction error, network evaluations and median wall
time per volume, and the training cost.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import torch

from rvegen.atomic import write_text
from rvegen.pipeline import RunDir, run_stage
from rvegen.spec import load_spec

HERE = Path(__file__).resolve().parent
CASES = ["spheres", "grains", "nmc", "carbonate", "berea"]
#: the paper's ensemble-mean error rates (S2 %, lineal path %), Lee & Yun, 64^3 volumes
PAPER = {"spheres": (1.88, 4.56), "grains": (6.43, 5.88), "nmc": (4.56, 1.26),
         "carbonate": (9.21, 6.31), "berea": (None, None)}
TITLES = {"spheres": "I spheres (synthetic 3D)", "grains": "II grains (synthetic 2D)",
          "nmc": "III NMC cathode (real 3D CT)", "carbonate": "IV carbonate (one real 2D image)",
          "berea": "V Berea, ONE slice (real 3D CT)"}
STAGES = ["ingest", "train", "generate", "validate"]


def summarize(case: str) -> dict:
    """Run the case's stages (reusing what is up to date) and collect its figures."""
    spec = load_spec(HERE / f"{case}.yaml")
    for stage in STAGES:
        run_stage(spec, stage)
    run = RunDir(spec.run_path)
    report = json.loads(run.report.read_text())
    state = json.loads(run.state.read_text())
    vols = report["volumes"]
    g = spec.generate
    figures = HERE / "figures"
    figures.mkdir(exist_ok=True)
    for name in ("curves", "slices"):
        shutil.copyfile(run.plots / f"{name}.png", figures / f"{case}_{name}.png")
    per_volume = {k: [v["errors"][k] for v in vols] for k in ("s2", "lineal_path")}
    sampler = (f"{g.steps} of T={spec.model.timesteps} steps, n_h {g.harmonizing_steps}, "
               f"{g.method}{', vf matched' if g.match_volume_fraction else ''}"
               f"{f', smoothing sigma {g.smooth_sigma:g}' if g.smooth_sigma else ''}")
    return {
        "case": case,
        "comparison": report["comparison"],
        "reference": report["reference"]["data"],
        "count": report["ensemble"]["count"],
        "s2": report["ensemble"]["errors"]["s2"],
        "lp": report["ensemble"]["errors"]["lineal_path"],
        "dvf": report["ensemble"]["errors"]["volume_fraction"],
        "floor_s2": report["real_ensemble"]["errors"]["s2"],
        "floor_lp": report["real_ensemble"]["errors"]["lineal_path"],
        "vol_s2": float(np.median(per_volume["s2"])),
        "vol_lp": float(np.median(per_volume["lineal_path"])),
        "vol_s2_iqr": [float(q) for q in np.quantile(per_volume["s2"], [0.25, 0.75])],
        "vol_lp_iqr": [float(q) for q in np.quantile(per_volume["lineal_path"], [0.25, 0.75])],
        "one_real_s2": report["natural_spread"]["s2"]["median"],
        "one_real_lp": report["natural_spread"]["lineal_path"]["median"],
        "accepted": report["accepted"],
        "evaluations": float(np.mean([v["evaluations"] for v in vols])),
        "seconds": float(np.median([v["seconds"] for v in vols])),
        "size": spec.generate.size,
        "patch": spec.data.patch_size,
        "downscale": spec.data.downscale,
        "backbone": f"{spec.model.backbone} {spec.model.preset}",
        "train_steps": spec.train.steps,
        # seconds of the last `train` call: a resumed run counts only its last part
        "train_minutes": state["train"]["seconds"] / 60,
        "sampler": sampler,
        "threads": torch.get_num_threads(),
    }


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def render(rows: dict[str, dict]) -> str:
    """results.md from the collected rows (cases in the canonical order)."""
    lines = [
        "# Paper cases: rvegen against Micro3Diff (Lee & Yun)",
        "",
        "Regenerate: `python benchmarks/paper_cases/run.py` (all cases; trains what is not",
        "trained yet, tens of minutes per case on 2 CPU cores) or name cases, e.g.",
        "`python benchmarks/paper_cases/run.py spheres`. Errors are eq. 24 of the paper",
        "(area between the curves / area under the reference x 100) of the phase of interest,",
        "r = 0 .. size/2; ensemble-mean = the error of the mean curve of all volumes (as the",
        "paper). 'real floor' = the same error for as many fresh real samples of the same size",
        "(real sub-volumes in 3D; sets of 32 real crops per plane in 2D): what a generator",
        "indistinguishable from the real data would score with this reference and count.",
        "Paper: 64^3 volumes, 640,000 network evaluations each; ours: 32^3 volumes on a",
        "2-core CPU (wall times: one thread, with other jobs running on the machine).",
        "How these figures were made and why some are above the paper's: README.md here.",
        "",
        "| case | comparison | S2 % ours (paper) | L(z) % ours (paper) | real floor S2 / L % "
        "| per volume S2 / L % (one real sample) | abs(dvf) | accepted | evals / volume "
        "| s / volume | training |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in CASES:
        if case not in rows:
            continue
        r = rows[case]
        p_s2, p_lp = PAPER[case]
        lines.append(
            f"| {TITLES[case]} | {'3D' if r['comparison'] == '3d' else 'per-plane 2D'} "
            f"| **{r['s2']:.2f}** ({_fmt(p_s2)}) | **{r['lp']:.2f}** ({_fmt(p_lp)}) "
            f"| {r['floor_s2']:.2f} / {r['floor_lp']:.2f} "
            f"| {r['vol_s2']:.1f} / {r['vol_lp']:.1f} ({r['one_real_s2']:.1f} / "
            f"{r['one_real_lp']:.1f}) | {r['dvf']:.4f} | {r['accepted']}/{r['count']} "
            f"| {r['evaluations']:,.0f} | {r['seconds']:.1f} "
            f"| {r['train_steps']} steps, {r['train_minutes']:.0f} min |"
        )
    lines += ["", "## Settings per case", ""]
    for case in CASES:
        if case not in rows:
            continue
        r = rows[case]
        scaled = f" after {r['downscale']}x downscaling" if r["downscale"] > 1 else ""
        lines += [
            f"- **{TITLES[case]}** (`{case}.yaml`): {r['backbone']} backbone, {r['patch']} x "
            f"{r['patch']} patches{scaled}, "
            f"{r['size']}^3 volumes, {r['count']} volumes (seeds from the spec seed); sampler: "
            f"{r['sampler']}; reference: {r['reference']}. Per-volume error IQR: S2 "
            f"{r['vol_s2_iqr'][0]:.1f}-{r['vol_s2_iqr'][1]:.1f} %, L "
            f"{r['vol_lp_iqr'][0]:.1f}-{r['vol_lp_iqr'][1]:.1f} %. Sampling on "
            f"{r['threads']} CPU thread(s). Panels: `figures/{case}_curves.png`, "
            f"`figures/{case}_slices.png`.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", help=f"any of {', '.join(CASES)} (default: all)")
    parser.add_argument("--results", type=Path, default=HERE / "results.md")
    args = parser.parse_args()
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    rows_file = args.results.with_suffix(".json")
    for case in args.cases or CASES:
        row = summarize(case)
        # read the rows just before writing: another run may have added its case meanwhile
        rows = json.loads(rows_file.read_text()) if rows_file.exists() else {}
        rows[case] = row
        write_text(rows_file, json.dumps(rows, indent=2))
        write_text(args.results, render(rows))
        r = rows[case]
        print(f"{case}: S2 {r['s2']:.2f} % L {r['lp']:.2f} % (real floor {r['floor_s2']:.2f} / "
              f"{r['floor_lp']:.2f}), {r['evaluations']:,.0f} evaluations, {r['seconds']:.1f} s "
              f"per volume", flush=True)
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
