"""The training data of a run: labelled source, patches, provenance; stored as dataset.h5."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..atomic import atomic_path
from ..errors import InputError


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
    patch_planes
        Anisotropic data (``data.per_plane``) only: (N,) the axis each patch's slice is
        normal to (0: xy plane, 1: xz, 2: yz); one model is trained per plane family.
    """

    patches: np.ndarray
    source: np.ndarray
    kind: str
    phases: int
    voxel_size: float = 1.0
    unit: str = "um"
    holdout: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    patch_planes: np.ndarray | None = None

    @property
    def patch_size(self) -> int:
        """Side n of the square patches."""
        return int(self.patches.shape[-1])

    @property
    def plane_images(self) -> bool:
        """2D data given as three orthogonal micrographs: ``source[a]`` is the image of
        the plane normal to axis a (xy, xz, yz), the reference of those slices."""
        return self.kind == "image" and "plane_images" in self.meta

    @property
    def images(self) -> np.ndarray:
        """2D data as a stack of images (N, y, x)."""
        return self.source if self.source.ndim == 3 else self.source[None]

    @property
    def fractions(self) -> list[float]:
        """Phase fractions of what the model is trained on (the patches' source)."""
        if "volume_fractions" in self.meta:
            return [float(v) for v in self.meta["volume_fractions"]]
        counts = np.bincount(self.patches.ravel(), minlength=self.phases)
        return (counts / counts.sum()).tolist()

    def content_hash(self) -> str:
        """SHA-256 of what training and validation read (arrays, phases, kind, augment),
        not of metadata such as the unit or the voxel size."""
        digest = hashlib.sha256()
        for array in (self.patches, self.source, self.holdout, self.patch_planes):
            if array is not None:
                digest.update(str(array.shape).encode())
                digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(f"{self.kind} {self.phases} {self.meta.get('augment', True)}".encode())
        return digest.hexdigest()

    @classmethod
    def from_file(cls, path: str | Path, seed: int = 0, **data: Any) -> "Dataset":
        """A dataset from an image, stack, folder of slices, .h5, .raw or .zip file.

        ``data`` are fields of the spec's data section (``phases``, ``patch_size``,
        ``reader``, ``segmentation``, ...); relative paths are taken as they are.
        """
        from ..spec import DataSpec
        from .ingest import ingest

        return ingest(DataSpec(source=str(path), **data), Path("."), seed)

    @classmethod
    def from_array(cls, array: np.ndarray, seed: int = 0, **data: Any) -> "Dataset":
        """A dataset from an image (y, x) or stack (z, y, x) in memory.

        Parameters
        ----------
        array
            Grey values or phase labels.
        seed
            Seed of the crop positions.
        **data
            Fields of the spec's data section (``phases``, ``patch_size``,
            ``num_patches``, ``kind``, ``segmentation``, ``downscale``, ``holdout``,
            ``train_slice``, ``voxel_size``, ``unit``, ...).

        Examples
        --------
        >>> import numpy as np
        >>> img = (np.random.default_rng(0).random((64, 64)) > 0.7).astype(np.uint8)
        >>> ds = Dataset.from_array(img, patch_size=16, num_patches=32)
        >>> ds.patches.shape, ds.kind
        ((32, 16, 16), 'image')
        """
        from ..spec import DataSpec
        from .ingest import prepare

        spec = DataSpec(source="<in-memory array>", **data)
        meta = {"source_path": "<in-memory array>", "reader": "array"}
        return prepare(np.asarray(array), spec, "array", meta, np.random.default_rng(seed))


    @classmethod
    def from_planes(cls, xy: np.ndarray, xz: np.ndarray, yz: np.ndarray, seed: int = 0,
                    **data: Any) -> "Dataset":
        """A dataset from three orthogonal 2D micrographs in memory (``data.sources``).

        Each image's rows and columns are its plane's axes in (z, y, x) order: xy rows y /
        columns x, xz rows z / columns x, yz rows z / columns y. ``data`` are fields of
        the spec's data section (``per_plane=True`` for one model per plane family).
        """
        from ..spec import DataSpec
        from .ingest import prepare_planes

        spec = DataSpec(sources={p: f"<{p} array>" for p in ("xy", "xz", "yz")}, **data)
        meta = {"source_path": "<in-memory arrays>", "reader": "array"}
        return prepare_planes([np.asarray(a) for a in (xy, xz, yz)], spec,
                              ["xy array", "xz array", "yz array"], meta,
                              np.random.default_rng(seed))


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (of every file, in name order, for a folder)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def save_dataset(ds: Dataset, path: Path) -> None:
    """Write a dataset to HDF5 atomically."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.create_dataset("patches", data=ds.patches, compression="gzip", chunks=True)
        f.create_dataset("source", data=ds.source, compression="gzip", chunks=True)
        if ds.holdout is not None:
            f.create_dataset("holdout", data=ds.holdout, compression="gzip", chunks=True)
        if ds.patch_planes is not None:
            f.create_dataset("patch_planes", data=ds.patch_planes)
        f.attrs.update(
            kind=ds.kind, phases=ds.phases, voxel_size=ds.voxel_size, unit=ds.unit,
            patch_size=ds.patch_size,
        )
        for key, value in ds.meta.items():
            f.attrs[key] = value


def dataset_header(path: str | Path) -> dict[str, Any]:
    """The root attributes of a dataset written by :func:`save_dataset` (``kind``,
    ``phases``, metadata such as ``train_slice``) and ``holdout``: whether it holds a
    held-out part, without reading its arrays."""
    try:
        with h5py.File(path, "r") as f:
            return {**dict(f.attrs), "holdout": "holdout" in f}
    except OSError as exc:
        raise InputError(f"{path}: not a readable rvegen dataset ({exc}); rerun ingest") from None


def load_dataset(path: str | Path) -> Dataset:
    """Read a dataset written by :func:`save_dataset`."""
    path = Path(path)
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
                patch_planes=f["patch_planes"][()] if "patch_planes" in f else None,
            )
    except (OSError, KeyError) as exc:
        raise InputError(f"{path}: not a readable rvegen dataset ({exc}); rerun ingest") from None
    attrs.pop("patch_size", None)
    ds.meta = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in attrs.items()}
    return ds
