"""Ingestion: read a micrograph or stack, map it to phase labels, cut training patches.

The result is a :class:`Dataset`: the n x n training patches, the whole labelled source
(kept as the reference for validation) and provenance. It is stored in ``dataset.h5``.
"""

from __future__ import annotations

import hashlib
import json
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
from .segment import downscale, segment
from .spec import DataSpec


@dataclass
class Dataset:
    """Training patches and the labelled source they were cut from.

    Attributes
    ----------
    patches
        (N, n, n) uint8 phase labels 0..K-1.
    source
        The labelled training source, uint8: for kind 'image' one image (y, x) or a stack
        of independent images (N, y, x); for kind 'stack' a volume (z, y, x).
    kind
        'image' (2D data: per-plane 2D validation) or 'stack' (3D validation).
    phases
        Number of phases K.
    voxel_size, unit
        Physical edge length of one voxel and its unit.
    holdout
        Stacks only: a sub-volume kept out of training, the 3D reference of validation.
    meta
        Provenance (source file, its SHA-256, reader, segmentation, ...).
    """

    patches: np.ndarray
    source: np.ndarray
    kind: str
    phases: int
    voxel_size: float = 1.0
    unit: str = "um"
    holdout: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def patch_size(self) -> int:
        """Side n of the square patches."""
        return int(self.patches.shape[-1])

    @property
    def images(self) -> np.ndarray:
        """2D data as a stack of images (N, y, x)."""
        return self.source if self.source.ndim == 3 else self.source[None]


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (of every file, in name order, for a folder)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def random_crops(
    planes: list[np.ndarray] | np.ndarray, n: int, count: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` random n x n crops of randomly chosen 2D planes."""
    out = np.empty((count, n, n), dtype=np.uint8)
    for i in range(count):
        plane = planes[rng.integers(len(planes))]
        y = rng.integers(plane.shape[0] - n + 1)
        x = rng.integers(plane.shape[1] - n + 1)
        out[i] = plane[y : y + n, x : x + n]
    return out


class _Slices:
    """The 2D slices of a volume along some axes, indexable without copying the volume."""

    def __init__(self, volume: np.ndarray, axes: list[int]) -> None:
        self.volume, self.axes = volume, axes
        self.counts = [volume.shape[a] for a in axes]

    def __len__(self) -> int:
        return sum(self.counts)

    def __getitem__(self, i: int) -> np.ndarray:
        for axis, count in zip(self.axes, self.counts):
            if i < count:
                return np.take(self.volume, i, axis=axis)
            i -= count
        raise IndexError(i)


def make_patches(
    source: np.ndarray, kind: str, n: int, count: int, axes: list[int], rng: np.random.Generator
) -> np.ndarray:
    """Training patches of side ``n``.

    A stack whose slices are exactly n x n gives every slice along ``axes``; otherwise
    ``count`` seeded random crops of random slices (stacks) or images (2D data).
    """
    if kind == "image":
        planes = source if source.ndim == 3 else source[None]
        return random_crops(planes, n, count, rng)
    if all(source.shape[a] == n for ax in axes for a in range(3) if a != ax):
        return np.concatenate([np.moveaxis(source, ax, 0) for ax in axes]).astype(np.uint8)
    return random_crops(_Slices(source, axes), n, count, rng)


def single_slice(labels: np.ndarray, kind: str, index: int, axis: int, name: str) -> np.ndarray:
    """The one slice of a stack that ``data.train_slice`` trains on."""
    if kind != "stack":
        raise InputError(f"{name}: data.train_slice needs a 3D stack (data.kind 'stack')")
    if index >= labels.shape[axis]:
        raise InputError(
            f"{name}: data.train_slice {index} is outside the {labels.shape[axis]} slices "
            f"along axis {axis} left for training"
        )
    return np.take(labels, index, axis=axis)


def _read(data: DataSpec, base_dir: Path, rng: np.random.Generator) -> tuple[np.ndarray, dict, str]:
    """The raw array, its provenance, and the name used in messages."""
    if data.synthetic is not None:
        make = registry().get("synthetic", data.synthetic.kind, "data.synthetic.kind")
        cfg = data.synthetic.model_dump()
        digest = hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()
        name = f"synthetic {data.synthetic.kind}"
        return make(data.synthetic, rng), {"source_path": name, "source_sha256": digest,
                                           "synthetic": json.dumps(cfg)}, name
    path = Path(data.source)
    path = path if path.is_absolute() else base_dir / path
    if not path.exists():
        raise InputError(f"{path}: data.source file not found")
    reader_name = reader_for(path) if data.reader == "auto" else data.reader
    read = registry().get("reader", reader_name, "data.reader")
    array = np.asarray(read(path, data))
    meta = {"source_path": str(path), "source_sha256": file_sha256(path), "reader": reader_name}
    return array, meta, str(path)


def ingest(data: DataSpec, base_dir: Path, seed: int = 0) -> Dataset:
    """Read (or synthesise) ``data``'s source, label its phases and cut training patches.

    Parameters
    ----------
    data
        The spec's data section.
    base_dir
        Folder that relative paths are resolved against.
    seed
        Seed of synthetic sources and of the crop positions.

    Returns
    -------
    Dataset

    Raises
    ------
    InputError
        For a missing, corrupt or unusable file, with its name and what to do.
    """
    rng = np.random.default_rng(seed)
    array, meta, name = _read(data, base_dir, rng)
    if array.size == 0:
        raise InputError(f"{name}: the array is empty")
    array = np.squeeze(array)
    if array.ndim not in (2, 3):
        raise InputError(
            f"{name}: expected a 2D image or a 3D stack, got an array of shape {array.shape}"
        )
    kind = data.kind
    if kind == "auto":
        kind = "image" if array.ndim == 2 else "stack"
    if kind == "images":
        if array.ndim != 3:
            raise InputError(f"{name}: data.kind 'images' needs a 3D array (image, y, x)")
        kind = "image"
    elif (kind == "image") != (array.ndim == 2):
        raise InputError(f"{name}: data.kind is {kind!r} but the array is {array.ndim}D")
    seg = data.segmentation
    labels, seg_meta = segment(array, seg.method, data.phases, name, seg.thresholds,
                               seg.denoise, seg.denoise_size)
    del array
    if data.downscale > 1:
        # independent images keep their count; only their planes are downscaled
        if kind == "image" and labels.ndim == 3:
            labels = np.stack([downscale(im, data.downscale, data.phases) for im in labels])
        else:
            labels = downscale(labels, data.downscale, data.phases)
    holdout = None
    if kind == "stack" and data.holdout > 0:
        cut = int(round(labels.shape[0] * (1 - data.holdout)))
        labels, holdout = labels[:cut], labels[cut:]
    n = data.patch_size
    if kind == "image":
        planes = labels.shape[-2:]
    else:  # the in-plane sides of every slicing direction
        planes = [labels.shape[a] for ax in data.slice_axes for a in range(3) if a != ax]
    if min(planes) < n:
        raise InputError(
            f"{name}: shape {labels.shape} (after downscale and holdout) is smaller than "
            f"data.patch_size {n}; use a smaller patch_size"
        )
    if data.train_slice is not None:
        trained_on = single_slice(labels, kind, data.train_slice, data.slice_axes[0], name)
        patches = random_crops([trained_on], n, data.num_patches, rng)
        meta["train_slice"] = f"{data.train_slice} along axis {data.slice_axes[0]}"
    else:
        trained_on = labels
        patches = make_patches(labels, kind, n, data.num_patches, data.slice_axes, rng)
    # what the model saw sets the fraction that generation matches
    fractions = np.bincount(trained_on.ravel(), minlength=data.phases) / trained_on.size
    meta.update(seg_meta)
    meta.update({
        "volume_fractions": fractions.tolist(),
        "augment": data.augment,
        "downscale": data.downscale,
        "rvegen_version": __version__,
    })
    meta = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in meta.items()}
    return Dataset(patches, labels, kind, data.phases, data.voxel_size, data.unit, holdout, meta)


def save_dataset(ds: Dataset, path: Path) -> None:
    """Write a dataset to HDF5 atomically."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("patches", data=ds.patches, compression="gzip", chunks=True)
        f.create_dataset("source", data=ds.source, compression="gzip", chunks=True)
        if ds.holdout is not None:
            f.create_dataset("holdout", data=ds.holdout, compression="gzip", chunks=True)
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
                holdout=f["holdout"][()] if "holdout" in f else None,
            )
    except (OSError, KeyError) as exc:
        raise InputError(f"{path}: not a readable rvegen dataset ({exc}); rerun ingest") from None
    attrs.pop("patch_size", None)
    ds.meta = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in attrs.items()}
    return ds
