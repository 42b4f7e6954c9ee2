"""XDMF + HDF5 writer (ParaView, FEniCS) of the shared voxel hex mesh."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .mesh import voxel_mesh


def write_xdmf(path: Path, labels: np.ndarray, voxel_size: float) -> list[Path]:
    """Hexahedral mesh with int32 cell data ``phase``; meshio writes ``path`` and a .h5."""
    import meshio

    mesh = voxel_mesh(labels, voxel_size)
    out = meshio.Mesh(
        mesh.nodes, [("hexahedron", mesh.hexes)],
        cell_data={"phase": [mesh.phase.astype(np.int32)]},
    )
    meshio.write(path, out, file_format="xdmf")
    return [path, path.with_suffix(".h5")]
