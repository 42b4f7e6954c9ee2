"""rvegen plugin: export an RVE as a complete DAMASK_grid run.

The exporter ``damask_run`` writes, per volume, the DAMASK grid (rvegen's own ``damask``
exporter: ``<name>.damask.vti``, cell array ``material`` = phase label, lengths in metres)
and beside it ``<name>.material.yaml`` (one isotropic linear-elastic phase per rvegen
phase, from ``export.materials``, in a single-crystal homogenization) and
``<name>.load.yaml`` (uniaxial tension along one axis, the other stresses zero), so that

    DAMASK_grid --geom NAME.damask.vti --material NAME.material.yaml --load NAME.load.yaml

runs the RVE as exported. Options (``export.options.damask_run``): ``axis`` (x, y or z;
default x), ``strain`` (0.01), ``increments`` (10), ``time`` (seconds, 10).

Only rvegen's public API is used: the hook marker, the registry (for the grid writer)
and RvegenError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import rvegen

__all__ = ["rvegen_exporters", "write_damask_run", "material_config", "load_case"]

AXES = {"x": 0, "y": 1, "z": 2}
DEFAULTS = {"axis": "x", "strain": 0.01, "increments": 10, "time": 10.0}


def hooke(youngs_modulus: float, poissons_ratio: float) -> dict[str, float]:
    """Isotropic Hooke's law as DAMASK's cubic stiffness (C_44 = (C_11 - C_12) / 2), Pa."""
    e, nu = float(youngs_modulus), float(poissons_ratio)
    lam = e * nu / ((1 + nu) * (1 - 2 * nu))
    mu = e / (2 * (1 + nu))
    return {"C_11": lam + 2 * mu, "C_12": lam, "C_44": mu}


def material_config(names: list[str], materials: list[tuple[float, float]]) -> dict[str, Any]:
    """material.yaml: material i (the grid's material id i) is phase ``names[i]``."""
    return {
        "homogenization": {"SX": {"N_constituents": 1, "mechanical": {"type": "pass"}}},
        "phase": {
            name: {"lattice": "cI",
                   "mechanical": {"output": ["F", "P"],
                                  "elastic": {"type": "Hooke", **hooke(e, nu)}}}
            for name, (e, nu) in zip(names, materials)
        },
        "material": [
            {"homogenization": "SX",
             "constituents": [{"phase": name, "v": 1.0, "O": [1.0, 0.0, 0.0, 0.0]}]}
            for name in names
        ],
    }


def load_case(axis: str, strain: float, increments: int, time: float) -> dict[str, Any]:
    """load.yaml: a constant strain rate along ``axis``, zero stress in the other normal
    directions, no rotation ('x' marks the components the solver is free to choose)."""
    i = AXES[axis]
    dot_f: list[list[Any]] = [["x"] * 3 for _ in range(3)]
    stress: list[list[Any]] = [["x"] * 3 for _ in range(3)]
    for j in range(3):
        for k in range(3):
            if j == k == i:
                dot_f[j][k] = strain / time
            elif j == k:
                stress[j][k] = 0.0
            elif j > k:  # the skew part of F is fixed: no rigid rotation
                dot_f[j][k] = 0.0
            else:
                stress[j][k] = 0.0
    return {
        "solver": {"mechanical": "spectral_basic"},
        "loadstep": [{
            "boundary_conditions": {"mechanical": {"dot_F": dot_f, "P": stress}},
            "discretization": {"t": float(time), "N": int(increments)},
            "f_out": int(increments),
        }],
    }


def write_damask_run(labels, ctx, stem: Path) -> list[Path]:  # noqa: ANN001
    """The grid, material.yaml and load.yaml of one volume (exporter contract)."""
    if not ctx.materials:
        raise rvegen.RvegenError("export.materials: the damask_run exporter needs one "
                                 "material (youngs_modulus, poissons_ratio) per phase")
    options = {**DEFAULTS, **ctx.options.get("damask_run", {})}
    if options["axis"] not in AXES:
        raise rvegen.RvegenError(f"export.options.damask_run.axis: x, y or z "
                                 f"(got {options['axis']!r})")
    grid = rvegen.build_registry().get("exporter", "damask")(labels, ctx, stem)
    # the grid's lengths are SI; so are the stiffnesses: E and G of the spec are taken in Pa
    material = stem.parent / f"{stem.name}.material.yaml"
    material.write_text(yaml.safe_dump(material_config(ctx.names(), ctx.materials),
                                       sort_keys=False))
    load = stem.parent / f"{stem.name}.load.yaml"
    load.write_text(yaml.safe_dump(load_case(options["axis"], float(options["strain"]),
                                             int(options["increments"]),
                                             float(options["time"])), sort_keys=False))
    return [*grid, material, load]


@rvegen.hookimpl
def rvegen_exporters() -> dict[str, Any]:
    """The ``damask_run`` exporter (``export.formats: [damask_run]``)."""
    return {"damask_run": write_damask_run}
