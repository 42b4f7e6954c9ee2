"""Writers of one volume to one format: Abaqus/CalculiX .inp, VTK .vti, XDMF + HDF5.

A writer has the signature ``write(labels, ctx, stem) -> list[Path]``: it writes files
named ``stem`` + its suffix(es) and returns them. The export stage runs writers in a
temporary folder and renames the finished files into place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .mesh import voxel_mesh

Writer = Callable[[np.ndarray, "ExportContext"], list[Path]]

#: Properties written where the spec gives no material (clearly marked in the file).
PLACEHOLDER = (1.0, 0.3)


@dataclass
class ExportContext:
    """What a writer needs besides the labels."""

    voxel_size: float = 1.0
    unit: str = "um"
    phases: int = 2
    phase_names: list[str] | None = None
    materials: list[tuple[float, float]] | None = None
    element_type: str = "C3D8"
    provenance: dict[str, Any] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Phase names, default phase0, phase1, ..."""
        return self.phase_names or [f"phase{p}" for p in range(self.phases)]


def _rows(fh, fmt: str, columns: list[np.ndarray]) -> None:  # noqa: ANN001
    """Write rows of numbers fast: one format string applied to the stacked columns."""
    table = np.column_stack(columns)
    fh.write((fmt * len(table)) % tuple(table.ravel()))


def write_abaqus(labels: np.ndarray, ctx: ExportContext, stem: Path) -> list[Path]:
    """Abaqus / CalculiX input deck of the voxel mesh, one element set per phase.

    Holds nodes, elements (``ctx.element_type``), one ELSET, material and solid section
    per phase, and node sets for the six faces (X0, X1, Y0, Y1, Z0, Z1). Analysis steps and
    boundary conditions are left to the user.
    """
    path = stem.with_suffix(".inp")
    mesh = voxel_mesh(labels, ctx.voxel_size)
    names = ctx.names()
    ids = np.arange(1, len(mesh.hexes) + 1)
    with open(path, "w") as fh:
        fh.write("*HEADING\nrvegen voxel RVE\n")
        fh.write(f"** units: length in {ctx.unit} (voxel size {ctx.voxel_size:g} {ctx.unit})\n")
        for key, value in ctx.provenance.items():
            fh.write(f"** {key}: {value}\n")
        fh.write("*NODE, NSET=ALLNODES\n")
        node_ids = np.arange(1, len(mesh.nodes) + 1)
        _rows(fh, "%d, %.9g, %.9g, %.9g\n", [node_ids, *mesh.nodes.T])
        for p, name in enumerate(names):
            sel = mesh.phase == p
            if not sel.any():
                fh.write(f"** phase {name}: no voxels in this volume\n")
                continue
            fh.write(f"*ELEMENT, TYPE={ctx.element_type}, ELSET={name}\n")
            _rows(fh, "%d" + ", %d" * 8 + "\n", [ids[sel], *(mesh.hexes[sel] + 1).T])
        for face, nodes in mesh.face_nodes().items():
            fh.write(f"*NSET, NSET={face}\n")
            node_list = np.sort(nodes) + 1
            for start in range(0, len(node_list), 16):
                fh.write(", ".join(map(str, node_list[start : start + 16])) + "\n")
        for p, name in enumerate(names):
            if not (mesh.phase == p).any():
                continue
            if ctx.materials:
                e, nu = ctx.materials[p]
                note = ""
            else:
                e, nu = PLACEHOLDER
                note = "** PLACEHOLDER properties: set export.materials in the spec\n"
            fh.write(f"*MATERIAL, NAME=MAT_{name}\n{note}*ELASTIC\n{e:.9g}, {nu:.9g}\n")
            fh.write(f"*SOLID SECTION, ELSET={name}, MATERIAL=MAT_{name}\n\n")
    return [path]


def write_vti(labels: np.ndarray, ctx: ExportContext, stem: Path) -> list[Path]:
    """VTK ImageData (.vti): cell field ``phase``, spacing = voxel size, origin 0."""
    import pyvista

    path = stem.with_suffix(".vti")
    nz, ny, nx = labels.shape
    grid = pyvista.ImageData(
        dimensions=(nx + 1, ny + 1, nz + 1), spacing=(ctx.voxel_size,) * 3, origin=(0, 0, 0)
    )
    grid.cell_data["phase"] = labels.ravel().astype(np.uint8)  # C order of (z, y, x): x fastest
    grid.field_data["unit"] = [ctx.unit]
    grid.save(path)
    return [path]


def write_xdmf(labels: np.ndarray, ctx: ExportContext, stem: Path) -> list[Path]:
    """XDMF + HDF5 hexahedral mesh with cell data ``phase`` (ParaView, FEniCS)."""
    import meshio

    path = stem.with_suffix(".xdmf")
    mesh = voxel_mesh(labels, ctx.voxel_size)
    out = meshio.Mesh(
        mesh.nodes, [("hexahedron", mesh.hexes)], cell_data={"phase": [mesh.phase.astype(np.int32)]}
    )
    meshio.write(path, out, file_format="xdmf")
    return [path, stem.with_suffix(".h5")]


def register(reg) -> None:  # noqa: ANN001
    """Register the built-in exporters."""
    reg.register("exporter", "abaqus", write_abaqus)
    reg.register("exporter", "vti", write_vti)
    reg.register("exporter", "xdmf", write_xdmf)
