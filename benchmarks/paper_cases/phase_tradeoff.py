"""Which phase a pooling width serves: per-phase errors of a K-phase case's volumes for
each model and width (a diagnostic against the case's reference; it chooses nothing).

    python benchmarks/paper_cases/phase_tradeoff.py [--case composite] [--count 16]
        [--widths 1.5 2.0] [--models models/composite.pt ...]

For each model and ``pool_sigma``: ``count`` volumes with the case's size and otherwise
rvegen's default sampler (n_h 1, DDPM step, guidance), validated against the case's
ingested data (``python run.py CASE`` first), and the ensemble-mean S2 / L(z) error of
every phase. Session 19: `auto` scores the phase of interest only, and on the composite
the width it chose for the particles cost the matrix and the interphase.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import rvegen

HERE = Path(__file__).resolve().parent


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", default="composite")
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--widths", type=float, nargs="+", default=[1.5, 2.0])
    p.add_argument("--models", type=Path, nargs="+", default=None,
                   help="checkpoints (default: the case's shipped model)")
    args = p.parse_args()
    spec = rvegen.load_spec(HERE / f"{args.case}.yaml")
    data = rvegen.load_dataset(spec.run_path / "dataset.h5")
    size = int(spec.generate.size or spec.data.patch_size)
    models = args.models or [HERE / "models" / f"{args.case}.pt"]
    print(f"{args.case}: {args.count} volumes of {size}^3 per row, seed 0, "
          f"{torch.get_num_threads()} thread(s); ensemble S2 / L(z) % per phase")
    for path in models:
        model = rvegen.load_model(path)
        for width in args.widths:
            volumes = rvegen.sample_volumes(model, args.count, {"size": size, "pool_sigma": width},
                                            data.fractions, 0)
            report = rvegen.validate(volumes, data, {"reference_samples": 64}, 0)
            errors = report.ensemble["errors"]
            cells = "   ".join(f"phase {k}: {errors[k]['s2']:5.2f} / {errors[k]['lineal_path']:5.2f}"
                               for k in sorted(errors))
            print(f"{path.name} ({model.meta.get('step')} steps)  pool {width:.1f}   {cells}",
                  flush=True)


if __name__ == "__main__":
    main()
