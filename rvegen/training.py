"""Stage 2: training of the 2D DDPM (Adam with warm-up, EMA), in memory or resumable.

The paper's objective is epsilon prediction with a plain MSE; ``model.prediction`` (eps,
v or x0) and ``train.loss_weighting`` (none, min_snr) are the ablations. Every random draw
of a step (which patches, which symmetry, which t, which noise) comes from a generator
seeded by (seed, step), so an interrupted run that resumes from its last checkpoint ends
with the same weights as an uninterrupted one.
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

from .atomic import atomic_path, write_text
from .data.dataset import Dataset
from .device import autocast, memory_format, pick_device
from .diffusion.checkpoint import (
    LoadedModel,
    build_network,
    model_from_payload,
    read_checkpoint,
    save_checkpoint,
)
from .diffusion.encoding import channels_for, dihedral, labels_to_model
from .diffusion.planes import FLIPS, PlaneModels
from .diffusion.schedule import Schedule, schedule_of
from .errors import CheckpointError, SpecError, TrainingError
from .plugins import Registry, registry as default_registry
from .progress import progress_bar
from .spec import ModelSpec, TrainSpec

CHECKPOINT = "checkpoint.pt"
FINAL = "model.pt"


def build_denoiser(model: ModelSpec, phases: int, image_size: int,
                   plugins: Registry | None = None) -> nn.Module:
    """Build the spec's backbone for ``phases`` phases and check the patch size fits it."""
    cls = (plugins or default_registry()).get("backbone", model.backbone, "model.backbone")
    net = cls.from_spec(channels_for(phases, model.encoding), model.preset, dict(model.options),
                        model.timesteps)
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
    patches: torch.Tensor, phases: int, batch_size: int, augment: bool, gen: torch.Generator,
    symmetries: tuple[int, ...] = tuple(range(8)), encoding: str = "one_hot",
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of model-space patches, with the dihedral augmentation; and their indices.

    The augmented set has len(symmetries) x N members (patch i under symmetry k); indices
    are drawn uniformly from it. ``symmetries``: the 8 of the square by default, the 4
    flips (``planes.FLIPS``) for anisotropic data.
    """
    folds = len(symmetries) if augment else 1
    idx = torch.randint(len(patches) * folds, (batch_size,), generator=gen)
    x = labels_to_model(patches[idx // folds], phases, encoding)
    if augment:
        sym = idx % folds
        for j, k in enumerate(symmetries):
            mask = sym == j
            if k and mask.any():
                x[mask] = dihedral(x[mask], k)
    return x, idx // folds


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


def target_and_weight(
    schedule: Schedule, prediction: str, weighting: str, x0: torch.Tensor,
    noise: torch.Tensor, t: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """What the network learns to output at step t, and the per-sample loss weight.

    eps: the noise (the paper); v: sqrt(a) eps - sqrt(1 - a) x0 (Salimans & Ho 2022);
    x0: the clean patch. ``min_snr`` weights each sample by min(SNR, 5) / SNR in
    epsilon terms (Hang et al. 2023), so that low-noise steps do not dominate.
    """
    ab = torch.as_tensor(schedule.alpha_bars, dtype=x0.dtype)[t].view(-1, 1, 1, 1)
    if prediction == "eps":
        target = noise
    elif prediction == "v":
        target = ab.sqrt() * noise - (1 - ab).sqrt() * x0
    else:
        target = x0
    snr = (ab / (1 - ab)).view(-1)
    if weighting == "min_snr":
        clipped = snr.clamp(max=5.0)
        weight = {"eps": clipped / snr, "v": clipped / (snr + 1), "x0": clipped}[prediction]
    else:
        weight = torch.ones_like(snr)
    return target, weight


class _Run:
    """The state of one training run: networks, optimizer, losses, clock."""

    def __init__(self, dataset: Dataset, model: ModelSpec, cfg: TrainSpec, seed: int,
                 plugins: Registry) -> None:
        self.model, self.cfg, self.seed = model, cfg, seed
        self.device = pick_device(cfg.device, "train.device")
        self.schedule = schedule_of(model)
        self.n = dataset.patch_size
        self.phases = dataset.phases
        self.augment = bool(dataset.meta.get("augment", True))
        # anisotropic data: one network per plane family, each fed its own slices
        self.planes = (None if dataset.patch_planes is None
                       else torch.from_numpy(dataset.patch_planes.astype(np.int64)))
        # quarter turns would swap the two in-plane directions of an anisotropic plane
        self.symmetries = tuple(range(8)) if self.planes is None else FLIPS
        with torch.random.fork_rng(devices=[]):  # seeded init without touching global state
            torch.manual_seed(seed)
            self.net = build_denoiser(model, dataset.phases, self.n, plugins)
            if self.planes is not None:
                self.net = PlaneModels(
                    [self.net] + [build_denoiser(model, dataset.phases, self.n, plugins)
                                  for _ in range(2)])
        self.backbone_config = copy.deepcopy(self.net.config)
        self.ema = copy.deepcopy(self.net)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        self.losses: list[float] = []
        self.start = 0
        self.seconds_before = 0.0  # training seconds of earlier calls (resumes add up)
        self.cpu_before = 0.0  # the same in CPU seconds (all threads): fair on a shared machine
        self.clock = time.perf_counter()
        self.cpu_clock = time.process_time()
        self.patches = torch.from_numpy(dataset.patches)
        self.fingerprint = ""
        self.finetune = False  # started from another run's weights

    def resume(self, ckpt: dict[str, Any]) -> None:
        """Continue from a checkpoint of the same run."""
        self.net.load_state_dict(ckpt["model"])
        self.ema.load_state_dict(ckpt["ema"])
        self.opt.load_state_dict(ckpt["optimizer"])
        self.losses = list(ckpt["losses"])
        self.start = int(ckpt["step"])
        self.seconds_before = float(ckpt.get("train_seconds", 0.0))
        self.cpu_before = float(ckpt.get("train_cpu_seconds", 0.0))
        self.finetune = bool(ckpt.get("finetune", False))

    def init_from(self, path: Path, plugins: Registry) -> None:
        """Start from another run's weights (fine-tuning)."""
        init = read_checkpoint(path)
        if init["backbone"] != self.model.backbone or init["backbone_config"] != self.backbone_config:
            raise CheckpointError(
                f"{path}: train.init_from was trained with backbone {init['backbone']} "
                f"{init['backbone_config']}, which does not match model "
                f"({self.model.backbone} {self.backbone_config})"
            )
        if bool(init.get("planes")) != (self.planes is not None):
            kind = "one model per plane family" if init.get("planes") else "one model"
            raise CheckpointError(f"{path}: train.init_from has {kind}, data.per_plane is "
                                  f"{self.planes is not None}")
        if init["phases"] != self.phases or init["image_size"] != self.n:
            raise CheckpointError(
                f"{path}: train.init_from was trained on {init['phases']} phases and "
                f"{init['image_size']}px patches, the data has {self.phases} and {self.n}px"
            )
        if self.phases > 2 and init.get("encoding", "one_hot") != self.model.encoding:
            raise CheckpointError(
                f"{path}: train.init_from encodes phases as {init.get('encoding', 'one_hot')}, "
                f"model.encoding is {self.model.encoding}"
            )
        if init.get("prediction", "eps") != self.model.prediction:
            raise CheckpointError(
                f"{path}: train.init_from predicts {init.get('prediction', 'eps')}, "
                f"model.prediction is {self.model.prediction}"
            )
        weights = build_network(init, path, plugins=plugins)
        self.net.load_state_dict(weights.state_dict())
        self.ema.load_state_dict(weights.state_dict())
        self.finetune = True
        # the model's cost includes what the weights it starts from cost
        self.seconds_before = float(init.get("train_seconds", 0.0))
        self.cpu_before = float(init.get("train_cpu_seconds", 0.0))

    def to_device(self) -> None:
        fmt = memory_format(self.device)
        self.net.to(device=self.device, memory_format=fmt).train()
        self.ema.to(device=self.device, memory_format=fmt).eval()
        # Adam's state follows its parameters when loaded before the move, so move it too.
        for state in self.opt.state.values():
            for key, value in state.items():
                if torch.is_tensor(value) and value.dim() > 0:
                    state[key] = value.to(self.device)

    def step(self, step: int) -> float:
        """One optimizer step; returns its loss."""
        cfg, schedule, device = self.cfg, self.schedule, self.device
        fmt = memory_format(device)
        gen = step_generator(self.seed, step)
        x0, idx = sample_batch(self.patches, self.phases, cfg.batch_size, self.augment, gen,
                               self.symmetries, self.model.encoding)
        t = torch.randint(1, schedule.timesteps + 1, (cfg.batch_size,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        x_t = schedule.add_noise(x0, noise, t).to(device=device, memory_format=fmt)
        target, weight = target_and_weight(schedule, self.model.prediction,
                                           cfg.loss_weighting, x0, noise, t)
        with autocast(device):
            if self.planes is None:
                pred = self.net(x_t, t.to(device))
            else:
                pred = self.net(x_t, t.to(device), self.planes[idx].to(device))
        per_sample = F.mse_loss(pred.float(), target.to(device=device, memory_format=fmt),
                                reduction="none").mean(dim=(1, 2, 3))
        loss = (per_sample * weight.to(device)).mean()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise TrainingError(
                f"training stopped at step {step + 1}: the loss became {value}; lower train.lr "
                "or train.grad_clip"
            )
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.net.parameters(), cfg.grad_clip)
        for group in self.opt.param_groups:
            group["lr"] = cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup_steps))
        self.opt.step()
        # Short warm-up of the EMA so that short runs are not dominated by a random init;
        # a fine-tune starts from trained weights, which the EMA should keep.
        decay = cfg.ema_decay if self.finetune else min(cfg.ema_decay, (1 + step) / (10 + step))
        _ema_update(self.ema, self.net, decay)
        self.losses.append(value)
        return value

    def seconds(self) -> float:
        """Wall seconds of training so far, over every call."""
        return self.seconds_before + time.perf_counter() - self.clock

    def cpu_seconds(self) -> float:
        """CPU seconds of training so far (all threads), over every call."""
        return self.cpu_before + time.process_time() - self.cpu_clock

    def payload(self, step: int, weights_only: bool = False) -> dict[str, Any]:
        """A checkpoint: everything to rebuild the network, and to resume unless
        ``weights_only``."""
        out = {
            "train_seconds": self.seconds(),
            "train_cpu_seconds": self.cpu_seconds(),
            "backbone": self.model.backbone,
            "backbone_config": self.backbone_config,
            "planes": 0 if self.planes is None else 3,
            "image_size": self.n,
            "phases": self.phases,
            "prediction": self.model.prediction,
            "encoding": self.model.encoding,
            "schedule": self.schedule.as_dict(),
            "step": step,
            "finetune": self.finetune,
            "fingerprint": self.fingerprint,
            "ema": {k: v.cpu() for k, v in self.ema.state_dict().items()},
        }
        if not weights_only:
            out.update(model={k: v.cpu() for k, v in self.net.state_dict().items()},
                       optimizer=self.opt.state_dict(), losses=self.losses)
        return out


def _loop(run: _Run, progress: bool, on_step: Any = None) -> None:
    """Steps from run.start to cfg.steps, calling ``on_step(step_done)`` after each."""
    cfg = run.cfg
    with progress_bar(cfg.steps, "train", "step", progress, initial=run.start) as bar:
        for step in range(run.start, cfg.steps):
            run.step(step)
            bar.update(1)
            if (step + 1) % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(run.losses[-50:]):.4f}")
            if on_step is not None:
                on_step(step + 1)


def _summary(run: _Run) -> str:
    text = f"{run.cfg.steps} steps ({run.cfg.steps - run.start} in this call), " \
           f"{run.seconds() / 60:.1f} min"
    if run.cpu_seconds() > 0:  # checkpoints from before CPU time was recorded carry none
        text += f" ({run.cpu_seconds() / 60:.1f} CPU-min)"
    text += f" in total on {run.device.type}"
    if run.losses:  # a zero-step call (init_from as it is) has no loss to report
        text += f", mean loss of the last {min(200, len(run.losses))} steps " \
                f"{np.mean(run.losses[-200:]):.4f}"
    return text


def train_to_folder(
    dataset: Dataset,
    model: ModelSpec,
    cfg: TrainSpec,
    out_dir: Path,
    seed: int = 0,
    fingerprint: str = "",
    init_from: Path | None = None,
    progress: bool = True,
    fresh: bool = False,
    plugins: Registry | None = None,
) -> str:
    """Train into a run folder's ``model/``, resuming from its checkpoint when possible.

    Parameters
    ----------
    dataset
        Training patches.
    model, cfg
        The spec's model and train sections.
    out_dir
        Holds ``checkpoint.pt`` (resumable state), ``model.pt`` (final EMA weights),
        ``snapshots/``, ``loss.csv`` and ``loss.png``.
    seed
        Seed of every random draw.
    fingerprint
        Identity of the run (spec sections and data); a checkpoint with another
        fingerprint is not resumed.
    init_from
        Checkpoint whose weights start the run (fine-tuning), when not resuming.
    progress
        Show progress.
    fresh
        Ignore an existing checkpoint and start over.
    plugins
        Where the backbone comes from.

    Returns
    -------
    str
        A one-line summary (steps, cumulative CPU minutes, recent loss).
    """
    plugins = plugins or default_registry()
    out_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(dataset, model, cfg, seed, plugins)
    run.fingerprint = fingerprint
    ckpt_path = out_dir / CHECKPOINT
    resumed = False
    if ckpt_path.exists() and not fresh:
        ckpt = read_checkpoint(ckpt_path)
        if ckpt.get("fingerprint") == fingerprint and ckpt["step"] <= cfg.steps:
            run.resume(ckpt)
            resumed = True
    if not resumed and init_from is not None:
        run.init_from(init_from, plugins)
    run.to_device()

    def on_step(done: int) -> None:
        if done % cfg.checkpoint_every == 0 or done == cfg.steps:
            save_checkpoint(ckpt_path, run.payload(done))
            _write_loss(out_dir, run.losses)
        if done in cfg.snapshot_steps:
            save_checkpoint(out_dir / "snapshots" / f"model_{done}.pt",
                            run.payload(done, weights_only=True))

    _loop(run, progress, on_step)
    if not ckpt_path.exists():  # steps == 0: keep the (initial) weights all the same
        save_checkpoint(ckpt_path, run.payload(run.start))
    save_checkpoint(out_dir / FINAL, run.payload(max(run.start, cfg.steps), weights_only=True))
    _write_loss(out_dir, run.losses)
    _plot_loss(out_dir, run.losses)
    return _summary(run)


def train(
    dataset: Dataset,
    model: ModelSpec | dict[str, Any] | None = None,
    train: TrainSpec | dict[str, Any] | None = None,
    seed: int = 0,
    out_dir: Path | None = None,
    init_from: Path | None = None,
    progress: bool = False,
    plugins: Registry | None = None,
) -> LoadedModel:
    """Train the 2D denoiser on a dataset's patches and return it ready to sample.

    Parameters
    ----------
    dataset
        Training patches (:meth:`Dataset.from_array` or :func:`rvegen.ingest`).
    model, train
        The spec's model and train sections (objects or dicts of their fields).
    seed
        Seed of the initial weights and of every random draw.
    out_dir
        Keep checkpoints there (resumable, as in a run folder); None trains in memory.
    init_from
        Checkpoint to fine-tune from.
    progress
        Show progress.
    plugins
        Where the backbone comes from (default: the installed plugins).

    Returns
    -------
    LoadedModel
        The EMA network, its schedule and the facts it was trained on.
    """
    model = model if isinstance(model, ModelSpec) else ModelSpec(**(model or {}))
    cfg = train if isinstance(train, TrainSpec) else TrainSpec(**(train or {}))
    plugins = plugins or default_registry()
    if out_dir is not None:
        from .diffusion.checkpoint import load_model

        train_to_folder(dataset, model, cfg, Path(out_dir), seed, init_from=init_from,
                        progress=progress, plugins=plugins)
        return load_model(Path(out_dir) / FINAL, plugins=plugins)
    run = _Run(dataset, model, cfg, seed, plugins)
    if init_from is not None:
        run.init_from(Path(init_from), plugins)
    run.to_device()
    _loop(run, progress)
    return model_from_payload(run.payload(cfg.steps, weights_only=True), "<in memory>",
                              plugins=plugins)
