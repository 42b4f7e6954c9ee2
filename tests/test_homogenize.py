"""FE homogenization with CalculiX: closed forms, bounds, resuming, Dask = local."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import yaml

import rvegen
from rvegen.homogenize.stage import homogenize_volumes
from rvegen.homogenize.tensors import isotropic_fit, voigt_reuss_bounds
from rvegen.volumes import Volume

if shutil.which("ccx") is None:
    if os.environ.get("RVEGEN_REQUIRE_CCX"):  # CI installs CalculiX: there it must run
        pytest.fail("CalculiX (ccx) is required here but not installed", pytrace=False)
    pytest.skip("CalculiX (ccx) is not installed; apt-get install calculix-ccx",
                allow_module_level=True)

SOFT, STIFF = (1.0, 0.3), (10.0, 0.25)


def laminate_stiffness(materials, fractions):
    """Exact effective stiffness of layers normal to x (Voigt 11, 22, 33, 12, 13, 23)."""
    lam = np.array([e * nu / ((1 + nu) * (1 - 2 * nu)) for e, nu in materials])
    mu = np.array([e / (2 * (1 + nu)) for e, nu in materials])
    f = np.asarray(fractions)
    m = lam + 2 * mu
    c11 = 1 / (f @ (1 / m))
    c12 = c11 * (f @ (lam / m))
    c22 = f @ m - f @ (lam**2 / m) + c11 * (f @ (lam / m)) ** 2
    c23 = f @ lam - f @ (lam**2 / m) + c11 * (f @ (lam / m)) ** 2
    c_shear_normal = 1 / (f @ (1 / mu))
    c = np.zeros((6, 6))
    c[0, 0], c[1, 1], c[2, 2] = c11, c22, c22
    c[0, 1] = c[1, 0] = c[0, 2] = c[2, 0] = c12
    c[1, 2] = c[2, 1] = c23
    c[3, 3] = c[4, 4] = c_shear_normal  # 12 and 13: shear across the layers
    c[5, 5] = f @ mu  # 23: shear within the layers
    return c


def test_laminate_gives_the_exact_tensor_with_off_diagonals():
    labels = np.zeros((4, 4, 4), np.uint8)
    labels[:, :, 1:] = 1  # x = 0 soft, x = 1..3 stiff: layers normal to x
    # the direct solver: exact up to the 7 digits of the printed energies
    [result] = homogenize_volumes([Volume("lam", labels)], [SOFT, STIFF],
                                  {"workers": 1, "options": {"solver": "SPOOLES"}})
    expected = laminate_stiffness([SOFT, STIFF], [0.25, 0.75])
    np.testing.assert_allclose(np.array(result["C"]), expected, rtol=1e-5, atol=1e-5)
    assert result["C12"] == pytest.approx(expected[0, 1], rel=1e-5)


def test_random_rve_is_symmetric_positive_definite_and_within_bounds():
    rng = np.random.default_rng(0)
    labels = (rng.random((8, 8, 8)) < 0.4).astype(np.uint8)
    [result] = homogenize_volumes([Volume("r", labels)], [SOFT, STIFF], {"workers": 1})
    c = np.array(result["C"])
    np.testing.assert_allclose(c, c.T, atol=1e-9 * np.abs(c).max())
    assert np.linalg.eigvalsh(c).min() > 0
    upper, lower = voigt_reuss_bounds([0.6, 0.4], [SOFT, STIFF])
    fit = isotropic_fit(c)
    assert lower < fit["E"] < upper
    assert fit == {k: result[k] for k in fit}


@pytest.fixture
def homogenized(write_spec, tmp_path):
    spec = write_spec({
        "generate": {"count": 3, "steps": 4},
        "validate": {"reference_samples": 4, "mode": "absolute",
                     "thresholds": {"s2": 1e9, "lineal_path": 1e9, "volume_fraction": 1.0}},
        "export": {"formats": ["vti"],
                   "materials": [{"youngs_modulus": 1.0, "poissons_ratio": 0.3},
                                 {"youngs_modulus": 10.0, "poissons_ratio": 0.25}]},
        "homogenize": {"workers": 2, "real_samples": 0, "transport": True},
    })
    return spec, tmp_path / "run"


class Counting:
    """A plugin around the real CalculiX solver that counts its solves."""

    def __init__(self):
        self.calls = []

        @rvegen.hookimpl
        def rvegen_solvers():
            from rvegen.homogenize.calculix import solve_calculix

            def solve(labels, *args, **kwargs):
                self.calls.append(labels.sum())
                return solve_calculix(labels, *args, **kwargs)
            return {"counted": solve}

        self.rvegen_solvers = rvegen_solvers


def test_stage_writes_results_and_resumes_without_solving_again(homogenized):
    spec_path, run = homogenized
    counter = Counting()
    plugins = rvegen.build_registry(extra_plugins=[counter])
    spec = rvegen.load_spec(spec_path)
    spec.homogenize.solver = "counted"
    from rvegen.pipeline import RUNNERS, RunDir

    for stage in ("ingest", "train", "generate", "validate", "export"):
        rvegen.pipeline.run_stage(spec, stage, progress=False, plugins=plugins)
    # interrupt after the first finished volume
    original = RUNNERS["homogenize"]
    import rvegen.homogenize.stage as stage_module

    solve_one = stage_module.solve_one
    seen = []

    def interrupting(*args, **kwargs):
        if seen:
            raise KeyboardInterrupt
        seen.append(1)
        return solve_one(*args, **kwargs)

    stage_module.solve_one = interrupting
    spec.homogenize.workers = 1
    try:
        with pytest.raises(KeyboardInterrupt):
            original(spec, RunDir(run), plugins, False, False)
    finally:
        stage_module.solve_one = solve_one
    partial = json.loads((run / "homogenization.partial.json").read_text())["results"]
    assert list(partial) == ["volume_000"] and len(counter.calls) == 1
    rvegen.pipeline.run_stage(spec, "homogenize", progress=False, plugins=plugins)
    assert len(counter.calls) == 3  # the two that were left, not the first again
    report = json.loads((run / "homogenization.json").read_text())
    gen = report["generated"]
    assert [v["name"] for v in gen["volumes"]] == ["volume_000", "volume_001", "volume_002"]
    stats = gen["statistics"]["E"]
    assert stats["n"] == 3 and stats["ci"][0] <= stats["mean"] <= stats["ci"][1]
    assert set(gen["volumes"][0]["transport"]) == {"z", "y", "x"}
    assert report["real"]["source"] == "2D data: no 3D real reference exists"
    csv_lines = (run / "homogenization.csv").read_text().splitlines()
    assert csv_lines[0].startswith("source,name,C11,C12") and len(csv_lines) == 4
    assert (run / "plots" / "homogenization.png").stat().st_size > 1000
    assert not (run / "homogenization.partial.json").exists()
    spec.homogenize.max_volumes = 2  # a new setting reruns the stage on the first two only
    rvegen.pipeline.run_stage(spec, "homogenize", progress=False, plugins=plugins)
    assert len(counter.calls) == 5
    report = json.loads((run / "homogenization.json").read_text())
    assert [v["name"] for v in report["generated"]["volumes"]] == ["volume_000", "volume_001"]
    # a report that changes without changing the verdicts (here: another version's stamp)
    # keeps the finite-element results
    import rvegen.validation.report as report_module

    stamp = report_module.__version__
    report_module.__version__ = stamp + "+other"
    try:
        rvegen.pipeline.run_stage(spec, "validate", force=True, progress=False, plugins=plugins)
    finally:
        report_module.__version__ = stamp
    assert "+other" in (run / "report.json").read_text()
    rvegen.pipeline.run_stage(spec, "homogenize", progress=False, plugins=plugins)
    assert len(counter.calls) == 5


def test_dask_equals_local_for_generate_and_homogenize(homogenized, tmp_path):
    pytest.importorskip("dask.distributed")
    spec_path, run = homogenized
    raw = yaml.safe_load(spec_path.read_text())
    raw["homogenize"] = {"workers": 1, "real_samples": 0}
    local = tmp_path / "local.yaml"
    local.write_text(yaml.safe_dump(raw))
    raw["run_dir"] = "run_dask"
    raw["execution"] = {"backend": "dask", "workers": 2}
    dask = tmp_path / "dask.yaml"
    dask.write_text(yaml.safe_dump(raw))
    a = rvegen.build(local, progress=False)
    b = rvegen.build(dask, progress=False)
    va, _ = rvegen.read_volumes(a.run_dir / "volumes.h5")
    vb, _ = rvegen.read_volumes(b.run_dir / "volumes.h5")
    for x, y in zip(va, vb):
        assert x.name == y.name and np.array_equal(x.labels, y.labels)
    ca = [v["C"] for v in a.homogenization["generated"]["volumes"]]
    cb = [v["C"] for v in b.homogenization["generated"]["volumes"]]
    np.testing.assert_allclose(ca, cb, rtol=1e-9)
    assert [v["accepted"] for v in a.report["volumes"]] == [v["accepted"] for v in b.report["volumes"]]
