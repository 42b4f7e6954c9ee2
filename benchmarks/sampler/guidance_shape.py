"""What fraction guidance does to the shape of the model's own 2D samples: the target of
the self score's topology terms (session 18).

    python benchmarks/sampler/guidance_shape.py CASE [CASE ...] [--count 256] [--seed 0]

CASE is a paper case with a run folder (``python benchmarks/paper_cases/run.py CASE``)
and a checkpoint in ``benchmarks/paper_cases/models/``. For the model's 2D samples at the
case's volume size, drawn plain (the 2D ceiling's draw) and with fraction guidance on
each group of m images (the volumes' guidance, the self score's S2 / L(z) target), and
for as many of the training patches: the phase of interest's fraction, Euler density
(per 1000 px) and largest-cluster fraction, median and mean over images. Only training
data and the model are read: the training patches are what the model learnt, not the
validation reference (for one-image cases they are crops of the same image).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import rvegen
from rvegen.validation.morphology import euler_density, largest_cluster_fraction
from rvegen.validation.report import phase_of_interest

CASES = Path(__file__).resolve().parents[1] / "paper_cases"


def shape_row(name: str, images: np.ndarray, phase: int) -> str:
    """One line: fraction, Euler density and largest cluster of ``phase`` over images."""
    euler = np.array([euler_density(im, phase) for im in images])
    cluster = np.array([largest_cluster_fraction(im, phase) for im in images])
    return (f"  {name:22s} fraction {np.mean(images == phase):.3f}  euler mean "
            f"{euler.mean():6.2f} median {np.median(euler):6.2f}  cluster mean "
            f"{cluster.mean():.3f} median {np.median(cluster):.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cases", nargs="+")
    p.add_argument("--count", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    for case in a.cases:
        spec = rvegen.load_spec(CASES / f"{case}.yaml")
        ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
        model = rvegen.load_model(CASES / "models" / f"{case}.pt")
        size = spec.generate.size or model.image_size
        phase = phase_of_interest(spec.validate_, ds.fractions)
        plain = rvegen.sample_images(model, a.count, spec.generate, ds.fractions, a.seed)
        guided = rvegen.sample_images(model, a.count, spec.generate, ds.fractions, a.seed,
                                      guided=True)
        rng = np.random.default_rng(a.seed)
        patches = ds.patches[rng.choice(len(ds.patches), a.count, replace=False)]
        patches = patches[:, :size, :size]
        print(f"{case}: {a.count} images of {size}^2 each, phase {phase} (data fraction "
              f"{ds.fractions[phase]:.3f}), seed {a.seed}", flush=True)
        for name, images in (("model, plain", plain), ("model, guided", guided),
                             ("training patches", patches)):
            print(shape_row(name, images, phase), flush=True)


if __name__ == "__main__":
    main()
