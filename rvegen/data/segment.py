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


def downscale(labels: np.ndarray, factor: int, phases: int) -> np.ndarray:
    """Majority label of each factor x factor (x factor) block; the edge remainder is cut."""
    if factor == 1:
        return labels
    shape = [s // factor for s in labels.shape]
    trimmed = labels[tuple(slice(0, s * factor) for s in shape)]
    blocks = trimmed.reshape([v for s in shape for v in (s, factor)])
    block_axes = tuple(range(1, blocks.ndim, 2))
    counts = np.stack([(blocks == p).sum(axis=block_axes) for p in range(phases)])
    return counts.argmax(axis=0).astype(np.uint8)
