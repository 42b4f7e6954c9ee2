"""Multi-plane denoising diffusion with harmonized sampling (the paper's Algorithm 1).

A volume is a (C, z, y, x) tensor. At each reverse step every slice of one plane is
denoised by the 2D model as one batch, and the plane changes each step in the order of
the paper's Fig. 3: yz (slices at fixed x), xz (fixed y), xy (fixed z). Each step is
repeated n_h times, re-noising back to the step's start in between (eq. 21), as in
RePaint.

The faithful chain is ``steps == T``. Fewer steps give a strided schedule whose reverse
step is the DDPM posterior over the skipped steps (or a DDIM step, Song et al. 2021) and
whose re-noise is the closed form q(x_t | x_s). ``harmonize_across_planes`` moves to the
next plane at every repeat, ``fusion`` averages the prediction made along the three
planes, ``plane_block`` holds each plane for several passes, and ``clip_x0`` clips the
predicted clean volume to [-1, 1] at every step (Ho et al.'s "clip_denoised").
``pool_repeats=False`` pools (below) on the first pass of each step only, so that the
harmonizing repeats are Algorithm 1's plain passes (``preset: harmonized``).

Two additions make the 3D volume coherent (``benchmarks/sampling.py`` measures them):

* **Cross-slice pooling** (``pool_sigma``). A 2D model sees one slice: at high noise its
  prediction for neighbouring slices is independent, so the volume fills with stripes
  along the plane normal that the next plane reads as noise, and structure never builds
  up; what is left at the end is committed noise (speckle). Instead, the model is shown
  the slices averaged with a Gaussian of width ``sigma(t)`` along the normal: that average
  has the same signal (for structures wider than the window) and less noise, i.e. it is a
  noisy image at a lower noise level t' < t, which is what the model is asked at. The
  prediction is then consistent across neighbouring slices and as confident as the pooled
  evidence allows. ``sigma(t) = pool_sigma * min(1, r(t) / pool_taper)`` with r the
  noise-to-signal ratio, so pooling fades out as the structure sharpens.
* **Fraction guidance** (``fraction_guidance``). Multi-plane sampling drifts towards the
  majority phase (a slice model uncertain about a feature shrinks it towards the prior
  mean). At every step the predicted clean volume is shifted so that the target fraction
  of its voxels lies in phase 1: the x0 prediction is conditioned on the volume fraction,
  a global constraint, and the final labels need no fraction matching afterwards.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import autocast, memory_format
from ..progress import progress_bar
from .encoding import channels_for, levels
from .planes import plane_networks
from .schedule import Schedule, strided_steps

#: Axis of (z, y, x) held fixed by each plane, in the paper's cycling order yz, xz, xy.
PLANE_AXES = (2, 1, 0)
PLANE_NAMES = ("yz", "xz", "xy")


@dataclass(frozen=True)
class SamplerSettings:
    """What Algorithm 1 and its variants need to know."""

    steps: int
    harmonizing_steps: int = 1
    harmonize_across_planes: bool = False
    fusion: bool = False
    #: False: every step on the same plane (yz), i.e. independent 2D samples stacked
    #: along x (the ablation baseline of the paper's Fig. 3)
    cycle_planes: bool = True
    #: "cycle": yz, xz, xy, yz, ... (the paper); "palindrome": yz, xz, xy, xy, xz, yz, ...
    #: (each plane as often first as last); "random": a fresh random order every three steps
    plane_order: str = "cycle"
    #: denoising passes on one plane before the next plane takes over (1: the paper)
    plane_block: int = 1
    periodic: bool = False
    batch_slices: int = 256
    method: str = "ddpm"
    eta: float = 1.0
    clip_x0: bool = False
    #: largest Gaussian width (voxels) of cross-slice pooling; 0 = the paper (no pooling)
    pool_sigma: float = 0.0
    #: noise-to-signal ratio below which the pooling width tapers linearly to zero
    pool_taper: float = 0.8
    #: pool on the harmonizing repeats of a step too (False: on its first pass only)
    pool_repeats: bool = True
    #: shift the x0 prediction at every step so that target_fraction of voxels is phase 1
    fraction_guidance: bool = False
    #: start from q(x_T)'s mean (the data's mean at the terminal SNR) instead of zero
    start_from_data_mean: bool = False
    #: fraction of phase 1 (binary data): the target of fraction guidance
    target_fraction: float | None = None
    #: every phase's fraction (K > 2 phases, one channel each): the target of guidance
    target_fractions: tuple[float, ...] | None = None


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
        # anisotropic models: the slices normal to axis a go to plane family a's network
        self.plane_nets = plane_networks(net)
        self.device = device
        self.batch_slices = batch_slices
        self.fmt = memory_format(device)
        self.evaluations = 0

    @torch.inference_mode()
    def __call__(self, volume: torch.Tensor, t: int, axis: int) -> torch.Tensor:
        """Predicted noise for ``volume`` (C, z, y, x) at step t, slicing along ``axis``."""
        slices = volume.movedim(axis + 1, 0)  # (m, C, a, b): a view, no copy yet
        out = torch.empty(slices.shape, dtype=volume.dtype, device=volume.device)
        net = self.net if self.plane_nets is None else self.plane_nets[axis]
        for i in range(0, slices.shape[0], self.batch_slices):
            chunk = slices[i : i + self.batch_slices].contiguous(memory_format=self.fmt)
            steps = torch.full((chunk.shape[0],), t, device=self.device, dtype=torch.long)
            with autocast(self.device):
                out[i : i + chunk.shape[0]] = net(chunk, steps).to(volume.dtype)
            self.evaluations += chunk.shape[0]
        return out.movedim(0, axis + 1)


def gaussian_kernel(sigma: float) -> torch.Tensor:
    """Normalised 1D Gaussian weights, truncated at 4 sigma."""
    radius = max(1, int(4.0 * sigma + 0.5))
    r = torch.arange(-radius, radius + 1, dtype=torch.float64)
    w = torch.exp(-0.5 * (r / sigma) ** 2)
    return w / w.sum()


def pool_along(x: torch.Tensor, dim: int, weights: torch.Tensor, periodic: bool) -> torch.Tensor:
    """Convolve ``x`` with 1D ``weights`` along ``dim`` (reflected or wrapped at the ends)."""
    n = x.shape[dim]
    radius = len(weights) // 2
    moved = x.movedim(dim, -1)
    flat = moved.reshape(-1, 1, n)
    if periodic:
        reps = -(-radius // n)  # whole copies needed on each side
        padded = torch.cat([flat] * (2 * reps + 1), dim=-1)
        padded = padded[..., reps * n - radius : reps * n + n + radius]
    else:
        # reflect needs pad < n; longer kernels fall back to replicating the edge slice
        mode = "reflect" if radius < n else "replicate"
        padded = F.pad(flat, (radius, radius), mode=mode)
    out = F.conv1d(padded, weights.to(x.dtype).to(x.device).view(1, 1, -1))
    return out.reshape(moved.shape).movedim(-1, dim)


class PooledDenoiser:
    """The x0 prediction of a plane denoiser, optionally from cross-slice pooled input."""

    def __init__(self, denoise: PlaneDenoiser, schedule: Schedule, periodic: bool) -> None:
        self.denoise = denoise
        self.schedule = schedule
        self.periodic = periodic

    def x0(self, x: torch.Tensor, t: int, axis: int, sigma: float) -> torch.Tensor:
        """x0 predicted for ``x`` (C, z, y, x) at step t along ``axis``.

        With ``sigma > 0`` the slices are first averaged with a Gaussian of that width
        along the plane normal. Independent noise of variance 1 - a_t shrinks to
        (1 - a_t) sum(w^2) while the signal sqrt(a_t) x0 stays (where x0 varies slowly
        across the window); rescaled to unit total variance this is a noisy image at
        a_eff = c^2 a_t, c = 1 / sqrt(a_t + (1 - a_t) sum(w^2)), which the model is asked at
        the nearest step t'.
        """
        sched = self.schedule
        if sigma <= 0:
            return sched.predict_x0(x, self.denoise(x, t, axis), t)
        weights = gaussian_kernel(sigma)
        pooled = pool_along(x, axis + 1, weights, self.periodic)
        a_t = sched.alpha_bar(t)
        c = 1.0 / np.sqrt(a_t + (1.0 - a_t) * float((weights**2).sum()))
        t_eff = sched.nearest_step(c * c * a_t)
        scaled = c * pooled
        return sched.predict_x0(scaled, self.denoise(scaled, t_eff, axis), t_eff)


def pool_width(settings: SamplerSettings, schedule: Schedule, t: int) -> float:
    """sigma(t) of cross-slice pooling: full width at high noise, fading to 0."""
    if settings.pool_sigma <= 0:
        return 0.0
    ratio = schedule.noise_to_signal(t) / settings.pool_taper
    return settings.pool_sigma * min(1.0, ratio)


def guide_fraction(x0: torch.Tensor, fraction: float) -> torch.Tensor:
    """Shift a one-channel x0 (1, z, y, x) so that ``fraction`` of its voxels are > 0.

    The shift is the (1 - fraction) quantile: the ranking of voxels is kept, only the
    level that separates the phases moves.
    """
    flat = x0.reshape(-1)
    k = int(round((1.0 - fraction) * flat.numel()))
    k = min(max(k, 1), flat.numel())
    tau = flat.kthvalue(k).values
    upper = flat[flat > tau].min() if (flat > tau).any() else tau
    return x0 - 0.5 * (tau + upper)


def guide_levels(x0: torch.Tensor, fractions: list[float]) -> torch.Tensor:
    """Remap an ordinal x0 (1, z, y, x) so that its nearest levels hold the given fraction
    of each phase (K > 2): the K-phase analogue of :func:`guide_fraction`.

    Voxels keep their ranking; the value at each cumulative-fraction quantile moves to
    the decision boundary between two levels, values between quantiles move linearly,
    and values beyond the outer quantiles shift with them.
    """
    k = len(fractions)
    flat = x0.reshape(-1).double()
    cum = np.clip(np.cumsum(fractions)[:-1], 0.0, 1.0)
    # numpy: torch.quantile refuses inputs over 2**24 elements (a 256^3 volume)
    q = torch.from_numpy(np.quantile(flat.cpu().numpy(), cum)).to(flat.device)
    # strictly increasing, so that every segment has a slope
    q = q + torch.arange(k - 1, dtype=torch.float64, device=flat.device) * 1e-9
    # decision boundaries between neighbouring levels -1 + 2j / (k - 1)
    steps = torch.arange(1, k, dtype=torch.float64, device=flat.device)
    bounds = -1.0 + (2.0 * steps - 1.0) / (k - 1)
    i = torch.bucketize(flat, q).clamp(1, k - 2)  # the segment between two quantiles
    lo, hi = q[i - 1], q[i]
    slope = (bounds[i] - bounds[i - 1]) / (hi - lo)
    inner = bounds[i - 1] + (flat - lo) * slope
    below, above = flat < q[0], flat > q[-1]
    out = torch.where(below, flat - q[0] + bounds[0],
                      torch.where(above, flat - q[-1] + bounds[-1], inner))
    return out.to(x0.dtype).view_as(x0)


def phase_counts(fractions: list[float], total: int) -> torch.Tensor:
    """Whole voxel counts per phase that sum to ``total``, nearest to ``fractions``
    (largest remainders round up)."""
    exact = torch.tensor(fractions, dtype=torch.float64)
    exact = exact / exact.sum() * total  # fractions read from data may not sum to 1 exactly
    counts = exact.floor().long()
    short = total - int(counts.sum())
    if short > 0:
        counts[torch.argsort(exact - counts, descending=True)[:short]] += 1
    return counts


def offset_for_count(margin: torch.Tensor, count: int) -> float:
    """The offset o for which exactly ``count`` entries of ``margin + o`` are > 0 (ties
    aside): halfway between the count-th and the next largest margin."""
    n = margin.numel()
    top = torch.topk(margin, min(count + 1, n)).values
    above = float(top[count - 1]) if count > 0 else float(top[0]) + 1.0
    below = float(top[count]) if count < n else float(top[-1]) - 1.0
    return -0.5 * (above + below)


def guide_fractions(x0: torch.Tensor, fractions: list[float], sweeps: int = 30) -> torch.Tensor:
    """Shift each channel of a one-hot x0 (K, z, y, x) so that the argmax labels hold the
    given fraction of each phase (to the voxel, ties aside).

    The per-channel offsets are the dual variables of assigning voxels to phases at fixed
    counts. Each update sets one channel's offset so that its count is exact with the
    others held (a quantile of its margin over the best other channel); a few sweeps over
    the channels settle all counts. For one channel (binary data) use
    :func:`guide_fraction`.
    """
    k = x0.shape[0]
    flat = x0.reshape(k, -1).double()
    target = phase_counts(fractions, flat.shape[1]).to(flat.device)
    offsets = torch.zeros(k, dtype=torch.float64, device=flat.device)
    for _ in range(sweeps):
        for c in range(k):
            others = flat + offsets[:, None]
            others[c] = -torch.inf
            offsets[c] = offset_for_count(flat[c] - others.max(0).values, int(target[c]))
        counts = torch.bincount((flat + offsets[:, None]).argmax(0), minlength=k)
        if torch.equal(counts, target):
            break
    offsets -= offsets.mean()
    return x0 + offsets.to(x0.dtype).view(k, *([1] * (x0.dim() - 1)))


def guide(x0: torch.Tensor, settings: SamplerSettings, channels: int) -> torch.Tensor:
    """x0 (C, ...) shifted so that its labels hold the settings' target fraction(s)."""
    if settings.target_fraction is not None:
        return guide_fraction(x0, settings.target_fraction)
    if channels == 1:
        return guide_levels(x0, list(settings.target_fractions))
    return guide_fractions(x0, list(settings.target_fractions))


def initial_noise(
    shape: tuple[int, ...], schedule: Schedule, mean: torch.Tensor | None,
    generator: torch.Generator, dtype: torch.dtype,
) -> torch.Tensor:
    """x_T: standard normal, or normal around q(x_T)'s mean sqrt(a_T) E[x0] when given.

    The paper's linear betas end at a_T = 0.0064, not 0: a real x_T still carries
    sqrt(a_T) times the data's mean, which a model reads off a whole slice. Starting at
    zero mean asks for the 50 % phase mix at first (the 2D model then over-produces the
    minority phase).
    """
    z = torch.randn(shape, generator=generator, dtype=dtype)
    if mean is None:
        return z
    a_T = schedule.alpha_bar(schedule.timesteps)
    view = (-1,) + (1,) * (len(shape) - 1)
    return np.sqrt(a_T) * mean.to(dtype).view(view) + np.sqrt(1.0 - a_T) * z


def data_mean(phases: int, fractions: list[float] | None,
              channels: int | None = None) -> torch.Tensor | None:
    """E[x0] in model space per channel, from the phase fractions (None if unknown).

    ``channels``: 1 for binary or ordinal data, K (the default for K > 2) for one-hot.
    """
    if fractions is None:
        return None
    f = torch.tensor(fractions, dtype=torch.float64)
    if (channels or channels_for(phases)) == 1:  # one channel: the mean level
        return (levels(phases).double() * f).sum().view(1)
    return 2.0 * f - 1.0


def plane_sequence(settings: SamplerSettings, length: int,
                   generator: torch.Generator) -> list[int]:
    """The fixed axis of each denoising pass, in the order ``settings.plane_order`` asks,
    each plane held for ``settings.plane_block`` consecutive passes."""
    block = max(1, settings.plane_block)
    if block > 1:
        single = replace(settings, plane_block=1)
        return [a for a in plane_sequence(single, -(-length // block), generator)
                for _ in range(block)][:length]
    if settings.plane_order == "palindrome":
        period = list(PLANE_AXES) + list(PLANE_AXES[::-1])
        return [period[i % 6] for i in range(length)]
    if settings.plane_order == "random":
        out: list[int] = []
        seeded = torch.Generator().manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
        while len(out) < length:
            out += [PLANE_AXES[i] for i in torch.randperm(3, generator=seeded).tolist()]
        return out[:length]
    return [PLANE_AXES[i % 3] for i in range(length)]


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
    start_mean: torch.Tensor | None = None,
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
        Called as ``observe(t, h, x_t, x0_hat)`` after every network pass (h: the
        harmonizing repeat; x0_hat after pooling and guidance), for diagnostics.
    start_mean
        E[x0] per channel; used when ``settings.start_from_data_mean``.

    Returns
    -------
    (torch.Tensor, int)
        The volume x_0 (C, m, m, m) on the CPU, and the number of 2D network evaluations.
    """
    denoise = PlaneDenoiser(net, device, settings.batch_slices)
    pooled = PooledDenoiser(denoise, schedule, settings.periodic)
    shape = (channels, size, size, size)
    guided = settings.fraction_guidance
    if guided and settings.target_fraction is None and settings.target_fractions is None:
        raise ValueError("fraction guidance needs the target fraction(s)")
    # the x0 prediction is altered (then the step works from it) or used as the model gave it
    alters_x0 = guided or settings.pool_sigma > 0 or settings.fusion

    def randn() -> torch.Tensor:
        return torch.randn(shape, generator=generator, dtype=dtype).to(device)

    mean = start_mean if settings.start_from_data_mean else None
    x = initial_noise(shape, schedule, mean, generator, dtype).to(device)
    plane = 0
    pairs = strided_steps(schedule.timesteps, settings.steps)
    # the plane of each pass, drawn up front so that the noise draws do not depend on it
    sequence = plane_sequence(settings, len(pairs) * settings.harmonizing_steps + 3, generator)
    with progress_bar(len(pairs), desc, "step", progress, nested=True) as bar:
        for t, s in pairs:
            # At the last step (s = 0) there is no re-noise, so one repeat is all it takes.
            repeats = settings.harmonizing_steps if s > 0 else 1
            sigma = pool_width(settings, schedule, t)
            for h in range(repeats):
                width = sigma if h == 0 or settings.pool_repeats else 0.0
                axes = PLANE_AXES if settings.fusion else (
                    sequence[plane] if settings.cycle_planes else PLANE_AXES[0],)
                if alters_x0:
                    x0 = sum(pooled.x0(x, t, axis, width) for axis in axes) / len(axes)
                    if guided:
                        x0 = guide(x0, settings, channels)
                    eps = schedule.eps_from_x0(x, x0, t)
                else:
                    eps = denoise(x, t, axes[0])
                    x0 = None
                if observe is not None:
                    observe(t, h, x, schedule.predict_x0(x, eps, t) if x0 is None else x0)
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
            bar.update(1)
    return x.cpu(), denoise.evaluations


def sample_images_2d(
    net: nn.Module,
    schedule: Schedule,
    channels: int,
    size: int,
    count: int,
    steps: int,
    method: str,
    eta: float,
    generator: torch.Generator,
    device: torch.device,
    start_mean: torch.Tensor | None = None,
    batch: int = 256,
    guidance: SamplerSettings | None = None,
) -> torch.Tensor:
    """``count`` plain 2D samples (count, C, size, size) on the same schedule as volumes.

    The model alone, without planes: what multi-plane sampling can at best reach per slice.
    With ``guidance`` (settings carrying the target fraction(s)), the x0 prediction of
    every group of ``size`` images (as many as a volume has slices) is shifted jointly at
    every step to the target, as fraction guidance does to a volume: the images then hold
    the data's fractions as the volumes do, and keep the spread between images.
    """
    fmt = memory_format(device)
    out = []
    pairs = strided_steps(schedule.timesteps, steps)
    if guidance is not None:
        batch = max(size, batch // size * size)  # whole groups per batch
    for first in range(0, count, batch):
        n = min(batch, count - first)
        shape = (n, channels, size, size)
        x = initial_noise(shape[1:2] + (n, size, size), schedule, start_mean, generator,
                          torch.float32).movedim(1, 0).to(device)
        for t, s in pairs:
            steps_t = torch.full((n,), t, device=device, dtype=torch.long)
            with torch.inference_mode(), autocast(device):
                eps = net(x.contiguous(memory_format=fmt), steps_t).float()
            if guidance is not None:
                x0 = schedule.predict_x0(x, eps, t)
                x0 = torch.cat([guide(g.movedim(1, 0), guidance, channels).movedim(0, 1)
                                for g in x0.split(size)])
                eps = schedule.eps_from_x0(x, x0, t)
            z = torch.randn(shape, generator=generator).to(device) if s > 0 else None
            if method == "ddim":
                x = schedule.ddim_step(x, eps, t, s, z, eta)
            else:
                x = schedule.step(x, eps, t, s, z)
        out.append(x.cpu())
    return torch.cat(out)


def smooth(x: torch.Tensor, sigma: float, periodic: bool) -> torch.Tensor:
    """Gaussian filter (sigma in voxels) of each channel of a (C, z, y, x) volume."""
    from scipy import ndimage

    mode = "wrap" if periodic else "nearest"
    return torch.from_numpy(np.stack(
        [ndimage.gaussian_filter(c.double().numpy(), sigma, mode=mode) for c in x]))


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
    fractions: list[float] | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[torch.Tensor, SampleInfo]:
    """One continuous (C, m, m, m) volume in (z, y, x) order, with its provenance.

    The built-in sampler (the ``sampler`` plugin contract). ``fractions`` are the data's
    phase fractions (the start mean when ``settings.start_from_data_mean``); ``options``
    (the spec's ``generate.sampler_options``) are not used by this sampler.
    """
    if hasattr(net, "set_periodic"):
        net.set_periodic(settings.periodic)
    generator = torch.Generator().manual_seed(int(seed))
    start = time.perf_counter()
    x, evaluations = multiplane_sample(
        net, schedule, channels, size, settings, generator, device, progress, desc,
        start_mean=data_mean(phases, fractions, channels),
    )
    info = SampleInfo(int(seed), evaluations, time.perf_counter() - start, asdict(settings))
    return x, info


