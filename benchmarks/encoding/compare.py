"""One-hot against ordinal encoding of three phases, trained and sampled alike.

    python benchmarks/encoding/compare.py [--cases composite sofc] [--count 16]

Models: ``benchmarks/convergence/<case>_tiny.yaml`` (one-hot, rvegen's default; its
final 2,500-step model) and ``<case>_ordinal.yaml`` here (the same data, network,
steps and seed; one ordinal channel). Run ``rvegen ingest`` and ``rvegen train`` on both
specs first. Each samples ``--count`` volumes with the generate settings of
``benchmarks/paper_cases/<case>.yaml`` (pool_sigma 'auto' is chosen per model, without
real data) and is validated by rvegen against the case's real data: per phase the
ensemble S2 / L(z) errors and the 2D ceiling (the model's own 2D samples against real
crops), the Euler density and the largest-cluster fraction. Writes
benchmarks/results/encoding_compare.txt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import rvegen

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def rows(case: str, count: int) -> list[str]:
    specs = {"one-hot": ROOT / "benchmarks" / "convergence" / f"{case}_tiny.yaml",
             "ordinal": HERE / f"{case}_ordinal.yaml"}
    paper = rvegen.load_spec(ROOT / "benchmarks" / "paper_cases" / f"{case}.yaml")
    ds = rvegen.load_dataset(rvegen.load_spec(specs["one-hot"]).run_path / "dataset.h5")
    out = []
    for label, spec in specs.items():
        model = rvegen.load_model(rvegen.load_spec(spec).run_path / "model" / "model.pt")
        cfg = paper.generate.model_dump()
        volumes = rvegen.sample_volumes(model, count, cfg, ds.fractions, 0)
        size = volumes[0].labels.shape[0]
        images = rvegen.sample_images(model, 8 * size, cfg, ds.fractions)
        r = rvegen.validate(volumes, ds, paper.validate_, images_2d=images)
        floor = r.real_ensemble["errors"]
        ceiling = r.ceiling_2d["ensemble"]["errors"]
        scalars = r.ensemble["scalars"]
        real = r.real_ensemble["scalar_range"]  # ensembles of as many real samples
        for p in map(str, r.phases):
            e = r.ensemble["errors"][p]
            out.append(
                f"{case:10s} {label:8s} {p:>5s} {e['s2']:7.2f} {e['lineal_path']:7.2f}  "
                f"{floor[p]['s2']:5.2f}/{floor[p]['lineal_path']:5.2f}  "
                f"{ceiling[p]['s2']:6.2f}/{ceiling[p]['lineal_path']:6.2f}  "
                f"{scalars[p]['euler_density']:7.2f} ({_span(real[p]['euler_density'], 2)})  "
                f"{scalars[p]['largest_cluster']:5.3f} ({_span(real[p]['largest_cluster'], 3)})  "
                f"{r.accepted:3d}/{len(volumes)}")
            print(out[-1], flush=True)
    return out


def _span(bounds: list[float], digits: int) -> str:
    return f"{bounds[0]:.{digits}f}..{bounds[1]:.{digits}f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", nargs="+", default=["composite", "sofc"])
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--out", type=Path,
                   default=ROOT / "benchmarks" / "results" / "encoding_compare.txt")
    a = p.parse_args()
    lines = [f"# python benchmarks/encoding/compare.py --count {a.count}",
             f"{'case':10s} {'encoding':8s} {'phase':>5s} {'S2 %':>7s} {'L %':>7s}  "
             f"{'floor S2/L':>11s}  {'2D ceiling':>13s}  Euler (real range)  "
             f"cluster (real range)  accepted"]
    print("\n".join(lines), flush=True)
    for case in a.cases:
        lines += rows(case, a.count)
    text = "\n".join(lines)
    print(text)
    a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
