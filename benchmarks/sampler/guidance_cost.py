"""What K-phase fraction guidance costs, and how exactly it holds the fractions.

    python benchmarks/sampler/guidance_cost.py [CASE ...] [--volumes 3] [--seed 0]

CASE is a K > 2 phase paper case with a checkpoint in ``benchmarks/paper_cases/models/``
(default: composite and sofc). For each case, with the case's volume size and rvegen's
default sampler settings (100 steps, pooling 2, start from the data mean): the median
seconds per volume with guidance and without, their ratio, and over every step of the
guided volumes the largest miss of the x0 prediction's label counts against the data's
fractions times the voxel count, rounded (what guidance is asked to hold). Run it at
two commits to compare guidance implementations; threads as ``torch.get_num_threads()``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

import rvegen
from rvegen.diffusion.multiplane import SamplerSettings, data_mean, guide, multiplane_sample

CASES = Path(__file__).resolve().parents[1] / "paper_cases"


def case_fractions(case: str) -> tuple[list[float], int]:
    """The phase fractions of a case's ingested data and its volume size."""
    spec = rvegen.load_spec(CASES / f"{case}.yaml")
    data = rvegen.load_dataset(spec.run_path / "dataset.h5")
    return [float(f) for f in data.fractions], int(spec.generate.size or spec.data.patch_size)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cases", nargs="*", default=["composite", "sofc"])
    p.add_argument("--volumes", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    print(f"{torch.get_num_threads()} thread(s), {args.volumes} volumes per setting")
    for case in args.cases:
        model = rvegen.load_model(CASES / "models" / f"{case}.pt")
        fractions, size = case_fractions(case)
        channels = model.phases
        # rounded, not rvegen's own whole counts: the script runs at older commits too
        target = torch.round(torch.tensor(fractions, dtype=torch.float64) * size**3).long()
        misses: list[int] = []

        def count_miss(t: int, h: int, x: torch.Tensor, x0: torch.Tensor) -> None:
            counts = torch.bincount(x0.argmax(0).ravel(), minlength=channels)
            misses.append(int((counts - target).abs().max()))

        seconds: dict[bool, list[float]] = {True: [], False: []}
        for guided in (True, False):
            settings = SamplerSettings(
                steps=100, pool_sigma=2.0, start_from_data_mean=True, fraction_guidance=guided,
                target_fractions=tuple(fractions) if guided else None)
            for i in range(args.volumes):
                generator = torch.Generator().manual_seed(args.seed + i)
                start = time.perf_counter()
                multiplane_sample(model.net, model.schedule, channels, size, settings,
                                  generator, torch.device("cpu"),
                                  observe=count_miss if guided else None,
                                  start_mean=data_mean(model.phases, fractions, channels))
                seconds[guided].append(time.perf_counter() - start)
        on, off = statistics.median(seconds[True]), statistics.median(seconds[False])
        # one call on its own, for the per-step cost
        x0 = torch.randn(channels, size, size, size, generator=torch.Generator().manual_seed(0))
        settings = SamplerSettings(steps=1, fraction_guidance=True,
                                   target_fractions=tuple(fractions))
        start = time.perf_counter()
        guide(x0, settings, channels)
        once = time.perf_counter() - start
        print(f"{case}: {size}^3, {channels} phases; s / volume guided {on:.1f}, unguided "
              f"{off:.1f} (ratio {on / off:.2f}); one guidance call {1000 * once:.0f} ms; "
              f"largest count miss over {len(misses)} guided steps {max(misses)} voxels "
              f"(median {statistics.median(misses):.0f})")


if __name__ == "__main__":
    main()
