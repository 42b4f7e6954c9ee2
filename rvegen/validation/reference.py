"""The real data that generated volumes are compared with, and real samples of it.

Data from a 3D stack are compared in 3D: real samples are random sub-volumes of the
generated size (of the held-out part when ingestion kept one). Data from 2D images are
compared per plane: a real sample is a set of m m x m crops stacked along axis 0, so that
its per-plane descriptors (``plane_axis=0``) average over m images as a volume's do over
its m slices. The m slices of a volume are not independent: neighbours within a
correlation length share their structure, so a volume holds about k = m / l independent
sections (l, the integral range of the phase of interest, measured on the training
images). A real sample is therefore k independent random crops, each repeated m / k
times: it varies from sample to sample as much as a volume's slice statistics do. (m
scattered crops would vary l times less, a gate that only a copy of the image passes.)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..data.dataset import Dataset
from ..data.ingest import ingest, random_crops
from ..errors import InputError

#: ``Dataset.meta["reference_label"]`` of a dataset whose reference is a fresh realization
FRESH_LABEL = "fresh synthetic realization"


def reference_source(ds: Dataset, size: int) -> tuple[np.ndarray, str]:
    """The real data that generated volumes are compared with, and its description.

    A stack's held-out sub-volume when it has one large enough, else the training source.
    """
    label = ds.meta.get("reference_label")
    if ds.kind == "stack" and ds.holdout is not None:
        if min(ds.holdout.shape) >= size:
            shape = "x".join(map(str, ds.holdout.shape))
            return ds.holdout, f"{label or 'held-out sub-volume'} {shape}"
    src = ds.source if ds.kind == "stack" else ds.images
    dims = src.shape if ds.kind == "stack" else src.shape[1:]
    if min(dims) < size:
        raise InputError(
            f"the data ({'x'.join(map(str, dims))}) is smaller than the generated volumes "
            f"({size}); lower generate.size"
        )
    if label:
        return src, f"{label} {'x'.join(map(str, src.shape))}"
    note = " (the held-out part is smaller than a volume)" if ds.holdout is not None else ""
    return src, f"training source {'x'.join(map(str, src.shape))}{note}"


def real_samples(
    ds: Dataset, size: int, count: int, rng: np.random.Generator
) -> tuple[list[np.ndarray], str]:
    """Real samples shaped like a generated volume, and where they come from.

    From a stack: random size^3 sub-volumes (of the held-out part when there is one).
    From 2D data: ``size`` random size x size crops of random images stacked along axis 0;
    from three plane micrographs (``ds.plane_images``) one such stack per image,
    (3, size, size, size), in the order xy, xz, yz.
    """
    src, where = reference_source(ds, size)
    out = []
    k = independent_sections(ds, size) if ds.kind != "stack" else 0
    repeat = np.arange(size) * max(k, 1) // size  # each of k crops size / k times

    def crops(images: np.ndarray) -> np.ndarray:
        return random_crops(images, size, k, rng)[repeat]

    for _ in range(count):
        if ds.kind == "stack":
            z, y, x = (rng.integers(s - size + 1) for s in src.shape)
            out.append(src[z : z + size, y : y + size, x : x + size])
        elif ds.plane_images:
            out.append(np.stack([crops(src[a : a + 1]) for a in range(3)]))
        else:
            out.append(crops(src))
    return out, where


def tiled_samples(ds: Dataset, size: int, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` size^3 sub-volumes of a stack's reference that do not overlap.

    The reference is tiled at a random offset; the tiles are drawn without replacement
    when there are ``count`` of them, else with replacement (a bootstrap of the mean of
    ``count`` independent sub-volumes). Random crops of a small block overlap, so means
    of them vary far less than means of independent volumes: a floor made of them
    understates the material's spread (``benchmarks/paper_cases/README.md``, session 9).
    """
    src, _ = reference_source(ds, size)
    start = [int(rng.integers(n % size + 1)) for n in src.shape]
    ranges = [range(a, n - size + 1, size) for a, n in zip(start, src.shape)]
    tiles = [src[z : z + size, y : y + size, x : x + size]
             for z in ranges[0] for y in ranges[1] for x in ranges[2]]
    pick = rng.choice(len(tiles), count, replace=len(tiles) < count)
    return [tiles[i] for i in pick]


def integral_range(images: np.ndarray, phase: int, max_r: int) -> float:
    """Integral range of ``phase`` (pixels): the sum over lags r = 0..max_r of its
    normalised autocovariance (S2(r) - phi^2) / (phi - phi^2) along the image axes, up to
    the first lag where it falls below zero."""
    from .metrics import two_point_correlation_axis

    stack = np.asarray(images)
    s2 = np.mean([two_point_correlation_axis(stack, phase, a, max_r) for a in (1, 2)], axis=0)
    phi = s2[0]
    if phi <= 0 or phi >= 1:
        return 1.0
    c = (s2 - phi**2) / (phi - phi**2)
    end = int(np.argmax(c < 0)) if (c < 0).any() else len(c)
    return float(max(1.0, c[:end].sum()))


def independent_sections(ds: Dataset, size: int) -> int:
    """About how many independent sections a volume of ``size`` slices holds (>= 1)."""
    fractions = ds.fractions
    phase = int(np.argmin(fractions))
    ell = integral_range(ds.images, phase, size // 2)
    return int(np.clip(round(size / ell), 1, size))


def real_image_sets(
    ds: Dataset, size: int, count: int, rng: np.random.Generator, axes: list[int]
) -> list[np.ndarray]:
    """``count`` sets of ``size`` real 2D size x size crops, stacked along axis 0.

    The 2D reference of the model's own 2D samples: crops of the images (2D data) or of
    the reference volume's slices along ``axes`` (stacks).
    """
    src, _ = reference_source(ds, size)
    if ds.kind == "stack":
        planes = [np.take(src, i, axis=a) for a in axes for i in range(src.shape[a])
                  if min(s for j, s in enumerate(src.shape) if j != a) >= size]
    else:
        planes = list(src)
    return [random_crops(planes, size, size, rng) for _ in range(count)]


def fresh_realization(ds: Dataset, data, base_dir, seed: int) -> Dataset:  # noqa: ANN001
    """``ds`` with its reference replaced by a new realization of its synthetic source.

    The same source and processing with another seed and 4x the slices (stacks) or
    images (2D), so that the reference is not itself noisy.
    """
    synthetic = data.synthetic.model_copy(
        update={"shape": [4 * data.synthetic.shape[0], *data.synthetic.shape[1:]]})
    fresh_data = data.model_copy(update={"synthetic": synthetic, "holdout": 0.0,
                                         "train_slice": None, "num_patches": 1})
    fresh_seed = int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])
    fresh = ingest(fresh_data, base_dir, fresh_seed).source
    meta = {**ds.meta, "reference_label": FRESH_LABEL}
    if ds.kind == "stack":
        return replace(ds, holdout=fresh, meta=meta)
    return replace(ds, source=fresh, meta=meta)
