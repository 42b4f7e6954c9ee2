"""`build`: run the stages into one run directory, skipping the ones that are up to date.

This module only knows the run directory, the fingerprints and the order of the stages;
each stage's work lives in its own module (data, training, generate, validation, export)
and takes its implementations from the plugin registry, which is built and checked here,
once, before the first stage runs.

A stage is up to date when its fingerprint (a hash of what changes its result: its spec
fields and the content of the upstream data) equals the one recorded in ``state.json``
when it last finished, and its outputs are readable. Metadata (unit, voxel size, plot
and export settings) never forces training or sampling again. Run directory layout::

    dataset.h5     ingest: patches and labelled source
    model/         train: checkpoint.pt (resumable), model.pt (EMA), loss.csv, loss.png
    volumes.h5     generate: one dataset per volume, with provenance; the 2D ceiling images
    report.json    validate: errors, natural spread, verdicts, curves
    plots/         validate: curves.png, slices.png, render.png
    export/        export: .inp, .vti, .xdmf + .h5 per accepted volume
    homogenization.json, .csv   homogenize (when the spec has the section): effective
                   properties of the accepted volumes and of real sub-volumes
    state.json     fingerprints of finished stages

One build at a time per run directory: a second one exits naming the first one's PID.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ._version import __version__
from .atomic import write_text
from .data.dataset import Dataset, dataset_header, file_sha256, load_dataset, save_dataset
from .errors import InputError, RvegenError
from .plugins import Registry, registry as default_registry
from .spec import (AUTO_CANDIDATES, AUTO_PHASES_RULE, AUTO_RULE, AUTO_SELF_RULE, Spec,
                   identity_fields, load_spec)

STAGES = ("ingest", "train", "generate", "validate", "export", "homogenize")


def log(message: str) -> None:
    """Status line on stderr (stdout stays free for data)."""
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RunDir:
    """Paths inside a run directory."""

    root: Path

    @property
    def dataset(self) -> Path:
        return self.root / "dataset.h5"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def model(self) -> Path:
        return self.root / "model" / "model.pt"

    @property
    def volumes(self) -> Path:
        return self.root / "volumes.h5"

    @property
    def report(self) -> Path:
        return self.root / "report.json"

    @property
    def plots(self) -> Path:
        return self.root / "plots"

    @property
    def export(self) -> Path:
        return self.root / "export"

    @property
    def homogenization(self) -> Path:
        return self.root / "homogenization.json"

    @property
    def homogenization_partial(self) -> Path:
        return self.root / "homogenization.partial.json"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def lock(self) -> Path:
        return self.root / ".rvegen.lock"


@dataclass
class BuildResult:
    """What :func:`build` made.

    Attributes
    ----------
    run_dir
        The run directory.
    report
        report.json's content (None if validation did not run).
    accepted
        Names of the volumes that passed the gate.
    exported
        Files written by the export stage.
    ran
        Stages that ran (the others were up to date).
    homogenization
        homogenization.json's content (None without a homogenize section).
    """

    run_dir: Path
    report: dict[str, Any] | None
    accepted: list[str] = field(default_factory=list)
    exported: list[Path] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    homogenization: dict[str, Any] | None = None


def _sha(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _file_hash(path: Path, stage: str) -> str:
    if not path.exists():
        raise InputError(f"{path}: missing; run `rvegen {stage}` (or `rvegen build`) first")
    return file_sha256(path)


def _dataset_content(run: RunDir) -> str:
    """Hash of what training and validation read from dataset.h5 (not its metadata)."""
    if not run.dataset.exists():
        raise InputError(f"{run.dataset}: missing; run `rvegen ingest` (or `rvegen build`) first")
    return load_dataset(run.dataset).content_hash()


def _init_path(spec: Spec) -> Path | None:
    return spec.resolve(spec.train.init_from) if spec.train.init_from else None


def train_identity(spec: Spec, run: RunDir) -> str:
    """What makes a training run resumable: everything but its length and device."""
    train = spec.train.model_dump(exclude={"steps", "checkpoint_every", "snapshot_steps",
                                           "device"})
    init = _init_path(spec)
    return _sha(
        spec.section_hash("model"), json.dumps(train, sort_keys=True), _dataset_content(run),
        file_sha256(init) if init and init.exists() else "",
    )


def _auto_on_stack(spec: Spec, run: RunDir) -> bool:
    """Whether 'auto' settings are scored against the training stack (3D) rather than by
    the 2D self score (rvegen.generate.auto_stack), from the ingested dataset's header
    (no dataset yet: not on a stack)."""
    from .generate import scores_on_stack

    if not run.dataset.is_file():
        return False
    header = dataset_header(run.dataset)
    return scores_on_stack(str(header.get("kind", "")), "train_slice" in header,
                           header["holdout"], spec.validate_.reference)


def auto_scoring(spec: Spec) -> dict[str, Any]:
    """The spec's validate fields that say how 'auto' scores its trials, as validation
    scores the volumes (rvegen.generate.AutoTrials): metric options and the phase of
    interest, where the spec sets them."""
    v = spec.validate_
    scoring: dict[str, Any] = {}
    if v.metric_options:
        scoring["metric_options"] = v.metric_options
    if v.phase_of_interest is not None:
        scoring["phase_of_interest"] = v.phase_of_interest
    return scoring


def volumes_identity(spec: Spec, run: RunDir) -> str:
    """What makes finished volumes reusable: the model and every setting but their count."""
    from .generate import reference_is_training

    settings = identity_fields(
        "generate", spec.generate.model_dump(exclude={"count", "device", "batch_slices",
                                                      "auto_trials"}))  # in 'auto' below
    # an 'auto' setting is what its rule decides, so the rule is part of the identity, and
    # so is what it scores against (rvegen.generate.auto_stack: a stack's training part
    # unless it is the validation reference or the model saw one slice of it)
    target = [reference_is_training(spec.validate_.reference, bool(spec.data.holdout)),
              spec.data.train_slice is not None]
    rule = AUTO_RULE if _auto_on_stack(spec, run) else [AUTO_RULE, AUTO_SELF_RULE]
    if spec.data.phases > 2:  # their score sums every phase (rvegen.validation.report)
        rule = [rule, AUTO_PHASES_RULE]
    scoring = auto_scoring(spec)  # how the trials are scored, where the spec says
    for field, candidates in AUTO_CANDIDATES.items():
        if settings.get(field) == "auto":
            settings[field] = {"auto": [rule, list(candidates), spec.generate.auto_trials,
                                        target]
                               + ([scoring] if scoring else [])}
    if settings.get("close_boundaries"):  # the closure's rule, as the auto rules above
        from .boundaries import CLOSURE_RULE

        settings["close_boundaries"] = CLOSURE_RULE
    return _sha(json.dumps(settings, sort_keys=True), str(spec.seed),
                _file_hash(run.model, "train"))


def fingerprint(spec: Spec, stage: str, run: RunDir) -> str:
    """Content hash of a stage's inputs (its spec fields and upstream data)."""
    if stage == "ingest":
        data = spec.data
        files = ({"data.source": data.source} if data.source is not None else
                 {f"data.sources.{p}": getattr(data.sources, p) for p in ("xy", "xz", "yz")}
                 if data.sources else {})
        if not files:  # synthetic: the section and seed say it all
            return spec.section_hash("data")
        from .data.readers import check_source

        sources = {field: spec.resolve(f) for field, f in files.items()}
        for field, source in sources.items():
            check_source(source, field)
        return _sha(spec.section_hash("data"), *(file_sha256(s) for s in sources.values()))
    if stage == "train":
        return _sha(train_identity(spec, run), str(spec.train.steps))
    if stage == "generate":
        return _sha(volumes_identity(spec, run), str(spec.generate.count))
    if stage == "validate":
        # the version too: validation is cheap to redo and its report's meaning moves with
        # rvegen (a report from an earlier version is redone, not kept)
        return _sha(spec.section_hash("validate"), _file_hash(run.volumes, "generate"),
                    _dataset_content(run), __version__)
    if stage == "export":
        return _sha(spec.section_hash("export", "data"), _file_hash(run.volumes, "generate"),
                    _file_hash(run.report, "validate"))
    if stage == "homogenize":
        return homogenize_identity(spec, run)
    raise ValueError(f"unknown stage {stage!r}")


def _verdicts(run: RunDir) -> str:
    """What homogenization reads from report.json: the accepted volumes and the phase of
    interest (re-validating with the same verdicts keeps the finite-element results)."""
    try:
        report = json.loads(_read_text(run.report))
        accepted = [v["name"] for v in report["volumes"] if v["accepted"]]
        poi = report["phase_of_interest"]
    except (ValueError, KeyError, TypeError) as err:
        raise InputError(f"{run.report}: not a readable report ({err}); run `rvegen validate "
                         "--force`") from None
    return json.dumps({"accepted": accepted, "phase_of_interest": poi})


def homogenize_identity(spec: Spec, run: RunDir) -> str:
    """What makes homogenization results reusable (also per volume, on resume)."""
    section = spec.homogenize.model_dump(exclude={"workers"}) if spec.homogenize else {}
    materials = [m.model_dump() for m in spec.export.materials or []]
    return _sha(json.dumps(section, sort_keys=True), json.dumps(materials), str(spec.seed),
                str(spec.data.voxel_size), _file_hash(run.volumes, "generate"),
                _verdicts(run), _dataset_content(run), spec.section_hash("validate"))


def _outputs_ok(run: RunDir, stage: str) -> bool:
    """Whether a stage's outputs exist and open (a damaged file means: run it again)."""
    try:
        if stage == "ingest":
            load_dataset(run.dataset)
        elif stage == "train":
            from .diffusion.checkpoint import read_checkpoint

            read_checkpoint(run.model)
        elif stage == "generate":
            from .volumes import read_volumes

            read_volumes(run.volumes)
        elif stage == "validate":
            json.loads(run.report.read_text())
        elif stage == "export":
            return run.export.is_dir()
        elif stage == "homogenize":
            json.loads(run.homogenization.read_text())
    except (RvegenError, OSError, ValueError):
        return False
    return True


def _read_state(run: RunDir) -> dict:
    try:
        return json.loads(run.state.read_text())
    except (OSError, ValueError):
        return {}


def _record(run: RunDir, stage: str, fp: str, seconds: float) -> None:
    state = _read_state(run)
    state[stage] = {"fingerprint": fp, "seconds": round(seconds, 2), "rvegen": __version__}
    write_text(run.state, json.dumps(state, indent=2))


# --- the stages -------------------------------------------------------------------------

def run_ingest(spec: Spec, run: RunDir, plugins: Registry, progress: bool, force: bool) -> None:
    from .data.ingest import ingest

    ds = ingest(spec.data, spec.resolve("."), spec.seed, plugins=plugins)
    save_dataset(ds, run.dataset)
    fractions = ", ".join(f"{v:.3f}" for v in ds.fractions)
    log(f"ingest: {ds.kind} {ds.source.shape} -> {len(ds.patches)} patches "
        f"{ds.patch_size}x{ds.patch_size}; phase fractions {fractions}")
    if "fractions_before_downscale" in ds.meta:
        before, after = (list(ds.meta[k]) for k in
                         ("fractions_before_downscale", "fractions_after_downscale"))
        shift = max(abs(a - b) / max(b, 1e-12) for a, b in zip(after, before))
        # a majority vote moves a minority phase by 4-21 % of its fraction (benchmarks/downscale.py)
        advice = ("; data.downscale_method 'fractions' keeps them"
                  if shift > 0.02 and spec.data.downscale_method == "majority" else "")
        log(f"ingest: downscale x{spec.data.downscale} ({spec.data.downscale_method}) moved the "
            f"phase fractions from {', '.join(f'{v:.3f}' for v in before)} to "
            f"{', '.join(f'{v:.3f}' for v in after)}{advice}")


def run_train(spec: Spec, run: RunDir, plugins: Registry, progress: bool, force: bool) -> None:
    from .training import train_to_folder

    ds = load_dataset(run.dataset)
    summary = train_to_folder(
        ds, spec.model, spec.train, run.model_dir, spec.seed,
        fingerprint=train_identity(spec, run), init_from=_init_path(spec), progress=progress,
        fresh=force, plugins=plugins)
    log(f"train: {summary}")


def run_generate(spec: Spec, run: RunDir, plugins: Registry, progress: bool, force: bool) -> None:
    from .generate import auto_stack, generate, resolve_grain_density
    from .volumes import read_volumes

    ds = load_dataset(run.dataset)
    cfg = resolve_grain_density(spec.generate, ds)
    if cfg.close_boundaries:
        log(f"generate: closing boundary networks to {cfg.grain_density:.2f} grains per "
            "1000 px of section (the training patches')")
    with execution(spec) as mapper:
        generate(run.model, cfg, run.volumes, spec.seed, phases=ds.phases,
                 image_size=ds.patch_size, fingerprint=volumes_identity(spec, run),
                 fractions=ds.fractions, progress=progress, fresh=force, plugins=plugins,
                 mapper=mapper, stack=auto_stack(ds, spec.validate_.reference),
                 scoring=auto_scoring(spec))
    vols, root = read_volumes(run.volumes)
    vols = [v for v in vols if v.name in _wanted(spec)]
    seconds = sum(float(v.attrs.get("seconds", 0.0)) for v in vols)
    evals = vols[0].attrs.get("evaluations", 0) if vols else 0
    log(f"generate: {len(vols)} volume(s) of {vols[0].labels.shape[0]}^3 in volumes.h5; "
        f"{evals:,} network evaluations and {seconds / max(len(vols), 1):.1f} s per volume")
    records = {field: json.loads(root[f"{field}_auto"]) for field in AUTO_CANDIDATES
               if f"{field}_auto" in root}
    if records:
        chosen = ", ".join(f"{field} {r['chosen']}" for field, r in records.items())
        score = next(iter(records.values())).get("score", "self S2 + L")
        log(f"generate: 'auto' chose {chosen} (by {score}; scores in volumes.h5)")


def reference_dataset(spec: Spec, ds: Dataset) -> Dataset:
    """``ds`` with the real data that ``validate.reference`` asks to compare with."""
    from dataclasses import replace

    from .validation.reference import fresh_realization

    choice = spec.validate_.reference
    if choice == "training":
        return replace(ds, holdout=None)
    if choice == "fresh":
        return fresh_realization(ds, spec.data, spec.resolve("."), spec.seed)
    return ds


def run_validate(spec: Spec, run: RunDir, plugins: Registry, progress: bool, force: bool) -> None:
    from .validation.plots import plot_curves, plot_slices
    from .validation.render import render_3d
    from .validation.report import validate, write_report
    from .volumes import read_images

    ds = reference_dataset(spec, load_dataset(run.dataset))
    vols = _current_volumes(spec, run)
    def on_volume(name: str, result: dict, labels: Any) -> None:
        plugins.hook.rvegen_on_volume_validated(name=name, result=result, labels=labels)

    with execution(spec) as mapper:
        report = validate(vols, ds, spec.validate_, spec.seed,
                          images_2d=read_images(run.volumes), plugins=plugins,
                          on_volume=on_volume, mapper=mapper)
    report.extra["spec_hash"] = spec.section_hash("data", "model", "train", "generate",
                                                  "validate")
    data = report.to_dict()
    run.plots.mkdir(parents=True, exist_ok=True)
    plot_curves(data, run.plots / "curves.png")
    plot_slices(vols[0].labels, ds.patches, run.plots / "slices.png",
                f"{vols[0].name} (seed {vols[0].attrs.get('seed')})")
    skipped = render_3d(vols[0].labels, run.plots / "render.png", report.phase_of_interest)
    report.extra["render"] = skipped or "plots/render.png"
    write_report(report, run.report)
    poi = report.phase_of_interest
    e, f = report.headline("ensemble"), report.headline("real_ensemble")
    log(f"validate: {report.accepted}/{len(vols)} volumes accepted; ensemble-mean error of "
        f"phase {poi}: S2 {e['s2']:.2f} %, L(z) {e['lineal_path']:.2f} %, |dvf| "
        f"{e['volume_fraction']:.4f} ({report.comparison})")
    log(f"validate: the same for {len(vols)} real samples (the floor): S2 {f['s2']:.2f} %, "
        f"L(z) {f['lineal_path']:.2f} %, |dvf| {f['volume_fraction']:.4f}")
    c = report.headline("ceiling_2d")
    if c:
        log(f"validate: the model's own 2D samples (the 2D ceiling): S2 {c['s2']:.2f} %, "
            f"L(z) {c['lineal_path']:.2f} %, |dvf| {c['volume_fraction']:.4f}")
    d = report.headline("training_patches")
    if d:
        log(f"validate: the training patches themselves (the data limit): S2 {d['s2']:.2f} %, "
            f"L(z) {d['lineal_path']:.2f} %, |dvf| {d['volume_fraction']:.4f}")
    if skipped:
        log(f"validate: {skipped}")


def run_export(spec: Spec, run: RunDir, plugins: Registry, progress: bool, force: bool) -> None:
    from .export.stage import export_volumes

    vols = _current_volumes(spec, run)
    report = json.loads(_read_text(run.report))
    accepted = {v["name"] for v in report["volumes"] if v["accepted"]}
    chosen = [v for v in vols if v.name in accepted] if spec.export.only_accepted else vols
    provenance = {"rvegen": __version__, "spec_hash": report.get("extra", {}).get("spec_hash", "")}
    written = export_volumes(chosen, run.export, spec.export, spec.data.voxel_size,
                             spec.data.unit, spec.data.phases, provenance, plugins=plugins,
                             progress=progress)
    if not chosen:
        log("export: no volume was accepted, nothing exported (see report.json; "
            "set export.only_accepted: false to export all)")
    else:
        log(f"export: {len(chosen)} volume(s) as {', '.join(spec.export.formats)}: "
            f"{len(written)} files in {run.export}")


def run_homogenize(spec: Spec, run: RunDir, plugins: Registry, progress: bool,
                   force: bool) -> None:
    from .homogenize.stage import (
        check_materials,
        homogenization_report,
        homogenize_volumes,
        real_volumes,
        write_outputs,
    )

    cfg = spec.homogenize
    materials = check_materials(spec.export.materials, spec.data.phases)
    report = json.loads(_read_text(run.report))
    accepted = {v["name"] for v in report["volumes"] if v["accepted"]}
    vols = [v for v in _current_volumes(spec, run) if v.name in accepted]
    vols = vols[:cfg.max_volumes] if cfg.max_volumes is not None else vols
    phase = cfg.transport_phase if cfg.transport_phase is not None else report["phase_of_interest"]
    identity = homogenize_identity(spec, run)
    partial = {} if force else _read_partial(run, identity)

    def keep(result: dict) -> None:  # every result is on disk as soon as it is known
        partial[result["name"]] = result
        write_text(run.homogenization_partial,
                   json.dumps({"identity": identity, "results": partial}, default=float))
        plugins.hook.rvegen_on_homogenized(name=result["name"], result=result)

    with execution(spec) as mapper:
        generated = homogenize_volumes(vols, materials, cfg, spec.data.voxel_size, phase,
                                       plugins, partial, keep, mapper, progress)
        ds = reference_dataset(spec, load_dataset(run.dataset))
        size = vols[0].labels.shape[0] if vols else (spec.generate.size or spec.data.patch_size)
        reals, note = real_volumes(ds, size, cfg.real_samples, spec.seed)
        real = homogenize_volumes(reals, materials, cfg, spec.data.voxel_size, phase, plugins,
                                  partial, keep, mapper, progress, desc="real") if reals else None
    out = homogenization_report(generated, real, cfg, materials, note)
    write_outputs(out, run.root, run.plots)
    run.homogenization_partial.unlink(missing_ok=True)
    stats = out["generated"]["statistics"]
    if generated:
        line = (f"homogenize: {len(generated)} RVE(s), E {stats['E']['mean']:.4g} "
                f"[{stats['E']['ci'][0]:.4g}, {stats['E']['ci'][1]:.4g}], nu "
                f"{stats['nu']['mean']:.3f}")
        if real:
            r = out["real"]["statistics"]
            line += (f"; real: E {r['E']['mean']:.4g} [{r['E']['ci'][0]:.4g}, "
                     f"{r['E']['ci'][1]:.4g}], nu {r['nu']['mean']:.3f}")
        log(line + f"; {out['seconds_per_volume']:.1f} s per RVE")
    else:
        log("homogenize: no accepted volume to homogenize")


def _read_partial(run: RunDir, identity: str) -> dict:
    try:
        data = json.loads(run.homogenization_partial.read_text())
    except (OSError, ValueError):
        return {}
    return data.get("results", {}) if data.get("identity") == identity else {}


@contextlib.contextmanager
def execution(spec: Spec) -> Iterator[Callable | None]:
    """A ``mapper(fn, items)`` running per-volume work on the spec's backend (None: local)."""
    if spec.execution.backend == "local":
        yield None
        return
    from .execution import dask_mapper

    with dask_mapper(spec.execution) as mapper:
        yield mapper


def _wanted(spec: Spec) -> set[str]:
    from .volumes import volume_name

    return {volume_name(i) for i in range(spec.generate.count)}


def _current_volumes(spec: Spec, run: RunDir) -> list:
    """The spec's volumes (a file made for a larger count may hold more)."""
    from .volumes import read_volumes

    vols, _ = read_volumes(run.volumes)
    return [v for v in vols if v.name in _wanted(spec)]


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InputError(f"{path}: missing; run `rvegen validate` first")
    return path.read_text()


RUNNERS: dict[str, Callable[[Spec, RunDir, Registry, bool, bool], None]] = {
    "ingest": run_ingest, "train": run_train, "generate": run_generate,
    "validate": run_validate, "export": run_export, "homogenize": run_homogenize,
}


# --- checks before any stage runs -------------------------------------------------------

def preflight(spec: Spec, plugins: Registry, run: RunDir | None = None,
              stage: str | None = None) -> None:
    """Everything that can be checked before any stage runs, so that a mistake does not
    surface after an hour of training: every implementation and device the spec names,
    and the memory and disk that its sizes need. ``stage``: the one stage about to run
    (None: the whole build); the external solver is looked for only when homogenization
    is among them, so that e.g. ``rvegen ingest`` runs on a machine without CalculiX.

    Raises
    ------
    RvegenError
        Naming the first field at fault (and the estimate, for sizes).
    """
    from .device import pick_device
    from .errors import SpecError
    from .resources import check_memory

    data = spec.data
    if data.synthetic is not None:
        plugins.get("synthetic", data.synthetic.kind, "data.synthetic.kind")
    if data.reader != "auto":
        plugins.get("reader", data.reader, "data.reader")
    plugins.get("backbone", spec.model.backbone, "model.backbone")
    plugins.get("sampler", spec.generate.sampler, "generate.sampler")
    for name in spec.validate_.metrics:
        plugins.get("metric", name, "validate.metrics")
    for name in spec.export.formats:
        plugins.get("exporter", name, "export.formats")
    if spec.homogenize is not None:
        plugins.get("solver", spec.homogenize.solver, "homogenize.solver")
        if spec.homogenize.solver == "calculix" and stage in (None, "homogenize"):
            from .homogenize.calculix import find_ccx

            find_ccx()  # ccx missing: say so now, not after training
    pick_device(spec.train.device, "train.device")
    pick_device(spec.generate.device, "generate.device")
    init = _init_path(spec)
    if init is not None:
        from .diffusion.checkpoint import read_checkpoint

        read_checkpoint(init)  # missing, corrupt, unsafe or damaged: say so now

    from .diffusion.encoding import channels_for

    channels = channels_for(data.phases, spec.model.encoding)
    n = data.patch_size
    m = spec.generate.size or n
    # volume, predictions, noise and pooled copies in float32, plus one chunk of slices
    # through the network (~300 floats per pixel for the compact presets)
    generate_bytes = 12 * channels * m**3 * 4 + min(spec.generate.batch_slices, m) * m * m * 1200
    check_memory(generate_bytes, f"generate.size {m}: {m}^3 volumes of {channels} channel(s)",
                 SpecError, "lower generate.size or generate.batch_slices")
    check_memory(data.num_patches * n * n * 2 + spec.train.batch_size * n * n * 4 * 2000,
                 f"data.num_patches {data.num_patches} and train.batch_size "
                 f"{spec.train.batch_size} at {n}x{n}", SpecError,
                 "lower data.num_patches or train.batch_size")
    if run is not None:
        free = shutil.disk_usage(_existing_parent(run.root)).free
        needed = spec.generate.count * m**3 * 2  # uint8 volumes, written twice (atomic copy)
        if needed > free:
            raise SpecError(f"generate.count {spec.generate.count}: {m}^3 volumes need about "
                            f"{needed / 1024**3:.1f} GiB of disk in {run.root}, "
                            f"{free / 1024**3:.1f} GiB are free; lower generate.count")


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# --- the run folder ----------------------------------------------------------------------

@contextlib.contextmanager
def locked(run: RunDir) -> Iterator[None]:
    """Hold the run directory's lock; exit with a clear error if another run holds it."""
    from filelock import FileLock, Timeout

    try:
        run.root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"{run.root}: run_dir is a file, not a folder") from None
    except OSError as exc:
        raise InputError(f"{run.root}: cannot create the run folder ({exc.strerror})") from None
    if not os.access(run.root, os.W_OK):
        raise InputError(f"{run.root}: the run folder is not writable")
    lock = FileLock(run.lock)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _lock_holder(run)
        raise InputError(
            f"{run.root}: another rvegen run{holder} is using this run folder; wait for "
            "it to finish or use another run_dir"
        ) from None
    pid_file = run.root / ".rvegen.pid"
    try:
        pid_file.write_text(str(os.getpid()))
        _clean_stale(run)
        yield
    finally:
        pid_file.unlink(missing_ok=True)
        lock.release()


def _lock_holder(run: RunDir) -> str:
    try:
        return f" (PID {int((run.root / '.rvegen.pid').read_text())})"
    except (OSError, ValueError):
        return ""


def _clean_stale(run: RunDir) -> None:
    """Remove what a killed run left: temporary export folders and temporary files.

    Safe: we hold the lock, so nothing else is writing here.
    """
    for path in run.root.glob(".export.*"):
        shutil.rmtree(path, ignore_errors=True)
    for folder in (run.root, run.model_dir, run.plots):
        for path in folder.glob(".*.tmp*"):
            if path.is_file():
                path.unlink(missing_ok=True)


def run_stage(spec: Spec, stage: str, force: bool = False, progress: bool = True,
              run_dir: Path | None = None, plugins: Registry | None = None) -> bool:
    """Run one stage unless it is up to date. Returns True when it ran."""
    plugins = plugins or default_registry()
    run = RunDir(run_dir or spec.run_path)
    preflight(spec, plugins, run, stage)
    with locked(run):
        return _run_stage(spec, stage, run, plugins, force, progress)


def _run_stage(spec: Spec, stage: str, run: RunDir, plugins: Registry, force: bool,
               progress: bool) -> bool:
    if stage == "homogenize" and spec.homogenize is None:
        from .errors import SpecError

        raise SpecError(f"{spec.name}: homogenize: the spec has no homogenize section")
    fp = fingerprint(spec, stage, run)
    recorded = _read_state(run).get(stage, {}).get("fingerprint")
    if not force and recorded == fp and _outputs_ok(run, stage):
        log(f"{stage}: up to date, skipped (--force reruns it)")
        return False
    start = time.perf_counter()
    RUNNERS[stage](spec, run, plugins, progress, force)
    _record(run, stage, fp, time.perf_counter() - start)
    return True


def build(spec: Spec | str | Path, force: bool = False, progress: bool = True,
          run_dir: Path | None = None, plugins: Registry | None = None) -> BuildResult:
    """Run every stage in order into the run directory.

    Parameters
    ----------
    spec
        A validated :class:`~rvegen.spec.Spec` or the path of a YAML spec.
    force
        Rerun every stage even when up to date.
    progress
        Show progress.
    run_dir
        Override of ``spec.run_dir``.
    plugins
        The implementations to use (default: the installed plugins).

    Returns
    -------
    BuildResult
        Run directory, report, accepted volumes, exported files, stages that ran.
    """
    spec = spec if isinstance(spec, Spec) else load_spec(spec)
    plugins = plugins or default_registry()
    run = RunDir(run_dir or spec.run_path)
    preflight(spec, plugins, run)
    ran = []
    with locked(run):
        for stage in STAGES:
            if stage == "homogenize" and spec.homogenize is None:
                continue
            if _run_stage(spec, stage, run, plugins, force, progress):
                ran.append(stage)
    report = json.loads(run.report.read_text()) if run.report.exists() else None
    accepted = [v["name"] for v in report["volumes"] if v["accepted"]] if report else []
    exported = sorted(p for p in run.export.rglob("*") if p.is_file()) if run.export.is_dir() else []
    homogenization = (json.loads(run.homogenization.read_text())
                      if spec.homogenize is not None and run.homogenization.exists() else None)
    return BuildResult(run.root, report, accepted, exported, ran, homogenization)
