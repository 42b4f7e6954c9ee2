"""What downscaling does to a material's statistics: majority vote against keeping fractions.

    python benchmarks/downscale.py [--factor 2]

For each data set (the carbonate and composite micrographs, a 200^3 block of the Berea
micro-CT, the synthetic spheres of the paper case), the labels at full resolution are
downscaled with ``data.downscale_method`` 'majority' and 'fractions' (the default), and
each phase is compared with the full-resolution labels at the same physical lags: the
phase fraction, and S2 of the coarse labels at r = 0..16 coarse voxels against S2 of the
fine ones at 2r (eq. 24 error, %); and the morphology a downscale cannot keep exactly: the
Euler characteristic of the phase (a count, comparable across resolutions) and the
fraction of the phase in its largest cluster. Nothing here is scored against a reference
that a setting was chosen on: it measures the data preparation itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from skimage.measure import euler_number

from rvegen.data.ingest import ingest
from rvegen.data.segment import downscale
from rvegen.spec import DataSpec
from rvegen.validation.metrics import error_rate, two_point_correlation
from rvegen.validation.morphology import largest_cluster_fraction

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MAX_R = 16


def full_resolution(name: str) -> np.ndarray:
    """Labels of one data set at full resolution, as rvegen ingests them."""
    if name == "spheres":  # the paper case's synthetic volume (benchmarks/paper_cases/spheres.yaml)
        spec = DataSpec(synthetic={"kind": "spheres", "shape": [300, 128, 128], "diameter_mean": 15,
                                   "diameter_std": 4, "volume_fraction": 0.3},
                        patch_size=32, num_patches=1)
        return ingest(spec, Path("."), seed=0).source
    source, phases = {"carbonate": ("carbonate_resized.npy", 2),
                      "composite": ("composite_resized.npy", 3),
                      "berea": ("berea.zip", 2)}[name]
    labels = ingest(DataSpec(source=str(DATA / source), phases=phases, patch_size=32,
                             num_patches=1), Path("."), seed=0).source
    return labels[:200, :200, :200] if name == "berea" else labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=2)
    parser.add_argument("cases", nargs="*", default=["carbonate", "composite", "berea", "spheres"])
    args = parser.parse_args()
    f = args.factor
    print(f"factor {f}; S2 error: coarse S2(r), r = 0..{MAX_R}, against fine S2(r * {f}), eq. 24 %")
    print(f"{'data':10s} {'shape':>16s} {'phase':>5s} | {'fraction':^22s} | {'S2 error %':^13s} | "
          f"{'Euler characteristic':^22s} | {'largest cluster':^20s}")
    print(f"{'':10s} {'':>16s} {'':>5s} | {'fine':>6s} {'major':>7s} {'fract':>7s} | {'major':>6s} "
          f"{'fract':>6s} | {'fine':>6s} {'major':>7s} {'fract':>7s} | {'fine':>6s} {'major':>6s} "
          f"{'fract':>6s}")
    for name in args.cases:
        fine = full_resolution(name)
        phases = int(fine.max()) + 1
        coarse = [downscale(fine, f, phases, m) for m in ("majority", "fractions")]
        for p in range(phases):
            s2_fine = two_point_correlation(fine, p, MAX_R * f)[::f]
            every = [fine, *coarse]
            vf = [float((a == p).mean()) for a in every]
            s2 = [error_rate(s2_fine, two_point_correlation(a, p, MAX_R)) for a in coarse]
            chi = [int(euler_number(a == p, connectivity=1)) for a in every]  # as validation counts it
            cluster = [largest_cluster_fraction(a, p) for a in every]
            print(f"{name:10s} {str(fine.shape):>16s} {p:5d} | {vf[0]:6.4f} {vf[1]:7.4f} {vf[2]:7.4f} | "
                  f"{s2[0]:6.2f} {s2[1]:6.2f} | {chi[0]:6d} {chi[1]:7d} {chi[2]:7d} | "
                  f"{cluster[0]:6.3f} {cluster[1]:6.3f} {cluster[2]:6.3f}", flush=True)

if __name__ == "__main__":
    main()
