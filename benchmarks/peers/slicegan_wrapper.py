"""Run the published SliceGAN (../shared/peers/slicegan, unmodified) under a CPU budget.

This is the small wrapper the peer benchmark is allowed: it sets what a SliceGAN user sets
in ``run_slicegan.py`` (data path, image type, sizes; the network settings below are that
file's, unchanged) and the device (CPU), and calls SliceGAN's own ``model.train``. Nothing
of its training algorithm is changed or copied. Two things are added around it:

* a CPU-time budget: SliceGAN's schedule (100 epochs x 3,600 iterations) would take
  ~1,400 h on this CPU, so training stops when the process has used ``--budget-cpu-s``
  seconds of CPU (SIGPROF from ``setitimer(ITIMER_PROF)``), and the generator SliceGAN saved
  last (it saves every 25 iterations) is the trained one;
* generation on the CPU: SliceGAN's ``util.test_img`` hard-codes ``.cuda()``, so the
  wrapper does what it does (load ``_Gen.pt``, eval mode, noise of shape (1, 32, 4, 4, 4),
  argmax over the phase channels) on the CPU, then cuts the central ``--size``^3 cube out
  of each 64^3 volume (the size SliceGAN trains at), one independent noise draw per volume.

    python slicegan_wrapper.py train --data image.tif --type tif2D --out DIR --budget-cpu-s 1800
    python slicegan_wrapper.py generate --out DIR --count 16 --size 32 --save volumes.npy
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

SLICEGAN = Path(__file__).resolve().parents[3] / "shared" / "peers" / "slicegan"
PROJECT = "peer"

# run_slicegan.py's settings, as published (two phases: img_channels = 2)
IMG_SIZE, SCALE_FACTOR, Z_CHANNELS = 64, 1, 32
LAYS, LAYSD = 5, 6
DK, GK = [4] * LAYSD, [4] * LAYS
DS, GS = [2] * LAYSD, [2] * LAYS
DP, GP = [1, 1, 1, 1, 0], [2, 2, 2, 2, 3]


def _filters(channels: int) -> tuple[list[int], list[int]]:
    return [channels, 64, 128, 256, 512, 1], [Z_CHANNELS, 1024, 512, 128, 32, channels]


class BudgetSpent(Exception):
    """The CPU budget ran out."""


def _on_budget(signum: int, frame: object) -> None:
    raise BudgetSpent


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def train(data: Path, data_type: str, out: Path, budget: float, channels: int) -> None:
    sys.path.insert(0, str(SLICEGAN))
    from slicegan import model, networks, util

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    pth = util.mkdr(PROJECT, str(out), 1)
    df, gf = _filters(channels)
    netD, netG = networks.slicegan_rc_nets(pth, 1, "nphase", DK, DS, df, DP, GK, GS, gf, GP)
    signal.signal(signal.SIGPROF, _on_budget)
    signal.setitimer(signal.ITIMER_PROF, budget)
    start, stopped = time.time(), "schedule finished"
    try:
        model.train(pth, "nphase", data_type, [str(data)], netD, netG, channels, IMG_SIZE,
                    Z_CHANNELS, SCALE_FACTOR)
    except BudgetSpent:
        stopped = "CPU budget spent"
    signal.setitimer(signal.ITIMER_PROF, 0)
    info = {"train_cpu_s": _cpu_seconds(), "train_wall_s": time.time() - start,
            "stopped": stopped, "threads": torch.get_num_threads()}
    (out / "train.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info))


def generate(out: Path, count: int, size: int, seed: int, save: Path, channels: int) -> None:
    sys.path.insert(0, str(SLICEGAN))
    from slicegan import networks

    pth = str(out / PROJECT / PROJECT)
    df, gf = _filters(channels)
    _, netG = networks.slicegan_rc_nets(pth, 0, "nphase", DK, DS, df, DP, GK, GS, gf, GP)
    gen = netG()
    gen.load_state_dict(torch.load(pth + "_Gen.pt", map_location="cpu", weights_only=True))
    gen.eval()
    torch.manual_seed(seed)
    volumes, times = [], []
    for _ in range(count):
        t = time.perf_counter()
        with torch.no_grad():
            raw = gen(torch.randn(1, Z_CHANNELS, 4, 4, 4))
        labels = torch.argmax(raw, 1)[0].numpy().astype(np.uint8)
        times.append(time.perf_counter() - t)
        lo = (labels.shape[0] - size) // 2
        volumes.append(labels[lo:lo + size, lo:lo + size, lo:lo + size])
    np.save(save, np.stack(volumes))
    info = {"s_per_volume": float(np.median(times)), "generated_edge": int(labels.shape[0])}
    (save.parent / "generate.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info))


def iterations(log: Path) -> int:
    """Iterations SliceGAN reported (it prints [epoch/100][i/steps] every 25)."""
    found = re.findall(r"\[(\d+)/\d+\]\[(\d+)/(\d+)\]", log.read_text(errors="replace"))
    if not found:
        return 0
    epoch, i, steps = (int(v) for v in found[-1])
    return epoch * steps + i


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["train", "generate"])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--data", type=Path)
    p.add_argument("--type", choices=["tif2D", "tif3D"], default="tif2D")
    p.add_argument("--budget-cpu-s", type=float, default=1800.0)
    p.add_argument("--phases", type=int, default=2)
    p.add_argument("--count", type=int, default=16)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", type=Path)
    a = p.parse_args()
    if a.mode == "train":
        train(a.data.resolve(), a.type, a.out.resolve(), a.budget_cpu_s, a.phases)
    else:
        generate(a.out.resolve(), a.count, a.size, a.seed, a.save.resolve(), a.phases)


if __name__ == "__main__":
    main()
