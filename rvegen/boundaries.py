"""Grain-boundary networks: close the gaps that multi-plane sampling leaves in them.

When phase 1 of binary data is a network of thin grain boundaries (a polycrystal's
micrograph), multi-plane sampling gives sheets with holes: in sections the boundaries
break into pieces and neighbouring grains merge (grains case: the largest boundary
cluster of 32 x 32 sections 0.30 against 0.99 in the training images, counting corner
neighbours). :func:`close_boundaries` draws the watershed lines of the grain phase, with as
many grains per area in the sections as the training images hold, and thickens them with
the sampled boundaries next to them, where the sampled field is strongest, to the data's
boundary fraction. Both targets come from the training data alone; sampled boundaries
away from the lines are dropped, because the training images' boundaries form one
network (no specks).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

PER = 1000.0  # grain densities are per 1000 pixels of section
#: What :func:`close_boundaries` does, in words: part of the volumes' identity, so that
#: volumes closed by an earlier rule are sampled again (session 14: the lines are thickened
#: only into their face neighbours; before, by any sampled boundary).
CLOSURE_RULE = "watershed lines thickened into their face neighbours"


def grain_density(images: np.ndarray, boundary: int = 1) -> float:
    """Grains per 1000 pixels of 2D images whose phase ``boundary`` is a boundary network.

    A grain is a face-connected piece of the other phase. Pieces touching the last row
    or column are not counted (an unbiased counting frame), so the density does not
    depend on the window size.

    Parameters
    ----------
    images
        (N, m, m) labels, or one (m, m) image.
    boundary
        The label of the boundary phase.
    """
    images = np.asarray(images)
    images = images[None] if images.ndim == 2 else images
    counts = []
    for image in images:
        pieces, _ = ndimage.label(image != boundary)
        cut = np.union1d(pieces[-1], pieces[:, -1])
        counts.append(len(np.setdiff1d(np.unique(pieces), np.append(cut, 0))))
    return float(np.sum(counts) / (images[0].size * len(images)) * PER)


def section_density(boundaries: np.ndarray) -> float:
    """:func:`grain_density` of every slice of a 3D boundary mask along its three axes."""
    mask = np.asarray(boundaries, dtype=np.uint8)
    return float(np.mean([grain_density(np.moveaxis(mask, a, 0)) for a in range(3)]))


def thicken_lines(field: np.ndarray, lines: np.ndarray, fraction: float) -> np.ndarray:
    """Thicken a line mask into its face neighbours where ``field`` is strongest.

    Parameters
    ----------
    field
        Continuous values, larger where a boundary is more likely.
    lines
        Bool mask of the lines (same shape), kept whole.
    fraction
        The share of voxels the result should hold; ties in ``field`` at the cut may
        leave it a little short.

    Returns
    -------
    np.ndarray
        Bool mask: ``lines`` and their face neighbours above the threshold. Nothing
        further from the lines is added, however strong.
    """
    zone = ndimage.binary_dilation(lines) & ~lines  # face neighbours only
    # at most the fraction (the tiny slack absorbs float error in fraction * size)
    wanted = int(np.floor(fraction * lines.size + 1e-9)) - int(lines.sum())
    values = np.sort(field[zone])[::-1]
    if wanted <= 0 or not values.size:
        return lines.copy()
    if wanted >= values.size:
        return lines | zone
    # the strongest ``wanted`` neighbours; ties at the cut are left out
    return lines | (zone & (field > values[wanted]))


def close_boundaries(field: np.ndarray, fraction: float, density: float,
                     rounds: int = 8) -> np.ndarray:
    """Close the gaps of a sampled 3D boundary network.

    The grain phase (``field <= 0``) is split by a watershed of its distance to the
    boundaries (smoothed by 1 voxel; markers: its h-maxima), whose one-voxel lines
    separate the grains face-wise, so that every section shows closed loops. The depth h
    is bisected so that the sections hold ``density`` grains per 1000 pixels. The lines
    are thickened into their face neighbours where the sampled field is strongest, so that
    the result holds ``fraction``; sampled boundaries that touch no line are dropped
    (isolated specks in sections; grains benchmark, ``grains_closure.py``).

    Parameters
    ----------
    field
        (z, y, x) continuous sampler output, > 0 on the boundaries.
    fraction
        The data's fraction of boundary voxels.
    density
        Grains per 1000 pixels of the training images (:func:`grain_density`).
    rounds
        Bisection steps of h.

    Returns
    -------
    np.ndarray
        (z, y, x) bool mask of the boundaries.
    """
    from skimage.morphology import h_maxima
    from skimage.segmentation import watershed

    field = np.asarray(field, dtype=np.float64)
    depth = ndimage.gaussian_filter(ndimage.distance_transform_edt(field <= 0), 1.0)
    if not depth.any():  # no grain phase at all: nothing to split
        return field > 0

    def closed(h: float) -> np.ndarray:
        markers, _ = ndimage.label(h_maxima(depth, h))
        return thicken_lines(field, watershed(-depth, markers, watershed_line=True) == 0, fraction)

    lo, hi = 0.02, 4.0  # a deeper h keeps fewer maxima: fewer, larger grains
    for _ in range(rounds):
        h = (lo + hi) / 2
        lo, hi = (h, hi) if section_density(closed(h)) > density else (lo, h)
    return closed((lo + hi) / 2)
