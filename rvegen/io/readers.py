"""Readers: a path in, a 2D (y, x) or 3D (z, y, x) numpy array out.

Every reader has the signature ``read(path: Path) -> numpy.ndarray`` and raises
:class:`~rvegen.errors.InputError` naming the file when it cannot read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError

Reader = Callable[[Path], np.ndarray]

#: Reader picked by ``reader: auto`` for each file suffix.
SUFFIXES = {
    ".npy": "npy",
    ".npz": "npy",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".png": "image",
    ".bmp": "image",
    ".jpg": "image",
    ".jpeg": "image",
}


def read_npy(path: Path) -> np.ndarray:
    """Read a ``.npy`` array, or the only array of a ``.npz`` archive (no pickles)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable numpy file ({exc})") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = list(loaded.keys())
            if len(keys) != 1:
                raise InputError(
                    f"{path}: an .npz must hold exactly one array, found {len(keys)}"
                )
            return loaded[keys[0]]
    return loaded


def read_tiff(path: Path) -> np.ndarray:
    """Read a single-page image or a multi-page stack (pages are z)."""
    import tifffile

    try:
        array = tifffile.imread(path)
    except Exception as exc:  # tifffile raises many types for corrupt files
        raise InputError(f"{path}: not a readable TIFF file ({exc})") from None
    if array.size == 0:  # tifffile returns an empty array for some corrupt files
        raise InputError(f"{path}: not a readable TIFF file (no image data found)")
    return array


def read_image(path: Path) -> np.ndarray:
    """Read a PNG / BMP / JPEG image; colour images are converted to grey."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.mode not in ("L", "I", "I;16", "F", "1"):
                img = img.convert("L")
            return np.asarray(img)
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{path}: not a readable image ({exc})") from None


def reader_for(path: Path) -> str:
    """Name of the reader that ``reader: auto`` uses for ``path``."""
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise InputError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; supported: "
            f"{', '.join(sorted(SUFFIXES))} (or set data.reader)"
        ) from None


def register(reg) -> None:  # noqa: ANN001 - Registry, avoided to keep imports acyclic
    """Register the built-in readers."""
    reg.register("reader", "npy", read_npy)
    reg.register("reader", "tiff", read_tiff)
    reg.register("reader", "image", read_image)
