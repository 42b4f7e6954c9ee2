"""Ingestion: read a micrograph or stack, map it to phase labels, cut training patches.

The result is a :class:`Dataset`: the n x n training patches, the whole labelled source
(kept as the reference for validation) and provenance. It is stored in ``dataset.h5``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from . import __version__
from .atomic import atomic_path
from .errors import InputError
from .io.readers import reader_for
from .plugins import registry
from .spec import DataSpec


@dataclass
class Dataset:
    """Training patches and the labelled source they were cut from.

    Attributes
    ----------
    patches
        (N, n, n) uint8 phase labels 0..K-1.
    source
        The whole labelled image (y, x) or stack (z, y, x), uint8.
    kind
        'image' (2D source: per-plane 2D validation) or 'stack' (3D validation).
    phases
        Number of phases K.
    voxel_size, unit
        Physical edge length of one voxel and its unit.
    meta
        Provenance (source file, its SHA-256, reader, original label values, ...).
    """

    patches: np.ndarray
    source: np.ndarray
    kind: str
    phases: int
    voxel_size: float = 1.0
    unit: str = "um"
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def patch_size(self) -> int:
        """Side n of the square patches."""
        return int(self.patches.shape[-1])


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def to_labels(array: np.ndarray, phases: int, name: str) -> tuple[np.ndarray, list[float]]:
    """Map an already-segmented array's sorted distinct values to labels 0..K-1.

    Raises
    ------
    InputError
        If the array is empty, holds NaN, or its number of distinct values is not
        ``phases``.
    """
    if array.size == 0:
        raise InputError(f"{name}: the array is empty")
    if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
        raise InputError(f"{name}: the array holds NaN values")
    values, labels = np.unique(array, return_inverse=True)
    if len(values) == 1:
        raise InputError(f"{name}: only one phase (every value is {values[0]}); nothing to learn")
    if len(values) != phases:
        raise InputError(
            f"{name}: {len(values)} distinct values but data.phases is {phases}; segment the "
            "image first or set data.phases to match"
        )
    return labels.reshape(array.shape).astype(np.uint8), [float(v) for v in values]


def _random_crops(
    source: np.ndarray, n: int, count: int, axes: list[int], rng: np.random.Generator
) -> np.ndarray:
    """``count`` random n x n crops: of the image (2D) or of random slices (3D)."""
    out = np.empty((count, n, n), dtype=np.uint8)
    for i in range(count):
        if source.ndim == 2:
            plane = source
        else:
            axis = axes[rng.integers(len(axes))]
            plane = np.take(source, rng.integers(source.shape[axis]), axis=axis)
        y = rng.integers(plane.shape[0] - n + 1)
        x = rng.integers(plane.shape[1] - n + 1)
        out[i] = plane[y : y + n, x : x + n]
    return out


def make_patches(
    source: np.ndarray, n: int, count: int, axes: list[int], rng: np.random.Generator
) -> np.ndarray:
    """Training patches of side ``n``.

    A stack whose slices are exactly n x n gives every slice along ``axes``; larger
    sources give ``count`` seeded random crops.
    """
    if source.ndim == 3 and all(
        source.shape[a] == n for ax in axes for a in range(3) if a != ax
    ):
        return np.concatenate([np.moveaxis(source, ax, 0) for ax in axes]).astype(np.uint8)
    return _random_crops(source, n, count, axes, rng)


def ingest(data: DataSpec, base_dir: Path, seed: int = 0) -> Dataset:
    """Read ``data.source`` and cut training patches.

    Parameters
    ----------
    data
        The spec's data section.
    base_dir
        Folder that relative paths are resolved against.
    seed
        Seed of the crop positions.

    Returns
    -------
    Dataset

    Raises
    ------
    InputError
        For a missing, corrupt or unusable file, with its name and what to do.
    """
    path = Path(data.source)
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise InputError(f"{path}: data.source file not found")
    reader_name = reader_for(path) if data.reader == "auto" else data.reader
    read = registry().get("reader", reader_name, "data.reader")
    array = np.asarray(read(path))
    array = np.squeeze(array)
    if array.ndim not in (2, 3):
        raise InputError(
            f"{path}: expected a 2D image or a 3D stack, got an array of shape {array.shape}"
        )
    kind = data.kind if data.kind != "auto" else ("image" if array.ndim == 2 else "stack")
    if (kind == "image") != (array.ndim == 2):
        raise InputError(f"{path}: data.kind is {kind!r} but the array is {array.ndim}D")
    n = data.patch_size
    too_small = [s for s in array.shape if s < n]
    if too_small:
        raise InputError(
            f"{path}: shape {array.shape} is smaller than data.patch_size {n}; use a smaller "
            "patch_size"
        )
    labels, values = to_labels(array, data.phases, str(path))
    rng = np.random.default_rng(seed)
    patches = make_patches(labels, n, data.num_patches, data.slice_axes, rng)
    fractions = np.bincount(labels.ravel(), minlength=data.phases) / labels.size
    meta = {
        "source_path": str(path),
        "source_sha256": file_sha256(path),
        "reader": reader_name,
        "label_values": values,
        "volume_fractions": fractions.tolist(),
        "augment": data.augment,
        "rvegen_version": __version__,
    }
    return Dataset(patches, labels, kind, data.phases, data.voxel_size, data.unit, meta)


def save_dataset(ds: Dataset, path: Path) -> None:
    """Write a dataset to HDF5 atomically."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("patches", data=ds.patches, compression="gzip", chunks=True)
        f.create_dataset("source", data=ds.source, compression="gzip", chunks=True)
        f.attrs.update(
            kind=ds.kind, phases=ds.phases, voxel_size=ds.voxel_size, unit=ds.unit,
            patch_size=ds.patch_size,
        )
        for key, value in ds.meta.items():
            f.attrs[key] = value


def load_dataset(path: Path) -> Dataset:
    """Read a dataset written by :func:`save_dataset`."""
    if not path.is_file():
        raise InputError(f"{path}: dataset not found; run `rvegen ingest` first")
    try:
        with h5py.File(path, "r") as f:
            attrs = dict(f.attrs)
            ds = Dataset(
                patches=f["patches"][()],
                source=f["source"][()],
                kind=str(attrs.pop("kind")),
                phases=int(attrs.pop("phases")),
                voxel_size=float(attrs.pop("voxel_size")),
                unit=str(attrs.pop("unit")),
            )
    except (OSError, KeyError) as exc:
        raise InputError(f"{path}: not a readable rvegen dataset ({exc}); rerun ingest") from None
    attrs.pop("patch_size", None)
    ds.meta = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in attrs.items()}
    return ds
