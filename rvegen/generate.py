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


def sampler_settings(
    cfg: GenerateSpec, phases: int, fractions: list[float] | None
) -> SamplerSettings:
    """The sampler's settings from the spec's generate section and the data's fractions.

    Raises
    ------
    SpecError
        If a binary-only option is asked for multi-phase data.
    """
    binary = phases == 2 and fractions is not None
    guidance = binary if cfg.fraction_guidance is None else cfg.fraction_guidance
    for name, wanted in (("fraction_guidance", guidance),
                         ("match_volume_fraction", cfg.match_volume_fraction)):
        if wanted and not binary:
            raise SpecError(f"generate.{name}: only for binary data (data.phases: 2)")
    return SamplerSettings(
        steps=cfg.steps,
        harmonizing_steps=cfg.harmonizing_steps,
        harmonize_across_planes=cfg.harmonize_across_planes,
        fusion=cfg.fusion,
        periodic=cfg.periodic,
        batch_slices=cfg.batch_slices,
        method=cfg.method,
        eta=cfg.eta,
        clip_x0=cfg.clip_x0,
        pool_sigma=cfg.pool_sigma,
        pool_taper=cfg.pool_taper,
        fraction_guidance=guidance,
        start_from_data_mean=cfg.start_from_data_mean and fractions is not None,
        target_fraction=fractions[1] if binary else None,
        match_fraction=cfg.match_volume_fraction,
        smooth_sigma=cfg.smooth_sigma,
    )


def generate(
    model_path: Path,
    cfg: GenerateSpec,
    out_path: Path,
    seed: int = 0,
    phases: int | None = None,
    image_size: int | None = None,
    fingerprint: str = "",
    fractions: list[float] | None = None,
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
    fractions
        The data's phase fractions: the target of fraction guidance and matching, and
        the start mean.
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
    settings = sampler_settings(cfg, model.phases, fractions)
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
            fractions=fractions,
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
