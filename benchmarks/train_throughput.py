"""Parameters, training and inference throughput (images/s) per backbone and preset.

    python benchmarks/train_throughput.py [--size 32] [--batch 32] [--seconds 8]

Every registered backbone is measured (imagen only where the rvegen-imagen plugin is
installed). Inference as in multi-plane sampling (inference_mode, channels_last on the
CPU, bf16 autocast on CUDA); training as in rvegen's loop (Adam, MSE on the noise).
Each figure is the median images/s over repeated timed windows after a warm-up.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F

import rvegen

CASES = [("compact", "tiny"), ("compact", "small"), ("compact", "base"),
         ("imagen", "small"), ("imagen", "paper")]


def rate(step, batch: int, seconds: float) -> float:
    """Median images/s of ``step`` over windows of about a second, after one warm-up."""
    step()
    rates, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end or len(rates) < 3:
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < 1.0 or n == 0:
            step()
            n += 1
        rates.append(n * batch / (time.perf_counter() - start))
    return float(np.median(rates))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    # as rvegen runs its networks: channels_last on the CPU, bf16 autocast on CUDA
    fmt = torch.channels_last if device.type == "cpu" else torch.contiguous_format
    reg = rvegen.build_registry()
    print(f"device {device}, {torch.get_num_threads()} threads, {args.size}x{args.size}x1, "
          f"batch {args.batch}")
    print(f"{'backbone':9s} {'preset':7s} {'params':>9s} {'infer img/s':>12s} {'train img/s':>12s}")
    for backbone, preset in CASES:
        if backbone not in reg.names("backbone"):
            print(f"{backbone:9s} {preset:7s}   (not installed)")
            continue
        net = reg.get("backbone", backbone).from_spec(1, preset, {}, 1000)
        net = net.to(device=device, memory_format=fmt)
        params = sum(p.numel() for p in net.parameters())
        x = torch.randn(args.batch, 1, args.size, args.size, device=device).contiguous(
            memory_format=fmt)
        t = torch.randint(1, 1001, (args.batch,), device=device)

        def autocast():  # noqa: ANN202
            return torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")

        def infer() -> None:
            with torch.inference_mode(), autocast():
                net(x, t)

        opt = torch.optim.Adam(net.parameters(), lr=1e-4)

        def train() -> None:
            with autocast():
                loss = F.mse_loss(net(x, t).float(), x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        net.eval()
        inf = rate(infer, args.batch, args.seconds)
        net.train()
        tr = rate(train, args.batch, args.seconds)
        print(f"{backbone:9s} {preset:7s} {params / 1e6:8.2f}M {inf:12.1f} {tr:12.1f}", flush=True)


if __name__ == "__main__":
    main()
