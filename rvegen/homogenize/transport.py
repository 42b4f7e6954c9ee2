"""Effective diffusivity and tortuosity factor of one phase per axis (taufactor).

taufactor (Kench, Squires & Cooper) solves steady diffusion through the phase between two
opposite faces with no flux through the others; D_eff / D_0 = phi / tau, tau the
tortuosity factor. It solves along its first array axis, so each axis is brought first.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

from ..errors import InputError

AXES = {"z": 0, "y": 1, "x": 2}


def transport(labels: np.ndarray, phase: int, iter_limit: int = 20000,
              conv_crit: float = 0.01) -> dict[str, dict[str, float]]:
    """Tortuosity factor and relative effective diffusivity of ``phase`` along z, y, x.

    A phase that does not span the volume along an axis has D_eff = 0 and tau = inf.
    """
    try:
        import taufactor
    except ImportError:
        raise InputError("homogenize.transport: needs the taufactor package "
                         "(pip install taufactor)") from None
    mask = (labels == phase).astype(np.uint8)
    out = {}
    for name, axis in AXES.items():
        img = np.ascontiguousarray(np.moveaxis(mask, axis, 0))
        if not img.any():
            out[name] = {"tau": float("inf"), "D_rel": 0.0}
            continue
        solver = taufactor.Solver(img, device="cpu")
        with contextlib.redirect_stdout(io.StringIO()):  # it prints progress
            solver.solve(iter_limit=iter_limit, verbose=False, conv_crit=conv_crit)
        d_rel = float(np.asarray(solver.D_rel).ravel()[0])
        tau = float(np.asarray(solver.tau).ravel()[0]) if d_rel > 0 else float("inf")
        out[name] = {"tau": tau, "D_rel": d_rel}
    return out


def summarize_transport(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per axis: the values of every volume (for the statistics of the caller)."""
    return {a: {k: [r[a][k] for r in results] for k in ("tau", "D_rel")} for a in AXES}
