"""The exporters the registry offers, all with one signature.

``write(labels, ctx, stem) -> list[Path]`` writes files named ``stem`` + suffix and
returns them. The export stage runs writers in a temporary folder and renames the
finished folder into place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import abaqus, vtk, xdmf


@dataclass
class ExportContext:
    """What a writer needs besides the labels."""

    voxel_size: float = 1.0
    unit: str = "um"
    phases: int = 2
    phase_names: list[str] | None = None
    materials: list[tuple[float, float]] | None = None
    element_type: str = "C3D8"
    periodic_bc: bool = False
    load_cases: bool = False
    solver: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    #: options per exporter name (the spec's ``export.options``), for plugin exporters
    options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Phase names, default phase0, phase1, ..."""
        return self.phase_names or [f"phase{p}" for p in range(self.phases)]


def write_abaqus(labels: np.ndarray, ctx: ExportContext, stem: Path) -> list[Path]:
    """Abaqus / CalculiX deck (see :mod:`rvegen.export.abaqus`)."""
    path = abaqus.write_deck(
        stem.with_suffix(".inp"), labels, ctx.voxel_size, ctx.unit, ctx.names(),
        ctx.materials, ctx.element_type, ctx.periodic_bc, ctx.load_cases, ctx.solver,
        ctx.provenance,
    )
    return [path]


def write_vti(labels: np.ndarray, ctx: ExportContext, stem: Path) -> list[Path]:
    """VTK image data, cell field ``phase``."""
    return [vtk.write_vti(stem.with_suffix(".vti"), labels, ctx.voxel_size, ctx.unit)]


def write_vtu(labels: np.ndarray, ctx: ExportContext, stem: Path) -> list[Path]:
    """VTK unstructured hexahedra, cell field ``phase``."""
    return [vtk.write_vtu(stem.with_suffix(".vtu"), labels, ctx.voxel_size, ctx.unit)]


def write_damask(labels: np.ndarray, ctx: ExportContext, stem: Path) -> list[Path]:
    """DAMASK grid (``<stem>.damask.vti``), cell array ``material``, SI lengths."""
    path = stem.parent / f"{stem.name}.damask.vti"
    return [vtk.write_damask(path, labels, ctx.voxel_size, ctx.unit)]


def write_xdmf(labels: np.ndarray, ctx: ExportContext, stem: Path) -> list[Path]:
    """XDMF + HDF5 hexahedral mesh, cell data ``phase``."""
    return xdmf.write_xdmf(stem.with_suffix(".xdmf"), labels, ctx.voxel_size)


#: The built-in exporters by name.
WRITERS = {"abaqus": write_abaqus, "vti": write_vti, "vtu": write_vtu, "damask": write_damask,
           "xdmf": write_xdmf}
