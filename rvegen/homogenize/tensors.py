"""Stiffness tensors in Voigt notation: load cases, isotropic fits, anisotropy, statistics.

Voigt order 11, 22, 33, 12, 13, 23 with engineering shear strains (gamma = 2 eps), which is
the order of rvegen's decks (exx, eyy, ezz, gxy, gxz, gyz).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

#: Voigt component names, in order.
VOIGT = ("11", "22", "33", "12", "13", "23")
#: (i, j) of the displacement gradient for each Voigt index (engineering shear).
_PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


def strain_gradient(strain: np.ndarray) -> np.ndarray:
    """Symmetric displacement gradient H of a Voigt strain (engineering shears)."""
    h = np.zeros((3, 3))
    for value, (i, j) in zip(strain, _PAIRS):
        if i == j:
            h[i, i] = value
        else:
            h[i, j] = h[j, i] = value / 2.0
    return h


def energy_load_cases() -> dict[str, np.ndarray]:
    """The 21 unit-strain cases whose energies give the full tensor: e_i, then e_i + e_j.

    With 2U/V = e^T C e: C_ii from e_i alone, C_ij = (2U/V(e_i + e_j) - C_ii - C_jj) / 2.
    """
    cases = {}
    eye = np.eye(6)
    for i in range(6):
        cases[f"e{VOIGT[i]}"] = strain_gradient(eye[i])
    for i in range(6):
        for j in range(i + 1, 6):
            cases[f"e{VOIGT[i]}+e{VOIGT[j]}"] = strain_gradient(eye[i] + eye[j])
    return cases


def stiffness_from_energies(energy_density: dict[str, float]) -> np.ndarray:
    """The 6x6 stiffness from 2U/V of the cases of :func:`energy_load_cases`."""
    c = np.zeros((6, 6))
    for i in range(6):
        c[i, i] = energy_density[f"e{VOIGT[i]}"]
    for i in range(6):
        for j in range(i + 1, 6):
            c[i, j] = c[j, i] = 0.5 * (energy_density[f"e{VOIGT[i]}+e{VOIGT[j]}"]
                                       - c[i, i] - c[j, j])
    return c


def isotropic_stiffness(e: float, nu: float) -> np.ndarray:
    """Voigt stiffness of an isotropic material."""
    lam = e * nu / ((1 + nu) * (1 - 2 * nu))
    mu = e / (2 * (1 + nu))
    c = np.zeros((6, 6))
    c[:3, :3] = lam
    c[np.arange(3), np.arange(3)] = lam + 2 * mu
    c[np.arange(3, 6), np.arange(3, 6)] = mu
    return c


def isotropic_fit(c: np.ndarray) -> dict[str, float]:
    """Voigt-Reuss-Hill bulk and shear moduli, and the E and nu they imply, plus the
    universal anisotropy index A_U = 5 G_V / G_R + K_V / K_R - 6 (0 when isotropic)."""
    k_v = (c[0, 0] + c[1, 1] + c[2, 2] + 2 * (c[0, 1] + c[0, 2] + c[1, 2])) / 9
    g_v = (c[0, 0] + c[1, 1] + c[2, 2] - c[0, 1] - c[0, 2] - c[1, 2]
           + 3 * (c[3, 3] + c[4, 4] + c[5, 5])) / 15
    s = np.linalg.inv(c)
    k_r = 1 / (s[0, 0] + s[1, 1] + s[2, 2] + 2 * (s[0, 1] + s[0, 2] + s[1, 2]))
    g_r = 15 / (4 * (s[0, 0] + s[1, 1] + s[2, 2]) - 4 * (s[0, 1] + s[0, 2] + s[1, 2])
                + 3 * (s[3, 3] + s[4, 4] + s[5, 5]))
    k, g = (k_v + k_r) / 2, (g_v + g_r) / 2
    return {"K": float(k), "G": float(g), "E": float(9 * k * g / (3 * k + g)),
            "nu": float((3 * k - 2 * g) / (2 * (3 * k + g))),
            "anisotropy_index": float(5 * g_v / g_r + k_v / k_r - 6)}


def voigt_reuss_bounds(fractions: list[float], moduli: list[tuple[float, float]]) -> tuple[float, float]:
    """Voigt (upper) and Reuss (lower) bounds of the Young's modulus of a mixture."""
    f = np.asarray(fractions, dtype=float)
    e = np.array([m[0] for m in moduli], dtype=float)
    return float(f @ e), float(1 / (f @ (1 / e)))


def summary(values: list[float], confidence: float = 0.95) -> dict[str, Any]:
    """Mean, standard deviation and the confidence interval of the mean (Student t), of
    the finite values (an infinite tortuosity: a phase that does not span the volume)."""
    v = np.asarray(values, dtype=float)
    infinite = int((~np.isfinite(v)).sum())
    v = v[np.isfinite(v)]
    n = len(v)
    mean = float(v.mean()) if n else float("nan")
    std = float(v.std(ddof=1)) if n > 1 else float("nan")
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * std / np.sqrt(n)) if n > 1 else float("nan")
    return {"n": n, "mean": mean, "std": std, "ci": [mean - half, mean + half],
            "not_finite": infinite}


def properties(c: np.ndarray) -> dict[str, float]:
    """The scalars reported per volume: C_11 .. C_66 (21 independent), E, nu, K, G, A_U."""
    out: dict[str, float] = {}
    for i in range(6):
        for j in range(i, 6):
            out[f"C{i + 1}{j + 1}"] = float(c[i, j])
    out.update(isotropic_fit(c))
    return out
