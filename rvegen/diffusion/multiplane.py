"""Multi-plane denoising diffusion with harmonized sampling (the paper's Algorithm 1).

A volume is a (C, z, y, x) tensor. At each reverse step every slice of one plane is
denoised by the 2D model as one batch, and the plane changes each step in the order of
the paper's Fig. 3: yz (slices at fixed x), xz (fixed y), xy (fixed z). Each step is
repeated n_h times, re-noising back to the step's start in between (eq. 21), as in
RePaint.

The faithful chain is ``steps == T``. Fewer steps give a strided schedule whose reverse
step is the DDPM posterior over the skipped steps (or a DDIM step, Song et al. 2021) and
whose re-noise is the closed form q(x_t | x_s). ``harmonize_across_planes`` moves to the
next plane at every repeat, ``fusion`` averages the noise predicted along the three
planes, and ``clip_x0`` clips the predicted clean volume to [-1, 1] at every step (Ho et
al.'s "clip_denoised"), which suits phase-label data bounded to that range.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..device import autocast, memory_format
from .encoding import model_to_labels
from .schedule import Schedule, strided_steps

#: Axis of (z, y, x) held fixed by each plane, in the paper's cycling order yz, xz, xy.
PLANE_AXES = (2, 1, 0)
PLANE_NAMES = ("yz", "xz", "xy")


@dataclass(frozen=True)
class SamplerSettings:
    """What Algorithm 1 and its accelerated variants need to know."""

    steps: int
    harmonizing_steps: int = 1
    harmonize_across_planes: bool = False
    fusion: bool = False
    #: False: every step on the same plane (yz), i.e. independent 2D samples stacked
    #: along x (the ablation baseline of the paper's Fig. 3)
    cycle_planes: bool = True
    periodic: bool = False
    batch_slices: int = 256
    method: str = "ddpm"
    eta: float = 1.0
    clip_x0: bool = False
    target_fraction: float | None = None
    smooth_sigma: float = 0.0


@dataclass
class SampleInfo:
    """Provenance of one volume."""

    seed: int
    evaluations: int
    seconds: float
    settings: dict[str, Any]


class PlaneDenoiser:
    """Runs a 2D denoiser on every slice of a volume along one axis, in chunks."""

    def __init__(self, net: nn.Module, device: torch.device, batch_slices: int) -> None:
        self.net = net
        self.device = device
        self.batch_slices = batch_slices
        self.fmt = memory_format(device)
        self.evaluations = 0

    @torch.inference_mode()
    def __call__(self, volume: torch.Tensor, t: int, axis: int) -> torch.Tensor:
        """Predicted noise for ``volume`` (C, z, y, x) at step t, slicing along ``axis``."""
        slices = volume.movedim(axis + 1, 0)  # (m, C, a, b): a view, no copy yet
        out = torch.empty(slices.shape, dtype=volume.dtype, device=volume.device)
        for i in range(0, slices.shape[0], self.batch_slices):
            chunk = slices[i : i + self.batch_slices].contiguous(memory_format=self.fmt)
            steps = torch.full((chunk.shape[0],), t, device=self.device, dtype=torch.long)
            with autocast(self.device):
                out[i : i + chunk.shape[0]] = self.net(chunk, steps).to(volume.dtype)
            self.evaluations += chunk.shape[0]
        return out.movedim(0, axis + 1)


def multiplane_sample(
    net: nn.Module,
    schedule: Schedule,
    channels: int,
    size: int,
    settings: SamplerSettings,
    generator: torch.Generator,
    device: torch.device,
    progress: bool = False,
    desc: str = "sample",
    dtype: torch.dtype = torch.float32,
    observe: Callable[[int, int, torch.Tensor, torch.Tensor], None] | None = None,
) -> tuple[torch.Tensor, int]:
    """Run Algorithm 1 (or a variant) and return the final continuous volume.

    Parameters
    ----------
    net
        Denoiser ``eps = net(x_t, t)`` on (B, C, n, n) inputs.
    schedule
        The schedule the denoiser was trained with.
    channels, size
        The volume is (channels, size, size, size).
    settings
        Steps, harmonizing repeats and variants.
    generator
        CPU generator of every random draw (initial noise, z, re-noise).
    device
        Where the network runs.
    progress, desc
        Progress bar over steps and its label.
    dtype
        Precision of the volume and of the random draws.
    observe
        Called as ``observe(t, h, x_t, eps)`` after every network pass (h: the
        harmonizing repeat), for diagnostics.

    Returns
    -------
    (torch.Tensor, int)
        The volume x_0 (C, m, m, m) on the CPU, and the number of 2D network evaluations.
    """
    denoise = PlaneDenoiser(net, device, settings.batch_slices)

    def randn() -> torch.Tensor:
        return torch.randn((channels, size, size, size), generator=generator, dtype=dtype).to(device)

    x = randn()
    plane = 0
    pairs = strided_steps(schedule.timesteps, settings.steps)
    for t, s in tqdm(pairs, desc=desc, unit="step", disable=not progress, leave=False):
        # At the last step (s = 0) there is no re-noise, so one repeat is all it takes.
        repeats = settings.harmonizing_steps if s > 0 else 1
        for h in range(repeats):
            if settings.fusion:
                eps = sum(denoise(x, t, axis) for axis in PLANE_AXES) / 3.0
            else:
                eps = denoise(x, t, PLANE_AXES[plane % 3 if settings.cycle_planes else 0])
            if observe is not None:
                observe(t, h, x, eps)
            z = randn() if s > 0 else None
            if settings.method == "ddim":
                x_s = schedule.ddim_step(x, eps, t, s, z, settings.eta, settings.clip_x0)
            else:
                x_s = schedule.step(x, eps, t, s, z, settings.clip_x0)
            if h < repeats - 1:
                x = schedule.renoise(x_s, t, s, randn())
                if settings.harmonize_across_planes:
                    plane += 1
        x = x_s
        plane += 1
    return x.cpu(), denoise.evaluations


def smooth(x: torch.Tensor, sigma: float, periodic: bool) -> torch.Tensor:
    """Gaussian filter (sigma in voxels) of each channel of a (C, z, y, x) volume."""
    from scipy import ndimage

    mode = "wrap" if periodic else "nearest"
    return torch.from_numpy(np.stack(
        [ndimage.gaussian_filter(c.double().numpy(), sigma, mode=mode) for c in x]))


def match_fraction(x: torch.Tensor, fraction: float) -> np.ndarray:
    """Binary labels with phase 1 on the ``fraction`` of voxels where x is largest.

    Multi-plane sampling tends to under-produce the minority phase (each voxel must look
    right from three planes); thresholding the final volume at its own quantile instead of
    at 0 restores the data's volume fraction while keeping the ranking the model produced.
    """
    flat = x.flatten().double()
    k = int(round(fraction * flat.numel()))
    labels = torch.zeros(flat.numel(), dtype=torch.uint8)
    if k > 0:
        labels[torch.topk(flat, k).indices] = 1
    return labels.view(x.shape).numpy()


def sample_volume(
    net: nn.Module,
    schedule: Schedule,
    phases: int,
    channels: int,
    size: int,
    settings: SamplerSettings,
    seed: int,
    device: torch.device,
    progress: bool = False,
    desc: str = "sample",
) -> tuple[np.ndarray, SampleInfo]:
    """One labelled (m, m, m) uint8 volume in (z, y, x) order, with its provenance."""
    if hasattr(net, "set_periodic"):
        net.set_periodic(settings.periodic)
    generator = torch.Generator().manual_seed(int(seed))
    start = time.perf_counter()
    x, evaluations = multiplane_sample(
        net, schedule, channels, size, settings, generator, device, progress, desc
    )
    if settings.smooth_sigma > 0:
        x = smooth(x, settings.smooth_sigma, settings.periodic)
    if settings.target_fraction is not None:
        labels = match_fraction(x[0], settings.target_fraction)
    else:
        labels = model_to_labels(x, phases, channel_dim=0).numpy()
    info = SampleInfo(int(seed), evaluations, time.perf_counter() - start, asdict(settings))
    return labels, info


def register(reg) -> None:  # noqa: ANN001
    """Register the built-in sampler."""
    reg.register("sampler", "multiplane", sample_volume)
