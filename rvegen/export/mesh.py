"""The voxel hex mesh every writer shares.

Arrays are (z, y, x); coordinates are (x, y, z). This is the one place where the two are
mapped onto each other. Node (i, j, k) (x, y, z indices) has 0-based id
``k * (ny + 1) * (nx + 1) + j * (nx + 1) + i``; voxel (k, j, i) becomes one 8-node hex
in Abaqus C3D8 / VTK_HEXAHEDRON order (bottom face counter-clockwise seen from +z, then the
top face), and elements follow the array's C order (x fastest), as VTK cell data does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class VoxelMesh:
    """Nodes, hexahedra and per-element phase of a voxel volume.

    Attributes
    ----------
    nodes
        (N, 3) float64 coordinates (x, y, z) in physical units.
    hexes
        (E, 8) int64 0-based node ids per element.
    phase
        (E,) element phase labels.
    shape
        (nz, ny, nx) voxel counts.
    """

    nodes: np.ndarray
    hexes: np.ndarray
    phase: np.ndarray
    shape: tuple[int, int, int]

    def node_index(self, i: np.ndarray, j: np.ndarray, k: np.ndarray) -> np.ndarray:
        """0-based id of node (i, j, k) (x, y, z grid indices)."""
        nz, ny, nx = self.shape
        return (k * (ny + 1) + j) * (nx + 1) + i

    def face_nodes(self) -> dict[str, np.ndarray]:
        """0-based node ids on each of the six faces X0, X1, Y0, Y1, Z0, Z1."""
        nz, ny, nx = self.shape
        k, j, i = np.meshgrid(
            np.arange(nz + 1), np.arange(ny + 1), np.arange(nx + 1), indexing="ij"
        )
        ids = self.node_index(i, j, k)
        return {
            "X0": ids[:, :, 0].ravel(), "X1": ids[:, :, -1].ravel(),
            "Y0": ids[:, 0, :].ravel(), "Y1": ids[:, -1, :].ravel(),
            "Z0": ids[0].ravel(), "Z1": ids[-1].ravel(),
        }


def voxel_mesh(
    labels: np.ndarray, voxel_size: float = 1.0, origin: tuple[float, float, float] = (0, 0, 0)
) -> VoxelMesh:
    """Build the hex mesh of a (z, y, x) label volume.

    Parameters
    ----------
    labels
        3D integer phase labels.
    voxel_size
        Edge of one voxel in physical units.
    origin
        (x, y, z) of the corner node 0.
    """
    if labels.ndim != 3:
        raise ValueError(f"expected a 3D volume, got shape {labels.shape}")
    nz, ny, nx = labels.shape
    z, y, x = np.meshgrid(
        np.arange(nz + 1), np.arange(ny + 1), np.arange(nx + 1), indexing="ij"
    )
    nodes = np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1) * float(voxel_size)
    nodes = nodes + np.asarray(origin, dtype=np.float64)
    k, j, i = (a.ravel() for a in np.meshgrid(
        np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij"))
    sy, sz = nx + 1, (nx + 1) * (ny + 1)
    n1 = k * sz + j * sy + i
    bottom = np.stack([n1, n1 + 1, n1 + 1 + sy, n1 + sy], axis=1)
    hexes = np.concatenate([bottom, bottom + sz], axis=1).astype(np.int64)
    mesh = VoxelMesh(nodes, hexes, labels.ravel().copy(), (nz, ny, nx))
    return mesh
