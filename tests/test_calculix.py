"""A real solver on our decks: CalculiX (Debian calculix-ccx; .ci/run installs it)."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from rvegen.export.abaqus import LOAD_CASES, write_deck

CCX = shutil.which("ccx")
if CCX is None:
    if os.environ.get("RVEGEN_REQUIRE_CCX"):  # CI installs CalculiX: there it must run
        pytest.fail("CalculiX (ccx) is required here but not installed", pytrace=False)
    pytest.skip("CalculiX (ccx) is not installed; apt-get install calculix-ccx",
                allow_module_level=True)


def _solve(tmp_path, labels, materials):
    deck = write_deck(tmp_path / "rve.inp", labels, 0.5, "mm", ["soft", "stiff"][: len(materials)],
                      materials, periodic=True, load_cases=True)
    run = subprocess.run([CCX, "-i", "rve"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and "Total CalculiX Time" in run.stdout, run.stdout[-2000:]
    text = (tmp_path / "rve.dat").read_text()
    energies = [float(v) for v in re.findall(r"total internal energy.*?\n\s*\n\s*(\S+)", text)]
    assert len(energies) == len(LOAD_CASES), text[:2000]
    volume = labels.size * 0.5**3
    return dict(zip(LOAD_CASES, 2 * np.array(energies) / volume)), deck


def _lame(e, nu):
    return e * nu / ((1 + nu) * (1 - 2 * nu)), e / (2 * (1 + nu))


def test_one_phase_rve_returns_its_own_stiffness(tmp_path):
    labels = np.zeros((6, 6, 6), dtype=np.uint8)
    c, _ = _solve(tmp_path, labels, [(200.0, 0.3)])
    lam, mu = _lame(200.0, 0.3)
    for case in ("exx", "eyy", "ezz"):
        assert c[case] == pytest.approx(lam + 2 * mu, rel=1e-6)
    for case in ("gxy", "gxz", "gyz"):
        assert c[case] == pytest.approx(mu, rel=1e-6)


def test_two_phase_rve_between_voigt_and_reuss(tmp_path):
    rng = np.random.default_rng(0)
    labels = (rng.random((8, 8, 8)) < 0.4).astype(np.uint8)
    mats = [(10.0, 0.3), (100.0, 0.25)]
    c, deck = _solve(tmp_path, labels, mats)
    phi = np.array([1 - labels.mean(), labels.mean()])
    k = np.array([e / (3 * (1 - 2 * nu)) for e, nu in mats])
    g = np.array([e / (2 * (1 + nu)) for e, nu in mats])
    kv, gv = phi @ k, phi @ g
    kr, gr = 1 / (phi @ (1 / k)), 1 / (phi @ (1 / g))
    for case in ("exx", "eyy", "ezz"):
        assert kr + 4 / 3 * gr < c[case] < kv + 4 / 3 * gv
    for case in ("gxy", "gxz", "gyz"):
        assert gr < c[case] < gv
    assert "TYPE=C3D8, ELSET=soft" in deck.read_text()


def test_laminate_matches_the_exact_solution(tmp_path):
    """Layers normal to x: C11 is the harmonic mean of the layers' C11 (uniaxial strain
    across the layers), and the in-plane shear modulus is the arithmetic mean of mu."""
    labels = np.zeros((4, 4, 8), dtype=np.uint8)
    labels[:, :, 3:] = 1  # 3 voxels soft, 5 stiff along x
    mats = [(10.0, 0.3), (100.0, 0.25)]
    c, _ = _solve(tmp_path, labels, mats)
    phi = np.array([3 / 8, 5 / 8])
    c11 = np.array([lam + 2 * mu for lam, mu in (_lame(*m) for m in mats)])
    mus = np.array([_lame(*m)[1] for m in mats])
    assert c["exx"] == pytest.approx(1 / (phi @ (1 / c11)), rel=1e-6)
    assert c["gyz"] == pytest.approx(phi @ mus, rel=1e-6)
