"""`build`: run the stages into one run directory, skipping the ones that are up to date.

A stage is up to date when its fingerprint (the content hash of its spec sections and of
the upstream files it reads) equals the one recorded in ``state.json`` when it last
finished, and its outputs exist. Run directory layout::

    dataset.h5     ingest: patches and labelled source
    model/         train: checkpoint.pt (resumable), model.pt (EMA), loss.csv, loss.png
    volumes.h5     generate: one dataset per volume, with provenance
    report.json    validate: errors, natural spread, verdicts, curves
    plots/         validate: curves.png, slices.png
    export/        export: .inp, .vti, .xdmf + .h5 per accepted volume
    state.json     fingerprints of finished stages
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from . import __version__
from .atomic import write_text
from .errors import InputError
from .export.writers import ExportContext
from .ingest import Dataset, file_sha256, ingest, load_dataset, save_dataset
from .plugins import registry
from .spec import Spec
from .volumes import read_volumes, volume_name

STAGES = ("ingest", "train", "generate", "validate", "export")


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
    def state(self) -> Path:
        return self.root / "state.json"


def _sha(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _file_hash(path: Path, stage: str) -> str:
    if not path.exists():
        raise InputError(f"{path}: missing; run `rvegen {stage}` (or `rvegen build`) first")
    return file_sha256(path)


def _init_path(spec: Spec) -> Path | None:
    return spec.resolve(spec.train.init_from) if spec.train.init_from else None


def train_identity(spec: Spec, run: RunDir) -> str:
    """What makes a training run resumable: everything but its length and device."""
    train = spec.train.model_dump(exclude={"steps", "checkpoint_every", "snapshot_steps", "device"})
    init = _init_path(spec)
    return _sha(
        spec.section_hash("model"), json.dumps(train, sort_keys=True),
        _file_hash(run.dataset, "ingest"), file_sha256(init) if init and init.exists() else "",
    )


def volumes_identity(spec: Spec, run: RunDir) -> str:
    """What makes finished volumes reusable: the model and every setting but their count."""
    settings = spec.generate.model_dump(exclude={"count"})
    return _sha(json.dumps(settings, sort_keys=True), str(spec.seed),
                _file_hash(run.model, "train"))


def fingerprint(spec: Spec, stage: str, run: RunDir) -> str:
    """Content hash of a stage's inputs (its spec sections and upstream files)."""
    if stage == "ingest":
        if spec.data.source is None:  # synthetic: the section and seed say it all
            return spec.section_hash("data")
        source = spec.resolve(spec.data.source)
        if not source.exists():
            raise InputError(f"{source}: data.source file not found")
        return _sha(spec.section_hash("data"), file_sha256(source))
    if stage == "train":
        return _sha(train_identity(spec, run), str(spec.train.steps))
    if stage == "generate":
        return _sha(volumes_identity(spec, run), str(spec.generate.count))
    if stage == "validate":
        return _sha(
            spec.section_hash("validate"), _file_hash(run.volumes, "generate"),
            _file_hash(run.dataset, "ingest"),
        )
    if stage == "export":
        return _sha(
            spec.section_hash("export", "data"), _file_hash(run.volumes, "generate"),
            _file_hash(run.report, "validate"),
        )
    raise ValueError(f"unknown stage {stage!r}")


def _outputs(run: RunDir, stage: str) -> list[Path]:
    return {
        "ingest": [run.dataset], "train": [run.model], "generate": [run.volumes],
        "validate": [run.report], "export": [run.export],
    }[stage]


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

def run_ingest(spec: Spec, run: RunDir, progress: bool, force: bool) -> None:
    ds = ingest(spec.data, spec.resolve("."), spec.seed)
    save_dataset(ds, run.dataset)
    fractions = ", ".join(f"{v:.3f}" for v in ds.meta["volume_fractions"])
    log(f"ingest: {ds.kind} {ds.source.shape} -> {len(ds.patches)} patches "
        f"{ds.patch_size}x{ds.patch_size}; phase fractions {fractions}")


def run_train(spec: Spec, run: RunDir, progress: bool, force: bool) -> None:
    from .diffusion.training import train

    ds = load_dataset(run.dataset)
    train(ds, spec.model, spec.train, run.model_dir, spec.seed,
          fingerprint=train_identity(spec, run), init_from=_init_path(spec), progress=progress,
          fresh=force)


def run_generate(spec: Spec, run: RunDir, progress: bool, force: bool) -> None:
    from .generate import generate

    ds = load_dataset(run.dataset)
    generate(run.model, spec.generate, run.volumes, spec.seed, phases=ds.phases,
             image_size=ds.patch_size, fingerprint=volumes_identity(spec, run),
             fractions=list(ds.meta["volume_fractions"]),
             root_attrs={"voxel_size": ds.voxel_size, "unit": ds.unit}, progress=progress,
             fresh=force)


def reference_dataset(spec: Spec, ds: Dataset) -> Dataset:
    """``ds`` with the real data that ``validate.reference`` asks to compare with."""
    choice = spec.validate_.reference
    if choice == "training":
        return replace(ds, holdout=None)
    if choice == "fresh":
        # an independent realization: the same source and processing, another seed, and
        # 4x the slices (stacks) or images (2D), so that the reference is not itself noisy
        synthetic = spec.data.synthetic.model_copy(
            update={"shape": [4 * spec.data.synthetic.shape[0], *spec.data.synthetic.shape[1:]]})
        data = spec.data.model_copy(update={"synthetic": synthetic, "holdout": 0.0,
                                            "train_slice": None, "num_patches": 1})
        seed = int(np.random.SeedSequence([spec.seed, 1]).generate_state(1)[0])
        fresh = ingest(data, spec.resolve("."), seed).source
        meta = {**ds.meta, "reference_label": "fresh synthetic realization"}
        if ds.kind == "stack":
            return replace(ds, holdout=fresh, meta=meta)
        return replace(ds, source=fresh, meta=meta)
    return ds


def run_validate(spec: Spec, run: RunDir, progress: bool, force: bool) -> None:
    from .render import render_3d
    from .validate import validate, write_report
    from .viz import plot_curves, plot_slices

    ds = reference_dataset(spec, load_dataset(run.dataset))
    vols, _ = _current_volumes(spec, run)
    report = validate(ds, vols, spec.validate_, spec.seed)
    report["spec_hash"] = spec.section_hash("data", "model", "train", "generate", "validate")
    run.plots.mkdir(parents=True, exist_ok=True)
    plot_curves(report, run.plots / "curves.png")
    plot_slices(vols[0].labels, ds.patches, run.plots / "slices.png",
                f"{vols[0].name} (seed {vols[0].attrs.get('seed')})")
    skipped = render_3d(vols[0].labels, run.plots / "render.png", report["phases_of_interest"][0])
    report["render"] = skipped or "plots/render.png"
    write_report(report, run.report)
    e = report["ensemble"]["errors"]
    log(f"validate: {report['accepted']}/{len(vols)} volumes accepted; ensemble-mean error "
        f"S2 {e['s2']:.2f} %, L(z) {e['lineal_path']:.2f} %, |dvf| {e['volume_fraction']:.4f} "
        f"({report['comparison']})")
    f = report["real_ensemble"]["errors"]
    log(f"validate: the same for {len(vols)} real samples (the floor): S2 {f['s2']:.2f} %, "
        f"L(z) {f['lineal_path']:.2f} %, |dvf| {f['volume_fraction']:.4f}")
    if skipped:
        log(f"validate: {skipped}")


def run_export(spec: Spec, run: RunDir, progress: bool, force: bool) -> None:
    vols, root = _current_volumes(spec, run)
    report = json.loads(_read_text(run.report))
    accepted = {v["name"] for v in report["volumes"] if v["accepted"]}
    chosen = [v for v in vols if v.name in accepted] if spec.export.only_accepted else vols
    writers = {f: registry().get("exporter", f, "export.formats") for f in spec.export.formats}
    mats = spec.export.materials
    ctx = ExportContext(
        voxel_size=float(root.get("voxel_size", spec.data.voxel_size)),
        unit=str(root.get("unit", spec.data.unit)),
        phases=spec.data.phases,
        phase_names=spec.export.phase_names,
        materials=[(m.youngs_modulus, m.poissons_ratio) for m in mats] if mats else None,
        element_type=spec.export.element_type,
        periodic_bc=spec.export.periodic_bc,
        load_cases=spec.export.load_cases,
        solver=spec.export.solver,
        provenance={"rvegen": __version__, "spec_hash": report.get("spec_hash", "")},
    )
    # Write everything into a fresh folder, then swap it in: no stale or half files.
    run.root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export.", dir=run.root))
    try:
        for vol in chosen:
            ctx.provenance["seed"] = vol.attrs.get("seed")
            for write in writers.values():
                write(vol.labels, ctx, tmp / vol.name)
        old = run.root / ".export.old"
        if run.export.exists():
            shutil.rmtree(old, ignore_errors=True)
            run.export.rename(old)
        tmp.rename(run.export)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not chosen:
        log("export: no volume was accepted, nothing exported (see report.json; "
            "set export.only_accepted: false to export all)")
    else:
        log(f"export: {len(chosen)} volume(s) as {', '.join(writers)} -> {run.export}")


def _current_volumes(spec: Spec, run: RunDir) -> tuple[list, dict]:
    """The spec's volumes (a file made for a larger count may hold more)."""
    vols, root = read_volumes(run.volumes)
    wanted = {volume_name(i) for i in range(spec.generate.count)}
    return [v for v in vols if v.name in wanted], root


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise InputError(f"{path}: missing; run `rvegen validate` first")
    return path.read_text()


RUNNERS: dict[str, Callable[[Spec, RunDir, bool, bool], None]] = {
    "ingest": run_ingest, "train": run_train, "generate": run_generate,
    "validate": run_validate, "export": run_export,
}


def run_stage(spec: Spec, stage: str, force: bool = False, progress: bool = True,
              run_dir: Path | None = None) -> bool:
    """Run one stage unless it is up to date. Returns True when it ran."""
    run = RunDir(run_dir or spec.run_path)
    run.root.mkdir(parents=True, exist_ok=True)
    fp = fingerprint(spec, stage, run)
    recorded = _read_state(run).get(stage, {}).get("fingerprint")
    if not force and recorded == fp and all(p.exists() for p in _outputs(run, stage)):
        log(f"{stage}: up to date, skipped (--force reruns it)")
        return False
    start = time.perf_counter()
    RUNNERS[stage](spec, run, progress, force)
    _record(run, stage, fp, time.perf_counter() - start)
    return True


def build(spec: Spec, force: bool = False, progress: bool = True,
          run_dir: Path | None = None) -> RunDir:
    """Run every stage in order into the run directory; returns it.

    Parameters
    ----------
    spec
        A validated spec (see :func:`rvegen.spec.load_spec`).
    force
        Rerun every stage even when up to date.
    progress
        Show progress bars.
    run_dir
        Override of ``spec.run_dir``.
    """
    for stage in STAGES:
        run_stage(spec, stage, force=force, progress=progress, run_dir=run_dir)
    return RunDir(run_dir or spec.run_path)
