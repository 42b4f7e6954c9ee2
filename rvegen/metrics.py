"""Statistical descriptors of microstructures: S2, lineal path, volume fraction, eq. 24.

All functions take label arrays (2D (y, x) or 3D (z, y, x)) and work on the indicator of
one phase. A descriptor can be computed over the whole array (3D metrics of a volume, 2D
metrics of an image) or per plane: ``plane_axis=a`` treats the array as a stack of 2D
slices at fixed index along axis ``a`` and averages their 2D descriptors, as the paper does
for volumes generated from 2D training data.

Registered metrics share the signature
``curve(labels, phase, max_r, plane_axis=None) -> numpy.ndarray`` (values at r = 0..max_r).
"""

from __future__ import annotations

from typing import Optional

import numpy as np


def indicator(labels: np.ndarray, phase: int) -> np.ndarray:
    """Float64 indicator (1 where ``labels == phase``)."""
    return (labels == phase).astype(np.float64)


def volume_fraction(labels: np.ndarray, phase: int) -> float:
    """Fraction of voxels in ``phase``."""
    return float(np.mean(labels == phase))


def _lags(n: int, padded: int) -> np.ndarray:
    """Signed lag of each FFT index for an axis of length n transformed at ``padded``."""
    k = np.arange(padded)
    return np.where(k < padded - k, k, k - padded)


def s2_map(ind: np.ndarray, axes: tuple[int, ...], periodic: bool) -> tuple[np.ndarray, np.ndarray]:
    """Two-point correlation for every lag vector over ``axes`` (other axes averaged).

    Non-periodic: zero-padded FFT, each lag divided by its number of overlapping voxel
    pairs. Periodic: plain FFT divided by the voxel count.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        S2 on the FFT lag grid and the Euclidean length of each lag; lags with no
        overlapping pairs are NaN.
    """
    shape = [ind.shape[a] for a in axes]
    size = shape if periodic else [2 * s for s in shape]
    spec = np.fft.rfftn(ind, s=size, axes=axes)
    auto = np.fft.irfftn(spec * spec.conj(), s=size, axes=axes)
    batch_axes = tuple(a for a in range(ind.ndim) if a not in axes)
    auto = auto.mean(axis=batch_axes) if batch_axes else auto
    if periodic:
        counts = np.full(size, float(np.prod(shape)))
    else:
        # Overlapping pairs at lag l along an axis of length n: n - |l| (product over axes).
        counts = np.ones(size)
        for i, (n, p) in enumerate(zip(shape, size)):
            per_axis = np.maximum(n - np.abs(_lags(n, p)), 0).astype(np.float64)
            counts = counts * per_axis.reshape([-1 if j == i else 1 for j in range(len(size))])
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = np.where(counts > 0, auto / np.where(counts > 0, counts, 1), np.nan)
    grids = np.meshgrid(*[_lags(n, p) for n, p in zip(shape, size)], indexing="ij")
    dist = np.sqrt(sum(g.astype(np.float64) ** 2 for g in grids))
    return s2, dist


def two_point_correlation(
    labels: np.ndarray,
    phase: int,
    max_r: int,
    plane_axis: Optional[int] = None,
    periodic: bool = False,
) -> np.ndarray:
    """Radially averaged S2(r), r = 0..max_r (bins: floor of the lag length).

    S2(r) is the probability that two points a distance r apart both lie in ``phase``;
    S2(0) is the volume fraction.
    """
    ind = indicator(labels, phase)
    axes = tuple(a for a in range(ind.ndim) if a != plane_axis)
    s2, dist = s2_map(ind, axes, periodic)
    valid = np.isfinite(s2)
    bins = np.floor(dist[valid] + 1e-9).astype(np.int64)
    keep = bins <= max_r
    sums = np.bincount(bins[keep], weights=s2[valid][keep], minlength=max_r + 1)
    hits = np.bincount(bins[keep], minlength=max_r + 1)
    return sums / np.maximum(hits, 1)


def lineal_path_axis(labels: np.ndarray, phase: int, axis: int, max_z: int) -> np.ndarray:
    """Torquato's lineal-path function L(z) along one axis, exact, from run lengths.

    L(z) is the probability that a segment of length z (z + 1 voxels) lies wholly in
    ``phase``, over every position where the segment fits (non-periodic). L(0) is the
    volume fraction; for independent voxels L(z) = phi ** (z + 1).
    """
    ind = np.moveaxis(labels == phase, axis, -1).reshape(-1, labels.shape[axis])
    lines, n = ind.shape
    padded = np.zeros((lines, n + 2), dtype=np.int8)
    padded[:, 1:-1] = ind
    edges = np.diff(padded, axis=1)
    starts = np.nonzero(edges == 1)
    ends = np.nonzero(edges == -1)
    runs = ends[1] - starts[1]  # both in row-major order, so they pair up
    hist = np.bincount(runs, minlength=n + 1).astype(np.float64)  # hist[l]: runs of length l
    lengths = np.arange(n + 1, dtype=np.float64)
    # positions of a z-segment inside runs: sum over l > z of (l - z) hist[l]
    tail_count = np.cumsum(hist[::-1])[::-1]  # sum_{l >= k} hist[l]
    tail_len = np.cumsum((lengths * hist)[::-1])[::-1]
    z = np.arange(min(max_z, n - 1) + 1)
    positions = tail_len[z + 1] - z * tail_count[z + 1]
    out = np.zeros(max_z + 1)
    out[: len(z)] = positions / (lines * (n - z))
    return out


def lineal_path(
    labels: np.ndarray, phase: int, max_r: int, plane_axis: Optional[int] = None
) -> np.ndarray:
    """L(z), z = 0..max_r, averaged over the axes in the (plane's) dimensions."""
    axes = [a for a in range(labels.ndim) if a != plane_axis]
    return np.mean([lineal_path_axis(labels, phase, a, max_r) for a in axes], axis=0)


def error_rate(reference: np.ndarray, generated: np.ndarray) -> float:
    """Eq. 24: 100 x area between the curves / area under the reference (trapezoid)."""
    area = np.trapezoid(reference)
    if area <= 0:
        return float("nan")
    return float(100.0 * np.trapezoid(np.abs(np.asarray(generated) - reference)) / area)


def register(reg) -> None:  # noqa: ANN001
    """Register the built-in curve metrics."""
    reg.register("metric", "s2", two_point_correlation)
    reg.register("metric", "lineal_path", lineal_path)
