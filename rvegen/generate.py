"""Stage 3: an ensemble of volumes from a trained model, in memory or into volumes.h5.

:func:`sample_volumes` returns volumes as arrays (the public API); :func:`generate`
writes them one by one into a run folder's volumes.h5 and resumes after an interruption.
Each volume goes through the sampler, then every ``rvegen_on_volume_generated`` filter
(the built-in one smooths and matches the fraction when the spec asks), then labelling.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from .device import pick_device
from .data.dataset import Dataset
from .diffusion.checkpoint import LoadedModel, load_model
from .diffusion.encoding import model_to_labels
from .diffusion.multiplane import SamplerSettings, data_mean, sample_images_2d
from .diffusion.planes import plane_networks
from .errors import SpecError
from .plugins import GenerationContext, Registry, registry as default_registry
from .progress import progress_bar
from .spec import (AUTO_CANDIDATES, AUTO_HARMONIZING, AUTO_METHODS, AUTO_POOL_SIGMAS,
                   GenerateSpec)
from .volumes import Volume, append_volume, finished, read_images, volume_name, write_images

IMAGES_SEED = 1  # second entropy word of the 2D-ceiling images' seed
TRIALS_SEED = 2  # ... and of the trial volumes of pool_sigma 'auto'


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
    known = fractions is not None
    guidance = known if cfg.fraction_guidance is None else cfg.fraction_guidance
    if guidance and not known:
        raise SpecError("generate.fraction_guidance: needs the data's phase fractions")
    for field in AUTO_CANDIDATES:
        if getattr(cfg, field) == "auto":
            raise SpecError(f"generate.{field}: 'auto' is chosen before sampling "
                            "(rvegen.generate.resolve_auto)")
    if cfg.match_volume_fraction and not binary:
        raise SpecError("generate.match_volume_fraction: only for binary data (data.phases: 2)")
    if cfg.close_boundaries:
        if not binary:
            raise SpecError("generate.close_boundaries: only for binary data (data.phases: 2) "
                            "with known fractions")
        if cfg.periodic:
            raise SpecError("generate.close_boundaries: the watershed is not periodic; "
                            "set generate.periodic: false")
        if cfg.grain_density is None:
            raise SpecError("generate.grain_density: close_boundaries needs the training "
                            "images' grain density (pass dataset= or set it)")
    return SamplerSettings(
        steps=cfg.steps,
        harmonizing_steps=cfg.harmonizing_steps,
        harmonize_across_planes=cfg.harmonize_across_planes,
        fusion=cfg.fusion,
        plane_order=cfg.plane_order,
        plane_block=cfg.plane_block,
        periodic=cfg.periodic,
        batch_slices=cfg.batch_slices,
        method=cfg.method,
        eta=cfg.eta,
        clip_x0=cfg.clip_x0,
        pool_sigma=cfg.pool_sigma,
        pool_taper=cfg.pool_taper,
        pool_repeats=cfg.pool_repeats,
        fraction_guidance=guidance,
        start_from_data_mean=cfg.start_from_data_mean and fractions is not None,
        target_fraction=fractions[1] if binary else None,
        target_fractions=tuple(fractions) if known and not binary else None,
    )


def resolve_grain_density(cfg: GenerateSpec, dataset: Dataset | None) -> GenerateSpec:
    """``close_boundaries`` without a ``grain_density``: the training patches' one
    (:func:`rvegen.boundaries.grain_density`); otherwise ``cfg`` as it is."""
    if not cfg.close_boundaries or cfg.grain_density is not None or dataset is None:
        return cfg
    from .boundaries import grain_density

    return cfg.model_copy(update={"grain_density": grain_density(dataset.patches)})


def _check(model: LoadedModel, cfg: GenerateSpec, size: int) -> None:
    divisor = model.net.min_divisor() if hasattr(model.net, "min_divisor") else 1
    if size % divisor:
        raise SpecError(f"generate.size: must be a multiple of {divisor} (got {size})")
    if cfg.steps > model.schedule.timesteps:
        raise SpecError(
            f"generate.steps: must be <= the model's T = {model.schedule.timesteps} "
            f"(got {cfg.steps})"
        )


def iter_volumes(
    model: LoadedModel,
    cfg: GenerateSpec,
    indices: list[int],
    fractions: list[float] | None,
    seed: int = 0,
    sampler: Callable[..., Any] | None = None,
    plugins: Registry | None = None,
    progress: bool = False,
) -> Iterator[Volume]:
    """Sample the volumes of the given ensemble indices, one at a time."""
    plugins = plugins or default_registry()
    sampler = sampler or plugins.get("sampler", cfg.sampler, "generate.sampler")
    device = pick_device(cfg.device, "generate.device")
    size = cfg.size or model.image_size
    _check(model, cfg, size)
    settings = sampler_settings(cfg, model.phases, fractions)
    net = model.net.to(device)
    for i in indices:
        s = volume_seed(seed, i)
        x, info = sampler(
            net, model.schedule, model.phases, model.channels, size, settings, s, device,
            progress, desc=f"volume {i + 1}/{cfg.count}", fractions=fractions,
            options=dict(cfg.sampler_options),
        )
        ctx = GenerationContext(i, s, model.phases, fractions, cfg, cfg.periodic)
        x = plugins.filter_volume(x, ctx)
        labels = model_to_labels(x, model.phases, 0, model.encoding).numpy()
        yield Volume(volume_name(i), labels, {
            "seed": info.seed, "evaluations": info.evaluations, "seconds": info.seconds,
            "settings": info.settings,
        })


def reference_is_training(reference: str, held_out: bool) -> bool:
    """Whether validation compares with the training data itself: ``reference``
    'training', or 'auto' without a held-out part."""
    return reference == "training" or (reference == "auto" and not held_out)


def auto_stack(dataset: Dataset | None, reference: str = "auto") -> Dataset | None:
    """The training stack that scores ``auto`` settings in 3D, or None (the 2D self score).

    A 3D stack whose patches were cut from the whole training part (not from one slice,
    ``data.train_slice``) is training data in 3D; it scores the trial volumes unless
    validation compares with that same training part (``reference`` 'training', or
    'auto' without a held-out part), where choosing by it would tune on the reference.
    """
    if dataset is None or not scores_on_stack(dataset.kind, "train_slice" in dataset.meta,
                                              dataset.holdout is not None, reference):
        return None
    return replace(dataset, holdout=None)


def scores_on_stack(kind: str, one_slice: bool, held_out: bool, reference: str) -> bool:
    """Whether ``auto`` scores against the training stack (:func:`auto_stack`) for data of
    this ``kind``, trained from ``one_slice`` or not, with a ``held_out`` part or not."""
    return kind == "stack" and not one_slice and not reference_is_training(reference, held_out)


class AutoTrials:
    """How the ``auto`` settings are chosen, without the reference: ``cfg.auto_trials``
    trial volumes per candidate (seeds of their own), scored one of two ways, each a sum of
    S2, L(z), Euler density and largest-cluster errors in units of their spread.

    - ``stack`` given (3D training data, :func:`auto_stack`): in 3D against the training
      part of the stack (:func:`rvegen.validation.report.stack_score`). The 2D score cannot
      see how a phase connects across slices: on the spheres case it preferred pooling,
      whose inclusions merge (benchmarks/sampler/README.md, session 11).
    - otherwise: per plane against the model's own 2D samples
      (:func:`rvegen.validation.report.self_score`): the candidate whose slices the 2D
      model would draw by itself is the one whose 3D coupling disturbs the model least.
      S2 and L(z) against samples drawn with the same fraction guidance as the volumes,
      the slices' topology against plain ones.

    ``scoring``: the spec's validate fields that say how to score (``metric_options``,
    e.g. the connectivity of each phase's Euler density, and ``phase_of_interest``), so
    that the trials are judged as validation judges the volumes. ``terms``: each scored
    candidate's terms, by the fields it changed (e.g. "pool_sigma 1.0").
    """

    def __init__(self, model: LoadedModel, cfg: GenerateSpec, fractions: list[float] | None,
                 seed: int = 0, plugins: Registry | None = None, progress: bool = False,
                 stack: Dataset | None = None, scoring: dict[str, Any] | None = None) -> None:
        self.model, self.fractions, self.stack = model, fractions, stack
        self.plugins, self.progress, self.scoring = plugins, progress, scoring or {}
        size = cfg.size or model.image_size
        self.count = cfg.auto_trials
        self.guided = self.plain = None
        if stack is None:
            self.guided = sample_images(model, self.count * size, cfg, fractions, seed,
                                        guided=True)
            self.plain = sample_images(model, self.count * size, cfg, fractions, seed)
        self.trial_seed = volume_seed(seed, TRIALS_SEED)
        self.terms: dict[str, dict[str, float]] = {}

    @property
    def name(self) -> str:
        """What the scores are: the name the records carry."""
        return ("3D vs training stack, real spreads" if self.stack is not None
                else "self S2 + L (guided) + shape (plain), spreads")

    def score(self, cfg: GenerateSpec, **fields: Any) -> float:
        """The score of the trial volumes sampled with ``fields`` changed in ``cfg``: the
        sum of its terms (kept in ``terms``); lower is better."""
        from .validation.report import self_score, stack_score

        trial = cfg.model_copy(update={**fields, "count": self.count})
        label = ", ".join(f"{k} {v}" for k, v in fields.items())
        volumes = []
        # an outer count of its own: a log would otherwise show nothing for minutes
        with progress_bar(self.count, f"auto trial ({label})", "vol", self.progress) as bar:
            for volume in iter_volumes(self.model, trial, list(range(self.count)),
                                       self.fractions, self.trial_seed, None, self.plugins,
                                       self.progress):
                volumes.append(volume)
                bar.update(1)
        if self.stack is not None:
            terms = stack_score(volumes, self.stack, self.plugins, self.scoring)
        else:
            terms = self_score(volumes, self.guided, self.plain, self.model.phases,
                               self.plugins, self.scoring)
        self.terms[label] = terms
        return terms["sum"]

    def best(self, cfg: GenerateSpec, candidates: dict[str, dict[str, Any]],
             known: dict[str, float] | None = None) -> tuple[str, dict[str, float]]:
        """The candidate (name -> fields changed in ``cfg``) that scores best, and every
        candidate's score; ``known``: scores already measured on these trials."""
        scores = dict(known or {})
        for name, fields in candidates.items():
            if name not in scores:
                scores[name] = self.score(cfg, **fields)
        return min(candidates, key=lambda n: scores[n]), scores


def choose_pool_sigma(
    model: LoadedModel, cfg: GenerateSpec, fractions: list[float] | None, seed: int = 0,
    plugins: Registry | None = None, progress: bool = False,
    trials: AutoTrials | None = None, stack: Dataset | None = None,
) -> tuple[float, dict[str, float]]:
    """The pooling width of ``pool_sigma: auto``: of ``AUTO_POOL_SIGMAS``, the one whose
    trial volumes score best (:class:`AutoTrials`; with n_h 1 when ``harmonizing_steps``
    is 'auto' too).

    Returns
    -------
    (float, dict)
        The chosen width and the score of every candidate ("1.0": score, ...).
    """
    trials = trials or AutoTrials(model, cfg, fractions, seed, plugins, progress, stack)
    plain = {"harmonizing_steps": 1} if cfg.harmonizing_steps == "auto" else {}
    name, scores = trials.best(cfg, {str(s): {"pool_sigma": s, **plain}
                                     for s in AUTO_POOL_SIGMAS})
    return float(name), scores


def choose_harmonizing(
    model: LoadedModel, cfg: GenerateSpec, fractions: list[float] | None, seed: int = 0,
    plugins: Registry | None = None, progress: bool = False,
    trials: AutoTrials | None = None, known: dict[str, float] | None = None,
    stack: Dataset | None = None,
) -> tuple[str, dict[str, float]]:
    """The candidate of ``harmonizing_steps: auto`` (``AUTO_HARMONIZING``: n_h 1, the
    harmonized preset's 5 with pooling on each step's first pass only, 5 without
    pooling, or 8 pooled on the first pass) whose trial volumes score best
    (:class:`AutoTrials`), at cfg's numeric pooling width. ``known``: scores already
    measured on the same trials ({"1": ...}).

    Returns
    -------
    (str, dict)
        The chosen candidate and the score of every candidate ("1": score, "5": ...).
    """
    trials = trials or AutoTrials(model, cfg, fractions, seed, plugins, progress, stack)
    return trials.best(cfg, AUTO_HARMONIZING, known)


def choose_method(
    trials: AutoTrials, cfg: GenerateSpec, known: float | None = None,
) -> tuple[str, dict[str, float]]:
    """The candidate of ``method: auto`` (``AUTO_METHODS``) whose trial volumes score
    best at cfg's (numeric) pooling and n_h. ``known``: the DDPM step's score, already
    measured on the same trials.

    Returns
    -------
    (str, dict)
        The chosen candidate and the score of every candidate ("ddpm": score, ...).
    """
    return trials.best(cfg, AUTO_METHODS, None if known is None else {"ddpm": known})


def _new_terms(trials: AutoTrials, record: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The terms of the trials scored since the fields already in ``record`` were chosen
    (what a record shows beside its scores, by the fields each trial changed)."""
    seen = {label for r in record.values() for label in r.get("terms", {})}
    return {label: t for label, t in trials.terms.items() if label not in seen}


def resolve_auto(
    model: LoadedModel, cfg: GenerateSpec, fractions: list[float] | None, seed: int = 0,
    plugins: Registry | None = None, progress: bool = False, stack: Dataset | None = None,
    scoring: dict[str, Any] | None = None,
) -> tuple[GenerateSpec, dict[str, dict[str, Any]]]:
    """``cfg`` with its ``auto`` settings chosen (pool_sigma first, then n_h at that
    width, then the reverse step, on the same trials), and what was chosen from which
    scores, by field. ``stack``: 3D training data to score against (:func:`auto_stack`),
    else the self score; ``scoring``: how to score (:class:`AutoTrials`)."""
    pool_auto, nh_auto = cfg.pool_sigma == "auto", cfg.harmonizing_steps == "auto"
    method_auto = cfg.method == "auto"
    if not (pool_auto or nh_auto or method_auto):
        return cfg, {}
    trials = AutoTrials(model, cfg, fractions, seed, plugins, progress, stack, scoring)
    record: dict[str, dict[str, Any]] = {}
    last: float | None = None  # the score of the settings chosen so far
    if method_auto:  # pooling and n_h are chosen with the DDPM step, the first candidate
        cfg = cfg.model_copy(update=AUTO_METHODS["ddpm"])
    if pool_auto:
        sigma, scores = choose_pool_sigma(model, cfg, fractions, seed, plugins, progress, trials)
        record["pool_sigma"] = {"chosen": sigma, "scores": scores, "score": trials.name,
                                "terms": _new_terms(trials, record)}
        cfg = cfg.model_copy(update={"pool_sigma": sigma})
        last = scores[str(sigma)]
    if nh_auto:
        # n_h 1 at the chosen width: already measured
        known = None if last is None else {"1": last}
        name, scores = choose_harmonizing(model, cfg, fractions, seed, plugins, progress,
                                          trials, known)
        record["harmonizing_steps"] = {"chosen": name, "scores": scores, "score": trials.name,
                                       "terms": _new_terms(trials, record)}
        cfg = cfg.model_copy(update=AUTO_HARMONIZING[name])
        if pool_auto:  # "5 unpooled" sets the width to 0 whatever was chosen before it
            record["pool_sigma"]["used"] = cfg.pool_sigma
        last = scores[name]
    if method_auto:
        name, scores = choose_method(trials, cfg, last)
        record["method"] = {"chosen": name, "scores": scores, "score": trials.name,
                            "terms": _new_terms(trials, record)}
        cfg = cfg.model_copy(update=AUTO_METHODS[name])
    for r in record.values():
        r["trials"] = trials.count  # trial volumes per candidate
    return cfg, record


#: Models loaded in this process, by checkpoint path and modification time: a Dask worker
#: loads a model once for all the volumes it samples.
_MODELS: dict[tuple[str, int], LoadedModel] = {}


def _cached_model(path: Path, phases: int | None, image_size: int | None) -> LoadedModel:
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _MODELS:
        _MODELS.clear()
        _MODELS[key] = load_model(path, phases=phases, image_size=image_size)
    return _MODELS[key]


def sample_task(job: dict[str, Any]) -> Volume:
    """One volume as a self-contained task (for a Dask worker): the model comes from its
    checkpoint file, loaded once per process."""
    model = _cached_model(Path(job["model_path"]), job["phases"], job["image_size"])
    cfg = GenerateSpec(**job["generate"])
    torch.set_num_threads(job.get("threads") or torch.get_num_threads())
    return next(iter_volumes(model, cfg, [job["index"]], job["fractions"], job["seed"]))


def sample_volumes(
    model: LoadedModel,
    count: int | None = None,
    generate: GenerateSpec | dict[str, Any] | None = None,
    fractions: list[float] | None = None,
    seed: int = 0,
    plugins: Registry | None = None,
    progress: bool = False,
    dataset: Dataset | None = None,
) -> list[Volume]:
    """Sample an ensemble of labelled 3D volumes in memory.

    Parameters
    ----------
    model
        A trained model (:func:`rvegen.train` or :func:`rvegen.load_model`).
    count
        Number of volumes (default ``generate.count``).
    generate
        The generate section (a :class:`~rvegen.spec.GenerateSpec` or a dict of its
        fields); defaults give rvegen's sampler.
    fractions
        The data's phase fractions (``Dataset.fractions``): the target of fraction
        guidance and the start mean. Without them those are off.
    seed
        Volume i uses the seed ``volume_seed(seed, i)``: the same as in a run folder.
    plugins
        Where the sampler and filters come from (default: the installed plugins).
    progress
        Show progress bars.
    dataset
        The training data (:func:`rvegen.ingest`): when it is a 3D stack trained on as a
        whole, ``auto`` settings are scored against its training part in 3D
        (:func:`auto_stack`; do not pass it if you validate against that same training
        part); otherwise, or without it, by the 2D self score.
        ``close_boundaries`` takes its grain density from its patches.

    Returns
    -------
    list of Volume
        (m, m, m) uint8 labels in (z, y, x) order, with seed, evaluations and seconds.
    """
    cfg = generate if isinstance(generate, GenerateSpec) else GenerateSpec(**(generate or {}))
    count = cfg.count if count is None else count
    cfg = resolve_grain_density(cfg, dataset)
    cfg, _ = resolve_auto(model, cfg.model_copy(update={"count": count}), fractions, seed,
                          plugins, stack=auto_stack(dataset))
    return list(iter_volumes(model, cfg, list(range(count)), fractions, seed, None, plugins,
                             progress))


def sample_images(
    model: LoadedModel, count: int, generate: GenerateSpec | dict[str, Any] | None = None,
    fractions: list[float] | None = None, seed: int = 0, guided: bool = False,
) -> np.ndarray:
    """``count`` 2D samples of the model alone (no planes), labelled: the 2D ceiling.

    Same schedule, step count, method and start as the volumes (``generate``, a spec
    section or a dict of its fields); without cross-slice pooling, which only exists in
    3D. ``guided``: with fraction guidance on every group of m images (a volume's worth of
    slices), so that they hold the data's fractions as guided volumes do (the target of
    the reference-free score; needs ``fractions``). Returns (count, m, m) uint8 labels.
    """
    cfg = generate if isinstance(generate, GenerateSpec) else GenerateSpec(**(generate or {}))
    if cfg.method == "auto":  # the choice concerns the 3D coupling; 2D samples: the DDPM step
        cfg = cfg.model_copy(update=AUTO_METHODS["ddpm"])
    guidance = None
    if guided and fractions is not None:
        # 2D samples: no pooling, no harmonizing repeats (so 'auto' needs no choosing)
        plain = cfg.model_copy(update={"pool_sigma": 0.0, "harmonizing_steps": 1,
                                       "fraction_guidance": True})
        guidance = sampler_settings(plain, model.phases, fractions)
    device = pick_device(cfg.device, "generate.device")
    size = cfg.size or model.image_size
    generator = torch.Generator().manual_seed(volume_seed(seed, IMAGES_SEED) % 2**63)
    mean = (data_mean(model.phases, fractions, model.channels) if cfg.start_from_data_mean
            else None)
    if hasattr(model.net, "set_periodic"):
        model.net.set_periodic(False)
    net = model.net.to(device)
    # anisotropic models: an equal share of the images from each plane family's network
    nets = plane_networks(net) or [net]
    shares = [count // len(nets) + (i < count % len(nets)) for i in range(len(nets))]
    x = torch.cat([
        sample_images_2d(n, model.schedule, model.channels, size, k, cfg.steps, cfg.method,
                         cfg.eta, generator, device, mean, cfg.batch_slices, guidance)
        for n, k in zip(nets, shares) if k
    ])
    return model_to_labels(x, model.phases, 1, model.encoding).numpy()


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
    plugins: Registry | None = None,
    mapper: Callable[..., Any] | None = None,
    stack: Dataset | None = None,
    scoring: dict[str, Any] | None = None,
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
        Show progress (ensemble and steps).
    fresh
        Discard finished volumes and sample all of them again.
    plugins
        Where the sampler and filters come from.
    mapper
        ``mapper(fn, items)`` running the per-volume tasks elsewhere (a Dask client; the
        workers use their installed plugins); None samples here, one after another.
    stack
        3D training data that scores ``auto`` settings (:func:`auto_stack`); None: the
        2D self score.
    scoring
        How ``auto`` scores, as validation does: the spec's ``validate.metric_options``
        and ``phase_of_interest`` (:class:`AutoTrials`).
    """
    model = load_model(model_path, phases=phases, image_size=image_size)
    size = cfg.size or model.image_size
    done = set() if fresh else finished(out_path, fingerprint)
    attrs = {"phases": model.phases, "size": size, **(root_attrs or {})}
    todo = [i for i in range(cfg.count) if volume_name(i) not in done]
    asked = cfg  # the 2D ceiling below does not depend on what 'auto' chooses
    if todo:  # 'auto' is chosen from trial volumes of its own (deterministic per seed)
        cfg, chosen = resolve_auto(model, cfg, fractions, seed, plugins, progress, stack,
                                   scoring)
        for field, record in chosen.items():  # e.g. the root attribute "pool_sigma_auto"
            attrs[f"{field}_auto"] = json.dumps(record)
    if not todo:  # every volume there (e.g. resumed in the 2D ceiling): nothing to sample
        produced: Iterable[Volume] = []
    elif mapper is None:
        produced = iter_volumes(model, cfg, todo, fractions, seed, None, plugins, progress)
    else:
        jobs = [{"model_path": str(model_path), "phases": phases, "image_size": image_size,
                 "generate": cfg.model_dump(), "index": i, "fractions": fractions,
                 "seed": seed, "threads": torch.get_num_threads()} for i in todo]
        produced = mapper(sample_task, jobs)
    with progress_bar(cfg.count, "volumes", "vol", progress, initial=cfg.count - len(todo)) as bar:
        for vol in produced:  # each on disk as soon as it exists (resumable)
            append_volume(out_path, vol, fingerprint, attrs)
            bar.update(1)
    wanted = cfg.count * size
    if cfg.ceiling_2d and (fresh or "images_2d" not in done
                           or len(read_images(out_path)) != wanted):
        images = sample_images(model, wanted, asked, fractions, seed)
        write_images(out_path, images, fingerprint, attrs)
    return out_path
