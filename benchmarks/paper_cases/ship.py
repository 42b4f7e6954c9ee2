"""Copy a trained checkpoint's sampling weights into models/ (what the case specs start from).

    python benchmarks/paper_cases/ship.py RUN_DIR/model/model.pt models/NAME.pt [--half]

Keeps only what sampling and ``train.init_from`` read (the EMA weights and the facts to
rebuild the network), not the optimizer or raw weights; ``--half`` stores the weights as
float16 (loading casts them back to float32) to keep a three-network checkpoint under 5 MB.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from rvegen.diffusion.checkpoint import read_checkpoint, save_checkpoint

DROP = ("model", "optimizer", "losses", "format", "rvegen_version")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src", type=Path)
    p.add_argument("dst", type=Path)
    p.add_argument("--half", action="store_true")
    a = p.parse_args()
    ckpt = {k: v for k, v in read_checkpoint(a.src).items() if k not in DROP}
    if a.half:
        ckpt["ema"] = {k: v.half() if v.is_floating_point() else v for k, v in ckpt["ema"].items()}
    save_checkpoint(a.dst, ckpt)
    print(f"{a.dst}: {a.dst.stat().st_size / 1e6:.2f} MB, step {ckpt['step']}")


if __name__ == "__main__":
    main()
