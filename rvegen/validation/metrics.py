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
from scipy import fft as sp_fft


def indicator(labels: np.ndarray, phase: int) -> np.ndarray:
    """Float64 indicator (1 where ``labels == phase``)."""
    return (labels == phase).astype(np.float64)


def s2_map(
    ind: np.ndarray, axes: tuple[int, ...], periodic: bool, max_r: int
) -> tuple[np.ndarray, np.ndarray]:
    """Two-point correlation for every lag vector with |l_i| <= max_r on ``axes``.

    Other axes are averaged over (a stack of 2D slices). Non-periodic: the FFT is padded
    to at least n + max_r per axis (enough for lags up to max_r not to wrap around) and
    each lag is divided by its number of overlapping voxel pairs, prod(n_i - |l_i|).
    Periodic: plain FFT divided by the voxel count.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        S2 on the lag grid (-max_r..max_r per axis) and the Euclidean length of each lag.
    """
    shape = [ind.shape[a] for a in axes]
    size = shape if periodic else [sp_fft.next_fast_len(n + max_r) for n in shape]
    spec = sp_fft.rfftn(ind, s=size, axes=axes, workers=-1)
    auto = sp_fft.irfftn(spec * spec.conj(), s=size, axes=axes, workers=-1)
    batch_axes = tuple(a for a in range(ind.ndim) if a not in axes)
    if batch_axes:
        auto = auto.mean(axis=batch_axes)
    lags = [np.arange(-min(max_r, n - 1), min(max_r, n - 1) + 1) for n in shape]
    auto = auto[np.ix_(*[lag % p for lag, p in zip(lags, size)])]
    if periodic:
        counts = float(np.prod(shape))
    else:
        grids_n = np.meshgrid(*[n - np.abs(lag) for n, lag in zip(shape, lags)], indexing="ij")
        counts = np.prod(grids_n, axis=0).astype(np.float64)
    grids = np.meshgrid(*lags, indexing="ij")
    dist = np.sqrt(sum(g.astype(np.float64) ** 2 for g in grids))
    return auto / counts, dist


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
    s2, dist = s2_map(ind, axes, periodic, max_r)
    bins = np.floor(dist + 1e-9).astype(np.int64).ravel()
    keep = bins <= max_r
    sums = np.bincount(bins[keep], weights=s2.ravel()[keep], minlength=max_r + 1)
    hits = np.bincount(bins[keep], minlength=max_r + 1)
    return sums[: max_r + 1] / np.maximum(hits[: max_r + 1], 1)


def run_lengths(labels: np.ndarray, phase: int, axis: int) -> tuple[np.ndarray, int, int]:
    """Histogram of the runs (chords) of ``phase`` along ``axis``.

    Returns
    -------
    (numpy.ndarray, int, int)
        ``hist[l]`` = number of runs of length l (l = 0..n), the number of lines, and n,
        the line length.
    """
    ind = np.moveaxis(labels == phase, axis, -1).reshape(-1, labels.shape[axis])
    lines, n = ind.shape
    padded = np.zeros((lines, n + 2), dtype=np.int8)
    padded[:, 1:-1] = ind
    edges = np.diff(padded, axis=1)
    starts = np.nonzero(edges == 1)[1]
    ends = np.nonzero(edges == -1)[1]  # both in row-major order, so they pair up
    return np.bincount(ends - starts, minlength=n + 1).astype(np.float64), lines, n


def lineal_path_axis(labels: np.ndarray, phase: int, axis: int, max_z: int) -> np.ndarray:
    """Torquato's lineal-path function L(z) along one axis, exact, from run lengths.

    L(z) is the probability that a segment of length z (z + 1 voxels) lies wholly in
    ``phase``, over every position where the segment fits (non-periodic). L(0) is the
    volume fraction; for independent voxels L(z) = phi ** (z + 1).
    """
    hist, lines, n = run_lengths(labels, phase, axis)
    lengths = np.arange(n + 1, dtype=np.float64)
    # positions of a (z+1)-voxel segment inside the runs: sum over l > z of (l - z) hist[l]
    tail_count = np.cumsum(hist[::-1])[::-1]  # sum_{l >= k} hist[l]
    tail_len = np.cumsum((lengths * hist)[::-1])[::-1]
    z = np.arange(min(max_z, n - 1) + 1)
    positions = tail_len[z + 1] - z * tail_count[z + 1]
    out = np.zeros(max_z + 1)
    out[: len(z)] = positions / (lines * (n - z))
    return out


def chord_length_distribution(labels: np.ndarray, phase: int, axis: int) -> np.ndarray:
    """Fraction of the chords of ``phase`` along ``axis`` that have length l (l = 0..n).

    Chords cut by the border count with their visible length.
    """
    hist, _, _ = run_lengths(labels, phase, axis)
    total = hist.sum()
    return hist / total if total else hist


def mean_chord_length(labels: np.ndarray, phase: int, axis: int) -> float:
    """Mean length (voxels) of the chords of ``phase`` along ``axis``."""
    p = chord_length_distribution(labels, phase, axis)
    return float(p @ np.arange(len(p)))


def two_point_correlation_axis(
    labels: np.ndarray, phase: int, axis: int, max_r: int, periodic: bool = False
) -> np.ndarray:
    """S2(r e_axis), r = 0..max_r: the correlation along one axis, all lines averaged."""
    s2, _ = s2_map(indicator(labels, phase), (axis,), periodic, max_r)
    return s2[max_r:]


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
