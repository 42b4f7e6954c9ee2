"""One model per plane family against one model for every plane, on anisotropic data.

    python benchmarks/anisotropy/run.py [--cases ellipsoids separator] [--count 16]

For each case the two specs here (``<case>_iso.yaml``: data.per_plane false, the model
rvegen trains for isotropic data; ``<case>_planes.yaml``: per_plane true) are ingested
and trained if their run folders lack a model (``rvegen ingest/train SPEC``), then each
model samples ``--count`` 32^3 volumes with rvegen's default sampler. Scores, for the
phase of interest (the minority phase), along each axis z / y / x separately:

* S2 and L(z) ensemble errors (eq. 24) of the volumes' mean curve along that axis against
  the held-out block's (the mean of 64 random real 32^3 sub-volumes), beside the floor:
  the median error of 20 ensembles of as many real sub-volumes;
* the mean chord length along the axis, generated against real.

Where ``<case>_micrographs.yaml`` exists, a third row: one model per plane trained on
THREE orthogonal micrographs only (``data.sources``), the central section of each plane
family of the stack's training part, cut here before ingest.

All models get the same training (steps, batch, patches); nothing is tuned on the
held-out block. Prints a table and writes it to benchmarks/results/anisotropy.txt.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

import rvegen
from rvegen.validation.metrics import (
    error_rate,
    lineal_path_axis,
    mean_chord_length,
    two_point_correlation_axis,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
AXES = {"z": 0, "y": 1, "x": 2}
SIZE, MAX_R = 32, 16


def run_folder(spec: Path) -> Path:
    return rvegen.load_spec(spec).run_path


def ensure_trained(spec: Path) -> None:
    if not (run_folder(spec) / "model" / "model.pt").exists():
        for stage in ("ingest", "train"):
            subprocess.run([sys.executable, "-m", "rvegen", stage, str(spec)], check=True)


def ensure_micrographs(spec: Path, stack: np.ndarray) -> None:
    """The xy, xz and yz central sections of ``stack`` where the spec's sources point."""
    loaded = rvegen.load_spec(spec)
    c = [s // 2 for s in stack.shape]
    sections = {"xy": stack[c[0]], "xz": stack[:, c[1], :], "yz": stack[:, :, c[2]]}
    for plane, image in sections.items():
        path = loaded.resolve(getattr(loaded.data.sources, plane))
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, image)


def crops(block: np.ndarray, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Random SIZE^3 sub-volumes of the held-out block."""
    out = []
    for _ in range(count):
        z, y, x = (rng.integers(s - SIZE + 1) for s in block.shape)
        out.append(block[z:z + SIZE, y:y + SIZE, x:x + SIZE])
    return out


def axis_curves(volumes: list[np.ndarray], phase: int) -> dict[str, dict[str, np.ndarray]]:
    """Ensemble-mean S2 and L(z) along each axis, and the mean chord length."""
    out = {}
    for name, axis in AXES.items():
        out[name] = {
            "s2": np.mean([two_point_correlation_axis(v, phase, axis, MAX_R) for v in volumes], 0),
            "lp": np.mean([lineal_path_axis(v, phase, axis, MAX_R) for v in volumes], 0),
            "chord": float(np.mean([mean_chord_length(v, phase, axis) for v in volumes])),
        }
    return out


def errors(ref: dict, got: dict) -> dict[str, dict[str, float]]:
    return {a: {"s2": error_rate(ref[a]["s2"], got[a]["s2"]),
                "lp": error_rate(ref[a]["lp"], got[a]["lp"]),
                "chord": got[a]["chord"]} for a in AXES}


def score_case(case: str, count: int) -> list[str]:
    specs = {mode: HERE / f"{case}_{mode}.yaml" for mode in ("iso", "planes", "micrographs")}
    specs = {mode: spec for mode, spec in specs.items() if spec.exists()}
    ensure_trained(specs["iso"])
    ds = rvegen.load_dataset(run_folder(specs["iso"]) / "dataset.h5")
    if "micrographs" in specs:
        ensure_micrographs(specs["micrographs"], ds.source)
    for spec in specs.values():
        ensure_trained(spec)
    phase = int(np.argmin(ds.fractions))
    rng = np.random.default_rng(0)
    ref = axis_curves(crops(ds.holdout, 64, rng), phase)
    floors = [errors(ref, axis_curves(crops(ds.holdout, count, rng), phase)) for _ in range(20)]
    floor = {a: {m: float(np.median([f[a][m] for f in floors])) for m in ("s2", "lp")}
             for a in AXES}
    rows = {"real floor": {a: {**floor[a], "chord": ref[a]["chord"]} for a in AXES}}
    for mode, spec in specs.items():
        model = rvegen.load_model(run_folder(spec) / "model" / "model.pt")
        cfg = rvegen.load_spec(spec).generate.model_dump()
        # the fractions the model's own training data has (three sections are not the stack)
        fractions = rvegen.load_dataset(run_folder(spec) / "dataset.h5").fractions
        volumes = rvegen.sample_volumes(model, count, {**cfg, "size": SIZE}, fractions, 0)
        label = {"iso": "one model (isotropic)", "planes": "one model per plane",
                 "micrographs": "per plane, 3 micrographs"}[mode]
        rows[label] = errors(ref, axis_curves([v.labels for v in volumes], phase))
    lines = [f"## {case}: phase {phase} ({ds.fractions[phase]:.3f}), {count} volumes of "
             f"{SIZE}^3, per axis: S2 % / L % / mean chord (voxels)",
             f"{'':24s}" + "".join(f"{a:>22s}" for a in AXES) + f"{'mean S2/L':>14s}"]
    for label, e in rows.items():
        cells = "".join(f"{e[a]['s2']:7.2f}/{e[a]['lp']:6.2f}/{e[a]['chord']:6.2f}" for a in AXES)
        mean = (f"{np.mean([e[a]['s2'] for a in AXES]):6.2f}/"
                f"{np.mean([e[a]['lp'] for a in AXES]):6.2f}")
        lines.append(f"{label:24s}{cells}  {mean:>12s}")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", nargs="+", default=["ellipsoids", "separator"])
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "anisotropy.txt")
    a = p.parse_args()
    lines = []
    for case in a.cases:
        lines += score_case(case, a.count) + [""]
    text = "\n".join(lines)
    print(text)
    a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
