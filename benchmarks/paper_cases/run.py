"""The paper's four cases, a real-3D single-slice case, two three-phase cases and an
anisotropic one, end to end, into results.md.

    python benchmarks/paper_cases/run.py [CASE ...] [--results FILE]

CASE is any of spheres, grains, nmc, carbonate, berea, composite, sofc, separator
(default: all, in that order); each is the spec ``benchmarks/paper_cases/CASE.yaml``,
built with ``rvegen.build`` (stages already up to date in the run directory are reused).
The specs start from the checkpoints in ``models/`` (``train.init_from``, ``steps: 0``;
each spec says how to retrain its checkpoint). results.md gets one row per case (rows of cases not rerun are
kept) beside the rows of the session-2 run (``results_session2.json``), and each case's
panels are copied to ``figures/``.

Per case: the ensemble-mean S2 and L(z) errors of the phase of interest (eq. 24, the
paper's figure), the floor (the median of the same error over ensembles of as many fresh
real samples), the 2D ceiling (the model's own 2D samples against the real 2D sections), the
morphology (Euler characteristic density, largest-cluster fraction) of the generated
ensemble beside the range of real ensembles, per-axis errors (isotropy), the other phase's
errors, the gate, network evaluations and seconds per volume, and the training cost.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch

import rvegen
from rvegen.validation.report import report_outside_real_spread, report_real_spread

HERE = Path(__file__).resolve().parent
CASES = ["spheres", "grains", "nmc", "carbonate", "berea", "composite", "sofc", "separator"]
#: the paper's ensemble-mean error rates (S2 %, lineal path %), Lee & Yun, 64^3 volumes
PAPER = {"spheres": (1.88, 4.56), "grains": (6.43, 5.88), "nmc": (4.56, 1.26),
         "carbonate": (9.21, 6.31), "berea": (None, None), "composite": (None, None),
         "sofc": (None, None), "separator": (None, None)}
TITLES = {"spheres": "I spheres (synthetic 3D)", "grains": "II grains (synthetic 2D)",
          "nmc": "III NMC cathode (real 3D CT)", "carbonate": "IV carbonate (one real 2D image)",
          "berea": "V Berea, ONE slice (real 3D CT)",
          "composite": "VI composite, 3 phases (one real 2D image)",
          "sofc": "VII SOFC anode, 3 phases (real 3D CT)",
          "separator": "VIII separator, anisotropic (real 3D CT), one model per plane"}


def _connectivity(options: dict[str, Any]) -> str:
    """The settings line's word on connectivity, where a case counts corner neighbours."""
    used = options.get("euler_density", {}).get("connectivity")
    return f"; Euler and cluster connectivity per phase {used}" if used else ""


def summarize(case: str, build: bool = True) -> dict[str, Any]:
    """Build the case (reusing what is up to date) and collect its figures; with ``build``
    False, collect them from the run folder as it is (after ``rvegen validate --force``)."""
    spec = rvegen.load_spec(HERE / f"{case}.yaml")
    if build:
        result = rvegen.build(spec)
        report, run = result.report, result.run_dir
    else:
        run = spec.run_path
        report = json.loads((run / "report.json").read_text())
    figures = HERE / "figures"
    figures.mkdir(exist_ok=True)
    for name in ("curves", "slices"):
        shutil.copyfile(run / "plots" / f"{name}.png", figures / f"{case}_{name}.png")
    p = str(report["phase_of_interest"])
    other = [q for q in map(str, report["phases"]) if q != p]
    e = report["ensemble"]["errors"]
    crops = report["ensemble"].get("errors_crops", {}).get(p, {})
    floor = report["real_ensemble"]["errors"][p]
    floor_whole = report["real_ensemble"].get("errors_whole", {}).get(p, {})
    ceiling = (report.get("ceiling_2d") or {}).get("ensemble", {}).get("errors", {}).get(p, {})
    slices = (report.get("ceiling_2d") or {}).get("volume_slices", {}).get("errors", {}).get(p, {})
    patches = (report.get("ceiling_2d") or {}).get("training_patches", {}).get("errors", {}).get(p, {})
    scalars = report["ensemble"]["scalars"][p]
    ranges = report["real_ensemble"]["scalar_range"][p]
    vols = report["volumes"]
    model = rvegen.load_model(run / "model" / "model.pt")
    init = rvegen.load_model(spec.resolve(spec.train.init_from)) if spec.train.init_from else model
    return {
        "case": case,
        "comparison": report["comparison"],
        "reference": report["reference"]["data"],
        "count": report["ensemble"]["count"],
        "phase": int(p),
        "s2": e[p]["s2"], "lp": e[p]["lineal_path"], "dvf": e[p]["volume_fraction"],
        "other": {q: {"s2": e[q]["s2"], "lp": e[q]["lineal_path"],
                      "floor_s2": report["real_ensemble"]["errors"][q]["s2"],
                      "floor_lp": report["real_ensemble"]["errors"][q]["lineal_path"]}
                  for q in other},
        "floor_s2": floor["s2"], "floor_lp": floor["lineal_path"],
        "crops_s2": crops.get("s2"), "crops_lp": crops.get("lineal_path"),
        "floor_whole_s2": floor_whole.get("s2"), "floor_whole_lp": floor_whole.get("lineal_path"),
        "ceil_s2": ceiling.get("s2"), "ceil_lp": ceiling.get("lineal_path"),
        "slices_s2": slices.get("s2"), "slices_lp": slices.get("lineal_path"),
        "patches_s2": patches.get("s2"), "patches_lp": patches.get("lineal_path"),
        "euler": scalars["euler_density"], "euler_range": ranges["euler_density"],
        "cluster": scalars["largest_cluster"], "cluster_range": ranges["largest_cluster"],
        "per_axis": report["per_axis"],
        "accepted": report["accepted"],
        "evaluations": float(np.mean([v["evaluations"] for v in vols])),
        "seconds": float(np.median([v["seconds"] for v in vols])),
        "size": spec.generate.size or spec.data.patch_size,
        "backbone": f"{spec.model.backbone} {spec.model.preset}",
        "train_steps": int(init.meta.get("step", 0)),
        "train_minutes": float(init.meta.get("train_seconds", float("nan"))) / 60,
        "generate": spec.generate.model_dump(exclude={"count", "device", "batch_slices"}),
        "pool_sigma_auto": _root_attr(run / "volumes.h5", "pool_sigma_auto"),
        "harmonizing_steps_auto": _root_attr(run / "volumes.h5", "harmonizing_steps_auto"),
        "method_auto": _root_attr(run / "volumes.h5", "method_auto"),
        "threads": torch.get_num_threads(),
        "metric_options": spec.validate_.metric_options,
        # criteria of the phase of interest beyond the worst real ensemble (rvegen >= 0.3.7)
        "outside": (sorted(report_outside_real_spread(report))
                    if "within_real_spread" in report["ensemble"] else None),
        # all criteria at once, among the real ensembles (rvegen >= 0.3.8)
        "real_spread": report_real_spread(report),
    }


def _f(x: float | None, digits: int = 2) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _root_attr(path: Path, name: str) -> Any:
    """One root attribute of an HDF5 file (None when absent), without reading its data."""
    with h5py.File(path, "r") as f:
        return f.attrs.get(name)


def _auto(record: str | None) -> str:
    """' (chose 1.0; self S2 + L 1.0: .., 1.5: .., 2.0: ..)' for an auto setting (the score's
    name as recorded; records before 0.3.3 have none: the self score)."""
    if not record:
        return ""
    a = json.loads(record)
    scores = ", ".join(f"{k}: {v:.1f}" for k, v in a["scores"].items())
    used = f", used {a['used']:g}" if "used" in a and a["used"] != a["chosen"] else ""
    return f" (chose {a['chosen']}{used}; {a.get('score', 'self S2 + L')} {scores})"


def _method(g: dict[str, Any], record: str | None) -> str:
    """', step auto (chose ...)' or ', step ddim (eta 0.8)' where the reverse step is
    chosen or not the default DDPM one; nothing otherwise."""
    method = g.get("method", "ddpm")
    if method == "ddpm":
        return ""
    return f", step {method}" + (f" (eta {g.get('eta', 1.0):g})" if method == "ddim" else
                                 _auto(record))


def _axes(r: dict[str, Any]) -> str:
    """Per-axis S2 and L(z) errors z / y / x: of the ensemble's mean curve beside the
    per-axis floor (ensembles of as many real samples), or, in reports that predate it,
    the mean over volumes beside single real samples'."""
    out = []
    ensemble = "real_ensemble" in r["per_axis"]
    for name, key in (("S2", "s2"), ("L", "lineal_path")):
        g = r["per_axis"]["ensemble" if ensemble else "generated"]
        cell = f"{name} " + " / ".join(f"{g[a][key]:.1f}" for a in "zyx")
        real = r["per_axis"].get("real_ensemble" if ensemble else "real_median")
        if real:
            label = "floor" if ensemble else "real"
            cell += f" ({label} " + " / ".join(f"{real[a][key]:.1f}" for a in "zyx") + ")"
        out.append(cell)
    return "; ".join(out)


def render(rows: dict[str, dict], old: dict[str, dict]) -> str:
    """results.md from the collected rows (cases in the canonical order)."""
    lines = [
        "# Paper cases: rvegen against Micro3Diff (Lee & Yun)",
        "",
        "Regenerate: `python benchmarks/paper_cases/run.py` (or name cases). Errors are eq. 24",
        "(100 x the area between the curves / the area under the reference) of the **phase of",
        "interest** (the minority phase: inclusions, boundaries, pores), r = 0 .. size/2;",
        "ensemble = the error of the mean curve of all volumes (the paper's figure) against the",
        "curves of the **whole reference data** (every pair of voxels counted once). 'vs crops'",
        "= the same against the mean of 64 random real crops, the definition of sessions 2-7:",
        "random crops of a small reference over-weight its middle (on spheres they hold 0.259",
        "of phase 1 where the block holds 0.281), a bias of the reference, not of the volumes.",
        "'floor' = the median error of 5 ensembles (20 in rows validated with rvegen 0.3.7 or",
        "later, those named under the table) of as many fresh real samples: the spread of a",
        "generator indistinguishable from the real data (3D, since session 9: non-overlapping",
        "sub-volumes against the whole block, drawn with replacement where the block holds fewer",
        "than 25; random crops of a small block overlap and understated it; 2D: sets of",
        "independent real windows per plane against the crops' mean); in brackets the same",
        "ensembles against the whole data. '2D ceiling' = the model's own 2D",
        "samples against the real 2D sections (every section's curves, rows validated with",
        "rvegen 0.3.7 or later; before, random 2D crops; for stacks also: the volumes' slices",
        "against the same 2D reference; 'patches' = as many training patches against it: the data",
        "limit, what a perfect 2D model of the training data scores). Euler = Euler",
        "characteristic per 1000 voxels (3D) or pixels (per plane);",
        "cluster = fraction of the phase in its largest connected cluster; beside each, the range",
        "of the same ensemble means over those real ensembles. Per axis: the error of the",
        "ensemble's mean curve along z / y / x beside the per-axis floor ('floor'); rows whose",
        "report predates it give the mean single-volume error beside single real samples'",
        "('real'). Paper: 64^3 volumes, 640,000",
        "network evaluations each; ours: 32^3 volumes on a 2-core CPU. How the settings were",
        "chosen, and what limits each case: README.md here.",
        "",
        "## This run (rvegen sampler: cross-slice pooling, fraction guidance; no post-processing)",
        "",
        "| case | phase | S2 % ours (paper) | L % ours (paper) | vs crops S2 / L | floor S2 / L "
        "(vs whole) | 2D ceiling S2 / L "
        "| Euler gen (real) | cluster gen (real) | per-axis errors z / y / x | accepted "
        "| evals / vol | s / vol | model (training wall minutes, one thread) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in CASES:
        if case not in rows:
            continue
        r = rows[case]
        p_s2, p_lp = PAPER[case]
        ceil = f"{_f(r['ceil_s2'])} / {_f(r['ceil_lp'])}"
        if r.get("slices_s2") is not None:
            ceil += f" (slices {_f(r['slices_s2'])} / {_f(r['slices_lp'])})"
        if r.get("patches_s2") is not None:
            ceil += f"; patches {_f(r['patches_s2'])} / {_f(r['patches_lp'])}"
        floor = f"{r['floor_s2']:.2f} / {r['floor_lp']:.2f}"
        if r.get("floor_whole_s2") is not None:
            floor += f" ({_f(r['floor_whole_s2'])} / {_f(r['floor_whole_lp'])})"
        lines.append(
            f"| {TITLES[case]} | {r['phase']} | **{r['s2']:.2f}** ({_f(p_s2)}) "
            f"| **{r['lp']:.2f}** ({_f(p_lp)}) | {_f(r.get('crops_s2'))} / {_f(r.get('crops_lp'))} "
            f"| {floor} | {ceil} | {r['euler']:.2f} ({r['euler_range'][0]:.2f} .. {r['euler_range'][1]:.2f}) "
            f"| {r['cluster']:.3f} ({r['cluster_range'][0]:.3f} .. {r['cluster_range'][1]:.3f}) "
            f"| {_axes(r)} | {r['accepted']}/{r['count']} | {r['evaluations']:,.0f} "
            f"| {r['seconds']:.1f} | {r['backbone']}, {r['train_steps']} steps, "
            f"{r['train_minutes']:.0f} min |")
    missing = [TITLES[c] for c in CASES if c not in rows]
    if missing:
        lines += ["", "Not rerun with this sampler (their session-2 rows are below): "
                  + "; ".join(missing) + "."]
    lines += ["", "Other phase (every phase is scored): "
              + "; ".join(f"{c} phase {q}: S2 {v['s2']:.2f} / L {v['lp']:.2f}"
                          + (f" (floor {v['floor_s2']:.2f} / {v['floor_lp']:.2f})"
                             if "floor_s2" in v else "")
                          for c in CASES if c in rows
                          for q, v in rows[c]["other"].items()) + "."]
    judged = [c for c in CASES if c in rows and rows[c].get("outside") is not None]
    if judged:

        def standing(c: str) -> str:
            found = rows[c].get("real_spread")
            verdict = "" if not found else (
                f"{'within' if found['within'] else 'OUTSIDE'} ({found['as_far_off']} of "
                f"{found['real']} real ensembles as far off); ")
            return f"{c}: {verdict}beyond the worst on {', '.join(rows[c]['outside']) or 'none'}"

        lines += ["", "Ensemble against the real spread (phase of interest, `rvegen validate`'s "
                  "line): with every criterion at once, within or outside the spread of the real "
                  "ensembles of as many samples (an ensemble like the data is outside one time "
                  "in 21 at most; rvegen 0.3.8 or later), and the criteria on which the "
                  "ensemble error alone exceeds the worst real ensemble's (5 to 20 % of real "
                  "ensembles are beyond the worst on some criterion; "
                  "`ensemble_spread.py`): "
                  + "; ".join(standing(c) for c in judged)
                  + ". Rows whose report predates rvegen 0.3.7 have none."]
    if old:
        lines += [
            "", "## Session 2 (kept for comparison: Algorithm 1 strided, n_h 1, then Gaussian",
            "smoothing and volume-fraction matching; phase 1 only; floor from scattered crops)",
            "",
            "| case | S2 % (paper) | L % (paper) | floor S2 / L | accepted | evals / vol "
            "| s / vol | training |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for case in CASES:
            if case in old:
                r = old[case]
                p_s2, p_lp = PAPER[case]
                lines.append(
                    f"| {TITLES[case]} | {r['s2']:.2f} ({_f(p_s2)}) | {r['lp']:.2f} "
                    f"({_f(p_lp)}) | {r['floor_s2']:.2f} / {r['floor_lp']:.2f} "
                    f"| {r['accepted']}/{r['count']} | {r['evaluations']:,.0f} "
                    f"| {r['seconds']:.1f} | {r['train_steps']} steps |")
    lines += ["", "## Settings per case", ""]
    for case in CASES:
        if case in rows:
            r = rows[case]
            g = r["generate"]
            lines.append(
                f"- **{TITLES[case]}** (`{case}.yaml`): {r['backbone']}, {r['size']}^3 volumes, "
                f"{r['count']} volumes; sampler {g['preset']}: {g['steps']} of T steps, n_h "
                f"{g['harmonizing_steps']}{_auto(r.get('harmonizing_steps_auto'))}, "
                f"pool_sigma {g['pool_sigma']}"
                f"{_auto(r.get('pool_sigma_auto'))}"
                f"{_method(g, r.get('method_auto'))}, plane order "
                f"{g['plane_order']}"
                f"{'; boundary networks closed' if g.get('close_boundaries') else ''}"
                f"{_connectivity(r.get('metric_options', {}))}"
                f"; reference: {r['reference']}; {r['threads']} thread(s). "
                f"Panels: `figures/{case}_curves.png`, `figures/{case}_slices.png`.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", help=f"any of {', '.join(CASES)} (default: all)")
    parser.add_argument("--results", type=Path, default=HERE / "results.md")
    parser.add_argument("--reports-only", action="store_true",
                        help="no build: the rows from each run folder's report.json as it is "
                        "(after `rvegen validate CASE.yaml --force`)")
    args = parser.parse_args()
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    rows_file = args.results.with_suffix(".json")
    old_file = HERE / "results_session2.json"
    old = json.loads(old_file.read_text()) if old_file.exists() else {}
    for case in args.cases or CASES:
        row = summarize(case, build=not args.reports_only)
        # read the rows just before writing: another run may have added its case meanwhile
        rows = json.loads(rows_file.read_text()) if rows_file.exists() else {}
        rows[case] = row
        rows_file.write_text(json.dumps(rows, indent=2, default=float))
        args.results.write_text(render(rows, old))
        print(f"{case}: S2 {row['s2']:.2f} % L {row['lp']:.2f} % (floor {row['floor_s2']:.2f} / "
              f"{row['floor_lp']:.2f}; 2D ceiling {_f(row['ceil_s2'])} / {_f(row['ceil_lp'])}), "
              f"Euler {row['euler']:.2f}, cluster {row['cluster']:.3f}, {row['accepted']}/"
              f"{row['count']} accepted", flush=True)
    print(f"wrote {args.results}")


if __name__ == "__main__":
    sys.exit(main())
