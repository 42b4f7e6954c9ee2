"""The validate stage: compare generated volumes with the real data, gate them, report.

Comparison follows the data: a 3D stack is compared in 3D (sub-volumes of the stack of
the generated size are the reference); a 2D image is compared per plane (the mean 2D
descriptors of the yz, xz and xy slices of a volume against those of real m x m crops).

A small volume is noisy on its own, so by default the gate is calibrated: the same errors
are computed for real samples of the same size (sub-volumes, or sets of m crops) against
the reference, and a volume is accepted when each of its errors lies below the chosen
quantile of the real ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import __version__
from .atomic import write_text
from .errors import InputError
from .ingest import Dataset, random_crops
from .metrics import (
    error_rate,
    lineal_path_axis,
    mean_chord_length,
    percolating_fraction,
    specific_surface,
    two_point_correlation_axis,
    volume_fraction,
)
from .plugins import registry
from .spec import ValidateSpec
from .volumes import Volume

CURVES = ("s2", "lineal_path")
PLANES = {"yz": 2, "xz": 1, "xy": 0}


@dataclass
class Descriptors:
    """Curves (r = 0..max_r) and volume fraction of one sample, for the phases of interest.

    ``curves[metric]`` has shape (phases, max_r + 1).
    """

    curves: dict[str, np.ndarray]
    vf: np.ndarray


def phases_of_interest(phases: int) -> list[int]:
    """Phase 1 for binary data (phase 0 is its complement), every phase otherwise."""
    return [1] if phases == 2 else list(range(phases))


def describe(
    sample: np.ndarray, phases: list[int], max_r: int, plane_axis: int | None,
    metrics: dict[str, Callable[..., np.ndarray]],
) -> Descriptors:
    """Descriptors of one sample (3D, or 2D slices at fixed ``plane_axis`` averaged)."""
    curves = {
        name: np.stack([fn(sample, p, max_r, plane_axis) for p in phases])
        for name, fn in metrics.items()
    }
    return Descriptors(curves, np.array([volume_fraction(sample, p) for p in phases]))


AXES = {"z": 0, "y": 1, "x": 2}


def morphology(sample: np.ndarray, phase: int) -> dict[str, Any]:
    """Scalar descriptors of one phase of a 3D sample, for the report (not the gate)."""
    return {
        "volume_fraction": volume_fraction(sample, phase),
        "specific_surface_per_voxel": specific_surface(sample, phase),
        "mean_chord_length": {a: mean_chord_length(sample, phase, i) for a, i in AXES.items()},
        "percolating_fraction": {a: percolating_fraction(sample, phase, i) for a, i in AXES.items()},
    }


def axis_errors(
    sample: np.ndarray, ref_s2: dict[str, np.ndarray], ref_lp: dict[str, np.ndarray],
    phase: int, max_r: int,
) -> dict[str, dict[str, float]]:
    """Eq. 24 errors of S2 and L(z) along each axis against per-axis reference curves."""
    return {
        a: {
            "s2": error_rate(ref_s2[a], two_point_correlation_axis(sample, phase, i, max_r)),
            "lineal_path": error_rate(ref_lp[a], lineal_path_axis(sample, phase, i, max_r)),
        }
        for a, i in AXES.items()
    }


def _mean_dicts(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Element-wise mean of nested dicts of numbers."""
    first = items[0]
    if isinstance(first, dict):
        return {k: _mean_dicts([d[k] for d in items]) for k in first}
    return float(np.mean(items))


def reference_source(ds: Dataset, size: int) -> tuple[np.ndarray, str]:
    """The real data that generated volumes are compared with, and its description.

    A stack's held-out sub-volume when it has one large enough, else the training source.
    """
    label = ds.meta.get("reference_label")
    if ds.kind == "stack" and ds.holdout is not None:
        if min(ds.holdout.shape) >= size:
            shape = "x".join(map(str, ds.holdout.shape))
            return ds.holdout, f"{label or 'held-out sub-volume'} {shape}"
    src = ds.source if ds.kind == "stack" else ds.images
    dims = src.shape if ds.kind == "stack" else src.shape[1:]
    if min(dims) < size:
        raise InputError(
            f"the data ({'x'.join(map(str, dims))}) is smaller than the generated volumes "
            f"({size}); lower generate.size"
        )
    if label:
        return src, f"{label} {'x'.join(map(str, src.shape))}"
    note = " (the held-out part is smaller than a volume)" if ds.holdout is not None else ""
    return src, f"training source {'x'.join(map(str, src.shape))}{note}"


def real_samples(
    ds: Dataset, size: int, count: int, rng: np.random.Generator
) -> tuple[list[np.ndarray], str]:
    """Real samples shaped like a generated volume, and where they come from.

    From a stack: random size^3 sub-volumes (of the held-out part when there is one).
    From 2D data: ``size`` random size x size crops of random images stacked along axis 0
    (so that per-plane descriptors with ``plane_axis=0`` average over them, as over a
    volume's slices).
    """
    src, where = reference_source(ds, size)
    out = []
    for _ in range(count):
        if ds.kind == "stack":
            z, y, x = (rng.integers(s - size + 1) for s in src.shape)
            out.append(src[z : z + size, y : y + size, x : x + size])
        else:
            out.append(random_crops(src, size, size, rng))
    return out, where


def _errors(ref: Descriptors, d: Descriptors) -> dict[str, float]:
    errs = {
        name: float(np.mean([error_rate(r, g) for r, g in zip(ref.curves[name], d.curves[name])]))
        for name in ref.curves
    }
    errs["volume_fraction"] = float(np.max(np.abs(d.vf - ref.vf)))
    return errs


def _mean(ds: list[Descriptors]) -> Descriptors:
    return Descriptors(
        {k: np.mean([d.curves[k] for d in ds], axis=0) for k in ds[0].curves},
        np.mean([d.vf for d in ds], axis=0),
    )


def validate(
    ds: Dataset, volumes: list[Volume], cfg: ValidateSpec, seed: int = 0
) -> dict[str, Any]:
    """Errors, verdicts and curves of ``volumes`` against ``ds`` (the report's content).

    Parameters
    ----------
    ds
        The ingested dataset (its labelled source is the reference).
    volumes
        Generated volumes, all of the same cubic size.
    cfg
        The spec's validate section.
    seed
        Seed of the positions of real samples.

    Returns
    -------
    dict
        The report (JSON-ready): reference and comparison, natural spread of real samples,
        thresholds, per-volume errors and verdicts, ensemble-mean errors, curves.
    """
    size = volumes[0].labels.shape[0]
    max_r = cfg.max_r or size // 2
    if max_r >= size:
        raise InputError(f"validate.max_r: must be < the volume size {size} (got {max_r})")
    metrics = {name: registry().get("metric", name, "validate.metrics") for name in CURVES}
    phases = phases_of_interest(ds.phases)
    three_d = ds.kind == "stack"
    rng = np.random.default_rng(seed)
    reals, where = real_samples(ds, size, cfg.reference_samples, rng)
    # real samples: whole sub-volumes in 3D; sets of crops along axis 0 per plane in 2D
    real_axis = None if three_d else 0
    real_desc = [describe(s, phases, max_r, real_axis, metrics) for s in reals]
    reference = _mean(real_desc)
    real_errors = [_errors(reference, d) for d in real_desc]
    names = list(CURVES) + ["volume_fraction"]
    spread = {
        k: {
            "median": float(np.median([e[k] for e in real_errors])),
            f"q{cfg.quantile:g}": float(np.quantile([e[k] for e in real_errors], cfg.quantile)),
            "per_sample": [round(e[k], 4) for e in real_errors],
        }
        for k in names
    }
    # The floor of the ensemble-mean error: as many fresh real samples as volumes, averaged.
    fresh, _ = real_samples(ds, size, len(volumes), rng)
    real_ensemble = _errors(reference, _mean(
        [describe(s, phases, max_r, real_axis, metrics) for s in fresh]))
    if cfg.mode == "calibrated":
        thresholds = {k: spread[k][f"q{cfg.quantile:g}"] for k in names}
    else:
        t = cfg.thresholds
        thresholds = {"s2": t.s2, "lineal_path": t.lineal_path, "volume_fraction": t.volume_fraction}

    # Per-axis curves of the first phase of interest: they show anisotropy (e.g. a
    # stacking direction) that the radial average hides. In 3D against real sub-volumes;
    # for 2D data every axis of a volume is compared with the image's in-plane mean.
    p0 = phases[0]
    if three_d:
        ref_s2 = {a: np.mean([two_point_correlation_axis(s, p0, i, max_r) for s in reals], axis=0)
                  for a, i in AXES.items()}
        ref_lp = {a: np.mean([lineal_path_axis(s, p0, i, max_r) for s in reals], axis=0)
                  for a, i in AXES.items()}
    else:
        in_plane_s2 = np.mean([two_point_correlation_axis(s, p0, i, max_r)
                               for s in reals for i in (1, 2)], axis=0)
        in_plane_lp = np.mean([lineal_path_axis(s, p0, i, max_r) for s in reals for i in (1, 2)],
                              axis=0)
        ref_s2 = {a: in_plane_s2 for a in AXES}
        ref_lp = {a: in_plane_lp for a in AXES}

    gen_desc: list[Descriptors] = []
    results = []
    for vol in volumes:
        if three_d:
            d = describe(vol.labels, phases, max_r, None, metrics)
            per_plane = {}
        else:
            planes = {p: describe(vol.labels, phases, max_r, a, metrics) for p, a in PLANES.items()}
            per_plane = {p: _errors(reference, pd) for p, pd in planes.items()}
            d = _mean(list(planes.values()))
        gen_desc.append(d)
        errs = _errors(reference, d)
        reasons = [
            f"{k} error {errs[k]:.3g} > {thresholds[k]:.3g}" for k in names if errs[k] > thresholds[k]
        ]
        results.append({
            "name": vol.name,
            "seed": vol.attrs.get("seed"),
            "evaluations": vol.attrs.get("evaluations"),
            "seconds": vol.attrs.get("seconds"),
            "errors": errs,
            "per_plane": per_plane,
            "per_axis": axis_errors(vol.labels, ref_s2, ref_lp, p0, max_r),
            "morphology": morphology(vol.labels, p0),
            "accepted": not reasons,
            "reasons": reasons,
        })
    ensemble = _mean(gen_desc)
    curve_std = {k: np.std([d.curves[k] for d in gen_desc], axis=0) for k in CURVES}
    real_std = {k: np.std([d.curves[k] for d in real_desc], axis=0) for k in CURVES}
    n_ok = sum(r["accepted"] for r in results)
    return {
        "rvegen_version": __version__,
        "comparison": "3d" if three_d else "per-plane 2d (mean of yz, xz, xy)",
        "reference": {
            "source": ds.meta.get("source_path"),
            "data": where,
            "kind": ds.kind,
            "samples": len(reals),
            "sample": f"{size}^3 sub-volumes" if three_d else f"sets of {size} crops {size}x{size}",
        },
        "phases_of_interest": phases,
        "max_r": max_r,
        "gate": {"mode": cfg.mode, "quantile": cfg.quantile, "thresholds": thresholds},
        "natural_spread": spread,
        "volumes": results,
        "ensemble": {"count": len(volumes), "errors": _errors(reference, ensemble)},
        "real_ensemble": {"count": len(volumes), "errors": real_ensemble},
        "mean_volume_errors": {k: float(np.mean([r["errors"][k] for r in results])) for k in names},
        "mean_per_axis_errors": _mean_dicts([r["per_axis"] for r in results]),
        "morphology": {
            "phase": p0,
            "real": _mean_dicts([morphology(s, p0) for s in reals]) if three_d else {
                "volume_fraction": float(reference.vf[0]),
                # stereology for isotropic structures: S_V = 4 / pi * L_A
                "specific_surface_per_voxel": 4 / np.pi * float(np.mean(
                    [specific_surface(c, p0) for s in reals for c in s])),
                "mean_chord_length": float(np.mean(
                    [mean_chord_length(s, p0, i) for s in reals for i in (1, 2)])),
            },
            "generated": _mean_dicts([r["morphology"] for r in results]),
        },
        "accepted": n_ok,
        "all_passed": n_ok == len(results),
        "curves": {
            "r": list(range(max_r + 1)),
            "reference": {k: reference.curves[k].tolist() for k in CURVES},
            "reference_std": {k: real_std[k].tolist() for k in CURVES},
            "generated_mean": {k: ensemble.curves[k].tolist() for k in CURVES},
            "generated_std": {k: curve_std[k].tolist() for k in CURVES},
        },
    }


def write_report(report: dict[str, Any], path: Path) -> None:
    """Write report.json atomically."""
    write_text(path, json.dumps(report, indent=2))
