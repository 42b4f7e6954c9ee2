"""Stage 6: effective properties of the accepted RVEs beside those of real sub-volumes.

Each volume is solved by the registered solver (CalculiX built in: the full 6x6 stiffness
from 21 strain cases); optionally its transport (effective diffusivity and tortuosity
factor per axis, taufactor). Real sub-volumes of the same size (the held-out part of a
stack, else the stack) are solved the same way, so that the report puts the generated
ensemble's mean, standard deviation and 95 % confidence interval beside the real one's.
2D data have no 3D real reference; the report says so. Volumes are solved several at once
(ccx is single-threaded) and each result is kept as soon as it is known, so that an
interrupted run resumes without solving a finished volume again.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..atomic import write_text
from ..data.dataset import Dataset
from ..errors import SpecError
from ..plugins import Registry, registry as default_registry
from ..progress import progress_bar
from ..spec import HomogenizeSpec
from ..volumes import Volume
from .tensors import properties, summary
from .transport import transport

#: Scalars compared between generated and real volumes in the report and the plot.
HEADLINE = ("C11", "C22", "C33", "C12", "C44", "C55", "C66", "E", "nu", "K", "G",
            "anisotropy_index")


def solve_one(volume: Volume, solver: Callable[..., Any], voxel_size: float,
              materials: list[tuple[float, float]], cfg: HomogenizeSpec, phase: int,
              scratch: Path) -> dict[str, Any]:
    """Stiffness (and transport) of one volume, with seconds."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"{volume.name}.", dir=scratch) as work:
        c = np.asarray(solver(volume.labels, voxel_size, materials, Path(work),
                              dict(cfg.options)), dtype=np.float64)
    result: dict[str, Any] = {"name": volume.name, "C": c.tolist(),
                              "seconds": time.perf_counter() - start, **properties(c)}
    if cfg.transport:
        t0 = time.perf_counter()
        result["transport"] = transport(volume.labels, phase)
        result["transport_seconds"] = time.perf_counter() - t0
    return result


def homogenize_volumes(
    volumes: list[Volume],
    materials: list[tuple[float, float]],
    cfg: HomogenizeSpec | dict[str, Any] | None = None,
    voxel_size: float = 1.0,
    phase: int = 0,
    plugins: Registry | None = None,
    done: dict[str, dict[str, Any]] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    mapper: Callable[..., Any] | None = None,
    progress: bool = False,
    desc: str = "homogenize",
) -> list[dict[str, Any]]:
    """Effective properties of each volume (results of ``done`` are reused by name).

    Parameters
    ----------
    volumes
        Labelled volumes (z, y, x).
    materials
        (E, nu) per phase.
    cfg
        The homogenize section (object or dict of its fields).
    voxel_size
        Edge of a voxel.
    phase
        Phase whose transport is computed (``cfg.transport``).
    plugins
        Where the solver comes from (default: the installed plugins).
    done
        Results already known, by volume name.
    on_result
        Called with each new result as soon as it is known (the pipeline keeps it).
    mapper
        ``mapper(fn, items)`` running ``fn`` on each item (e.g. a Dask client's map +
        gather); default: a pool of ``cfg.workers`` threads (ccx runs as a process).
    progress
        Show progress.

    Returns
    -------
    list of dict
        Per volume: C (6x6), C11 .. C66, E, nu, K, G, anisotropy_index, seconds,
        transport where asked.
    """
    cfg = cfg if isinstance(cfg, HomogenizeSpec) else HomogenizeSpec(**(cfg or {}))
    plugins = plugins or default_registry()
    solver = plugins.get("solver", cfg.solver, "homogenize.solver")
    done = dict(done or {})
    todo = [v for v in volumes if v.name not in done]
    with tempfile.TemporaryDirectory(prefix="rvegen-fe.") as scratch, \
            progress_bar(len(volumes), desc, "vol", progress, initial=len(volumes) - len(todo)) as bar:
        def one(vol: Volume) -> dict[str, Any]:
            return solve_one(vol, solver, voxel_size, materials, cfg, phase, Path(scratch))

        if mapper is not None:
            results = mapper(one, todo)
        else:
            workers = max(1, min(cfg.workers, len(todo))) if todo else 1
            with ThreadPoolExecutor(workers) as pool:
                results = pool.map(one, todo)
        for result in results:
            done[result["name"]] = result
            if on_result is not None:
                on_result(result)
            bar.update(1)
    return [done[v.name] for v in volumes]


def ensemble_statistics(results: list[dict[str, Any]], confidence: float) -> dict[str, Any]:
    """Mean, std and confidence interval of every headline scalar (and transport)."""
    out = {k: summary([r[k] for r in results], confidence) for k in HEADLINE}
    if results and "transport" in results[0]:
        out["transport"] = {
            axis: {k: summary([r["transport"][axis][k] for r in results], confidence)
                   for k in ("tau", "D_rel")} for axis in results[0]["transport"]}
    c = np.mean([r["C"] for r in results], axis=0) if results else None
    out["C_mean"] = c.tolist() if c is not None else None
    return out


def compare(generated: dict[str, Any], real: dict[str, Any] | None) -> dict[str, Any]:
    """Relative error (%) of the generated mean against the real mean, and whether the
    generated mean lies inside the real 95 % interval, per headline scalar."""
    if real is None:
        return {}
    out = {}
    for k in HEADLINE:
        g, r = generated[k]["mean"], real[k]["mean"]
        lo, hi = real[k]["ci"]
        out[k] = {"error_percent": float(100 * (g - r) / r) if r else float("nan"),
                  "inside_real_ci": bool(lo <= g <= hi)}
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    """One line per volume (generated and real): every scalar, the seconds."""
    keys = ["source", "name"] + [f"C{i + 1}{j + 1}" for i in range(6) for j in range(i, 6)] + [
        "E", "nu", "K", "G", "anisotropy_index", "seconds"]
    axes = sorted(rows[0]["transport"]) if rows and "transport" in rows[0] else []
    keys += [f"{q}_{a}" for a in axes for q in ("tau", "D_rel")]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(keys)
    for r in rows:
        flat = {**r, **{f"{q}_{a}": r["transport"][a][q] for a in axes for q in ("tau", "D_rel")}}
        writer.writerow([flat.get(k, "") if isinstance(flat.get(k), str) else
                         f"{flat[k]:.6g}" for k in keys])
    return buf.getvalue()


def check_materials(materials: Any, phases: int) -> list[tuple[float, float]]:
    """The export section's materials as (E, nu) pairs, or a clear error."""
    if not materials:
        raise SpecError("export.materials: homogenize needs one material (youngs_modulus, "
                        f"poissons_ratio) per phase ({phases})")
    return [(m.youngs_modulus, m.poissons_ratio) for m in materials]


def plot(report: dict[str, Any], path: Path) -> None:
    """Each headline scalar per generated volume, over the real mean and 95 % band."""
    from ..validation.plots import _pyplot, _save

    plt = _pyplot()
    keys = [k for k in ("C11", "C22", "C33", "C44", "C55", "C66", "E", "nu")]
    fig, axes = plt.subplots(2, 4, figsize=(12, 5.5))
    gen = report["generated"]["volumes"]
    real = report.get("real") or {}
    for ax, key in zip(axes.ravel(), keys):
        values = [r[key] for r in gen]
        ax.plot(range(len(values)), values, "o", ms=4, label="generated")
        if real.get("volumes"):
            stats = real["statistics"][key]
            ax.axhspan(*stats["ci"], color="C1", alpha=0.25, label="real mean, 95 % CI")
            ax.axhline(stats["mean"], color="C1")
            rv = [r[key] for r in real["volumes"]]
            ax.plot(np.linspace(0, max(len(values) - 1, 1), len(rv)), rv, "x", color="C1",
                    ms=4, label="real sub-volumes")
        ax.set_title(key, fontsize=10)
        ax.set_xticks([])
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"effective properties per volume ({report['units']})", fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def homogenization_report(generated: list[dict[str, Any]], real: list[dict[str, Any]] | None,
                          cfg: HomogenizeSpec, materials: list[tuple[float, float]],
                          real_note: str) -> dict[str, Any]:
    """homogenization.json's content."""
    solved = generated + (real or [])
    gen_stats = ensemble_statistics(generated, cfg.confidence)
    real_stats = ensemble_statistics(real, cfg.confidence) if real else None
    return {
        "solver": cfg.solver,
        "options": dict(cfg.options),
        "units": "stiffness in the units of export.materials' youngs_modulus",
        "materials": [{"youngs_modulus": e, "poissons_ratio": nu} for e, nu in materials],
        "confidence": cfg.confidence,
        "generated": {"volumes": generated, "statistics": gen_stats},
        "real": {"volumes": real, "statistics": real_stats, "source": real_note}
        if real else {"volumes": [], "statistics": None, "source": real_note},
        "comparison": compare(gen_stats, real_stats),
        # every solve counts: generated and real RVEs of one size cost the same
        "seconds_per_volume": float(np.median([r["seconds"] for r in solved]))
        if solved else None,
    }


def write_outputs(report: dict[str, Any], out_dir: Path, plots: Path) -> None:
    """homogenization.json, homogenization.csv, plots/homogenization.png (atomic)."""
    rows = [{"source": "generated", **r} for r in report["generated"]["volumes"]]
    rows += [{"source": "real", **r} for r in report["real"]["volumes"]]
    write_text(out_dir / "homogenization.json", json.dumps(report, indent=2, default=float))
    write_text(out_dir / "homogenization.csv", to_csv(rows))
    if report["generated"]["volumes"]:
        plot(report, plots / "homogenization.png")


def real_volumes(dataset: Dataset, size: int, count: int, seed: int) -> tuple[list[Volume], str]:
    """Real sub-volumes of the generated size (stacks), or none with the reason (2D data)."""
    if dataset.kind != "stack" or count == 0:
        why = ("2D data: no 3D real reference exists" if dataset.kind != "stack"
               else "homogenize.real_samples is 0")
        return [], why
    from ..validation.reference import real_samples

    rng = np.random.default_rng([seed, 6])
    samples, where = real_samples(dataset, size, count, rng)
    return [Volume(f"real_{i:03d}", s) for i, s in enumerate(samples)], where
