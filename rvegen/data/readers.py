"""Readers: a path in, a 2D (y, x) or 3D (z, y, x) numpy array out.

Every reader has the signature ``read(path: Path, data: DataSpec) -> numpy.ndarray`` (the
data section carries reader options such as a raw file's shape) and raises
:class:`~rvegen.errors.InputError` naming the file when it cannot read it.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..resources import check_memory

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
    ".h5": "hdf5",
    ".hdf5": "hdf5",
    ".raw": "raw",
    ".zip": "zip",
}


def read_npy(path: Path, data: Any = None) -> np.ndarray:
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


def read_tiff(path: Path, data: Any = None) -> np.ndarray:
    """Read a single-page image or a multi-page stack (pages are z)."""
    import tifffile

    try:
        array = tifffile.imread(path)
    except Exception as exc:  # tifffile raises many types for corrupt files
        raise InputError(f"{path}: not a readable TIFF file ({exc})") from None
    if array.size == 0:  # tifffile returns an empty array for some corrupt files
        raise InputError(f"{path}: not a readable TIFF file (no image data found)")
    return array


def read_image(path: Path, data: Any = None) -> np.ndarray:
    """Read a PNG / BMP / JPEG image; colour images are converted to grey."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.mode not in ("L", "I", "I;16", "F", "1"):
                img = img.convert("L")
            return np.asarray(img)
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{path}: not a readable image ({exc})") from None


def _natural_key(path: Path) -> list:
    """slice_2 before slice_10."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def read_folder(path: Path, data: Any = None) -> np.ndarray:
    """A folder of 2D slice images (png / tif / bmp / jpg), stacked in natural name order."""
    if not path.is_dir():
        raise InputError(f"{path}: data.reader 'folder' needs a folder of slice images, "
                         "this is a file")
    files = sorted(
        (p for p in path.iterdir() if p.suffix.lower() in SUFFIXES
         and SUFFIXES[p.suffix.lower()] in ("tiff", "image")),
        key=_natural_key,
    )
    if not files:
        raise InputError(f"{path}: the folder holds no slice images (png, tif, bmp, jpg)")
    slices = []
    for f in files:
        img = read_tiff(f) if SUFFIXES[f.suffix.lower()] == "tiff" else read_image(f)
        if img.ndim != 2:
            raise InputError(f"{f}: a slice must be one 2D image, got shape {img.shape}")
        if slices and img.shape != slices[0].shape:
            raise InputError(f"{f}: shape {img.shape} differs from the first slice's "
                             f"{slices[0].shape}")
        slices.append(img)
    return np.stack(slices)


def read_hdf5(path: Path, data: Any = None) -> np.ndarray:
    """The dataset ``data.dataset`` of an HDF5 file (or its only dataset)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            name = getattr(data, "dataset", None)
            if name is None:
                names: list[str] = []
                f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
                if len(names) != 1:
                    raise InputError(
                        f"{path}: holds {len(names)} datasets; name one with data.dataset "
                        f"({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})"
                    )
                name = names[0]
            if name not in f or not isinstance(f[name], h5py.Dataset):
                raise InputError(f"{path}: no dataset {name!r} (data.dataset)")
            return f[name][()]
    except OSError as exc:
        raise InputError(f"{path}: not a readable HDF5 file ({exc})") from None


def read_raw(path: Path, data: Any = None) -> np.ndarray:
    """Headerless binary voxels: shape, dtype, byte order and header size from ``data.raw``."""
    raw = getattr(data, "raw", None)
    if raw is None:
        raise InputError(f"{path}: a raw file needs data.raw (shape, dtype, byte_order)")
    dtype = np.dtype(raw.dtype).newbyteorder("<" if raw.byte_order == "little" else ">")
    expected = int(np.prod(raw.shape)) * dtype.itemsize
    check_memory(2 * expected, f"{path}: data.raw shape {raw.shape} of {raw.dtype}, which",
                 InputError, "check data.raw.shape")
    size = path.stat().st_size - raw.header_bytes
    if size != expected:
        raise InputError(
            f"{path}: {size} bytes after the header, but data.raw shape {raw.shape} of "
            f"{raw.dtype} needs {expected}"
        )
    array = np.fromfile(path, dtype=dtype, offset=raw.header_bytes).reshape(raw.shape)
    return array.astype(dtype.newbyteorder("="))


def read_zip(path: Path, data: Any = None) -> np.ndarray:
    """One supported file inside a zip (``data.member``, or the only supported one)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if Path(n).suffix.lower() in SUFFIXES
                     and not n.endswith("/") and Path(n).suffix.lower() != ".zip"]
            member = getattr(data, "member", None)
            if member is None:
                if len(names) != 1:
                    raise InputError(f"{path}: holds {len(names)} supported files; name one "
                                     f"with data.member ({', '.join(names[:5])})")
                member = names[0]
            if member not in zf.namelist():
                raise InputError(f"{path}: no member {member!r} (data.member)")
            suffix = Path(member).suffix.lower()
            if suffix not in SUFFIXES or SUFFIXES[suffix] in ("zip", "folder"):
                raise InputError(f"{path}: member {member!r} has an unsupported type "
                                 f"{suffix or '(none)'!r}; supported inside a zip: "
                                 f"{', '.join(sorted(k for k, v in SUFFIXES.items() if v != 'zip'))}")
            # a zip bomb unpacks to far more than it weighs: check before unpacking (the
            # member and the array read from it are in memory at the same time)
            check_memory(2 * zf.getinfo(member).file_size,
                         f"{path}: member {member!r} unpacks to "
                         f"{zf.getinfo(member).file_size:,} bytes, which", InputError,
                         "this is not a microstructure file rvegen can read")
            payload = zf.read(member)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable zip file ({exc})") from None
    with tempfile.TemporaryDirectory() as tmp:
        inner = Path(tmp) / Path(member).name
        inner.write_bytes(payload)
        del payload
        try:
            return READERS[SUFFIXES[inner.suffix.lower()]](inner, data)
        except InputError as exc:  # name the zip and member, not the temporary file
            raise InputError(str(exc).replace(str(inner), f"{path}:{member}")) from None


READERS = {
    "npy": read_npy, "tiff": read_tiff, "image": read_image, "folder": read_folder,
    "hdf5": read_hdf5, "raw": read_raw, "zip": read_zip,
}


def check_source(path: Path, field: str = "data.source") -> None:
    """Refuse what cannot be a data source before anything reads or hashes it.

    Raises
    ------
    InputError
        If the path is missing, or is a device, pipe or socket (reading /dev/zero would
        never end).
    """
    if not path.exists():
        raise InputError(f"{path}: {field} file not found")
    if not (path.is_file() or path.is_dir()):
        raise InputError(f"{path}: {field} must be a regular file or a folder, not a "
                         "device, pipe or socket")


def reader_for(path: Path) -> str:
    """Name of the reader that ``reader: auto`` uses for ``path``."""
    if path.is_dir():
        return "folder"
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise InputError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}; supported: "
            f"{', '.join(sorted(SUFFIXES))} or a folder of slices (or set data.reader)"
        ) from None
