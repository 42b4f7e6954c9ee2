"""Abaqus / CalculiX input deck of a voxel RVE (our own writer, numpy-vectorised).

meshio's Abaqus writer is not used: it emits TYPE=C3D8RH, which CalculiX rejects, drops
cell data, and takes 32 s and 263 MB for a 128^3 volume.

The deck holds: nodes in physical units; one element set per phase (C3D8 by default);
``EALL``; a material (isotropic elastic) and a solid section per phase; node sets for the
six faces, twelve edges and eight corners. Optionally:

* periodic boundary conditions: every node on a max face (x = Lx, y = Ly or z = Lz) is
  tied to its periodic image on the min faces through three reference nodes RPX, RPY,
  RPZ, ``u(node) - u(image) - sum_a b_a u(RP_a) = 0`` with b_a = 1 where the node lies on
  the max face of axis a. Faces, edges and corners follow from this one rule; each
  dependent DOF appears in exactly one equation and no master is itself dependent, so
  nothing is over-constrained. ``u(RP_a) = L_a H e_a`` carries the macroscopic
  displacement gradient H. Node C_X0Y0Z0 is fixed against rigid-body translation.
* six load cases (steps) of unit macroscopic strain, exx, eyy, ezz, gxy, gxz, gyz
  (engineering shears), each printing the total strain energy U of EALL to the .dat file,
  so that the diagonal stiffness is C_ii = 2 U / V.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import numpy as np

from .mesh import VoxelMesh, voxel_mesh

#: Unit strain cases: name -> symmetric displacement gradient H (engineering shear = 1).
LOAD_CASES: dict[str, np.ndarray] = {}
for _name, (_i, _j) in {"exx": (0, 0), "eyy": (1, 1), "ezz": (2, 2),
                        "gxy": (0, 1), "gxz": (0, 2), "gyz": (1, 2)}.items():
    _h = np.zeros((3, 3))
    _h[_i, _j] = _h[_j, _i] = 1.0 if _i == _j else 0.5
    LOAD_CASES[_name] = _h


def _write_table(fh: TextIO, fmt: str, table: np.ndarray) -> None:
    """Rows of numbers with one printf-style row format; chunked to bound memory."""
    for start in range(0, len(table), 200_000):
        chunk = table[start : start + 200_000]
        fh.write((fmt * len(chunk)) % tuple(chunk.ravel().tolist()))


def _write_set(fh: TextIO, keyword: str, name: str, ids: np.ndarray) -> None:
    """*NSET / *ELSET with 16 ids a line (1-based ids given)."""
    fh.write(f"*{keyword}, {keyword}={name}\n")
    ids = np.sort(np.asarray(ids, dtype=np.int64))
    full = len(ids) // 16 * 16
    if full:
        _write_table(fh, ", ".join(["%d"] * 16) + "\n", ids[:full].reshape(-1, 16))
    if len(ids) > full:
        fh.write(", ".join(map(str, ids[full:].tolist())) + "\n")


def node_sets(mesh: VoxelMesh) -> dict[str, np.ndarray]:
    """0-based node ids of the 6 faces, 12 edges and 8 corners, by Abaqus-friendly name."""
    nz, ny, nx = mesh.shape
    k, j, i = np.meshgrid(np.arange(nz + 1), np.arange(ny + 1), np.arange(nx + 1), indexing="ij")
    ids = mesh.node_index(i, j, k)
    ends = {"X": (i, nx), "Y": (j, ny), "Z": (k, nz)}
    sides = {f"{a}{s}": (idx == (n if s else 0)) for a, (idx, n) in ends.items() for s in (0, 1)}
    sets = {name: ids[mask] for name, mask in sides.items()}
    for a, b in (("Y", "Z"), ("X", "Z"), ("X", "Y")):
        other = ({"X", "Y", "Z"} - {a, b}).pop()
        for sa in (0, 1):
            for sb in (0, 1):
                sets[f"E{other}_{a}{sa}{b}{sb}"] = ids[sides[f"{a}{sa}"] & sides[f"{b}{sb}"]]
    for sx in (0, 1):
        for sy in (0, 1):
            for sz in (0, 1):
                mask = sides[f"X{sx}"] & sides[f"Y{sy}"] & sides[f"Z{sz}"]
                sets[f"C_X{sx}Y{sy}Z{sz}"] = ids[mask]
    return sets


def periodic_equations(mesh: VoxelMesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dependent nodes, their periodic images and the RP flags (b_x, b_y, b_z), 0-based."""
    nz, ny, nx = mesh.shape
    k, j, i = (a.ravel() for a in np.meshgrid(
        np.arange(nz + 1), np.arange(ny + 1), np.arange(nx + 1), indexing="ij"))
    flags = np.stack([i == nx, j == ny, k == nz], axis=1)
    dep = flags.any(axis=1)
    image = mesh.node_index(np.where(i == nx, 0, i), np.where(j == ny, 0, j), np.where(k == nz, 0, k))
    return mesh.node_index(i, j, k)[dep], image[dep], flags[dep].astype(np.int64)


def _write_mesh(fh: TextIO, mesh: VoxelMesh, names: list[str], element_type: str) -> list[tuple[int, str]]:
    """Nodes, one element set per present phase, EALL, the node sets; the present phases."""
    n_nodes = len(mesh.nodes)
    fh.write("*NODE, NSET=ALLNODES\n")
    _write_table(fh, "%d, %.9g, %.9g, %.9g\n",
                 np.column_stack([np.arange(1, n_nodes + 1), mesh.nodes]))
    present = []
    elem_ids = np.arange(1, len(mesh.hexes) + 1)
    for p, name in enumerate(names):
        sel = mesh.phase == p
        if not sel.any():
            fh.write(f"** phase {name}: no voxels in this volume\n")
            continue
        present.append((p, name))
        fh.write(f"*ELEMENT, TYPE={element_type}, ELSET={name}\n")
        _write_table(fh, "%d" + ", %d" * 8 + "\n",
                     np.column_stack([elem_ids[sel], mesh.hexes[sel] + 1]))
    fh.write("*ELSET, ELSET=EALL\n" + ", ".join(n for _, n in present) + "\n")
    for name, ids in node_sets(mesh).items():
        _write_set(fh, "NSET", name, ids + 1)
    return present


def _write_materials(fh: TextIO, present: list[tuple[int, str]],
                     materials: list[tuple[float, float]] | None) -> None:
    """An isotropic elastic material and a solid section per present phase."""
    for p, name in present:
        e, nu = materials[p] if materials else (1.0, 0.3)
        fh.write(f"*MATERIAL, NAME=MAT_{name}\n")
        if not materials:
            fh.write("** PLACEHOLDER properties: set export.materials in the spec\n")
        fh.write(f"*ELASTIC\n{e:.9g}, {nu:.9g}\n")
        fh.write(f"*SOLID SECTION, ELSET={name}, MATERIAL=MAT_{name}\n")


def _write_periodic(fh: TextIO, mesh: VoxelMesh, lengths: np.ndarray) -> None:
    """Reference nodes RPX, RPY, RPZ and the periodic *EQUATION ties (module docstring)."""
    n_nodes = len(mesh.nodes)
    rp = {a: n_nodes + 1 + idx for idx, a in enumerate("XYZ")}
    fh.write("** reference nodes: u(RP_a) = L_a * H e_a (macroscopic displacement gradient H)\n")
    fh.write("*NODE, NSET=RP\n")
    for idx, a in enumerate("XYZ"):
        pos = -0.1 * lengths.max() * (1 + idx)
        fh.write(f"{rp[a]}, {pos:.9g}, {pos:.9g}, {pos:.9g}\n")
    for a in "XYZ":
        fh.write(f"*NSET, NSET=RP{a}\n{rp[a]}\n")
    dep, image, flags = periodic_equations(mesh)
    fh.write("** periodic boundary conditions: u(node) - u(image) - sum b_a u(RP_a) = 0\n")
    fh.write("*EQUATION\n")
    for nterms in (3, 4, 5):
        sel = flags.sum(axis=1) == nterms - 2
        if not sel.any():
            continue
        rps = [np.where(f == 1)[0] for f in flags[sel]]
        rp_ids = np.array([[rp["XYZ"[a]] for a in row] for row in rps], dtype=np.int64)
        for dof in (1, 2, 3):
            cols = [dep[sel] + 1, np.full(sel.sum(), dof), np.ones(sel.sum()),
                    image[sel] + 1, np.full(sel.sum(), dof), -np.ones(sel.sum())]
            for c in range(nterms - 2):
                cols += [rp_ids[:, c], np.full(sel.sum(), dof), -np.ones(sel.sum())]
            terms = ["%d, %d, %g"] * nterms  # at most four terms a line
            row = f"{nterms}\n" + "".join(
                ", ".join(terms[t : t + 4]) + "\n" for t in range(0, nterms, 4))
            _write_table(fh, row, np.column_stack(cols))
    fh.write("*BOUNDARY\nC_X0Y0Z0, 1, 3, 0.\n")


def _write_load_cases(fh: TextIO, cases: dict[str, np.ndarray], lengths: np.ndarray,
                      solver: str | None) -> None:
    """One static step per macroscopic displacement gradient H, printing the energy."""
    solver_param = f", SOLVER={solver}" if solver else ""
    for case, h in cases.items():
        fh.write(f"** load case {case}: unit macroscopic strain; C = 2 U / V\n")
        fh.write(f"*STEP\n*STATIC{solver_param}\n*BOUNDARY, OP=NEW\n")
        fh.write("C_X0Y0Z0, 1, 3, 0.\n")
        for idx, a in enumerate("XYZ"):
            disp = lengths[idx] * h[:, idx]
            for dof in range(3):
                fh.write(f"RP{a}, {dof + 1}, {dof + 1}, {disp[dof]:.9g}\n")
        fh.write("*EL PRINT, ELSET=EALL, TOTALS=ONLY\nELSE\n*END STEP\n")


def write_deck(
    path: Path,
    labels: np.ndarray,
    voxel_size: float,
    unit: str,
    names: list[str],
    materials: list[tuple[float, float]] | None,
    element_type: str = "C3D8",
    periodic: bool = False,
    load_cases: bool | dict[str, np.ndarray] = False,
    solver: str | None = None,
    provenance: dict | None = None,
) -> Path:
    """Write the deck of a (z, y, x) label volume; see the module docstring for content.

    Parameters
    ----------
    path
        Output .inp file.
    labels
        Phase labels 0..K-1.
    voxel_size, unit
        Edge of a voxel and its unit (stated in the header).
    names
        One element-set name per phase.
    materials
        (E, nu) per phase; None writes clearly marked placeholders.
    element_type
        C3D8 (default), C3D8R or C3D8I.
    periodic
        Tie opposite faces with *EQUATION through reference nodes RPX, RPY, RPZ.
    load_cases
        True: add the six unit-strain steps (requires ``periodic``); a dict adds one step
        per entry, name -> macroscopic displacement gradient H.
    solver
        Value of *STATIC's SOLVER parameter (CalculiX: SPOOLES, ITERATIVE SCALING,
        PARDISO); None leaves it out (solver default; also valid for Abaqus).
    provenance
        Key-value pairs written as comments.
    """
    if load_cases and not periodic:
        raise ValueError("load cases need periodic boundary conditions")
    mesh = voxel_mesh(labels, voxel_size)
    nz, ny, nx = mesh.shape
    lengths = np.array([nx, ny, nz], dtype=np.float64) * voxel_size
    with open(path, "w") as fh:
        fh.write("*HEADING\nrvegen voxel RVE\n")
        fh.write(f"** units: lengths in {unit}; voxel size {voxel_size:g} {unit}; "
                 f"{nx} x {ny} x {nz} voxels (x, y, z); stresses in the units of E\n")
        for key, value in (provenance or {}).items():
            fh.write(f"** {key}: {value}\n")
        present = _write_mesh(fh, mesh, names, element_type)
        _write_materials(fh, present, materials)
        if periodic:
            _write_periodic(fh, mesh, lengths)
        if load_cases:
            _write_load_cases(fh, LOAD_CASES if load_cases is True else load_cases, lengths,
                              solver)
    return path
