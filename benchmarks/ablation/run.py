"""Quality per CPU-minute of training choices (the fidelity issue's ablation), one table.

    python benchmarks/ablation/run.py [--count 16] [--out FILE.jsonl]

Each spec here changes one thing against the paper's training setting (compact tiny,
epsilon prediction, linear betas, plain MSE), all on the carbonate data for 5,000 steps:
v or x0 prediction, min-SNR weighting, the cosine schedule, the small preset, no EMA,
48 x 48 patches, the image downscaled 2x. Train them
first (``rvegen ingest SPEC && rvegen train SPEC`` each). The baseline row is the 5,000-step
snapshot of ``benchmarks/convergence/carbonate_tiny.yaml``. Every row: rvegen's default
sampler on the same seeds, the 3D ensemble errors, the 2D ceiling, morphology, and the
training CPU minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rvegen  # noqa: E402
from fidelity import HEADER, line, score  # noqa: E402

HERE = Path(__file__).resolve().parent
ROWS = {
    "eps (paper)": (HERE.parent / "convergence" / "carbonate_tiny.yaml", "snapshots/model_5000.pt"),
    "eps + min-SNR": (HERE / "eps_minsnr.yaml", "model.pt"),
    "v": (HERE / "v.yaml", "model.pt"),
    "v + min-SNR": (HERE / "v_minsnr.yaml", "model.pt"),
    "x0": (HERE / "x0.yaml", "model.pt"),
    "cosine schedule": (HERE / "cosine.yaml", "model.pt"),
    "small preset (1.9 M)": (HERE / "small.yaml", "model.pt"),
    "no EMA": (HERE / "no_ema.yaml", "model.pt"),
    # session 10: the field of view. 48 x 48 patches, sampled at 32^3 like every row and at
    # 48^3 (its own size; lags up to 16 as every row); the image downscaled 2x (its
    # volumes and reference at the coarser voxel, so lags up to 32 original pixels)
    "patch 48, 32^3 volumes": (HERE / "patch48.yaml", "model.pt"),
    "patch 48, 48^3 volumes": (HERE / "patch48.yaml", "model.pt"),
    "downscale 2 (fractions)": (HERE / "downscale2.yaml", "model.pt"),
}
#: rows sampled or scored unlike the rest: generate / validate fields
OPTIONS: dict[str, tuple[dict, dict]] = {
    "patch 48, 32^3 volumes": ({"size": 32}, {}),
    "patch 48, 48^3 volumes": ({}, {"max_r": 16}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--rows", nargs="*", default=None, help=", ".join(ROWS))
    parser.add_argument("--out", type=Path, default=None, help="append rows as JSON lines")
    parser.add_argument("--pool-sigma", default=None,
                        help="generate.pool_sigma for every row (e.g. auto) instead of the default")
    args = parser.parse_args()
    print(f"{'CPU min':>8s} " + HEADER)
    for name in args.rows or list(ROWS):
        spec_path, weights = ROWS[name]
        spec = rvegen.load_spec(spec_path)
        path = spec.run_path / "model" / weights
        if not path.exists():
            print(f"{name}: not trained yet ({path})")
            continue
        model = rvegen.load_model(path)
        ds = rvegen.load_dataset(spec.run_path / "dataset.h5")
        generate, validate = OPTIONS.get(name, ({}, {}))
        if args.pool_sigma is not None:
            sigma = args.pool_sigma
            generate = {**generate, "pool_sigma": sigma if sigma == "auto" else float(sigma)}
        row = score(model, ds, generate, args.count, spec.seed, validate=validate)
        minutes = model.meta.get("train_seconds", float("nan")) / 60
        row.update(setting=name, train_minutes=minutes, steps=model.meta.get("step"),
                   pool_sigma=args.pool_sigma)
        print(f"{minutes:8.1f} " + line(name, row), flush=True)
        if args.out:
            with open(args.out, "a") as fh:
                fh.write(json.dumps(row, default=float) + "\n")


if __name__ == "__main__":
    main()
