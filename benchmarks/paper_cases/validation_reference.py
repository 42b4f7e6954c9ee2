"""How much validation's figures move with its own random draws (rvegen 0.3.7's changes).

    python benchmarks/paper_cases/validation_reference.py [CASE ...]   (default: nmc grains)

For a case's volumes and the model's own 2D samples (run ``run.py CASE`` first):

* the 2D ceiling and the data limit (phase of interest, S2 / L(z) %, eq. 24) against
  five independent draws of the random 2D crops that served as their reference before
  0.3.7 (``validate.reference_samples`` sets of as many crops as the volumes' size), and
  against the curves of every real section (the reference since 0.3.7, no draw);
* validation with 5 and with 20 real ensembles behind the floor (``validate.floor_draws``,
  the default since 0.3.7): the floor, the worst real ensemble (the edge of the ensemble
  statement), the criteria outside it, and the seconds it took.

Nothing here feeds back into a setting.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import rvegen
from rvegen.pipeline import reference_dataset
from rvegen.validation.metrics import error_rate, lineal_path, two_point_correlation
from rvegen.validation.reference import real_image_sets
from rvegen.volumes import read_images

HERE = Path(__file__).resolve().parent
DRAWS = 5


def curves_2d(sets: list[np.ndarray], phase: int, max_r: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean 2D S2 and L(z) of sets of images (each set a stack of slices along axis 0)."""
    s2 = np.mean([two_point_correlation(s, phase, max_r, 0) for s in sets], axis=0)
    lp = np.mean([lineal_path(s, phase, max_r, 0) for s in sets], axis=0)
    return s2, lp


def errors(ref: tuple[np.ndarray, np.ndarray], own: tuple[np.ndarray, np.ndarray]) -> str:
    return f"{error_rate(ref[0], own[0]):5.2f} / {error_rate(ref[1], own[1]):5.2f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cases", nargs="*", default=["nmc", "grains"])
    for case in p.parse_args().cases:
        spec = rvegen.load_spec(HERE / f"{case}.yaml")
        ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
        ref = reference_dataset(spec, ds)
        volumes, _ = rvegen.read_volumes(spec.run_path / "volumes.h5")
        images = read_images(spec.run_path / "volumes.h5")
        size = volumes[0].labels.shape[0]
        report = rvegen.validate(volumes, ref, spec.validate_, seed=spec.seed, images_2d=images)
        phase, max_r = report.phase_of_interest, report.max_r
        own = curves_2d([images[i:i + size] for i in range(0, len(images) - size + 1, size)],
                        phase, max_r)
        patches = ds.patches[: len(ds.patches) // size * size]
        taught = curves_2d([patches[i:i + size] for i in range(0, len(patches), size)],
                           phase, max_r)
        axes = list(ds.meta.get("slice_axes", [0, 1, 2]))
        print(f"{case}: phase {phase}, 2D ceiling / data limit, S2 / L(z) %")
        for draw in range(DRAWS):
            crops = real_image_sets(ref, size, spec.validate_.reference_samples,
                                    np.random.default_rng([spec.seed, 100 + draw]), axes)
            target = curves_2d(crops, phase, max_r)
            print(f"  crops, draw {draw}          ceiling {errors(target, own)}   "
                  f"data limit {errors(target, taught)}", flush=True)
        ceiling, limit = report.headline("ceiling_2d"), report.headline("training_patches")
        print(f"  every section (0.3.7)    ceiling {ceiling['s2']:5.2f} / "
              f"{ceiling['lineal_path']:5.2f}   data limit {limit['s2']:5.2f} / "
              f"{limit['lineal_path']:5.2f}")
        for draws in (5, 20):
            cfg = spec.validate_.model_copy(update={"floor_draws": draws})
            start = time.perf_counter()
            r = rvegen.validate(volumes, ref, cfg, seed=spec.seed)
            seconds = time.perf_counter() - start
            floor, worst = r.headline("real_ensemble"), r.real_ensemble["errors_worst"][str(phase)]
            print(f"  {draws:2d} real ensembles: floor S2 {floor['s2']:.2f} / L "
                  f"{floor['lineal_path']:.2f}, worst {worst['s2']:.2f} / "
                  f"{worst['lineal_path']:.2f}; outside: "
                  f"{', '.join(r.outside_real_spread()) or 'nothing'}; {seconds:.1f} s",
                  flush=True)


if __name__ == "__main__":
    main()
