"""rvegen's own implementations, registered through its own ``rvegen.plugins`` entry point
exactly as a third-party plugin registers (see :mod:`rvegen.plugins`)."""

from __future__ import annotations

from typing import Any

from .plugins import GenerationContext, Metric, hookimpl


@hookimpl
def rvegen_readers() -> dict[str, Any]:
    from .data.readers import READERS

    return dict(READERS)


@hookimpl
def rvegen_synthetic_sources() -> dict[str, Any]:
    from .data import synthetic

    return {"spheres": synthetic.spheres, "grains": synthetic.grains}


@hookimpl
def rvegen_backbones() -> dict[str, Any]:
    from .diffusion.denoisers import CompactUNet

    return {"compact": CompactUNet}


@hookimpl
def rvegen_samplers() -> dict[str, Any]:
    from .diffusion.multiplane import sample_volume

    return {"multiplane": sample_volume}


@hookimpl
def rvegen_metrics() -> dict[str, Metric]:
    from .validation import metrics, morphology

    return {
        "s2": Metric(metrics.two_point_correlation),
        "lineal_path": Metric(metrics.lineal_path),
        "euler_density": Metric(morphology.euler_density, "scalar", "per 1000 voxels"),
        # a fraction of the phase: 1 % of it is the smallest difference worth a verdict
        "largest_cluster": Metric(morphology.largest_cluster_fraction, "scalar", "fraction",
                                  resolution=0.01),
        "surface_density": Metric(morphology.specific_surface, "scalar", "per voxel"),
    }


@hookimpl
def rvegen_exporters() -> dict[str, Any]:
    from .export import writers

    return dict(writers.WRITERS)


@hookimpl
def rvegen_solvers() -> dict[str, Any]:
    from .homogenize.calculix import solve_calculix

    return {"calculix": solve_calculix}


@hookimpl(trylast=True)
def rvegen_on_volume_generated(volume: Any, context: GenerationContext) -> Any:
    """The generate section's post-processing: smoothing, fraction matching, then
    closing boundary networks."""
    import torch

    from .diffusion.multiplane import guide_fraction, smooth

    cfg = context.generate
    if cfg.smooth_sigma > 0:
        volume = smooth(volume, cfg.smooth_sigma, context.periodic).to(volume.dtype)
    if cfg.match_volume_fraction:
        # the data's fraction of voxels above 0: the sign then labels it exactly
        volume = guide_fraction(volume, context.fractions[1])
    if cfg.close_boundaries:
        from .boundaries import close_boundaries

        mask = close_boundaries(volume[0].float().cpu().numpy(), context.fractions[1],
                                cfg.grain_density)
        # +-1: the sign labels the closed network exactly
        volume = (torch.from_numpy(mask).to(volume.device, volume.dtype) * 2 - 1)[None]
    return volume
