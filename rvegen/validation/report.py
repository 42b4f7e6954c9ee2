"""Stage 4: compare generated volumes with the real data, gate them, report.

Comparison follows the data: a 3D stack is compared in 3D (sub-volumes of the stack of
the generated size are the reference); 2D images are compared per plane (the mean 2D
descriptors of the yz, xz and xy slices of a volume against those of sets of real m x m
crops). Every phase is scored with every metric of ``validate.metrics`` (curves by eq. 24,
scalars by their absolute difference); the headline figures are those of the phase of
interest (the minority phase unless the spec names one).

Beside the 3D figures the report puts the **2D ceiling**: the model's own 2D samples
(without planes) scored against real 2D crops. If they are far off, no sampler can fix
the 3D; if they are close and the 3D is not, the multi-plane coupling is what loses.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..atomic import write_text
from ..data.dataset import Dataset
from ..errors import InputError
from ..plugins import Metric, Registry, registry as default_registry
from ..spec import ValidateSpec
from ..volumes import Volume
from . import gate as gates
from .metrics import error_rate, lineal_path_axis, two_point_correlation_axis
from .morphology import describe_shape, volume_fraction
from .reference import real_image_sets, real_samples

#: (name, axis of (z, y, x) held fixed) of the three planes, in the sampler's order
PLANES = {"yz": 2, "xz": 1, "xy": 0}
AXES = {"z": 0, "y": 1, "x": 2}


@dataclass
class Descriptors:
    """Every metric of every phase of one sample: ``values[phase][metric]`` is a curve
    (r = 0..max_r) or a scalar; ``vf[phase]`` the volume fraction."""

    values: dict[int, dict[str, Any]]
    vf: dict[int, float]


@dataclass
class Report:
    """What validation found (``to_json`` writes report.json).

    Attributes
    ----------
    comparison
        "3d" or per-plane 2D.
    phases, phase_of_interest
        Every phase scored, and the one of the headline figures.
    volumes
        Per volume: errors by phase and metric, per-axis errors, morphology, verdict.
    ensemble, real_ensemble
        Errors of the mean descriptors of all volumes (the paper's figure, with the mean
        scalars), and of as many fresh real samples (the floor for that count: the median
        over ``floor_draws`` such ensembles, with the range of their mean scalars).
    ceiling_2d
        The model's own 2D samples against real 2D crops (None if not sampled).
    """

    rvegen_version: str
    comparison: str
    reference: dict[str, Any]
    phases: list[int]
    phase_of_interest: int
    metrics: dict[str, dict[str, str]]
    max_r: int
    gate: dict[str, Any]
    natural_spread: dict[str, Any]
    volumes: list[dict[str, Any]]
    ensemble: dict[str, Any]
    real_ensemble: dict[str, Any]
    ceiling_2d: dict[str, Any] | None
    per_axis: dict[str, Any]
    morphology: dict[str, Any]
    curves: dict[str, Any]
    accepted: int
    all_passed: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def headline(self, which: str = "ensemble") -> dict[str, float]:
        """Errors of the phase of interest in ``ensemble``, ``real_ensemble`` or the 2D
        ceiling (``ceiling_2d``)."""
        source = {"ensemble": self.ensemble, "real_ensemble": self.real_ensemble,
                  "ceiling_2d": (self.ceiling_2d or {}).get("ensemble", {})}[which]
        return source.get("errors", {}).get(str(self.phase_of_interest), {})

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        return asdict(self)

    def to_json(self, indent: int = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def phase_of_interest(cfg: ValidateSpec, fractions: list[float]) -> int:
    """The spec's phase of interest, else the minority phase of the training data."""
    if cfg.phase_of_interest is not None:
        if cfg.phase_of_interest >= len(fractions):
            raise InputError(f"validate.phase_of_interest: the data has {len(fractions)} "
                             f"phases (got {cfg.phase_of_interest})")
        return cfg.phase_of_interest
    return int(np.argmin(fractions))


def describe(sample: np.ndarray, phases: list[int], metrics: dict[str, Metric], max_r: int,
             plane_axis: int | None, options: dict[str, dict[str, Any]]) -> Descriptors:
    """Descriptors of one sample (3D, or 2D slices at fixed ``plane_axis`` averaged)."""
    values: dict[int, dict[str, Any]] = {}
    for p in phases:
        values[p] = {}
        for name, metric in metrics.items():
            opts = options.get(name, {})
            if metric.kind == "curve":
                values[p][name] = np.asarray(metric.fn(sample, p, max_r, plane_axis, **opts),
                                             dtype=np.float64)
            else:
                values[p][name] = float(metric.fn(sample, p, plane_axis, **opts))
    return Descriptors(values, {p: volume_fraction(sample, p) for p in phases})


def mean_descriptors(ds: list[Descriptors]) -> Descriptors:
    """Element-wise mean (the ensemble's descriptors)."""
    first = ds[0]
    values = {p: {m: np.mean([d.values[p][m] for d in ds], axis=0) for m in first.values[p]}
              for p in first.values}
    return Descriptors(values, {p: float(np.mean([d.vf[p] for d in ds])) for p in first.vf})


def errors(ref: Descriptors, d: Descriptors, metrics: dict[str, Metric]) -> dict[str, float]:
    """Errors by criterion ``"<metric>/<phase>"`` (and ``volume_fraction/<phase>``)."""
    out = {}
    for p, vals in ref.values.items():
        for name, r in vals.items():
            g = d.values[p][name]
            if metrics[name].kind == "curve":
                out[f"{name}/{p}"] = error_rate(r, g)
            else:
                out[f"{name}/{p}"] = float(abs(g - r))
        out[f"volume_fraction/{p}"] = float(abs(d.vf[p] - ref.vf[p]))
    return out


def by_phase(errs: dict[str, float]) -> dict[str, dict[str, float]]:
    """``{"s2/1": e}`` -> ``{"1": {"s2": e}}`` for the report."""
    out: dict[str, dict[str, float]] = {}
    for key, value in errs.items():
        name, phase = key.rsplit("/", 1)
        out.setdefault(phase, {})[name] = value
    return out


def _mean_nested(items: list[Any]) -> Any:
    first = items[0]
    if isinstance(first, dict):
        return {k: _mean_nested([d[k] for d in items]) for k in first}
    return float(np.nanmean(items)) if np.isfinite(items).any() else float("nan")


def _describe_volume(labels: np.ndarray, three_d: bool, phases: list[int],
                     metrics: dict[str, Metric], max_r: int,
                     options: dict[str, dict[str, Any]]) -> tuple[Descriptors, dict[str, Any]]:
    """A volume's descriptors (3D, or the mean over its three planes) and per-plane ones."""
    if three_d:
        return describe(labels, phases, metrics, max_r, None, options), {}
    planes = {name: describe(labels, phases, metrics, max_r, axis, options)
              for name, axis in PLANES.items()}
    return mean_descriptors(list(planes.values())), planes


def _plane_shape(labels: np.ndarray, phase: int, plane_axis: int) -> dict[str, Any]:
    """Per-plane morphology, percolation averaged over the two in-plane axes."""
    shape = describe_shape(labels, phase, plane_axis)
    shape["percolating_fraction"] = float(np.mean(list(shape["percolating_fraction"].values())))
    return shape


def _shape(labels: np.ndarray, phase: int, three_d: bool) -> dict[str, Any]:
    """Morphology of a generated volume: 3D, or the mean over its three planes."""
    if three_d:
        return describe_shape(labels, phase)
    return _mean_nested([_plane_shape(labels, phase, axis) for axis in PLANES.values()])


def _real_shape(sample: np.ndarray, phase: int, three_d: bool) -> dict[str, Any]:
    """Morphology of a real sample: 3D, or per plane of its stacked crops."""
    return describe_shape(sample, phase) if three_d else _plane_shape(sample, phase, 0)


def _per_axis(labels: np.ndarray, phase: int, max_r: int) -> dict[str, dict[str, np.ndarray]]:
    return {a: {"s2": two_point_correlation_axis(labels, phase, i, max_r),
                "lineal_path": lineal_path_axis(labels, phase, i, max_r)}
            for a, i in AXES.items()}


def _describe_task(job: tuple) -> tuple:
    """Everything validation computes from one volume alone (a task for a Dask worker)."""
    vol, three_d, phases, metrics, max_r, options, poi = job
    d, planes = _describe_volume(vol.labels, three_d, phases, metrics, max_r, options)
    shapes = {str(p): _shape(vol.labels, p, three_d) for p in phases}
    return vol.name, d, planes, shapes, _per_axis(vol.labels, poi, max_r)


def validate(
    volumes: list[Volume],
    dataset: Dataset,
    cfg: ValidateSpec | dict[str, Any] | None = None,
    seed: int = 0,
    images_2d: np.ndarray | None = None,
    plugins: Registry | None = None,
    on_volume: Any = None,
    mapper: Any = None,
) -> Report:
    """Score generated volumes against the real data and gate them.

    Parameters
    ----------
    volumes
        Generated volumes, all of the same cubic size.
    dataset
        The ingested data (its labelled source or held-out part is the reference).
    cfg
        The validate section (a :class:`~rvegen.spec.ValidateSpec` or a dict of its fields).
    seed
        Seed of the positions of real samples.
    images_2d
        The model's own 2D samples (N, m, m), N a multiple of m, for the 2D ceiling.
    plugins
        Where metrics come from (default: the installed plugins).
    on_volume
        Called as ``on_volume(name, result, labels)`` after each volume is judged
        (the pipeline passes the ``rvegen_on_volume_validated`` event).
    mapper
        ``mapper(fn, items)`` describing the volumes elsewhere (a Dask client); None here.

    Returns
    -------
    Report
    """
    cfg = cfg if isinstance(cfg, ValidateSpec) else ValidateSpec(**(cfg or {}))
    plugins = plugins or default_registry()
    if not volumes:
        raise InputError("validate: no volumes to validate")
    size = volumes[0].labels.shape[0]
    max_r = cfg.max_r or size // 2
    if max_r >= size:
        raise InputError(f"validate.max_r: must be < the volume size {size} (got {max_r})")
    metrics = {name: plugins.get("metric", name, "validate.metrics") for name in cfg.metrics}
    options = {k: dict(v) for k, v in cfg.metric_options.items()}
    fractions = list(dataset.meta.get("volume_fractions") or
                     [1.0 / dataset.phases] * dataset.phases)
    phases = list(range(dataset.phases))
    poi = phase_of_interest(cfg, fractions)
    three_d = dataset.kind == "stack"
    rng = np.random.default_rng(seed)
    real_axis = None if three_d else 0

    def describe_real(samples: list[np.ndarray]) -> list[Descriptors]:
        return [describe(s, phases, metrics, max_r, real_axis, options) for s in samples]

    # reference mean, calibration samples (independent of it), fresh ensemble (the floor)
    reals, where = real_samples(dataset, size, cfg.reference_samples, rng)
    real_desc = describe_real(reals)
    reference = mean_descriptors(real_desc)
    calib, _ = real_samples(dataset, size, cfg.reference_samples, rng)
    calib_desc = describe_real(calib)
    calib_errors = [errors(reference, d, metrics) for d in calib_desc]
    # the floor: ensembles of as many fresh real samples as volumes, several draws; their
    # median error, and the spread of their mean morphology
    draws = []
    for _ in range(cfg.floor_draws):
        fresh, _ = real_samples(dataset, size, len(volumes), rng)
        draws.append(describe_real(fresh))
    draw_errors = [errors(reference, mean_descriptors(d), metrics) for d in draws]
    real_ensemble = {k: float(np.median([e[k] for e in draw_errors])) for k in draw_errors[0]}
    scalar_names = [n for n, m in metrics.items() if m.kind == "scalar"]
    draw_means = [mean_descriptors(d) for d in draws]
    real_ensemble_spread = {
        str(p): {n: [float(np.min([m.values[p][n] for m in draw_means])),
                     float(np.max([m.values[p][n] for m in draw_means]))]
                 for n in scalar_names} for p in phases}

    if cfg.mode == "calibrated":
        gate = gates.calibrate(calib_errors, cfg.quantile)
    else:
        t = cfg.thresholds
        gate = gates.absolute({f"s2/{poi}": t.s2, f"lineal_path/{poi}": t.lineal_path,
                               f"volume_fraction/{poi}": t.volume_fraction})
    spread = {
        k: {"median": float(np.median([e[k] for e in calib_errors])),
            f"q{cfg.quantile:g}": float(np.quantile([e[k] for e in calib_errors], cfg.quantile))}
        for k in calib_errors[0]
    }

    # per-axis curves of the phase of interest: they show anisotropy that radial means
    # hide; in 3D against real sub-volumes, for 2D data against the in-plane mean
    if three_d:
        real_axes = [_per_axis(s, poi, max_r) for s in reals]
        ref_axis = {a: {m: np.mean([r[a][m] for r in real_axes], axis=0) for m in ("s2", "lineal_path")}
                    for a in AXES}
    else:
        in_plane = [_per_axis(s, poi, max_r) for s in reals]
        ref_axis = {a: {m: np.mean([r[b][m] for r in in_plane for b in ("y", "x")], axis=0)
                        for m in ("s2", "lineal_path")} for a in AXES}

    def axis_errors(labels: np.ndarray) -> dict[str, dict[str, float]]:
        curves = _per_axis(labels, poi, max_r)
        return {a: {m: error_rate(ref_axis[a][m], curves[a][m]) for m in ("s2", "lineal_path")}
                for a in AXES}

    jobs = [(vol, three_d, phases, metrics, max_r, options, poi) for vol in volumes]
    described = {out[0]: out[1:] for out in (mapper or map)(_describe_task, jobs)}
    gen_desc = []
    results = []
    for vol in volumes:
        d, planes, shapes, curves = described[vol.name]
        gen_desc.append(d)
        errs = errors(reference, d, metrics)
        accepted, reasons = gate.judge(errs)
        result = {
            "name": vol.name,
            "seed": vol.attrs.get("seed"),
            "evaluations": vol.attrs.get("evaluations"),
            "seconds": vol.attrs.get("seconds"),
            "errors": by_phase(errs),
            "per_plane": {p: by_phase(errors(reference, pd, metrics)) for p, pd in planes.items()},
            "per_axis": {a: {m: error_rate(ref_axis[a][m], curves[a][m])
                             for m in ("s2", "lineal_path")} for a in AXES},
            "morphology": shapes,
            "accepted": accepted,
            "reasons": reasons,
        }
        results.append(result)
        if on_volume is not None:
            on_volume(vol.name, result, vol.labels)
    ensemble = mean_descriptors(gen_desc)

    # isotropy: the spread of per-axis errors among real samples of the same size
    if three_d:
        real_axis_errors = [axis_errors(s) for s in calib]
        per_axis = {
            "generated": _mean_nested([r["per_axis"] for r in results]),
            "real_median": {a: {m: float(np.median([e[a][m] for e in real_axis_errors]))
                                for m in ("s2", "lineal_path")} for a in AXES},
        }
    else:
        per_axis = {"generated": _mean_nested([r["per_axis"] for r in results])}

    ceiling = None
    if images_2d is not None and len(images_2d) >= size:
        sets = [images_2d[i : i + size] for i in range(0, len(images_2d) - size + 1, size)]
        ref2d = real_image_sets(dataset, size, cfg.reference_samples, rng,
                                list(dataset.meta.get("slice_axes", [0, 1, 2])))
        ref2d_desc = mean_descriptors([describe(s, phases, metrics, max_r, 0, options)
                                       for s in ref2d])
        model2d = mean_descriptors([describe(s, phases, metrics, max_r, 0, options)
                                    for s in sets])
        ceiling = {"images": int(len(images_2d)), "sets": len(sets),
                   "ensemble": {"errors": by_phase(errors(ref2d_desc, model2d, metrics))},
                   "morphology": {str(p): _mean_nested([_plane_shape(s, p, 0) for s in sets])
                                  for p in phases},
                   "real_morphology": {str(p): _mean_nested([_plane_shape(s, p, 0)
                                                             for s in ref2d]) for p in phases}}
        if three_d:  # the volumes' own slices against the same 2D reference
            slices = mean_descriptors([_describe_volume(v.labels, False, phases, metrics,
                                                        max_r, options)[0] for v in volumes])
            ceiling["volume_slices"] = {"errors": by_phase(errors(ref2d_desc, slices, metrics))}

    curve_names = [n for n, m in metrics.items() if m.kind == "curve"]
    n_ok = sum(r["accepted"] for r in results)
    return Report(
        rvegen_version=__version__,
        comparison="3d" if three_d else "per-plane 2d (mean of yz, xz, xy)",
        reference={
            "source": dataset.meta.get("source_path"),
            "data": where,
            "kind": dataset.kind,
            "samples": len(reals),
            "calibration_samples": len(calib),
            "sample": f"{size}^3 sub-volumes" if three_d else f"sets of {size} crops {size}x{size}",
        },
        phases=phases,
        phase_of_interest=poi,
        metrics={n: {"kind": m.kind, "unit": m.unit} for n, m in metrics.items()},
        max_r=max_r,
        gate=gate.to_dict(),
        natural_spread=spread,
        volumes=results,
        ensemble={"count": len(volumes), "errors": by_phase(errors(reference, ensemble, metrics)),
                  "scalars": {str(p): {n: float(ensemble.values[p][n]) for n in scalar_names}
                              for p in phases}},
        real_ensemble={"count": len(volumes), "draws": cfg.floor_draws,
                       "errors": by_phase(real_ensemble),
                       "scalar_range": real_ensemble_spread},
        ceiling_2d=ceiling,
        per_axis=per_axis,
        morphology={
            "real": {str(p): _mean_nested([_real_shape(s, p, three_d) for s in reals])
                     for p in phases},
            "generated": _mean_nested([r["morphology"] for r in results]),
        },
        accepted=n_ok,
        all_passed=n_ok == len(results),
        curves={
            "r": list(range(max_r + 1)),
            "phases": phases,
            "reference": {n: [reference.values[p][n].tolist() for p in phases]
                          for n in curve_names},
            "reference_std": {n: [np.std([d.values[p][n] for d in real_desc], axis=0).tolist()
                                  for p in phases] for n in curve_names},
            "generated_mean": {n: [ensemble.values[p][n].tolist() for p in phases]
                               for n in curve_names},
            "generated_std": {n: [np.std([d.values[p][n] for d in gen_desc], axis=0).tolist()
                                  for p in phases] for n in curve_names},
        },
    )


def write_report(report: Report, path: Path) -> None:
    """Write report.json atomically."""
    write_text(path, report.to_json())
