"""Training of the 2D DDPM: epsilon prediction, Adam with warm-up, EMA, resumable.

Every random draw of a step (which patches, which symmetry, which t, which noise) comes
from a generator seeded by (seed, step), so an interrupted run that resumes from its last
checkpoint ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..atomic import atomic_path, write_text
from ..device import autocast, memory_format, pick_device
from ..errors import CheckpointError, SpecError, TrainingError
from ..ingest import Dataset
from ..plugins import registry
from ..spec import ModelSpec, TrainSpec
from .checkpoint import build_network, channels_for, read_checkpoint, save_checkpoint
from .encoding import dihedral, labels_to_model
from .schedule import Schedule

CHECKPOINT = "checkpoint.pt"
FINAL = "model.pt"


def build_denoiser(model: ModelSpec, phases: int, image_size: int) -> nn.Module:
    """Build the spec's backbone for ``phases`` phases and check the patch size fits it."""
    cls = registry().get("backbone", model.backbone, "model.backbone")
    net = cls.from_spec(channels_for(phases), model.preset, dict(model.options), model.timesteps)
    divisor = net.min_divisor() if hasattr(net, "min_divisor") else 1
    if image_size % divisor:
        raise SpecError(
            f"data.patch_size: must be a multiple of {divisor} for this backbone (got {image_size})"
        )
    return net


def step_generator(seed: int, step: int) -> torch.Generator:
    """The generator of one training step's random draws."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def sample_batch(
    patches: torch.Tensor, phases: int, batch_size: int, augment: bool, gen: torch.Generator
) -> torch.Tensor:
    """A batch of model-space patches, with the 8-fold dihedral augmentation.

    The augmented set has 8N members (patch i under symmetry k); indices are drawn
    uniformly from it.
    """
    folds = 8 if augment else 1
    idx = torch.randint(len(patches) * folds, (batch_size,), generator=gen)
    x = labels_to_model(patches[idx // folds], phases)
    if augment:
        sym = idx % folds
        for k in range(1, 8):
            mask = sym == k
            if mask.any():
                x[mask] = dihedral(x[mask], k)
    return x


def _ema_update(ema: nn.Module, net: nn.Module, decay: float) -> None:
    with torch.no_grad():
        for pe, p in zip(ema.parameters(), net.parameters()):
            pe.lerp_(p, 1.0 - decay)


def _write_loss(out_dir: Path, losses: list[float]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["step", "loss"])
    writer.writerows((i + 1, f"{v:.6g}") for i, v in enumerate(losses))
    write_text(out_dir / "loss.csv", buf.getvalue())


def _plot_loss(out_dir: Path, losses: list[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not losses:
        return
    fig, ax = plt.subplots(figsize=(5, 3.2))
    steps = np.arange(1, len(losses) + 1)
    ax.plot(steps, losses, lw=0.5, alpha=0.4, label="per step")
    window = max(1, len(losses) // 50)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    ax.plot(steps[window - 1 :], smooth, lw=1.5, label=f"mean of {window}")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("MSE of predicted noise")
    ax.legend()
    fig.tight_layout()
    with atomic_path(out_dir / "loss.png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


def train(
    dataset: Dataset,
    model: ModelSpec,
    cfg: TrainSpec,
    out_dir: Path,
    seed: int = 0,
    fingerprint: str = "",
    init_from: Path | None = None,
    progress: bool = True,
    fresh: bool = False,
) -> Path:
    """Train a denoiser on a dataset's patches; resume from ``out_dir`` when possible.

    Parameters
    ----------
    dataset
        Training patches.
    model, cfg
        The spec's model and train sections.
    out_dir
        Holds ``checkpoint.pt`` (resumable state), ``model.pt`` (final EMA weights),
        ``loss.csv`` and ``loss.png``.
    seed
        Seed of every random draw.
    fingerprint
        Identity of the run (spec sections and data); a checkpoint with another
        fingerprint is not resumed.
    init_from
        Checkpoint whose weights start the run (fine-tuning), when not resuming.
    progress
        Show a progress bar.
    fresh
        Ignore an existing checkpoint and start over.

    Returns
    -------
    pathlib.Path
        Path of ``model.pt``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    device = pick_device(cfg.device, "train.device")
    schedule = Schedule(model.timesteps, model.beta_start, model.beta_end)
    n = dataset.patch_size
    with torch.random.fork_rng(devices=[]):  # seeded init without touching global state
        torch.manual_seed(seed)
        net = build_denoiser(model, dataset.phases, n)
    backbone_config = copy.deepcopy(net.config)
    ema = copy.deepcopy(net)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    losses: list[float] = []
    start = 0
    seconds_before = 0.0  # training seconds of earlier calls (resumes add up)

    ckpt_path = out_dir / CHECKPOINT
    resumed = False
    if ckpt_path.exists() and not fresh:
        ckpt = read_checkpoint(ckpt_path)
        if ckpt.get("fingerprint") == fingerprint and ckpt["step"] <= cfg.steps:
            net.load_state_dict(ckpt["model"])
            ema.load_state_dict(ckpt["ema"])
            opt.load_state_dict(ckpt["optimizer"])
            losses = list(ckpt["losses"])
            start = int(ckpt["step"])
            seconds_before = float(ckpt.get("train_seconds", 0.0))
            resumed = True
    if not resumed and init_from is not None:
        init = read_checkpoint(init_from)
        if init["backbone"] != model.backbone or init["backbone_config"] != backbone_config:
            raise CheckpointError(
                f"{init_from}: train.init_from was trained with backbone {init['backbone']} "
                f"{init['backbone_config']}, which does not match model "
                f"({model.backbone} {backbone_config})"
            )
        if init["phases"] != dataset.phases or init["image_size"] != n:
            raise CheckpointError(
                f"{init_from}: train.init_from was trained on {init['phases']} phases and "
                f"{init['image_size']}px patches, the data has {dataset.phases} and {n}px"
            )
        weights = build_network(init, init_from)
        net.load_state_dict(weights.state_dict())
        ema.load_state_dict(weights.state_dict())

    fmt = memory_format(device)
    net.to(device=device, memory_format=fmt).train()
    ema.to(device=device, memory_format=fmt).eval()
    # Adam's state follows its parameters when loaded before the move, so move it too.
    for state in opt.state.values():
        for key, value in state.items():
            if torch.is_tensor(value) and value.dim() > 0:
                state[key] = value.to(device)

    patches = torch.from_numpy(dataset.patches)

    clock = time.perf_counter()

    def payload(step: int) -> dict[str, Any]:
        return {
            "train_seconds": seconds_before + time.perf_counter() - clock,
            "backbone": model.backbone,
            "backbone_config": backbone_config,
            "image_size": n,
            "phases": dataset.phases,
            "schedule": {
                "timesteps": model.timesteps,
                "beta_start": model.beta_start,
                "beta_end": model.beta_end,
            },
            "step": step,
            "fingerprint": fingerprint,
            "model": {k: v.cpu() for k, v in net.state_dict().items()},
            "ema": {k: v.cpu() for k, v in ema.state_dict().items()},
            "optimizer": opt.state_dict(),
            "losses": losses,
        }

    bar = tqdm(
        total=cfg.steps, initial=start, desc="train", unit="step", disable=not progress,
        dynamic_ncols=True,
    )
    for step in range(start, cfg.steps):
        gen = step_generator(seed, step)
        x0 = sample_batch(patches, dataset.phases, cfg.batch_size, dataset.meta.get("augment", True), gen)
        t = torch.randint(1, schedule.timesteps + 1, (cfg.batch_size,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        x_t = schedule.add_noise(x0, noise, t)
        x_t = x_t.to(device=device, memory_format=fmt)
        with autocast(device):
            pred = net(x_t, t.to(device))
        loss = F.mse_loss(pred.float(), noise.to(device=device, memory_format=fmt))
        value = float(loss.detach())
        if not math.isfinite(value):
            raise TrainingError(
                f"training stopped at step {step + 1}: the loss became {value}; lower train.lr "
                "or train.grad_clip"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
        for group in opt.param_groups:
            group["lr"] = cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup_steps))
        opt.step()
        # Short warm-up of the EMA so that short runs are not dominated by the init.
        _ema_update(ema, net, min(cfg.ema_decay, (1 + step) / (10 + step)))
        losses.append(value)
        bar.update(1)
        if (step + 1) % 10 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.steps:
            save_checkpoint(ckpt_path, payload(step + 1))
            _write_loss(out_dir, losses)
        if step + 1 in cfg.snapshot_steps:
            snap = payload(step + 1)
            for key in ("model", "optimizer", "losses"):
                snap.pop(key)
            save_checkpoint(out_dir / "snapshots" / f"model_{step + 1}.pt", snap)
    bar.close()
    if not ckpt_path.exists():  # steps == 0: keep the (initial) weights all the same
        save_checkpoint(ckpt_path, payload(start))
    final = payload(max(start, cfg.steps))
    for key in ("model", "optimizer", "losses"):
        final.pop(key)
    save_checkpoint(out_dir / FINAL, final)
    _write_loss(out_dir, losses)
    _plot_loss(out_dir, losses)
    return out_dir / FINAL
