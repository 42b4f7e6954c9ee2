"""Where the minority phase goes under harmonizing: a diagnostic for a trained model.

    python benchmarks/harmonizing_drain.py SPEC [--count 4] [--steps 100]

For each setting (multi-plane cycling or one fixed plane, i.e. independent 2D samples
stacked; n_h harmonizing repeats) the script follows the fraction of voxels that the
model's x0 prediction puts in phase 1 (x0_hat > 0) through the reverse process, and the
final volume fraction of the unmatched volume (threshold 0), next to the data's fraction.
Comparing one plane with cycling separates a bias of the 2D model under re-noising (seen
on both) from one that comes from the slices of the other planes (seen with cycling only).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from rvegen.device import pick_device
from rvegen.diffusion.checkpoint import load_model
from rvegen.diffusion.multiplane import SamplerSettings, multiplane_sample
from rvegen.generate import volume_seed
from rvegen.ingest import load_dataset
from rvegen.pipeline import RunDir
from rvegen.spec import load_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", type=Path)
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, nargs="*", default=[1, 2, 4])
    args = parser.parse_args()

    spec = load_spec(args.spec)
    run = RunDir(spec.run_path)
    ds = load_dataset(run.dataset)
    model = load_model(run.model, phases=ds.phases, image_size=ds.patch_size)
    if model.channels != 1:
        raise SystemExit("this diagnostic is for binary data (one channel)")
    device = pick_device("auto")
    net = model.net.to(device)
    size = spec.generate.size or ds.patch_size
    target = ds.meta["volume_fractions"][1]
    checkpoints = [t for t in (1000, 900, 700, 500, 300, 200, 100, 50, 10)
                   if t <= model.schedule.timesteps]

    print(f"data: phase-1 fraction {target:.3f}; {size}^3 volumes, {args.count} seeds, "
          f"{args.steps} of T={model.schedule.timesteps} steps (DDPM)")
    print("phase-1 fraction of x0_hat after the last repeat at step t; then per repeat "
          "h, averaged over all steps")
    header = f"{'setting':16s}" + "".join(f"{'t<=' + str(t):>8s}" for t in checkpoints)
    print(header + f"{'final':>8s}   per repeat h = 0, 1, ...")
    for cycle in (True, False):
        for n_h in args.repeats:
            settings = SamplerSettings(steps=args.steps, harmonizing_steps=n_h,
                                       cycle_planes=cycle)
            traces: list[dict[int, float]] = []
            per_repeat: list[list[float]] = [[] for _ in range(n_h)]
            finals = []
            for i in range(args.count):
                trace: dict[int, float] = {}

                def observe(t: int, h: int, x: torch.Tensor, eps: torch.Tensor) -> None:
                    frac = float((model.schedule.predict_x0(x, eps, t) > 0).float().mean())
                    trace[t] = frac  # the last repeat of step t wins
                    per_repeat[h].append(frac)

                gen = torch.Generator().manual_seed(volume_seed(spec.seed, i))
                x, _ = multiplane_sample(net, model.schedule, 1, size, settings, gen, device,
                                         observe=observe)
                traces.append(trace)
                finals.append(float((x > 0).float().mean()))
            cols = []
            for t_max in checkpoints:
                done = [t for t in traces[0] if t <= t_max]  # the same steps for every seed
                vals = [tr[max(done)] for tr in traces] if done else [np.nan]
                cols.append(f"{np.mean(vals):8.3f}")
            name = f"{'cycle' if cycle else 'one plane'} nh{n_h}"
            repeats = ", ".join(f"{np.mean(p):.3f}" for p in per_repeat)
            print(f"{name:16s}{''.join(cols)}{np.mean(finals):8.3f}   {repeats}", flush=True)


if __name__ == "__main__":
    main()
