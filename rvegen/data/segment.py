"""Segmentation: raw grey values (or existing labels) to phase labels 0..K-1."""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def relabel(array: np.ndarray, phases: int, name: str) -> tuple[np.ndarray, list[float]]:
    """Map an already-labelled array's sorted distinct values to 0..K-1 (uint8).

    Small unsigned integer arrays use a look-up table, which keeps a 400^3 stack within a
    few hundred MB (``np.unique(return_inverse=True)`` would need int64 indices).

    Raises
    ------
    InputError
        If the number of distinct values is not ``phases``.
    """
    if array.dtype == bool:
        array = array.view(np.uint8)
    small_uint = array.dtype.kind == "u" and array.dtype.itemsize <= 2
    if small_uint:
        values = np.flatnonzero(np.bincount(array.ravel()))
    else:
        values, inverse = np.unique(array, return_inverse=True)
    if len(values) == 1:
        raise InputError(f"{name}: only one phase (every value is {values[0]}); nothing to learn")
    if len(values) != phases:
        raise InputError(
            f"{name}: {len(values)} distinct values but data.phases is {phases}; set "
            "data.segmentation.method (otsu, multiotsu, thresholds) or data.phases to match"
        )
    if small_uint:
        lut = np.zeros(int(values[-1]) + 1, dtype=np.uint8)
        lut[values] = np.arange(len(values), dtype=np.uint8)
        labels = lut[array]
    else:
        labels = inverse.reshape(array.shape).astype(np.uint8)
    return labels, [float(v) for v in values]


def denoise(array: np.ndarray, method: str, size: float) -> np.ndarray:
    """Median (window ``size`` voxels) or Gaussian (sigma ``size``) filter; 'none' as is."""
    from scipy import ndimage

    if method == "median":
        return ndimage.median_filter(array, size=max(1, int(round(size))))
    if method == "gaussian":
        return ndimage.gaussian_filter(array.astype(np.float32), sigma=size)
    return array


def thresholds_for(array: np.ndarray, method: str, phases: int, given: list[float] | None,
                   name: str) -> list[float]:
    """Grey-value thresholds splitting ``array`` into ``phases`` classes."""
    from skimage import filters

    if method == "thresholds":
        if not given or len(given) != phases - 1:
            raise InputError(
                f"{name}: data.segmentation.thresholds needs {phases - 1} value(s) for "
                f"{phases} phases"
            )
        return sorted(float(t) for t in given)
    if np.ptp(array) == 0:
        raise InputError(f"{name}: the image is constant; nothing to segment")
    if method == "otsu":
        if phases != 2:
            raise InputError(f"{name}: otsu makes 2 phases; use multiotsu for {phases}")
        return [float(filters.threshold_otsu(array))]
    sample = array.ravel()
    if sample.size > 4_000_000:  # the histogram is what matters; a subsample is plenty
        sample = sample[:: sample.size // 4_000_000 + 1]
    return [float(t) for t in filters.threshold_multiotsu(sample, classes=phases)]


def segment(
    array: np.ndarray, method: str, phases: int, name: str,
    thresholds: list[float] | None = None, denoise_method: str = "none", denoise_size: float = 1.0,
) -> tuple[np.ndarray, dict]:
    """Phase labels of ``array`` and how they were obtained.

    Parameters
    ----------
    array
        Image or stack.
    method
        'labelled' (distinct values are the phases), 'otsu', 'multiotsu' or 'thresholds'.
    phases
        Number of phases K.
    name
        File name for error messages.
    thresholds
        Grey values for method 'thresholds' (K - 1 of them).
    denoise_method, denoise_size
        Optional filter applied before thresholding.

    Returns
    -------
    (numpy.ndarray, dict)
        uint8 labels and provenance (method, thresholds or original values).
    """
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise InputError(f"{name}: the array holds NaN or infinite values")
    if method == "labelled":
        labels, values = relabel(array, phases, name)
        return labels, {"segmentation": "labelled", "label_values": values}
    work = denoise(array, denoise_method, denoise_size)
    cuts = thresholds_for(work, method, phases, thresholds, name)
    # a voxel above a threshold is in the next phase (scikit-image: image > threshold);
    # integer images often hold the threshold itself as a value
    labels = np.digitize(work, cuts, right=True).astype(np.uint8)
    present = np.bincount(labels.ravel(), minlength=phases)
    if (present == 0).any():
        raise InputError(f"{name}: segmentation left phase(s) {np.flatnonzero(present == 0).tolist()} "
                         "empty; check data.segmentation")
    return labels, {"segmentation": method, "thresholds": cuts, "denoise": denoise_method}


def downscale(labels: np.ndarray, factor: int, phases: int, method: str = "majority") -> np.ndarray:
    """Downscale a label array by ``factor`` along every axis; the edge remainder is cut.

    Parameters
    ----------
    labels : ndarray
        Phase labels 0..K-1 (2D or 3D).
    factor : int
        Block side; each factor x factor (x factor) block becomes one voxel.
    phases : int
        Number of phases K.
    method : {"majority", "fractions"}
        "majority" (the default): each block takes its most frequent phase (ties go to the
        lower label). That drains a minority phase: its thin parts and every tied block go
        to the majority (the carbonate micrograph's pores fall from 0.139 to 0.110 at
        factor 2). "fractions": each block takes the phase that holds most of it, up to one
        offset per phase chosen so that the result keeps the input's phase fractions (to
        within a voxel per phase); ties are broken at random with a fixed seed. It keeps S2
        far better but can cut thin ligaments of a majority phase (``benchmarks/downscale.py``).

    Returns
    -------
    ndarray
        uint8 labels, shape ``labels.shape // factor``.
    """
    if factor == 1:
        return labels
    shape = [s // factor for s in labels.shape]
    trimmed = labels[tuple(slice(0, s * factor) for s in shape)]
    blocks = trimmed.reshape([v for s in shape for v in (s, factor)])
    block_axes = tuple(range(1, blocks.ndim, 2))
    counts = np.stack([(blocks == p).sum(axis=block_axes) for p in range(phases)])
    if method == "majority":
        return counts.argmax(axis=0).astype(np.uint8)
    if method != "fractions":
        raise ValueError(f"downscale method {method!r}: expected 'fractions' or 'majority'")
    fractions = counts.reshape(phases, -1).sum(axis=1) / trimmed.size
    return fraction_vote(counts / factor ** labels.ndim, fractions, 0.2 / factor ** labels.ndim)


def fraction_vote(shares: np.ndarray, fractions: np.ndarray, jitter: float,
                  rounds: int = 50) -> np.ndarray:
    """Labels argmax_p(shares[p] + offset[p]) whose phase counts match ``fractions``.

    The offsets are the dual variables of assigning blocks to phases at fixed counts; each
    round sets every phase's offset in turn so that exactly its target count wins (one
    round suffices for two phases). ``jitter`` (below half the spacing of the shares)
    breaks ties without reordering distinct shares.
    """
    k = shares.shape[0]
    flat = shares.reshape(k, -1).astype(np.float64)
    n = flat.shape[1]
    flat = flat + np.random.default_rng(0).uniform(0.0, jitter, flat.shape)
    target = np.diff(np.round(np.concatenate([[0.0], np.cumsum(fractions)]) * n)).astype(int)
    offsets = np.zeros(k)
    for _ in range(rounds):
        for p in range(k):
            others = np.delete(flat + offsets[:, None], p, axis=0).max(axis=0)
            margin = flat[p] - others  # phase p wins where margin + offset > 0
            if target[p] == 0:
                offsets[p] = -margin.max() - 1.0
            elif target[p] >= n:
                offsets[p] = -margin.min() + 1.0
            else:
                # halfway between the target-th and the next largest margin
                top = np.partition(margin, [n - target[p] - 1, n - target[p]])
                offsets[p] = -0.5 * (top[n - target[p] - 1] + top[n - target[p]])
        labels = (flat + offsets[:, None]).argmax(axis=0)
        if np.array_equal(np.bincount(labels, minlength=k), target):
            break
    return labels.astype(np.uint8).reshape(shares.shape[1:])
