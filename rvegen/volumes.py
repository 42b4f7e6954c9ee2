"""volumes.h5: generated volumes, one HDF5 dataset each, with their provenance.

Layout: ``/volume_000``, ``/volume_001``, ... uint8 (z, y, x) label arrays, each with
attributes ``seed``, ``evaluations``, ``seconds`` and ``settings`` (JSON); optionally
``/images_2d`` (N, m, m), the model's own 2D samples (the 2D ceiling of validation); root
attributes ``fingerprint`` (what made them), ``phases``, ``voxel_size``, ``unit``.
Each volume is added by copying the file, appending, and renaming the copy into place, so
an interrupted run never leaves a half-written file and a rerun skips finished volumes.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .atomic import atomic_path
from .errors import InputError


@dataclass
class Volume:
    """One generated volume and its provenance."""

    name: str
    labels: np.ndarray
    attrs: dict[str, Any] = field(default_factory=dict)


#: Dataset of the model's own 2D samples.
IMAGES = "images_2d"


def volume_name(index: int) -> str:
    """Dataset name of the index-th volume."""
    return f"volume_{index:03d}"


def finished(path: Path, fingerprint: str) -> set[str]:
    """Names of the volumes already in ``path`` made with ``fingerprint`` (else none)."""
    if not path.exists():
        return set()
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("fingerprint") != fingerprint:
                return set()
            return set(f.keys())
    except OSError:
        return set()


def _append(path: Path, name: str, array: np.ndarray, attrs: dict[str, Any],
            fingerprint: str, root_attrs: dict[str, Any]) -> None:
    """Add one dataset to ``path`` atomically (starting a new file on a new fingerprint)."""
    keep = bool(finished(path, fingerprint))
    with atomic_path(path) as tmp:
        if keep:
            shutil.copyfile(path, tmp)
        with h5py.File(tmp, "a" if keep else "w") as f:
            f.attrs.update(root_attrs)
            f.attrs["fingerprint"] = fingerprint
            if name in f:  # regenerated (--force): replace the old one
                del f[name]
            dset = f.create_dataset(name, data=array, compression="gzip", chunks=True)
            for key, value in attrs.items():
                dset.attrs[key] = json.dumps(value) if isinstance(value, dict) else value


def append_volume(
    path: Path, volume: Volume, fingerprint: str, root_attrs: dict[str, Any]
) -> None:
    """Add one volume to ``path`` atomically (starting a new file on a new fingerprint)."""
    _append(path, volume.name, volume.labels, volume.attrs, fingerprint, root_attrs)


def write_images(path: Path, images: np.ndarray, fingerprint: str,
                 root_attrs: dict[str, Any]) -> None:
    """Store the model's own 2D samples (N, m, m) beside the volumes."""
    _append(path, IMAGES, images.astype(np.uint8), {}, fingerprint, root_attrs)


def read_images(path: Path) -> np.ndarray | None:
    """The 2D samples stored by :func:`write_images`, or None."""
    try:
        with h5py.File(path, "r") as f:
            return f[IMAGES][()] if IMAGES in f else None
    except OSError as exc:
        raise InputError(f"{path}: not a readable volumes file ({exc})") from None


def read_volumes(path: str | Path) -> tuple[list[Volume], dict[str, Any]]:
    """All volumes of a volumes.h5 in name order, and the root attributes."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: volumes not found; run `rvegen generate` first")
    try:
        with h5py.File(path, "r") as f:
            root = dict(f.attrs)
            vols = [
                Volume(name, f[name][()], {k: _decode(v) for k, v in f[name].attrs.items()})
                for name in sorted(f.keys()) if name.startswith("volume_")
            ]
    except OSError as exc:
        raise InputError(f"{path}: not a readable volumes file ({exc})") from None
    if not vols:
        raise InputError(f"{path}: holds no volumes; run `rvegen generate` first")
    return vols, root


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("{"):
        return json.loads(value)
    if isinstance(value, np.generic):
        return value.item()
    return value
