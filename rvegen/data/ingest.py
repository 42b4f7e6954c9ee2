"""Ingestion: read a micrograph or stack, map it to phase labels, cut training patches.

The result is a :class:`~rvegen.data.dataset.Dataset`: the n x n training patches, the
whole labelled source (kept as the reference for validation) and provenance. It is stored
in ``dataset.h5``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import InputError
from ..plugins import Registry, registry as default_registry
from ..spec import DataSpec
from .dataset import Dataset, file_sha256
from .readers import check_source, reader_for
from .segment import downscale, segment

#: the plane of each of data.sources' images, in the order of the axis each is normal to
PLANE_IMAGES = ("xy", "xz", "yz")


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


def _read(data: DataSpec, base_dir: Path, rng: np.random.Generator,
          plugins: Registry) -> tuple[np.ndarray, dict, str]:
    """The raw array, its provenance, and the name used in messages."""
    if data.synthetic is not None:
        make = plugins.get("synthetic", data.synthetic.kind, "data.synthetic.kind")
        cfg = data.synthetic.model_dump()
        digest = hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()
        name = f"synthetic {data.synthetic.kind}"
        return make(data.synthetic, rng), {"source_path": name, "source_sha256": digest,
                                           "synthetic": json.dumps(cfg)}, name
    return _read_file(data.source, data, base_dir, plugins)


def _read_file(source: str, data: DataSpec, base_dir: Path, plugins: Registry,
               field: str = "data.source") -> tuple[np.ndarray, dict, str]:
    """One file's array, its provenance, and its name."""
    path = Path(source)
    path = path if path.is_absolute() else base_dir / path
    check_source(path, field)
    reader_name = reader_for(path) if data.reader == "auto" else data.reader
    read = plugins.get("reader", reader_name, "data.reader")
    array = np.asarray(read(path, data))
    meta = {"source_path": str(path), "source_sha256": file_sha256(path), "reader": reader_name}
    return array, meta, str(path)


def ingest(data: DataSpec, base_dir: Path, seed: int = 0,
           plugins: Registry | None = None) -> Dataset:
    """Read (or synthesise) ``data``'s source, label its phases and cut training patches.

    Parameters
    ----------
    data
        The spec's data section.
    base_dir
        Folder that relative paths are resolved against.
    seed
        Seed of synthetic sources and of the crop positions.
    plugins
        Where readers and synthetic sources come from (default: the installed plugins).

    Returns
    -------
    Dataset

    Raises
    ------
    InputError
        For a missing, corrupt or unusable file, with its name and what to do.
    """
    rng = np.random.default_rng(seed)
    plugins = plugins or default_registry()
    if data.sources is not None:
        read = [_read_file(getattr(data.sources, p), data, base_dir, plugins,
                           f"data.sources.{p}") for p in PLANE_IMAGES]
        meta = {"source_path": "; ".join(f"{p}: {m['source_path']}"
                                         for p, (_, m, _) in zip(PLANE_IMAGES, read)),
                "source_sha256": hashlib.sha256("".join(
                    m["source_sha256"] for _, m, _ in read).encode()).hexdigest(),
                "reader": read[0][1]["reader"]}
        return prepare_planes([a for a, _, _ in read], data, [n for _, _, n in read], meta, rng)
    array, meta, name = _read(data, base_dir, rng, plugins)
    return prepare(array, data, name, meta, rng)


def _label(array: np.ndarray, data: DataSpec, name: str) -> tuple[np.ndarray, dict]:
    """Phase labels of one 2D image (segmented, then downscaled)."""
    seg = data.segmentation
    labels, seg_meta = segment(array, seg.method, data.phases, name, seg.thresholds,
                               seg.denoise, seg.denoise_size)
    return downscaled(labels, data, seg_meta, per_image=False), seg_meta


def phase_fractions(labels: np.ndarray, phases: int) -> list[float]:
    """Fraction of the voxels in each phase 0..K-1."""
    return (np.bincount(labels.ravel(), minlength=phases) / labels.size).tolist()


def downscaled(labels: np.ndarray, data: DataSpec, meta: dict, per_image: bool) -> np.ndarray:
    """``labels`` downscaled as ``data`` says (``per_image``: axis 0 counts independent
    images, which keep their count); the phase fractions before and after go into
    ``meta``, since a majority vote moves them."""
    if data.downscale == 1:
        return labels
    before = phase_fractions(labels, data.phases)
    if per_image:
        labels = np.stack([downscale(im, data.downscale, data.phases, data.downscale_method)
                           for im in labels])
    else:
        labels = downscale(labels, data.downscale, data.phases, data.downscale_method)
    meta.update(fractions_before_downscale=before,
                fractions_after_downscale=phase_fractions(labels, data.phases))
    return labels


def prepare_planes(arrays: list[np.ndarray], data: DataSpec, names: list[str], meta: dict,
                   rng: np.random.Generator) -> Dataset:
    """The dataset of three orthogonal micrographs (xy, xz, yz: ``data.sources``).

    An equal share of the patches is cut from each image (with ``data.per_plane`` each
    patch keeps its plane, so that each plane family trains its own model). The stored
    source is the three labelled images cut to their common centre, one per plane
    (``Dataset.plane_images``): validation compares the slices normal to axis a with
    image a.
    """
    n = data.patch_size
    labelled, seg_metas = [], []
    for array, name in zip(arrays, names):
        array = np.squeeze(array)
        if array.ndim != 2 or array.size == 0:
            raise InputError(f"{name}: data.sources needs 2D micrographs, got an array of "
                             f"shape {array.shape}")
        labels, seg_meta = _label(array, data, name)
        if min(labels.shape) < n:
            raise InputError(f"{name}: shape {labels.shape} (after downscale) is smaller "
                             f"than data.patch_size {n}; use a smaller patch_size")
        labelled.append(labels)
        seg_metas.append(seg_meta)
    shares = [data.num_patches // 3 + (a < data.num_patches % 3) for a in range(3)]
    per_axis = [random_crops([im], n, k, rng) for im, k in zip(labelled, shares)]
    patch_planes = (np.concatenate([np.full(len(p), a, np.uint8) for a, p in enumerate(per_axis)])
                    if data.per_plane else None)
    h = min(im.shape[0] for im in labelled)
    w = min(im.shape[1] for im in labelled)
    source = np.stack([_centre(im, h, w) for im in labelled])
    # each plane family weighs the same in a volume, whatever the images' sizes
    fractions = np.mean([phase_fractions(im, data.phases) for im in labelled], axis=0)
    meta.update(seg_metas[0])
    for key in ("fractions_before_downscale", "fractions_after_downscale"):
        if key in meta:  # as the volume fractions: the planes' mean
            meta[key] = np.mean([m[key] for m in seg_metas], axis=0).tolist()
    meta.update({
        "plane_images": " ".join(PLANE_IMAGES),
        "plane_segmentation": json.dumps(seg_metas),
        "volume_fractions": fractions.tolist(),
        "augment": data.augment,
        "slice_axes": [0, 1, 2],
        "downscale": data.downscale,
        "downscale_method": data.downscale_method,
        "rvegen_version": __version__,
    })
    meta = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in meta.items()}
    return Dataset(np.concatenate(per_axis), source, "image", data.phases, data.voxel_size,
                   data.unit, None, meta, patch_planes)


def _centre(image: np.ndarray, h: int, w: int) -> np.ndarray:
    y, x = (image.shape[0] - h) // 2, (image.shape[1] - w) // 2
    return image[y : y + h, x : x + w]


def prepare(array: np.ndarray, data: DataSpec, name: str, meta: dict,
            rng: np.random.Generator) -> Dataset:
    """Label an array's phases, hold out, cut patches: the dataset of ``data``'s settings."""
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
    labels = downscaled(labels, data, seg_meta, per_image=kind == "image" and labels.ndim == 3)
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
    patch_planes = None
    if data.per_plane:
        if kind != "stack":
            raise InputError(f"{name}: data.per_plane needs a 3D stack (data.kind 'stack')")
        trained_on = labels
        # the same number of patches from the slices normal to each axis, in that order
        shares = [data.num_patches // 3 + (a < data.num_patches % 3) for a in range(3)]
        per_axis = [make_patches(labels, kind, n, k, [a], rng) for a, k in enumerate(shares)]
        patches = np.concatenate(per_axis)
        patch_planes = np.concatenate([np.full(len(p), a, np.uint8)
                                       for a, p in enumerate(per_axis)])
    elif data.train_slice is not None:
        trained_on = single_slice(labels, kind, data.train_slice, data.slice_axes[0], name)
        patches = random_crops([trained_on], n, data.num_patches, rng)
        meta["train_slice"] = f"{data.train_slice} along axis {data.slice_axes[0]}"
    else:
        trained_on = labels
        patches = make_patches(labels, kind, n, data.num_patches, data.slice_axes, rng)
    meta.update(seg_meta)
    meta.update({
        # what the model saw sets the fraction that generation matches
        "volume_fractions": phase_fractions(trained_on, data.phases),
        "augment": data.augment,
        "slice_axes": list(data.slice_axes),
        "downscale": data.downscale,
        "downscale_method": data.downscale_method,
        "rvegen_version": __version__,
    })
    meta = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in meta.items()}
    return Dataset(patches, labels, kind, data.phases, data.voxel_size, data.unit, holdout, meta,
                   patch_planes)


