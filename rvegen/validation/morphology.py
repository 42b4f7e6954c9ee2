"""Shape and connectivity of one phase: Minkowski functionals, clusters, percolation.

S2 and L(z) up to a few tens of voxels see neither topology nor connectivity: a phase
broken into isolated blobs can have the right correlation curves. These scalars can:

* the four Minkowski functionals per unit volume (3D) or area (2D): volume fraction,
  surface density S_V (boundary length L_A in 2D), integral mean curvature M_V (3D) and
  the Euler characteristic density chi (components - tunnels + cavities; components -
  holes in 2D);
* the fraction of the phase in its largest connected cluster;
* the fraction of the phase in clusters that span the sample along an axis (percolation).

Connectivity is face connectivity (6 neighbours in 3D, 4 in 2D) unless the Euler density
and the largest cluster are given ``connectivity="full"`` (26 / 8 neighbours: a one-pixel
boundary line drawn as a staircase touches only at corners), for every phase or as one
value per phase (``validate.metric_options``); Euler numbers come from scikit-image
(``measure.euler_number``) and clusters from SciPy (``ndimage.label``). Surface and mean
curvature use stereological estimators, which are unbiased for isotropic structures where
voxel counts are not (a digitised sphere's voxel faces overstate its area by ~50 %):
S_V = 2 P_L (3D), L_A = pi/2 P_L (2D), with P_L the rate of phase changes along a line;
M_V = 2 pi chi_A, with chi_A the Euler density of plane sections (DeHoff's relation;
M = integral of (k1 + k2) / 2 over the surface, 4 pi r for a ball), averaged over all
slices of the three section planes.

Each scalar takes ``(labels, phase, plane_axis=None)``: with ``plane_axis`` the array is
a stack of 2D slices at fixed index along that axis and the 2D value is averaged over them.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy import ndimage

from ..errors import SpecError

PER = 1000.0  # densities are per 1000 voxels (3D) or pixels (2D)


def _slices(labels: np.ndarray, plane_axis: int) -> list[np.ndarray]:
    return [np.take(labels, i, axis=plane_axis) for i in range(labels.shape[plane_axis])]


def _per_plane(fn: Callable[[np.ndarray, int], float]) -> Callable[..., float]:
    """Wrap a scalar of one whole array so that ``plane_axis`` averages it over slices."""

    def wrapped(labels: np.ndarray, phase: int, plane_axis: int | None = None,
                **options: object) -> float:
        if plane_axis is None:
            return fn(labels, phase, **options)
        return float(np.mean([fn(s, phase, **options) for s in _slices(labels, plane_axis)]))

    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


Connectivity = str | Sequence[str]


def _full(connectivity: Connectivity, phase: int) -> bool:
    """Whether ``phase`` counts corner neighbours: ``connectivity`` is 'face' or 'full',
    or one of them per phase."""
    value = connectivity if isinstance(connectivity, str) else (
        list(connectivity)[phase] if phase < len(connectivity) else None)
    if value not in ("face", "full"):
        raise SpecError("validate.metric_options: connectivity must be 'face' or 'full', or "
                        f"one of them per phase (got {connectivity!r} for phase {phase})")
    return value == "full"


def _euler(mask: np.ndarray, full: bool = False) -> int:
    from skimage.measure import euler_number

    # connectivity 1: face neighbours (6 in 3D, 4 in 2D); ndim: every neighbour
    return int(euler_number(mask, connectivity=mask.ndim if full else 1))


@_per_plane
def euler_density(labels: np.ndarray, phase: int, connectivity: Connectivity = "face") -> float:
    """Euler characteristic of ``phase`` per 1000 voxels (pixels in 2D).

    Negative when the phase is a connected network with many tunnels (or loops in
    2D), positive when it falls apart into isolated pieces.
    """
    return _euler(labels == phase, _full(connectivity, phase)) / labels.size * PER


@_per_plane
def largest_cluster_fraction(labels: np.ndarray, phase: int,
                             connectivity: Connectivity = "face") -> float:
    """Fraction of ``phase`` in its largest connected cluster (0 if absent)."""
    mask = labels == phase
    total = int(mask.sum())
    if not total:
        return 0.0
    full = _full(connectivity, phase)
    structure = ndimage.generate_binary_structure(mask.ndim, mask.ndim) if full else None
    clusters, count = ndimage.label(mask, structure=structure)
    return float(np.bincount(clusters.ravel())[1:].max() / total)


def specific_surface(labels: np.ndarray, phase: int, plane_axis: int | None = None) -> float:
    """Interface area per voxel (3D) or boundary length per pixel (2D), stereological.

    P_L, the probability that two neighbouring voxels along an axis lie on different
    sides of the interface, averaged over the axes; then S_V = 2 P_L (3D) or
    L_A = pi/2 P_L (2D).
    """
    mask = labels == phase
    axes = [a for a in range(labels.ndim) if a != plane_axis]
    p_l = float(np.mean([np.mean(np.diff(mask, axis=a)) for a in axes]))
    return 2.0 * p_l if len(axes) == 3 else np.pi / 2.0 * p_l


def mean_curvature_density(labels: np.ndarray, phase: int,
                           plane_axis: int | None = None) -> float:
    """Integral of the mean curvature per 1000 voxels, M_V = 2 pi chi_A (3D only).

    chi_A, the Euler density of plane sections, is averaged over all slices of the three
    planes. For 2D data (``plane_axis`` given) there is no mean curvature: NaN.
    """
    if plane_axis is not None or labels.ndim != 3:
        return float("nan")
    chi_a = np.mean([_euler(s == phase) / s.size for a in range(3) for s in _slices(labels, a)])
    return float(2.0 * np.pi * chi_a * PER)


def percolating_fraction(labels: np.ndarray, phase: int, axis: int) -> float:
    """Fraction of ``phase`` in face-connected clusters that touch both faces normal to ``axis``."""
    mask = labels == phase
    total = mask.sum()
    if not total:
        return 0.0
    clusters, _ = ndimage.label(mask)
    first = np.unique(np.take(clusters, 0, axis=axis))
    last = np.unique(np.take(clusters, -1, axis=axis))
    spanning = np.intersect1d(first[first > 0], last[last > 0])
    return float(np.isin(clusters, spanning).sum() / total)


def volume_fraction(labels: np.ndarray, phase: int, plane_axis: int | None = None) -> float:
    """Fraction of voxels in ``phase`` (the same per plane as overall)."""
    return float(np.mean(labels == phase))


def minkowski(labels: np.ndarray, phase: int, plane_axis: int | None = None) -> dict[str, float]:
    """The Minkowski functional densities of ``phase`` (3D, or 2D per plane)."""
    out = {
        "volume_fraction": volume_fraction(labels, phase),
        "surface_density": specific_surface(labels, phase, plane_axis),
        "euler_density": euler_density(labels, phase, plane_axis),
    }
    if plane_axis is None and labels.ndim == 3:
        out["mean_curvature_density"] = mean_curvature_density(labels, phase)
    return out


def describe_shape(labels: np.ndarray, phase: int,
                   plane_axis: int | None = None) -> dict[str, object]:
    """Every morphology scalar of ``phase`` for the report: Minkowski functionals,
    largest cluster and per-axis percolation (in-plane axes only for 2D data)."""
    axes = {"z": 0, "y": 1, "x": 2}
    if plane_axis is None:
        perc = {a: percolating_fraction(labels, phase, i) for a, i in axes.items()}
    else:
        slices = _slices(labels, plane_axis)
        # in-plane axes of a slice: the two axes other than plane_axis, in order
        names = [a for a, i in axes.items() if i != plane_axis]
        perc = {name: float(np.mean([percolating_fraction(s, phase, j) for s in slices]))
                for j, name in enumerate(names)}
    return {
        **minkowski(labels, phase, plane_axis),
        "largest_cluster_fraction": largest_cluster_fraction(labels, phase, plane_axis),
        "percolating_fraction": perc,
    }
