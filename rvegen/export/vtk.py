"""VTK writers: .vti image data, .vtu unstructured hexahedra, DAMASK grid .vti."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SpecError
from .mesh import voxel_mesh

#: Metres per unit, for DAMASK (which wants SI lengths).
METRES = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "µm": 1e-6, "nm": 1e-9}


def image_data(labels: np.ndarray, spacing: float, name: str):  # noqa: ANN201
    """pyvista ImageData with one cell per voxel and the labels as cell field ``name``.

    Cells of VTK image data run x fastest, which is the C order of a (z, y, x) array.
    """
    import pyvista

    nz, ny, nx = labels.shape
    grid = pyvista.ImageData(dimensions=(nx + 1, ny + 1, nz + 1), spacing=(spacing,) * 3)
    grid.cell_data[name] = labels.ravel()
    return grid


def write_vti(path: Path, labels: np.ndarray, voxel_size: float, unit: str) -> Path:
    """ImageData (.vti) with uint8 cell field ``phase``; spacing = voxel size, origin 0."""
    grid = image_data(labels.astype(np.uint8), voxel_size, "phase")
    grid.field_data["unit"] = [unit]
    grid.save(path)
    return path


def write_vtu(path: Path, labels: np.ndarray, voxel_size: float, unit: str) -> Path:
    """Unstructured grid (.vtu) of the shared voxel hex mesh with cell field ``phase``."""
    import pyvista

    mesh = voxel_mesh(labels, voxel_size)
    cells = np.hstack([np.full((len(mesh.hexes), 1), 8), mesh.hexes]).ravel()
    types = np.full(len(mesh.hexes), pyvista.CellType.HEXAHEDRON, dtype=np.uint8)
    grid = pyvista.UnstructuredGrid(cells, types, mesh.nodes)
    grid.cell_data["phase"] = mesh.phase.astype(np.uint8)
    grid.field_data["unit"] = [unit]
    grid.save(path)
    return path


def write_damask(path: Path, labels: np.ndarray, voxel_size: float, unit: str) -> Path:
    """DAMASK grid geometry: .vti with int32 cell array ``material`` (0-based), in metres."""
    if unit not in METRES:
        raise SpecError(
            f"data.unit: DAMASK needs lengths in metres, and unit {unit!r} is not one of "
            f"{', '.join(METRES)}"
        )
    grid = image_data(labels.astype(np.int32), voxel_size * METRES[unit], "material")
    grid.save(path)
    return path
