"""The generate stage: an ensemble of volumes from a trained model, written one by one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .device import pick_device
from .diffusion.checkpoint import load_model
from .diffusion.multiplane import SamplerSettings
from .errors import SpecError
from .plugins import registry
from .spec import GenerateSpec
from .volumes import Volume, append_volume, finished, volume_name


def volume_seed(seed: int, index: int) -> int:
    """Seed of the index-th volume, derived from the spec seed (independent of count)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def generate(
    model_path: Path,
    cfg: GenerateSpec,
    out_path: Path,
    seed: int = 0,
    phases: int | None = None,
    image_size: int | None = None,
    fingerprint: str = "",
    volume_fraction: float | None = None,
    root_attrs: dict | None = None,
    progress: bool = True,
    fresh: bool = False,
) -> Path:
    """Sample ``cfg.count`` volumes into ``out_path``, skipping ones already there.

    Parameters
    ----------
    model_path
        Checkpoint written by training.
    cfg
        The spec's generate section.
    out_path
        volumes.h5 to write.
    seed
        Spec seed; volume i uses :func:`volume_seed` (seed, i).
    phases, image_size
        Checked against the checkpoint.
    fingerprint
        Identity of the settings; volumes made with another fingerprint are discarded.
    volume_fraction
        Fraction of phase 1 in the data, for ``cfg.match_volume_fraction``.
    root_attrs
        Extra root attributes (voxel size, unit, ...).
    progress
        Show progress bars (ensemble and steps).
    fresh
        Discard finished volumes and sample all of them again.
    """
    model = load_model(model_path, phases=phases, image_size=image_size)
    device = pick_device(cfg.device, "generate.device")
    size = cfg.size or model.image_size
    divisor = model.net.min_divisor() if hasattr(model.net, "min_divisor") else 1
    if size % divisor:
        raise SpecError(f"generate.size: must be a multiple of {divisor} (got {size})")
    if cfg.steps > model.schedule.timesteps:
        raise SpecError(
            f"generate.steps: must be <= the model's T = {model.schedule.timesteps} "
            f"(got {cfg.steps})"
        )
    sample = registry().get("sampler", cfg.sampler, "generate.sampler")
    if cfg.match_volume_fraction and (model.phases != 2 or volume_fraction is None):
        raise SpecError("generate.match_volume_fraction: only for binary data")
    settings = SamplerSettings(
        steps=cfg.steps,
        harmonizing_steps=cfg.harmonizing_steps,
        harmonize_across_planes=cfg.harmonize_across_planes,
        fusion=cfg.fusion,
        periodic=cfg.periodic,
        batch_slices=cfg.batch_slices,
        method=cfg.method,
        eta=cfg.eta,
        clip_x0=cfg.clip_x0,
        target_fraction=volume_fraction if cfg.match_volume_fraction else None,
        smooth_sigma=cfg.smooth_sigma,
    )
    net = model.net.to(device)
    done = set() if fresh else finished(out_path, fingerprint)
    attrs = {"phases": model.phases, "size": size, **(root_attrs or {})}
    todo = [i for i in range(cfg.count) if volume_name(i) not in done]
    bar = tqdm(total=cfg.count, initial=cfg.count - len(todo), desc="volumes", unit="vol",
               disable=not progress, dynamic_ncols=True)
    for i in todo:
        labels, info = sample(
            net, model.schedule, model.phases, model.channels, size, settings,
            volume_seed(seed, i), device, progress, desc=f"volume {i + 1}/{cfg.count}",
        )
        append_volume(
            out_path,
            Volume(volume_name(i), labels, {
                "seed": info.seed, "evaluations": info.evaluations,
                "seconds": info.seconds, "settings": info.settings,
            }),
            fingerprint,
            attrs,
        )
        bar.update(1)
    bar.close()
    return out_path
