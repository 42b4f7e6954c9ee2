"""The exported DAMASK run loads in the damask package (PyPI) as a complete configuration."""

import numpy as np
import pytest

import rvegen

damask = pytest.importorskip(
    "damask", reason="the damask package is not installed: pip install -e 'plugins/rvegen_damask[test]'")


@pytest.fixture
def exported(tmp_path):
    labels = np.zeros((8, 6, 4), np.uint8)
    labels[:, :, 2:] = 1
    volumes = [rvegen.Volume("volume_000", labels)]
    cfg = {"formats": ["damask_run"], "phase_names": ["matrix", "fibre"],
           "materials": [{"youngs_modulus": 3e9, "poissons_ratio": 0.35},
                         {"youngs_modulus": 70e9, "poissons_ratio": 0.22}],
           "options": {"damask_run": {"axis": "z", "strain": 0.02}}}
    files = rvegen.export_volumes(volumes, tmp_path / "export", cfg, voxel_size=2.0, unit="um")
    return {f.name: f for f in files}, labels


def test_registered_through_its_entry_point():
    reg = rvegen.build_registry()
    assert reg.origin("exporter", "damask_run") == "damask_run"


def test_grid_material_and_load_load_in_damask(exported):
    files, labels = exported
    assert set(files) == {"volume_000.damask.vti", "volume_000.material.yaml",
                          "volume_000.load.yaml"}
    grid = damask.GeomGrid.load(files["volume_000.damask.vti"])
    assert tuple(grid.cells) == (4, 6, 8)  # x, y, z
    np.testing.assert_allclose(grid.size, [8e-6, 12e-6, 16e-6])
    # grid material ids are rvegen's phase labels (z, y, x) -> damask's (x, y, z)
    np.testing.assert_array_equal(grid.material, labels.transpose(2, 1, 0))
    material = damask.ConfigMaterial.load(files["volume_000.material.yaml"])
    assert material.is_complete and material.is_valid
    assert list(material["phase"]) == ["matrix", "fibre"]
    assert len(material["material"]) > int(grid.material.max())
    c = material["phase"]["fibre"]["mechanical"]["elastic"]
    e, nu = 70e9, 0.22  # back from the stiffness: E = mu (3 lambda + 2 mu) / (lambda + mu)
    lam, mu = c["C_12"], c["C_44"]
    assert mu * (3 * lam + 2 * mu) / (lam + mu) == pytest.approx(e)
    assert lam / (2 * (lam + mu)) == pytest.approx(nu)
    # damask 3.1 reads load cases but has no completeness check for them yet
    load = damask.LoadcaseGrid.load(files["volume_000.load.yaml"])
    assert load["solver"] == {"mechanical": "spectral_basic"}
    step = load["loadstep"][0]
    assert step["discretization"] == {"t": 10.0, "N": 10}
    assert step["boundary_conditions"]["mechanical"]["dot_F"][2][2] == pytest.approx(0.002)
    assert step["boundary_conditions"]["mechanical"]["P"][0][0] == 0.0


def test_missing_materials_is_a_clear_error(tmp_path):
    with pytest.raises(rvegen.RvegenError, match="export.materials: the damask_run exporter"):
        rvegen.export_volumes([rvegen.Volume("v", np.zeros((4, 4, 4), np.uint8))],
                              tmp_path / "e", {"formats": ["damask_run"]})
