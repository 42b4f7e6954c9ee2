"""Time S2 (radial, non-periodic and periodic), L(z) (3 axes) and morphology of a 128^3 volume.

    python benchmarks/metrics.py [--size 128] [--repeats 5]

Prints the median of the repeats in seconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import rvegen

METRICS = rvegen.build_registry()
two_point_correlation = METRICS.get("metric", "s2").fn
lineal_path = METRICS.get("metric", "lineal_path").fn
euler_density = METRICS.get("metric", "euler_density").fn
largest_cluster = METRICS.get("metric", "largest_cluster").fn


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    vol = (rng.random((args.size,) * 3) < 0.3).astype(np.uint8)
    r = args.size // 2
    rows = [
        ("S2 non-periodic (zero-padded FFT)", lambda: two_point_correlation(vol, 1, r)),
        ("S2 periodic (FFT)", lambda: two_point_correlation(vol, 1, r, periodic=True)),
        ("L(z), 3 axes (run lengths)", lambda: lineal_path(vol, 1, r)),
        ("Euler characteristic (scikit-image)", lambda: euler_density(vol, 1)),
        ("largest cluster (scipy label)", lambda: largest_cluster(vol, 1)),
    ]
    print(f"volume {args.size}^3, max r {r}, median of {args.repeats}")
    for name, fn in rows:
        print(f"{name:36s} {median_time(fn, args.repeats):8.3f} s")


if __name__ == "__main__":
    main()
