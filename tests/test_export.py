import meshio
import numpy as np
import pyvista

from rvegen.export.mesh import voxel_mesh
from rvegen.export.writers import ExportContext, write_abaqus, write_vti, write_xdmf


def _volume():
    rng = np.random.default_rng(0)
    return (rng.random((3, 4, 5)) < 0.4).astype(np.uint8)  # (z, y, x), not a cube on purpose


def test_mesh_geometry_and_orientation():
    vol = _volume()
    mesh = voxel_mesh(vol, voxel_size=0.5)
    assert mesh.nodes.shape == (4 * 5 * 6, 3) and mesh.hexes.shape == (60, 8)
    np.testing.assert_allclose(mesh.nodes.max(axis=0), [2.5, 2.0, 1.5])  # x, y, z extents
    # element (k, j, i) = voxel vol[k, j, i]: its centroid is at ((i, j, k) + 0.5) * h
    centroids = mesh.nodes[mesh.hexes].mean(axis=1)
    k, j, i = np.unravel_index(np.arange(60), vol.shape)
    np.testing.assert_allclose(centroids, (np.stack([i, j, k], 1) + 0.5) * 0.5)
    np.testing.assert_array_equal(mesh.phase, vol.ravel())
    # C3D8 order: nodes 1-4 counter-clockwise seen from +z, 5-8 above: positive volume
    p = mesh.nodes[mesh.hexes]
    jac = np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 3] - p[:, 0]), p[:, 4] - p[:, 0])
    assert np.all(jac > 0)
    faces = mesh.face_nodes()
    np.testing.assert_allclose(mesh.nodes[faces["X1"], 0], 2.5)
    np.testing.assert_allclose(mesh.nodes[faces["Z0"], 2], 0.0)


def test_abaqus_reads_back(tmp_path):
    vol = _volume()
    ctx = ExportContext(voxel_size=2.0, phase_names=["matrix", "pore"])
    (path,) = write_abaqus(vol, ctx, tmp_path / "v")
    text = path.read_text()
    assert "TYPE=C3D8, ELSET=matrix" in text and "C3D8RH" not in text
    assert "PLACEHOLDER properties" in text and "*SOLID SECTION, ELSET=pore" in text
    back = meshio.read(path)
    assert len(back.points) == 120
    hexes = np.concatenate([c.data for c in back.cells if c.type == "hexahedron"])
    assert len(hexes) == 60
    ref = voxel_mesh(vol, 2.0)
    np.testing.assert_allclose(back.points, ref.nodes)
    assert len(back.cell_sets["pore"][1]) == int(vol.sum())


def test_vti_and_xdmf_read_back(tmp_path):
    vol = _volume()
    ctx = ExportContext(voxel_size=0.25)
    (vti,) = write_vti(vol, ctx, tmp_path / "v")
    grid = pyvista.read(vti)
    assert grid.dimensions == (6, 5, 4)
    np.testing.assert_allclose(grid.spacing, (0.25, 0.25, 0.25))
    np.testing.assert_array_equal(np.asarray(grid.cell_data["phase"]), vol.ravel())
    xdmf, h5 = write_xdmf(vol, ctx, tmp_path / "v")
    assert h5.exists()
    back = meshio.read(xdmf)
    np.testing.assert_array_equal(back.cell_data["phase"][0], vol.ravel())
    np.testing.assert_allclose(back.points.max(axis=0), [1.25, 1.0, 0.75])


def test_vtu_and_damask_read_back(tmp_path):
    from rvegen.export.writers import write_damask, write_vtu

    vol = _volume()
    ctx = ExportContext(voxel_size=2.0, unit="um")
    (vtu,) = write_vtu(vol, ctx, tmp_path / "v")
    grid = pyvista.read(vtu)
    assert grid.n_cells == 60 and grid.n_points == 120
    np.testing.assert_array_equal(np.asarray(grid.cell_data["phase"]), vol.ravel())
    (damask,) = write_damask(vol, ctx, tmp_path / "v")
    assert damask.name == "v.damask.vti"
    grid = pyvista.read(damask)
    np.testing.assert_allclose(grid.spacing, (2e-6,) * 3)
    np.testing.assert_array_equal(np.asarray(grid.cell_data["material"]), vol.ravel())


def test_damask_needs_a_known_unit(tmp_path):
    import pytest

    from rvegen.errors import SpecError
    from rvegen.export.writers import write_damask

    with pytest.raises(SpecError, match="data.unit: DAMASK needs lengths in metres"):
        write_damask(_volume(), ExportContext(unit="furlong"), tmp_path / "v")


def test_node_sets_and_periodic_pairs():
    from rvegen.export.abaqus import node_sets, periodic_equations

    vol = _volume()
    mesh = voxel_mesh(vol)
    sets = node_sets(mesh)
    assert len(sets) == 6 + 12 + 8
    assert len(sets["X0"]) == 5 * 4 and len(sets["EZ_X1Y1"]) == 4
    np.testing.assert_allclose(mesh.nodes[sets["C_X1Y0Z1"]], [[5, 0, 3]])
    dep, image, flags = periodic_equations(mesh)
    # every node on a max face is dependent exactly once; no image is dependent
    assert len(dep) == len(set(dep.tolist())) == 120 - 5 * 4 * 3
    assert not set(image.tolist()) & set(dep.tolist())
    # the image is the node shifted back by the flagged box lengths
    shift = flags * np.array([5, 4, 3])
    np.testing.assert_allclose(mesh.nodes[dep] - mesh.nodes[image], shift)
