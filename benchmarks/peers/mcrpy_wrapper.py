"""Run MCRpy (PyPI ``mcrpy``, in its own venv: .venv-mcrpy) as its README recommends for 3D.

Characterize the training data once, then reconstruct 3D volumes from those descriptors,
one after another, until a CPU budget is spent (at least ``--min-count`` volumes), each
from a different random start. Settings: the README's 3D recipe for a two-phase structure
("Correlations" and "Variation", weights 1 and 100, ``limit_to`` 8, phase 1's indicator
only, L-BFGS-B, its default 500 iterations); nothing tuned here.

    .venv-mcrpy/bin/python mcrpy_wrapper.py --data train.npy --out DIR --size 32 \
        --budget-cpu-s 1800 --min-count 4

``--data``: a 2D image (characterized as it is) or a 3D stack (its central slice along each
axis is characterized and the three are merged: MCRpy's own way of describing a 3D
structure by orthogonal 2D sections, ``mcrpy.merge``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import mcrpy  # noqa: E402

DESCRIPTORS = ["Correlations", "Variation"]
WEIGHTS = [1.0, 100.0]
LIMIT_TO = 8


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def characterize(array: np.ndarray, folder: Path) -> dict:
    settings = mcrpy.CharacterizationSettings(descriptor_types=DESCRIPTORS, limit_to=LIMIT_TO,
                                              use_multiphase=False, target_folder=str(folder))
    if array.ndim == 2:
        sections = [array]
    else:  # MCRpy's 3D-from-sections mode: one section per axis, merged
        sections = [np.take(array, array.shape[axis] // 2, axis=axis) for axis in range(3)]
        n = min(min(s.shape) for s in sections)  # equal-sized sections
        sections = [s[:n, :n] for s in sections]
    described = [mcrpy.characterize(mcrpy.Microstructure(s.astype(np.int32)), settings)
                 for s in sections]
    return described[0] if len(described) == 1 else mcrpy.merge(described)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--budget-cpu-s", type=float, default=1800.0)
    p.add_argument("--min-count", type=int, default=4)
    p.add_argument("--max-count", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    start_cpu, start = _cpu_seconds(), time.time()
    descriptor = characterize(np.load(a.data), a.out)
    char_cpu = _cpu_seconds() - start_cpu
    settings = dict(descriptor_types=DESCRIPTORS, descriptor_weights=WEIGHTS, limit_to=LIMIT_TO,
                    use_multiphase=False, target_folder=str(a.out))
    volumes, cpu = [], []
    while len(volumes) < a.max_count:
        spent = _cpu_seconds() - start_cpu
        if len(volumes) >= a.min_count and spent + (np.median(cpu) if cpu else 0) > a.budget_cpu_s:
            break
        t = _cpu_seconds()
        np.random.seed(a.seed + len(volumes))  # MCRpy's random initial structure
        _, last = mcrpy.reconstruct(dict(descriptor), (a.size,) * 3,
                                    settings=mcrpy.ReconstructionSettings(**settings))
        field = np.asarray(last.decode_phases(), dtype=np.float64)
        volumes.append((field > 0.5).astype(np.uint8))
        cpu.append(_cpu_seconds() - t)
        np.save(a.out / "volumes.npy", np.stack(volumes))
        print(f"volume {len(volumes)}: {cpu[-1]:.0f} CPU-s", flush=True)
    info = {"characterize_cpu_s": char_cpu, "cpu_s_per_volume": float(np.median(cpu)),
            "count": len(volumes), "total_cpu_s": _cpu_seconds() - start_cpu,
            "wall_s": time.time() - start, "settings": {k: v for k, v in settings.items()
                                                        if k != "target_folder"}}
    (a.out / "mcrpy.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info))


if __name__ == "__main__":
    main()
