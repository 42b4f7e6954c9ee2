"""Time the exporters on a random two-phase volume (default 128^3 = 2.1 M elements).

    python benchmarks/export.py [--size 128] [--repeats 3]

Prints the median seconds and the file size per format.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import rvegen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    vol = (np.random.default_rng(0).random((args.size,) * 3) < 0.3).astype(np.uint8)
    rows = [
        ("abaqus .inp", {"formats": ["abaqus"]}),
        ("abaqus .inp + periodic BCs + 6 steps",
         {"formats": ["abaqus"], "periodic_bc": True, "load_cases": True}),
        ("vti", {"formats": ["vti"]}),
        ("vtu", {"formats": ["vtu"]}),
        ("xdmf + h5", {"formats": ["xdmf"]}),
    ]
    volumes = [rvegen.Volume("v", vol)]
    print(f"volume {args.size}^3 ({vol.size:,} elements), median of {args.repeats}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, cfg in rows:
            times, size = [], 0
            for _ in range(args.repeats):
                start = time.perf_counter()
                files = rvegen.export_volumes(volumes, Path(tmp) / "out", cfg)
                times.append(time.perf_counter() - start)
                size = sum(f.stat().st_size for f in files)
            print(f"{name:40s} {np.median(times):7.2f} s  {size / 1e6:8.1f} MB")


if __name__ == "__main__":
    main()
