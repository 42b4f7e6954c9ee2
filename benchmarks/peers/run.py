"""rvegen beside SliceGAN and MCRpy: same data, same CPU budget, same metrics.

    python benchmarks/peers/run.py all [--budget-min 30] [--cases carbonate berea nmc]
    python benchmarks/peers/run.py prepare | train TOOL CASE | generate TOOL CASE | score | table

``all`` runs every stage that has no result yet (delete benchmarks/out/peers/<tool>/<case>
to redo one) and writes benchmarks/peers/results.md, results.json and the figure panels.

Cases (the same data rvegen's own benchmarks use, read through rvegen's ingest so the
split is identical for every tool):

* carbonate: one real 2D micrograph; per-plane 2D reference (the image itself).
* berea: ONE 200 x 200 slice of the Berea micro-CT for training; the 40 x 200 x 200 block
  never seen in training is the 3D reference.
* nmc: slices of the NMC CT stack (its lower 96 z-slices) for training; the upper 32 are
  the 3D reference.

Budget: each tool gets the same CPU seconds (``--budget-min`` CPU minutes, user + system
time of its process, measured, not wall time: the machine is shared). SliceGAN trains
under it (the wrapper stops it). rvegen uses the latest training-curve snapshot that fits
it (its CPU time is measured by training). MCRpy has no training: its budget buys
reconstructions, each from the training data's descriptors, until the budget is spent.
Every tool's volumes are 32^3 and scored by ``rvegen.validate`` against the same reference.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import tifffile

import rvegen

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "benchmarks" / "out" / "peers"
MCRPY_PYTHON = ROOT / ".venv-mcrpy" / "bin" / "python"
TOOLS = ("rvegen", "slicegan", "mcrpy")
SIZE = 32

#: case -> the rvegen spec whose run folder holds its dataset (and training snapshots)
CASES: dict[str, dict[str, Any]] = {
    "carbonate": {"spec": "benchmarks/convergence/carbonate_tiny.yaml",
                  "run": "benchmarks/out/convergence/carbonate_tiny", "train": "image"},
    "berea": {"spec": "benchmarks/convergence/berea_tiny.yaml",
              "run": "benchmarks/out/convergence/berea_tiny", "train": "slice"},
    "nmc": {"spec": "benchmarks/convergence/nmc_tiny.yaml",
            "run": "benchmarks/out/convergence/nmc_tiny", "train": "stack"},
}


def dataset(case: str) -> rvegen.Dataset:
    """The case's ingested data (ingested by rvegen on first use)."""
    run = ROOT / CASES[case]["run"]
    if not (run / "dataset.h5").exists():
        subprocess.run([sys.executable, "-m", "rvegen", "ingest", str(ROOT / CASES[case]["spec"])],
                       check=True)
    return rvegen.load_dataset(run / "dataset.h5")


def training_array(case: str) -> np.ndarray:
    """What every tool may learn from: the image, the one slice, or the training stack."""
    ds = dataset(case)
    kind = CASES[case]["train"]
    if kind == "slice":
        return ds.source[0]
    return ds.source


def prepare(case: str) -> Path:
    """Write the case's training data as the .tif SliceGAN reads (labels 0..K-1)."""
    folder = OUT / "data"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{case}.tif"
    if not path.exists():
        tifffile.imwrite(path, training_array(case).astype(np.uint8))
    return path


# ---------------------------------------------------------------------------- tools
def _cpu_children() -> float:
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


#: the paper-case generate settings of each case (what a user running its spec gets)
GENERATE = {"carbonate": {}, "berea": {}, "nmc": {"pool_sigma": 1.0}}
#: rvegen's training CPU seconds per optimizer step (compact tiny, batch 32, 32 x 32
#: patches): measured on the NMC run, whose checkpoints carry train_cpu_seconds (16.4
#: CPU-min for 5,000 steps); carbonate's and Berea's runs predate that field and are
#: charged at this rate.
CPU_S_PER_STEP = 16.4 * 60 / 5000


def rvegen_snapshot(case: str, budget_s: float) -> tuple[Path, float, int]:
    """The latest training-curve snapshot whose training CPU time fits the budget."""
    import torch
    best = None
    for path in (ROOT / CASES[case]["run"] / "model" / "snapshots").glob("model_*.pt"):
        ck = torch.load(path, map_location="cpu", weights_only=True)
        step = int(ck["step"])
        cpu = float(ck.get("train_cpu_seconds") or 0.0) or step * CPU_S_PER_STEP
        if cpu <= budget_s and (best is None or step > best[2]):
            best = (path, cpu, step)
    if best is None:
        raise SystemExit(f"{case}: no rvegen snapshot fits {budget_s:.0f} CPU-s; run "
                         f"`rvegen train {CASES[case]['spec']}` first")
    return best


def run_rvegen(case: str, budget_s: float, count: int, folder: Path) -> None:
    """Sample ``count`` volumes from the snapshot the budget buys, with the case's settings."""
    path, cpu, step = rvegen_snapshot(case, budget_s)
    model = rvegen.load_model(path)
    ds = dataset(case)
    t, w = time.process_time(), time.perf_counter()
    volumes = rvegen.sample_volumes(model, count, {"size": SIZE, **GENERATE[case]},
                                    ds.fractions, seed=0)
    info = {"train_cpu_s": cpu, "train_steps": step, "snapshot": str(path.relative_to(ROOT)),
            "cpu_s_per_volume": (time.process_time() - t) / count,
            "s_per_volume": (time.perf_counter() - w) / count,
            "evaluations": volumes[0].attrs.get("evaluations")}
    np.save(folder / "volumes.npy", np.stack([v.labels for v in volumes]).astype(np.uint8))
    (folder / "info.json").write_text(json.dumps(info, indent=1))


def run_slicegan(case: str, budget_s: float, count: int, folder: Path) -> None:
    """Train the published SliceGAN under the budget, then generate ``count`` volumes."""
    wrapper = HERE / "slicegan_wrapper.py"
    kind = "tif3D" if CASES[case]["train"] == "stack" else "tif2D"
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    if not (folder / "train" / "train.json").exists():
        with open(folder / "train.log", "w") as log:
            subprocess.run([sys.executable, str(wrapper), "train", "--data", str(prepare(case)),
                            "--type", kind, "--out", str(folder / "train"),
                            "--budget-cpu-s", str(budget_s)], check=True, stdout=log,
                           stderr=subprocess.STDOUT, env=env)
    t = _cpu_children()
    subprocess.run([sys.executable, str(wrapper), "generate", "--out", str(folder / "train"),
                    "--count", str(count), "--size", str(SIZE),
                    "--save", str(folder / "volumes.npy")], check=True, env=env)
    train = json.loads((folder / "train" / "train.json").read_text())
    gen = json.loads((folder / "generate.json").read_text())
    from slicegan_wrapper import iterations
    info = {"train_cpu_s": train["train_cpu_s"], "stopped": train["stopped"],
            "iterations": iterations(folder / "train.log"),
            "s_per_volume": gen["s_per_volume"], "generated_edge": gen["generated_edge"],
            "cpu_s_generate_all": _cpu_children() - t}
    (folder / "info.json").write_text(json.dumps(info, indent=1))


#: MCRpy volumes per case at most: each is an optimization of ~14 CPU-minutes at 32^3 here
#: (500 L-BFGS-B iterations), so one volume keeps the benchmark's run time; the budget
#: would buy two. Raise it for a larger MCRpy ensemble.
MCRPY_MAX_VOLUMES = 1


def run_mcrpy(case: str, budget_s: float, count: int, folder: Path) -> None:
    """Characterize the training data and reconstruct volumes until the budget is spent."""
    if not MCRPY_PYTHON.exists():
        raise SystemExit(f"{MCRPY_PYTHON} missing: python3.11 -m venv .venv-mcrpy && "
                         ".venv-mcrpy/bin/pip install -r benchmarks/peers/requirements-mcrpy.txt")
    data = OUT / "data" / f"{case}.npy"
    if not data.exists():
        np.save(data, training_array(case).astype(np.uint8))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1",
           "TF_NUM_INTEROP_THREADS": "1"}
    with open(folder / "mcrpy.log", "w") as log:
        subprocess.run([str(MCRPY_PYTHON), str(HERE / "mcrpy_wrapper.py"), "--data", str(data),
                        "--out", str(folder), "--size", str(SIZE), "--budget-cpu-s",
                        str(budget_s), "--min-count", "1", "--max-count",
                        str(min(count, MCRPY_MAX_VOLUMES))],
                       check=True, stdout=log, stderr=subprocess.STDOUT, env=env)
    m = json.loads((folder / "mcrpy.json").read_text())
    info = {"train_cpu_s": m["characterize_cpu_s"], "cpu_s_per_volume": m["cpu_s_per_volume"],
            "count": m["count"], "total_cpu_s": m["total_cpu_s"], "settings": m["settings"]}
    (folder / "info.json").write_text(json.dumps(info, indent=1))


RUNNERS = {"rvegen": run_rvegen, "slicegan": run_slicegan, "mcrpy": run_mcrpy}


# ---------------------------------------------------------------------------- scoring
def score(tool: str, case: str) -> dict[str, Any]:
    """rvegen's validation of one tool's volumes: ensemble errors beside the real floor."""
    folder = OUT / tool / case
    labels = np.load(folder / "volumes.npy")
    ds = dataset(case)
    volumes = [rvegen.Volume(f"{tool}_{i:03d}", v.astype(np.uint8)) for i, v in enumerate(labels)]
    report = rvegen.validate(volumes, ds, {"reference_samples": 64}, seed=0)
    e, f = report.headline("ensemble"), report.headline("real_ensemble")
    p = str(report.phase_of_interest)
    gen_scalars = report.ensemble["scalars"][p]
    real_range = report.real_ensemble["scalar_range"][p]
    per_volume = [v["errors"][p] for v in report.volumes]
    row = {"tool": tool, "case": case, "count": len(volumes), "phase": report.phase_of_interest,
           "s2": e["s2"], "lp": e["lineal_path"], "dvf": e["volume_fraction"],
           # one volume alone: comparable across tools whatever their ensemble sizes
           "vol_s2": float(np.median([v["s2"] for v in per_volume])),
           "vol_lp": float(np.median([v["lineal_path"] for v in per_volume])),
           "floor_s2": f["s2"], "floor_lp": f["lineal_path"],
           "euler": gen_scalars["euler_density"], "cluster": gen_scalars["largest_cluster"],
           "real_euler": real_range["euler_density"], "real_cluster": real_range["largest_cluster"],
           "fraction": float(np.mean(labels == report.phase_of_interest)),
           "real_fraction": ds.fractions[report.phase_of_interest],
           "accepted": report.accepted, "curves": report.curves,
           **json.loads((folder / "info.json").read_text())}
    (folder / "score.json").write_text(json.dumps(row, indent=1, default=float))
    return row


#: what a user has to write or do to get the row (counted on the files in this folder)
EFFORT = {
    "rvegen": "a 12-line YAML spec (data path, phases, patch size; the case specs in "
              "benchmarks/convergence/), then `rvegen build`; CPU and GPU alike",
    "slicegan": "edit run_slicegan.py (project name, data path and type, phases: 5 lines), "
                "save the data as .tif; on a CPU also write generation code (its test_img "
                "calls .cuda(): 12 lines) and a way to stop training (its 100 x 3,600 "
                "iterations do not fit any CPU budget): slicegan_wrapper.py",
    "mcrpy": "~15 lines of Python (characterize, reconstruct, decode; mcrpy_wrapper.py), a "
             "separate venv with TensorFlow and numpy < 2 (MCRpy 0.2.0 calls np.product, "
             "removed in numpy 2)",
}


def table(rows: list[dict[str, Any]], budget_min: float) -> str:
    """results.md."""
    out = [
        "# rvegen beside SliceGAN and MCRpy",
        "",
        f"Same data, same CPU budget ({budget_min:g} CPU-minutes of training per tool and "
        "case), same metrics (`rvegen.validate`, ensemble means over the volumes, 32^3 each, "
        "against the curves of the whole reference data; before session 8 against the mean of "
        "64 random real samples, which over-weights a small reference's middle). Regenerate: "
        f"`python benchmarks/peers/run.py all --budget-min {budget_min:g}` "
        "(see the header of run.py). 2-core CPU, no GPU; several jobs shared it.",
        "",
        "Columns: S2 / L = ensemble error (%, eq. 24) of the phase of interest; floor = the "
        "same for as many real sub-volumes against their mean (the spread a perfect generator "
        "would show); "
        "one volume = the median error of a single volume (comparable whatever the "
        "ensemble size; a real 32^3 volume alone is ~20 % off); "
        "fraction = phase-of-interest fraction, generated (real); Euler = Euler "
        "characteristic density per 1000 voxels, cluster = largest-cluster share of the "
        "phase, generated against the real samples' range; train = training CPU minutes "
        "(MCRpy: characterization); CPU-s/vol = generation cost of one volume.",
        "",
        "| case | tool | vols | S2 % | L % | floor S2 / L | one volume S2 / L | fraction | "
        "Euler gen (real) | cluster gen (real) | train CPU-min | CPU-s / vol | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        re, rc = r["real_euler"], r["real_cluster"]
        per_vol = r.get("cpu_s_per_volume", r.get("s_per_volume", float("nan")))
        note = {"rvegen": f"snapshot at {r.get('train_steps')} steps, "
                          f"{r.get('evaluations')} evaluations / volume",
                "slicegan": f"{r.get('iterations')} iterations ({r.get('stopped')}); "
                            f"64^3 generated, central 32^3 kept",
                "mcrpy": f"{r.get('count')} volume(s) (MCRPY_MAX_VOLUMES; the budget "
                         f"buys {int((budget_min * 60 - r['train_cpu_s']) // per_vol)})"
                }[r["tool"]]
        out.append(
            f"| {r['case']} | {r['tool']} | {r['count']} | {r['s2']:.2f} | {r['lp']:.2f} | "
            f"{r['floor_s2']:.2f} / {r['floor_lp']:.2f} | {r['vol_s2']:.1f} / {r['vol_lp']:.1f} "
            f"| {r['fraction']:.3f} "
            f"({r['real_fraction']:.3f}) | {r['euler']:.2f} ({re[0]:.2f} .. {re[1]:.2f}) | "
            f"{r['cluster']:.2f} ({rc[0]:.2f} .. {rc[1]:.2f}) | {r['train_cpu_s'] / 60:.1f} | "
            f"{per_vol:.2f} | {note} |")
    out += ["", "What a user had to do:", ""]
    out += [f"- **{t}**: {EFFORT[t]}" for t in TOOLS]
    return "\n".join(out) + "\n"


def panel(case: str, rows: list[dict[str, Any]]) -> None:
    """Orthogonal mid-slices of each tool's first volume beside real data, and S2 / L(z)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ds = dataset(case)
    real = ds.holdout[:SIZE, :SIZE, :SIZE] if ds.holdout is not None else None
    tools = [r for r in rows if r["case"] == case]
    n = len(tools) + 1
    fig, axes = plt.subplots(n, 5, figsize=(14, 2.8 * n))
    m = SIZE // 2
    if real is not None:
        views = [real[m], real[:, m], real[:, :, m]]
        title = "real (held out)"
    else:
        img = ds.images[0]
        views = [img[i:i + SIZE, i:i + SIZE] for i in (0, 64, 128)]
        title = "real crop"
    for ax, v in zip(axes[0, :3], views):
        ax.imshow(v, cmap="gray", vmin=0, vmax=ds.phases - 1, interpolation="nearest")
        ax.set_title(title, fontsize=8)
    for row, r in enumerate(tools, 1):
        vol = np.load(OUT / r["tool"] / case / "volumes.npy")[0]
        for ax, (name, v) in zip(axes[row, :3], [("xy", vol[m]), ("xz", vol[:, m]),
                                                   ("yz", vol[:, :, m])]):
            ax.imshow(v, cmap="gray", vmin=0, vmax=ds.phases - 1, interpolation="nearest")
            ax.set_title(f"{r['tool']} {name}", fontsize=8)
    for ax in axes[:, :3].ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for col, name in ((3, "s2"), (4, "lineal_path")):
        for row in range(n):
            axes[row, col].axis("off")
        ax = axes[0, col]
        ax.axis("on")
        c0 = tools[0]["curves"]
        i = c0["phases"].index(tools[0]["phase"])
        ax.plot(c0["r"], c0["reference"][name][i], "k-", lw=2, label="real")
        for r in tools:
            ax.plot(r["curves"]["r"], r["curves"]["generated_mean"][name][i], "--",
                    label=f"{r['tool']} ({r['s2' if name == 's2' else 'lp']:.1f} %)")
        ax.set_title(f"{'S2' if name == 's2' else 'L(z)'}, phase {tools[0]['phase']}",
                     fontsize=8)
        ax.legend(fontsize=6)
    fig.suptitle(f"{case}: first volume of each tool, central slices", fontsize=10)
    fig.tight_layout()
    folder = HERE / "figures"
    folder.mkdir(exist_ok=True)
    fig.savefig(folder / f"{case}.png", dpi=80)
    plt.close(fig)


# ---------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["all", "prepare", "run", "score", "table"])
    parser.add_argument("tool", nargs="?", choices=TOOLS)
    parser.add_argument("case", nargs="?", choices=sorted(CASES))
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=sorted(CASES))
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--budget-min", type=float, default=30.0)
    parser.add_argument("--count", type=int, default=16)
    a = parser.parse_args()
    cases = [a.case] if a.case else a.cases
    tools = [a.tool] if a.tool else a.tools
    budget = a.budget_min * 60
    sys.path.insert(0, str(HERE))
    for case in cases:
        prepare(case)
    if a.stage in ("all", "run"):
        for tool in tools:
            for case in cases:
                folder = OUT / tool / case
                folder.mkdir(parents=True, exist_ok=True)
                if not (folder / "info.json").exists():
                    print(f"{tool} / {case}: running", flush=True)
                    RUNNERS[tool](case, budget, a.count, folder)
    if a.stage in ("all", "score", "table"):
        rows = []
        for case in cases:
            for tool in tools:
                folder = OUT / tool / case
                if not (folder / "volumes.npy").exists():
                    continue
                s = folder / "score.json"
                rows.append(json.loads(s.read_text()) if s.exists() and a.stage == "table"
                            else score(tool, case))
            panel(case, rows)
        (HERE / "results.json").write_text(json.dumps(
            [{k: v for k, v in r.items() if k != "curves"} for r in rows], indent=1,
            default=float))
        (HERE / "results.md").write_text(table(rows, a.budget_min))
        print((HERE / "results.md").read_text())


if __name__ == "__main__":
    main()
