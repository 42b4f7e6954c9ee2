"""Stage 4: compare generated volumes with the real data, gate them, report.

Comparison follows the data: a 3D stack is compared in 3D (sub-volumes of the stack of
the generated size are the reference); 2D images are compared per plane (the mean 2D
descriptors of the yz, xz and xy slices of a volume against those of sets of real m x m
crops). Every phase is scored with every metric of ``validate.metrics`` (curves by eq. 24,
scalars by their absolute difference); the headline figures are those of the phase of
interest (the minority phase unless the spec names one).

Beside the 3D figures the report puts the **2D ceiling**: the model's own 2D samples
(without planes) scored against the real 2D sections (the curves of every section, each
pair counted once, since rvegen 0.3.7: a draw of random crops of a small block varied by
as much as the errors; size-dependent scalars against crops). If they are far off, no
sampler can fix the 3D; if they are close and the 3D is not, the multi-plane coupling is
what loses. And the **data limit**: every training patch scored against the same
reference; where the reference is a held-out part unlike the training data, no model of
that data gets closer.

Single volumes and the real calibration samples of the gate are both scored against the
whole reference data (the ensemble headline's target); so is the 3D floor, made of
non-overlapping sub-volumes (the 2D floor: independent sections against the crops' mean).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
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
from .reference import (FRESH_LABEL, real_image_sets, real_samples, reference_source,
                        tiled_samples)

#: (name, axis of (z, y, x) held fixed) of the three planes, in the sampler's order
PLANES = {"yz": 2, "xz": 1, "xy": 0}
AXES = {"z": 0, "y": 1, "x": 2}
#: the per-axis curves reported for the phase of interest
CURVE_AXES = ("s2", "lineal_path")


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
        Per volume: errors by phase and metric (against the whole reference data, as
        the gate judges them; per plane against the crops of each plane's reference),
        per-axis errors, morphology, verdict.
    ensemble, real_ensemble
        Errors of the mean descriptors of all volumes (the paper's figure, with the mean
        scalars): ``errors`` against the curves of the whole reference data, ``errors_crops``
        against the mean of random real crops; and of as many fresh real samples (the
        floor for that count: the median over ``floor_draws`` such ensembles, in 3D of
        non-overlapping sub-volumes against the whole block, in 2D of independent
        sections against the crops' mean; ``errors_whole`` against the whole data; with
        the range of their mean scalars; ``errors_worst``: the worst of them against
        the whole data). ``ensemble["within_real_spread"]`` says per phase and criterion
        whether the ensemble's error is no worse than the worst real ensemble's: a bias
        that every volume shares passes the gate of single volumes but not this.
        ``ensemble["real_spread"]`` judges every criterion of a phase at once among the
        real ensembles (``real_ensemble["errors_draws"]``; :func:`gate.rank_among_real`),
        outside one time in ``floor_draws`` + 1 at most for an ensemble like the data;
        with ``validate.ensemble_gate`` an ensemble outside it has every volume refused.
    ceiling_2d
        The model's own 2D samples against the real 2D sections (None if not sampled);
        with ``training_patches``, every training patch against the same (the data
        limit: what a perfect 2D model of the training data would score).
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

    def headline(self, which: str = "ensemble", phase: int | None = None) -> dict[str, float]:
        """Errors of the phase of interest (or of ``phase``): ``ensemble`` (against the
        whole reference data), ``ensemble_crops`` (against the mean of random real crops,
        the headline of rvegen 0.2), ``real_ensemble`` (the floor: ensembles of as many
        real samples, see the class docstring), ``real_ensemble_whole`` (the same
        ensembles against the whole data), the 2D ceiling (``ceiling_2d``) or the
        training patches against the same 2D crops (``training_patches``, the data
        limit)."""
        source, key = {"ensemble": (self.ensemble, "errors"),
                       "ensemble_crops": (self.ensemble, "errors_crops"),
                       "real_ensemble": (self.real_ensemble, "errors"),
                       "real_ensemble_whole": (self.real_ensemble, "errors_whole"),
                       "ceiling_2d": ((self.ceiling_2d or {}).get("ensemble", {}), "errors"),
                       "training_patches": ((self.ceiling_2d or {}).get("training_patches", {}),
                                            "errors"),
                       }[which]
        phase = self.phase_of_interest if phase is None else phase
        return source.get(key, {}).get(str(phase), {})

    def outside_real_spread(self) -> dict[str, tuple[float, float]]:
        """The phase of interest's criteria whose ensemble error exceeds that of every
        ensemble of as many real samples: ``{metric: (error, worst real error)}`` (empty
        when none does, or for a report written before rvegen 0.3.7)."""
        return report_outside_real_spread({"phase_of_interest": self.phase_of_interest,
                                           "ensemble": self.ensemble,
                                           "real_ensemble": self.real_ensemble})

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        return asdict(self)

    def to_json(self, indent: int = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, default=_json_default)


def report_outside_real_spread(report: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """:meth:`Report.outside_real_spread` of a report read from report.json."""
    p = str(report["phase_of_interest"])
    within = report["ensemble"].get("within_real_spread", {}).get(p, {})
    errors, worst = report["ensemble"]["errors"][p], report["real_ensemble"].get(
        "errors_worst", {}).get(p, {})
    return {k: (errors[k], worst[k]) for k, ok in within.items() if not ok}


def report_real_spread(report: dict[str, Any]) -> dict[str, Any] | None:
    """Where the phase of interest's ensemble stands among the real ensembles on all its
    criteria at once (``ensemble.real_spread``; None for a report of rvegen < 0.3.8)."""
    return report["ensemble"].get("real_spread", {}).get(str(report["phase_of_interest"]))


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
    """Morphology of a real sample: 3D, or per plane of its stacked crops (the mean over
    the three images' stacks for plane micrographs)."""
    if three_d:
        return describe_shape(sample, phase)
    if sample.ndim == 4:
        return _mean_nested([_plane_shape(s, phase, 0) for s in sample])
    return _plane_shape(sample, phase, 0)


def _per_axis(labels: np.ndarray, phase: int, max_r: int) -> dict[str, dict[str, np.ndarray]]:
    return {a: {"s2": two_point_correlation_axis(labels, phase, i, max_r),
                "lineal_path": lineal_path_axis(labels, phase, i, max_r)}
            for a, i in AXES.items()}


def _per_axis_planes(sample: np.ndarray, phase: int,
                     max_r: int) -> dict[str, dict[str, np.ndarray]]:
    """Per-axis curves of a real sample of plane micrographs (3, m, m, m): image a's crops
    run along the two axes other than a, in (z, y, x) order; each axis is in two images."""
    names = list(AXES)
    found: dict[str, list[dict[str, np.ndarray]]] = {}
    for a, stack in enumerate(sample):
        for dim, axis in zip((1, 2), [i for i in range(3) if i != a]):
            found.setdefault(names[axis], []).append(
                {"s2": two_point_correlation_axis(stack, phase, dim, max_r),
                 "lineal_path": lineal_path_axis(stack, phase, dim, max_r)})
    return {n: {m: np.mean([c[m] for c in found[n]], axis=0) for m in CURVE_AXES}
            for n in names}


def _real_per_axis(sample: np.ndarray, phase: int,
                   max_r: int) -> dict[str, dict[str, np.ndarray]]:
    """Per-axis curves of a real sample: a sub-volume, a crop stack or plane micrographs."""
    return (_per_axis_planes(sample, phase, max_r) if sample.ndim == 4
            else _per_axis(sample, phase, max_r))


def _describe_task(job: tuple) -> tuple:
    """Everything validation computes from one volume alone (a task for a Dask worker)."""
    vol, three_d, phases, metrics, max_r, options, poi = job
    d, planes = _describe_volume(vol.labels, three_d, phases, metrics, max_r, options)
    shapes = {str(p): _shape(vol.labels, p, three_d) for p in phases}
    return vol.name, d, planes, shapes, _per_axis(vol.labels, poi, max_r)


@dataclass
class _Setup:
    """What every part of a validation shares."""

    size: int
    max_r: int
    metrics: dict[str, Metric]
    options: dict[str, dict[str, Any]]
    phases: list[int]
    poi: int
    three_d: bool
    rng: np.random.Generator
    #: the 2D ceiling's real crops: a stream of their own, so that they do not move with
    #: the number of floor ensembles drawn before them
    ceiling_rng: np.random.Generator

    def describe_real(self, samples: list[np.ndarray]) -> list[Descriptors]:
        # real samples: whole sub-volumes in 3D; sets of crops along axis 0 per plane in 2D
        # (plane micrographs: one set per image, averaged as a volume's three planes are)
        if self.three_d:
            return [describe(s, self.phases, self.metrics, self.max_r, None, self.options)
                    for s in samples]
        return [mean_descriptors(self.describe_planes(s)) if s.ndim == 4 else
                describe(s, self.phases, self.metrics, self.max_r, 0, self.options)
                for s in samples]

    def describe_planes(self, sample: np.ndarray) -> list[Descriptors]:
        """Each image's crop set of a plane-micrograph sample, in the order xy, xz, yz."""
        return [describe(s, self.phases, self.metrics, self.max_r, 0, self.options)
                for s in sample]

    def errors(self, ref: Descriptors, d: Descriptors) -> dict[str, float]:
        return errors(ref, d, self.metrics)


@dataclass
class _Real:
    """The real side: reference mean, calibration errors, the floor, per-axis curves."""

    samples: list[np.ndarray]
    where: str
    descriptors: list[Descriptors]
    reference: Descriptors
    calibration: list[np.ndarray]
    #: single real samples (independent of ``reference``) against ``whole``: the gate's spread
    calibration_errors: list[dict[str, float]]
    floor: dict[str, float]
    floor_range: dict[str, dict[str, list[float]]]
    axis_reference: dict[str, dict[str, np.ndarray]]
    #: per axis, the median error of the mean curve of ensembles of fresh real samples
    axis_floor: dict[str, dict[str, float]]
    #: the curves and fractions of the whole reference data (scalars: ``reference``'s)
    whole: Descriptors
    #: the floor's ensembles against ``whole`` (3D: the floor itself; 2D: spread plus the
    #: bias of crop positions)
    floor_whole: dict[str, float]
    #: per-axis curves of the phase of interest in the whole reference data
    axis_whole: dict[str, dict[str, np.ndarray]]
    #: plane micrographs: each plane's own reference (else every plane has ``reference``)
    plane_reference: dict[str, Descriptors] | None = None
    #: each of the floor's ensembles against ``whole``
    draws_whole: list[dict[str, float]] = field(default_factory=list)

    @property
    def worst_whole(self) -> dict[str, float]:
        """The worst of the floor's ensembles against ``whole``: the edge of the real spread."""
        return {k: float(np.max([e[k] for e in self.draws_whole])) for k in self.draws_whole[0]}

    def plane_reference_of(self, plane: str) -> Descriptors:
        """The reference of one plane's slices."""
        return (self.plane_reference or {}).get(plane, self.reference)


def _setup(volumes: list[Volume], dataset: Dataset, cfg: ValidateSpec, seed: int,
           plugins: Registry) -> _Setup:
    if not volumes:
        raise InputError("validate: no volumes to validate")
    size = volumes[0].labels.shape[0]
    max_r = cfg.max_r or size // 2
    if max_r >= size:
        raise InputError(f"validate.max_r: must be < the volume size {size} (got {max_r})")
    fractions = list(dataset.meta.get("volume_fractions") or
                     [1.0 / dataset.phases] * dataset.phases)
    return _Setup(
        size, max_r,
        {name: plugins.get("metric", name, "validate.metrics") for name in cfg.metrics},
        {k: dict(v) for k, v in cfg.metric_options.items()},
        list(range(dataset.phases)), phase_of_interest(cfg, fractions),
        dataset.kind == "stack", np.random.default_rng(seed), np.random.default_rng([seed, 1]))


def _real_side(st: _Setup, dataset: Dataset, cfg: ValidateSpec, count: int) -> _Real:
    """Reference mean, calibration samples independent of it, and the floor: ensembles of
    ``count`` fresh real samples, several draws (their median error, the range of their
    mean scalars).

    3D floor: non-overlapping sub-volumes (``tiled_samples``) against the whole block:
    they cover it evenly, so they share neither the overlap of random crops (ensembles
    of crops of a small block hardly vary) nor their middle bias. 2D floor: sets of
    independent sections, as every real sample is, against the crops' mean.
    """
    reals, where = real_samples(dataset, st.size, cfg.reference_samples, st.rng)
    real_desc = st.describe_real(reals)
    reference = mean_descriptors(real_desc)
    calib, _ = real_samples(dataset, st.size, cfg.reference_samples, st.rng)
    calib_desc = st.describe_real(calib)
    draw_samples = [tiled_samples(dataset, st.size, count, st.rng) if st.three_d
                    else real_samples(dataset, st.size, count, st.rng)[0]
                    for _ in range(cfg.floor_draws)]
    draws = [mean_descriptors(st.describe_real(samples)) for samples in draw_samples]
    scalars = [n for n, m in st.metrics.items() if m.kind == "scalar"]
    floor_range = {str(p): {n: [float(np.min([d.values[p][n] for d in draws])),
                                float(np.max([d.values[p][n] for d in draws]))]
                            for n in scalars} for p in st.phases}
    # per-axis curves of the phase of interest show anisotropy that radial means hide: in
    # 3D against real sub-volumes, for plane micrographs against the images that hold the
    # axis, for other 2D data against the in-plane mean
    plane_images = dataset.plane_images
    own_axes = st.three_d or plane_images

    def axis_mean(samples: list[np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
        curves = [_real_per_axis(s, st.poi, st.max_r) for s in samples]
        if own_axes:
            return {a: {m: np.mean([c[a][m] for c in curves], axis=0) for m in CURVE_AXES}
                    for a in AXES}
        return {a: {m: np.mean([c[b][m] for c in curves for b in ("y", "x")], axis=0)
                    for m in CURVE_AXES} for a in AXES}

    axis_ref = axis_mean(reals)
    plane_ref = None
    if plane_images:  # image a is the reference of the slices normal to axis a
        per_image = [st.describe_planes(s) for s in reals]
        plane_ref = {name: mean_descriptors([d[axis] for d in per_image])
                     for name, axis in PLANES.items()}
    whole, axis_whole = _whole_reference(st, reference_source(dataset, st.size)[0],
                                         reference, bool(plane_images))
    # the floor's target: the whole block in 3D, the crops' mean in 2D (docstring)
    target, axis_target = (whole, axis_whole) if st.three_d else (reference, axis_ref)
    draw_errors = [st.errors(target, d) for d in draws]
    floor = {k: float(np.median([e[k] for e in draw_errors])) for k in draw_errors[0]}
    # per-axis floor: the same ensembles of fresh real samples, their mean curve per axis
    axis_floor_draws = [_axis_curve_errors(axis_target, axis_mean(samples))
                        for samples in draw_samples]
    axis_floor = {a: {m: float(np.median([e[a][m] for e in axis_floor_draws]))
                      for m in CURVE_AXES} for a in AXES}
    # in 3D the floor already is against the whole block
    draw_whole = draw_errors if st.three_d else [st.errors(whole, d) for d in draws]
    # single real samples against the whole data: the spread the gate allows a volume,
    # judged against the same target (crops' mean would penalise volumes that hold the
    # material's fraction where the crops hold their middle's)
    calib_errors = [st.errors(whole, d) for d in calib_desc]
    floor_whole = {k: float(np.median([e[k] for e in draw_whole])) for k in draw_whole[0]}
    return _Real(reals, where, real_desc, reference, calib, calib_errors, floor, floor_range,
                 axis_ref, axis_floor, whole, floor_whole, axis_whole, plane_ref, draw_whole)


#: most voxels described at once when the whole reference is (FFTs of its slabs)
WHOLE_SLAB_VOXELS = 2**24


def _slabs(src: np.ndarray, min_depth: int) -> list[np.ndarray]:
    """``src`` cut along axis 0 into slabs of at most about WHOLE_SLAB_VOXELS voxels, each
    at least ``min_depth`` deep (a short last slab joins the one before)."""
    depth = max(WHOLE_SLAB_VOXELS // int(np.prod(src.shape[1:])), min_depth)
    bounds = list(range(0, len(src), depth)) + [len(src)]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < depth:
        del bounds[-2]
    return [src[a:b] for a, b in zip(bounds, bounds[1:])]


def _weighted_mean(items: list[Any], weights: list[float]) -> Any:
    """The weighted mean of arrays, or of (nested) dicts of them key by key."""
    first = items[0]
    if isinstance(first, dict):
        return {k: _weighted_mean([d[k] for d in items], weights) for k in first}
    w = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    return sum(wi * np.asarray(v, dtype=np.float64) for wi, v in zip(w, items))


def _pooled_curves(st: _Setup, pieces: list[np.ndarray], weights: list[float],
                   plane_axis: int | None, crops: Descriptors) -> Descriptors:
    """The curves and fractions of ``pieces`` of the real data, pooled with ``weights``
    (every pair within a piece counted); the size-dependent scalars stay ``crops``'."""
    curves = {n: m for n, m in st.metrics.items() if m.kind == "curve"}
    described = [describe(s, st.phases, curves, st.max_r, plane_axis, st.options)
                 for s in pieces]
    values = _weighted_mean([d.values for d in described], weights)
    vf = {p: float(v) for p, v in _weighted_mean([d.vf for d in described], weights).items()}
    return Descriptors({p: {**crops.values[p], **values[p]} for p in st.phases}, vf)


def _whole_reference(st: _Setup, src: np.ndarray, crops: Descriptors, plane_images: bool
                     ) -> tuple[Descriptors, dict[str, dict[str, np.ndarray]]]:
    """The curves (and fractions) of the whole reference data, and its per-axis curves of
    the phase of interest: what the material's statistics are.

    The mean over random crops weights the middle of a small image or block more than its
    edges (a crop of 32 from 64 voxels always holds the middle two, the edge ones in one
    draw of 33), so its fraction and curves are those of the middle: on the spheres case
    the crops hold 0.259 of phase 1 where the block holds 0.281. Here every valid pair or
    segment counts (slab by slab for large data, slabs weighted by their voxels).
    Size-dependent scalars (Euler density, largest cluster) keep the crops' values.
    """
    slabs = _slabs(src, st.max_r + 1 if st.three_d else 1)
    weights = [s.size for s in slabs]
    whole = _pooled_curves(st, slabs, weights, None if st.three_d else 0, crops)
    if st.three_d:
        axis = _weighted_mean([_per_axis(s, st.poi, st.max_r) for s in slabs], weights)
    elif plane_images:  # each image holds two axes: a (3, 1, h, w) "sample" of one crop each
        axis = _per_axis_planes(src[:, None], st.poi, st.max_r)
    else:  # independent images: the in-plane mean along every axis, as axis_mean does
        c = _weighted_mean([_per_axis(s, st.poi, st.max_r) for s in slabs], weights)
        axis = {a: {m: (c["y"][m] + c["x"][m]) / 2 for m in CURVE_AXES} for a in AXES}
    return whole, axis


def _gate(cfg: ValidateSpec, real: _Real, st: _Setup) -> gates.Gate:
    if cfg.mode == "calibrated":
        return gates.calibrate(real.calibration_errors, cfg.quantile,
                               {name: m.resolution for name, m in st.metrics.items()})
    t, poi = cfg.thresholds, st.poi
    return gates.absolute({f"s2/{poi}": t.s2, f"lineal_path/{poi}": t.lineal_path,
                           f"volume_fraction/{poi}": t.volume_fraction})


def _rank_by_phase(st: _Setup, ensemble_errors: dict[str, float],
                   draws: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Per phase, where the ensemble stands among the real ensembles on all its criteria
    at once (:func:`rvegen.validation.gate.rank_among_real`)."""
    resolutions = {name: m.resolution for name, m in st.metrics.items()}
    out = {}
    for p in st.phases:
        names = {k: k.rsplit("/", 1)[0] for k in ensemble_errors if k.endswith(f"/{p}")}
        out[str(p)] = gates.rank_among_real({n: ensemble_errors[k] for k, n in names.items()},
                                            [{n: d[k] for k, n in names.items()} for d in draws],
                                            resolutions)
    return out


def _axis_curve_errors(ref: dict[str, dict[str, np.ndarray]],
                       curves: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, float]]:
    return {a: {m: error_rate(ref[a][m], curves[a][m]) for m in CURVE_AXES} for a in AXES}


def _axis_errors(real: _Real, curves: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, float]]:
    return _axis_curve_errors(real.axis_reference, curves)


def _score_volumes(st: _Setup, real: _Real, gate: gates.Gate, volumes: list[Volume],
                   mapper: Any, on_volume: Any) -> tuple[list[dict[str, Any]], list[Descriptors],
                                                         list[dict[str, Any]]]:
    """Per volume: errors, per-plane and per-axis errors, morphology, verdict; and each
    volume's descriptors and per-axis curves."""
    jobs = [(vol, st.three_d, st.phases, st.metrics, st.max_r, st.options, st.poi)
            for vol in volumes]
    described = {out[0]: out[1:] for out in (mapper or map)(_describe_task, jobs)}
    results, descriptors, axis_curves = [], [], []
    for vol in volumes:
        d, planes, shapes, curves = described[vol.name]
        descriptors.append(d)
        axis_curves.append(curves)
        errs = st.errors(real.whole, d)
        accepted, reasons = gate.judge(errs)
        result = {
            "name": vol.name,
            "seed": vol.attrs.get("seed"),
            "evaluations": vol.attrs.get("evaluations"),
            "seconds": vol.attrs.get("seconds"),
            "errors": by_phase(errs),
            "per_plane": {p: by_phase(st.errors(real.plane_reference_of(p), pd))
                          for p, pd in planes.items()},
            "per_axis": _axis_errors(real, curves),
            "morphology": shapes,
            "accepted": accepted,
            "reasons": reasons,
        }
        results.append(result)
        if on_volume is not None:
            on_volume(vol.name, result, vol.labels)
    return results, descriptors, axis_curves


def _isotropy(st: _Setup, real: _Real, results: list[dict[str, Any]],
              axis_curves: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-axis errors: the mean over volumes (``generated``) beside the median of single
    real samples (``real_median``, where real samples have axes of their own: 3D, plane
    micrographs); and the error of the ensemble's mean curve against the whole reference
    data's (``ensemble``; ``ensemble_crops``: against the real crops' mean) beside the same
    for ensembles of as many real samples against the crops' mean (``real_ensemble``, the
    per-axis floor)."""
    mean_curves = {a: {m: np.mean([c[a][m] for c in axis_curves], axis=0) for m in CURVE_AXES}
                   for a in AXES}
    out: dict[str, Any] = {"generated": _mean_nested([r["per_axis"] for r in results]),
                           "ensemble": _axis_curve_errors(real.axis_whole, mean_curves),
                           "ensemble_crops": _axis_errors(real, mean_curves),
                           "real_ensemble": real.axis_floor}
    if st.three_d or real.plane_reference is not None:
        real_errors = [_axis_errors(real, _real_per_axis(s, st.poi, st.max_r))
                       for s in real.calibration]
        out["real_median"] = {a: {m: float(np.median([e[a][m] for e in real_errors]))
                                  for m in CURVE_AXES} for a in AXES}
    return out


def _whole_sections(st: _Setup, dataset: Dataset, axes: list[int], crops: Descriptors
                    ) -> Descriptors:
    """The 2D curves of every real section that the 2D crops are cut from (images; a
    stack's slices normal to ``axes``), every pair counted, each section weighted as the
    crops weight it (one in as many as there are sections): the crops' expectation
    without their draw. Random crops of a small block vary between draws by as much as
    the 2D ceiling's errors (NMC: 1.2 points of S2), so they are not its reference. The
    size-dependent scalars stay the crops'.
    """
    src, _ = reference_source(dataset, st.size)
    if dataset.kind != "stack":
        axes = [0]  # the images themselves
    stacks = [np.moveaxis(src, a, 0) for a in axes
              if min(n for j, n in enumerate(src.shape) if j != a) >= st.size]
    slabs = [np.ascontiguousarray(slab) for stack in stacks for slab in _slabs(stack, 1)]
    return _pooled_curves(st, slabs, [len(s) for s in slabs], 0, crops)


def _ceiling(st: _Setup, dataset: Dataset, cfg: ValidateSpec, images_2d: np.ndarray | None,
             volumes: list[Volume]) -> dict[str, Any] | None:
    """The model's own 2D samples against the real 2D sections (stacks: also the volumes'
    slices); curves against every section (:func:`_whole_sections`), scalars against crops."""
    if images_2d is None or len(images_2d) < st.size:
        return None
    size = st.size
    sets = [images_2d[i : i + size] for i in range(0, len(images_2d) - size + 1, size)]
    axes = list(dataset.meta.get("slice_axes", [0, 1, 2]))
    ref2d = real_image_sets(dataset, size, cfg.reference_samples, st.ceiling_rng, axes)

    def described(samples: list[np.ndarray]) -> Descriptors:
        return mean_descriptors([describe(s, st.phases, st.metrics, st.max_r, 0, st.options)
                                 for s in samples])

    ref2d_desc = _whole_sections(st, dataset, axes, described(ref2d))
    out = {"images": int(len(images_2d)), "sets": len(sets),
           "ensemble": {"errors": by_phase(st.errors(ref2d_desc, described(sets)))},
           "morphology": {str(p): _mean_nested([_plane_shape(s, p, 0) for s in sets])
                          for p in st.phases},
           "real_morphology": {str(p): _mean_nested([_plane_shape(s, p, 0) for s in ref2d])
                               for p in st.phases}}
    if st.three_d:
        slices = mean_descriptors([_describe_volume(v.labels, False, st.phases, st.metrics,
                                                    st.max_r, st.options)[0] for v in volumes])
        out["volume_slices"] = {"errors": by_phase(st.errors(ref2d_desc, slices))}
    if dataset.patch_size == size and len(dataset.patches) >= size:
        # the data limit: what the model was taught, scored as its samples are. Where the
        # reference is not the training data (a held-out block, a fresh realization) a
        # model that reproduced its patches exactly would be this far off. Every patch, in
        # sets of m: a subset of them varied by half its value between draws (Berea).
        patches = dataset.patches[: len(dataset.patches) // size * size]
        out["training_patches"] = {"errors": by_phase(st.errors(ref2d_desc, described(
            [patches[i : i + size] for i in range(0, len(patches), size)])))}
    return out


def _chosen_reference(dataset: Dataset, cfg: ValidateSpec) -> Dataset:
    """``dataset`` with the reference that ``cfg.reference`` names.

    'training' drops a stack's held-out part (idempotent); 'fresh' needs the data section
    to synthesize a new realization, so the dataset must come with it already
    (:func:`rvegen.pipeline.reference_dataset`); 'auto' keeps what the dataset has.
    """
    if cfg.reference == "training" and dataset.holdout is not None:
        return replace(dataset, holdout=None)
    if cfg.reference == "fresh" and dataset.meta.get("reference_label") != FRESH_LABEL:
        raise InputError(
            "validate.reference: 'fresh' needs a fresh realization of the synthetic source; "
            "pass rvegen.pipeline.reference_dataset(spec, dataset) as the dataset, or "
            "choose 'auto' or 'training'")
    return dataset


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
        The ingested data: its held-out part (stacks, ``cfg.reference`` 'auto') or its
        labelled source ('training') is the reference; for 'fresh', the dataset that
        :func:`rvegen.pipeline.reference_dataset` returns.
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
    dataset = _chosen_reference(dataset, cfg)
    st = _setup(volumes, dataset, cfg, seed, plugins or default_registry())
    real = _real_side(st, dataset, cfg, len(volumes))
    gate = _gate(cfg, real, st)
    results, gen_desc, axis_curves = _score_volumes(st, real, gate, volumes, mapper, on_volume)
    ensemble = mean_descriptors(gen_desc)
    phases = st.phases
    scalars = [n for n, m in st.metrics.items() if m.kind == "scalar"]
    curve_names = [n for n, m in st.metrics.items() if m.kind == "curve"]
    spread = {
        k: {"median": float(np.median([e[k] for e in real.calibration_errors])),
            f"q{cfg.quantile:g}": float(np.quantile([e[k] for e in real.calibration_errors],
                                                    cfg.quantile))}
        for k in real.calibration_errors[0]
    }
    size = st.size
    ensemble_errors = st.errors(real.whole, ensemble)
    standing = _rank_by_phase(st, ensemble_errors, real.draws_whole)
    poi_standing = standing[str(st.poi)]
    if cfg.ensemble_gate and not poi_standing["within"]:
        # a bias every volume shares: no volume of this ensemble stands for the material
        for r in results:
            r["accepted"] = False
            r["reasons"].append(
                f"ensemble outside the spread of {poi_standing['real']} real ensembles of "
                f"as many samples (worst: {poi_standing['criterion']}; validate.ensemble_gate)")
    n_ok = sum(r["accepted"] for r in results)
    return Report(
        rvegen_version=__version__,
        comparison="3d" if st.three_d else (
            "per-plane 2d (mean of yz, xz, xy; each against its own micrograph)"
            if dataset.plane_images else "per-plane 2d (mean of yz, xz, xy)"),
        reference={
            "source": dataset.meta.get("source_path"),
            "data": real.where,
            "kind": dataset.kind,
            "samples": len(real.samples),
            "calibration_samples": len(real.calibration),
            "sample": f"{size}^3 sub-volumes" if st.three_d else f"sets of {size} crops {size}x{size}",
        },
        phases=phases,
        phase_of_interest=st.poi,
        metrics={n: {"kind": m.kind, "unit": m.unit} for n, m in st.metrics.items()},
        max_r=st.max_r,
        gate=gate.to_dict(),
        natural_spread=spread,
        volumes=results,
        ensemble={"count": len(volumes),
                  "errors": by_phase(ensemble_errors),
                  # no worse than the worst ensemble of as many real samples: a bias that
                  # every volume shares passes a gate of single volumes, not this
                  "within_real_spread": by_phase({k: bool(e <= real.worst_whole[k])
                                                  for k, e in ensemble_errors.items()}),
                  # all criteria of a phase at once: outside about once in floor_draws + 1
                  # for an ensemble like the data, however many criteria
                  "real_spread": standing,
                  "errors_crops": by_phase(st.errors(real.reference, ensemble)),
                  "scalars": {str(p): {n: float(ensemble.values[p][n]) for n in scalars}
                              for p in phases}},
        real_ensemble={"count": len(volumes), "draws": cfg.floor_draws,
                       "errors": by_phase(real.floor),
                       "errors_whole": by_phase(real.floor_whole),
                       "errors_worst": by_phase(real.worst_whole),
                       "errors_draws": [by_phase(e) for e in real.draws_whole],
                       "scalar_range": real.floor_range},
        ceiling_2d=_ceiling(st, dataset, cfg, images_2d, volumes),
        per_axis=_isotropy(st, real, results, axis_curves),
        morphology={
            "real": {str(p): _mean_nested([_real_shape(s, p, st.three_d) for s in real.samples])
                     for p in phases},
            "generated": _mean_nested([r["morphology"] for r in results]),
        },
        accepted=n_ok,
        all_passed=n_ok == len(results),
        curves={
            "r": list(range(st.max_r + 1)),
            "phases": phases,
            "reference": {n: [real.whole.values[p][n].tolist() for p in phases]
                          for n in curve_names},
            "reference_crops": {n: [real.reference.values[p][n].tolist() for p in phases]
                                for n in curve_names},
            "reference_std": {n: [np.std([d.values[p][n] for d in real.descriptors],
                                         axis=0).tolist() for p in phases]
                              for n in curve_names},
            "generated_mean": {n: [ensemble.values[p][n].tolist() for p in phases]
                               for n in curve_names},
            "generated_std": {n: [np.std([d.values[p][n] for d in gen_desc], axis=0).tolist()
                                  for p in phases] for n in curve_names},
        },
    )


def write_report(report: Report, path: Path) -> None:
    """Write report.json atomically."""
    write_text(path, report.to_json())


#: the terms of the 'auto' scores (:func:`self_score`, :func:`stack_score`)
SCORE_TERMS = ("s2", "lineal_path", "euler_density", "largest_cluster")


def _self_report(volumes: list[Volume], images: np.ndarray, phases: int,
                 plugins: Registry | None = None, scoring: dict[str, Any] | None = None
                 ) -> Report:
    """The volumes' slices validated against the model's own 2D samples ``images``
    ((N, m, m) labels at the volumes' size m), as the reference-free scores read them;
    ``scoring``: validate fields that say how (metric_options, phase_of_interest)."""
    own = Dataset.from_array(images, kind="images", patch_size=volumes[0].labels.shape[0],
                             num_patches=1, phases=phases)
    # as many reference draws as there are images: 32 of them left the target noisy
    # enough to reorder settings (benchmarks/sampler/README.md, session 7)
    return validate(volumes, own, {**(scoring or {}),
                                   "reference_samples": max(32, len(images)),
                                   "floor_draws": 1}, seed=1, plugins=plugins)


def self_headline(volumes: list[Volume], images: np.ndarray, phases: int,
                  plugins: Registry | None = None) -> dict[str, float]:
    """The volumes' slices against the model's own 2D samples: the headline errors (phase
    of interest) as :meth:`Report.headline` gives them, against the crops' mean (as
    measured when the self score was chosen, session 7; with images of the volumes' size
    the crops are the images themselves). No real data is involved.

    ``images``: (N, m, m) labels from :func:`rvegen.sample_images` at the volumes' size m.
    """
    return _self_report(volumes, images, phases, plugins).headline("ensemble_crops")


def self_score(volumes: list[Volume], guided: np.ndarray, plain: np.ndarray, phases: int,
               plugins: Registry | None = None, scoring: dict[str, Any] | None = None
               ) -> dict[str, float]:
    """The reference-free score of 'auto' settings for 2D training data: the volumes'
    slices against the model's own 2D samples, each term in units of the spread of
    single samples (:func:`spread_units`), summed, as :func:`stack_score` does in 3D.

    S2 and L(z) are scored against ``guided`` samples (fraction guidance on each group of
    m images, as the volumes have: unguided samples miss the data's fraction by up to a
    tenth, and S2 errors of that size hide the shape); the Euler density and largest
    cluster of the slices against ``plain`` ones (no guidance), because the guidance
    itself joins pieces: on carbonate it takes the model's 2D samples from 9.26 to 6.86
    Euler per 1000 px, the training patches' 9.37 (benchmarks/results/guidance_shape.txt).
    Without the shape terms the score chose settings whose slices are more fragmented
    than the model's (carbonate, session 17). No real data is involved, so settings
    chosen by it cannot leak the reference. ``scoring``: validate fields that say how to
    score (``metric_options``, ``phase_of_interest``), as the spec validates.

    Returns
    -------
    dict
        ``s2``, ``lineal_path``, ``euler_density``, ``largest_cluster`` and their ``sum``
        (each term a mean over :func:`scored_phases`, whose own terms follow as
        ``"s2/0"`` etc. where there are more than two phases).
    """
    statistics = spread_units(_self_report(volumes, guided, phases, plugins, scoring),
                              "ensemble_crops")
    shape = spread_units(_self_report(volumes, plain, phases, plugins, scoring),
                         "ensemble_crops")
    out = {k: (statistics if k.split("/")[0] in ("s2", "lineal_path") else shape)[k]
           for k in statistics if k != "sum"}
    out["sum"] = float(sum(out[k] for k in SCORE_TERMS))
    return out


def stack_score(volumes: list[Volume], stack: Dataset, plugins: Registry | None = None,
                scoring: dict[str, Any] | None = None) -> dict[str, float]:
    """The score of 'auto' settings for 3D training data: the volumes in 3D against the
    training part of a stack (its held-out block left out), in units of the real spread
    (:func:`spread_units`), summed.

    Unlike the 2D self score, this sees what slices cannot: how the phase connects across
    them. Only the training data is read, so a setting chosen by it does not leak a
    held-out or fresh reference (it would where the validation reference is this same
    training stack: :func:`rvegen.generate.auto_stack` does not pass it then).
    ``scoring``: validate fields that say how to score (``metric_options``,
    ``phase_of_interest``), as the spec validates.

    Returns
    -------
    dict
        ``s2``, ``lineal_path``, ``euler_density``, ``largest_cluster`` and their ``sum``
        (each term a mean over :func:`scored_phases`, whose own terms follow as
        ``"s2/0"`` etc. where there are more than two phases).
    """
    training = replace(stack, holdout=None)
    report = validate(volumes, training, {**(scoring or {}), "reference_samples": 64,
                                          "floor_draws": 1}, seed=1, plugins=plugins)
    return spread_units(report)


def scored_phases(report: Report) -> list[int]:
    """The phases an 'auto' score sums over: the phase of interest where there are two
    (the other phase's S2 follows from it), every phase where there are more. On the
    three-phase composite the phase of interest alone chose a pooling width that bought
    the particles' L(z) with the matrix's (15 % against 11 % before;
    benchmarks/results/phase_tradeoff_composite.txt)."""
    return list(report.phases) if len(report.phases) > 2 else [report.phase_of_interest]


def spread_units(report: Report, which: str = "ensemble") -> dict[str, float]:
    """The ensemble's headline errors (S2, L(z), Euler density, largest cluster) in units
    of the real spread: each divided by the median error of single real samples (the
    gate's calibration samples, against the same data) over sqrt(count), what an ensemble
    of as many independent real samples would miss by. A generator like the real data
    scores about 1 on each term. Single samples rather than the floor's ensembles: a small
    block holds few distinct sub-volumes, whose ensembles hardly vary. ``which``: the
    headline errors to use (:meth:`Report.headline`).

    Each term is the mean over :func:`scored_phases` (the phase of interest alone for two
    phases); with more phases each phase's own term is kept too, as ``"s2/0"`` etc.
    """
    phases = scored_phases(report)
    scale = np.sqrt(report.ensemble["count"])
    out: dict[str, float] = {}
    per_phase: dict[str, float] = {}
    for k in SCORE_TERMS:
        units = []
        for p in phases:
            single = report.natural_spread[f"{k}/{p}"]["median"]
            units.append(float(report.headline(which, p)[k] / max(single / scale, 1e-9)))
            per_phase[f"{k}/{p}"] = units[-1]
        out[k] = float(np.mean(units))
    out["sum"] = float(sum(out.values()))
    return {**out, **per_phase} if len(phases) > 1 else out
