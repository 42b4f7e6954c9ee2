"""Stage 5: write volumes with every exporter the spec names, into one folder at once.

Everything is written into a fresh temporary folder beside the target, which then takes
the target's place: a reader never sees a half-written export, and a killed export
leaves only the temporary folder, which the next run removes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..atomic import default_mode
from ..errors import InputError
from ..plugins import Registry, registry as default_registry
from ..progress import progress_bar
from ..spec import ExportSpec
from ..volumes import Volume
from .writers import ExportContext


def export_context(cfg: ExportSpec, voxel_size: float, unit: str, phases: int,
                   provenance: dict[str, Any] | None = None) -> ExportContext:
    """What every writer needs besides the labels, from the export section and the data."""
    mats = cfg.materials
    return ExportContext(
        voxel_size=float(voxel_size),
        unit=str(unit),
        phases=phases,
        phase_names=cfg.phase_names,
        materials=[(m.youngs_modulus, m.poissons_ratio) for m in mats] if mats else None,
        element_type=cfg.element_type,
        periodic_bc=cfg.periodic_bc,
        load_cases=cfg.load_cases,
        solver=cfg.solver,
        provenance=dict(provenance or {}),
        options={k: dict(v) for k, v in cfg.options.items()},
    )


def export_volumes(
    volumes: list[Volume],
    out_dir: Path,
    cfg: ExportSpec | dict[str, Any] | None = None,
    voxel_size: float = 1.0,
    unit: str = "um",
    phases: int = 2,
    provenance: dict[str, Any] | None = None,
    plugins: Registry | None = None,
    progress: bool = False,
) -> list[Path]:
    """Write each volume in every format of ``cfg.formats`` into ``out_dir``.

    Parameters
    ----------
    volumes
        Labelled volumes (z, y, x).
    out_dir
        The export folder; replaced as a whole when the writing has succeeded.
    cfg
        The export section (an :class:`~rvegen.spec.ExportSpec` or a dict of its fields).
    voxel_size, unit
        Physical size of one voxel (the spec's ``data.voxel_size`` and ``data.unit``).
    phases
        Number of phases.
    provenance
        Written into file headers where a format has one.
    plugins
        Where exporters come from; ``rvegen_on_export`` fires per volume.
    progress
        Show progress.

    Returns
    -------
    list of pathlib.Path
        The files, at their final place.
    """
    cfg = cfg if isinstance(cfg, ExportSpec) else ExportSpec(**(cfg or {}))
    plugins = plugins or default_registry()
    writers = {f: plugins.get("exporter", f, "export.formats") for f in cfg.formats}
    ctx = export_context(cfg, voxel_size, unit, phases, provenance)
    out_dir = Path(out_dir)
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".export.", dir=parent))
        os.chmod(tmp, default_mode(0o777))  # mkdtemp makes 0700 folders
    except OSError as exc:
        raise InputError(f"{parent}: cannot write the export there ({exc.strerror})") from None
    written: list[Path] = []
    try:
        with progress_bar(len(volumes), "export", "vol", progress) as bar:
            for vol in volumes:
                ctx.provenance["seed"] = vol.attrs.get("seed")
                files = [p for write in writers.values() for p in write(vol.labels, ctx,
                                                                        tmp / vol.name)]
                plugins.hook.rvegen_on_export(name=vol.name, paths=files)
                written.extend(files)
                bar.update(1)
        old = parent / f".export.old.{out_dir.name}"
        if out_dir.exists():
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
        tmp.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [out_dir / p.relative_to(tmp) for p in written]
