"""FE homogenization: solve time per RVE, and generated against real effective properties.

    python benchmarks/homogenize.py [--sizes 32 64]          # seconds per RVE (CalculiX)
    python benchmarks/homogenize.py --run RUN_DIR            # the table of a built run

The first form times one full-tensor solve (21 strain cases, ITERATIVE SCALING, one ccx
process) of a random two-phase volume per size, median of ``--repeats``. The second reads
RUN_DIR/homogenization.json (a spec with a ``homogenize:`` section, built) and prints C11,
C44, E, nu and the tortuosity factor per axis, mean with the 95 % interval, for the
generated RVEs beside the real sub-volumes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import rvegen


def time_solves(sizes: list[int], repeats: int) -> None:
    solver = rvegen.build_registry().get("solver", "calculix")
    rng = np.random.default_rng(0)
    print(f"{'size':>6s} {'elements':>10s} {'s / RVE (21 cases)':>20s}")
    for size in sizes:
        times = []
        for _ in range(repeats):
            labels = (rng.random((size,) * 3) < 0.3).astype(np.uint8)
            with tempfile.TemporaryDirectory() as work:
                start = time.perf_counter()
                solver(labels, 1.0, [(1.0, 0.3), (10.0, 0.25)], Path(work), {})
                times.append(time.perf_counter() - start)
        print(f"{size:>5d}^3 {size**3:10,d} {np.median(times):20.1f}", flush=True)


def table(run: Path) -> None:
    report = json.loads((run / "homogenization.json").read_text())
    gen = report["generated"]["statistics"]
    real = report["real"]["statistics"]
    print(f"{run}: {gen['E']['n']} generated RVEs, "
          f"{real['E']['n'] if real else 0} real sub-volumes ({report['real']['source']}); "
          f"{report['units']}; median {report['seconds_per_volume'] or float('nan'):.1f} s "
          f"per RVE")
    print(f"{'quantity':14s} {'generated mean [95 % CI]':>34s} {'real mean [95 % CI]':>34s} "
          f"{'error %':>8s}")

    def cell(s: dict) -> str:
        if not s["n"]:
            return "-"
        return f"{s['mean']:.4g} [{s['ci'][0]:.4g}, {s['ci'][1]:.4g}]"

    for key in ("C11", "C22", "C33", "C44", "C55", "C66", "E", "nu", "anisotropy_index"):
        err = report["comparison"].get(key, {}).get("error_percent", float("nan"))
        print(f"{key:14s} {cell(gen[key]):>34s} {cell(real[key]) if real else '-':>34s} "
              f"{err:8.2f}")
    source = gen if "transport" in gen else real
    if source and "transport" in source:
        for axis in source["transport"]:
            g = gen["transport"][axis]["tau"] if "transport" in gen else None
            r = real["transport"][axis]["tau"] if real and "transport" in real else None
            print(f"{'tau ' + axis:14s} {cell(g) if g else '-':>34s} "
                  f"{cell(r) if r else '-':>34s}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[32, 64])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--run", type=Path, default=None)
    args = parser.parse_args()
    if args.run:
        table(args.run)
    else:
        time_solves(args.sizes, args.repeats)


if __name__ == "__main__":
    main()
