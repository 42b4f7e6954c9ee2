"""Seeded synthetic microstructures: the paper's cases I (spheres) and II (grains).

Each generator has the signature ``make(cfg: SyntheticSpec, rng) -> numpy.ndarray`` and
returns uint8 labels: a (z, y, x) volume for spheres, a stack of independent (y, x)
images for grains.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError


def spheres(cfg, rng: np.random.Generator) -> np.ndarray:  # noqa: ANN001 - SyntheticSpec
    """Spherical (or, with ``aspect``, axis-aligned ellipsoidal) inclusions (label 1) in a
    matrix (label 0).

    Diameters ~ N(diameter_mean, diameter_std) voxels (at least 1), times ``aspect``
    [z, y, x] along each axis for ellipsoids (anisotropic test data), centres uniform in
    the box, added until the inclusions fill ``volume_fraction``. The box is periodic: a
    sphere that crosses a face continues on the opposite face, so the faces are as full
    as the interior (centres uniform in a non-periodic box leave the faces half full).
    Without overlap a centre is redrawn until the new sphere keeps clear of every
    earlier one (minimum-image distances).
    """
    if len(cfg.shape) != 3:
        raise SpecError("data.synthetic.shape: spheres need [z, y, x]")
    shape = np.array(cfg.shape)
    # ellipsoids: one affine stretch maps them all onto spheres, so overlap tests and
    # the fraction bookkeeping stay those of spheres in the stretched frame
    aspect = np.array(cfg.aspect, dtype=float)
    vol = np.zeros(tuple(shape), dtype=bool)
    centres: list[np.ndarray] = []
    radii: list[float] = []
    target = cfg.volume_fraction * vol.size
    filled = 0
    for _ in range(200_000):
        if filled >= target:
            break
        r = max(0.5, rng.normal(cfg.diameter_mean, cfg.diameter_std) / 2)
        c = rng.uniform(0, 1, 3) * shape
        if not cfg.overlap and centres:
            delta = np.array(centres) - c
            delta -= shape * np.round(delta / shape)  # minimum image
            gap = np.linalg.norm(delta / aspect, axis=1) - np.array(radii) - r
            if (gap < 0).any():
                continue
        semi = r * aspect
        lo = np.floor(c - semi).astype(int)
        hi = np.ceil(c + semi).astype(int) + 1
        zz, yy, xx = np.ogrid[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
        ball = (((zz + 0.5 - c[0]) / aspect[0]) ** 2 + ((yy + 0.5 - c[1]) / aspect[1]) ** 2
                + ((xx + 0.5 - c[2]) / aspect[2]) ** 2 <= r * r)
        index = np.ix_(*[np.arange(a, b) % n for a, b, n in zip(lo, hi, shape)])
        region = vol[index]
        filled -= int(region.sum())
        # ufunc.at: a ball wider than the box wraps onto itself without losing voxels
        np.logical_or.at(vol, index, ball)
        filled += int(vol[index].sum())
        centres.append(c)
        radii.append(r)
    else:
        raise SpecError(
            "data.synthetic: could not reach the volume fraction without overlap; lower "
            "volume_fraction or allow overlap"
        )
    return vol.astype(np.uint8)


def grains(cfg, rng: np.random.Generator) -> np.ndarray:  # noqa: ANN001
    """Grain-boundary images (boundaries = 1, grains = 0) of Laguerre tessellations.

    Grain sizes (equivalent diameters, px) are drawn from ``grain_sizes`` in equal area
    fractions, i.e. with numbers proportional to 1 / size^2; each grain's seed carries
    the weight r^2 of the power (Laguerre) diagram, so larger grains claim more area.
    Pixels whose 4-neighbour belongs to another grain are boundary, widened to
    ``boundary_width`` px.
    """
    from scipy import ndimage

    if len(cfg.shape) != 3:
        raise SpecError("data.synthetic.shape: grains need [count, y, x]")
    count, ny, nx = cfg.shape
    sizes = np.asarray(cfg.grain_sizes, dtype=np.float64)
    share = (1 / sizes**2) / (1 / sizes**2).sum()
    n_grains = max(2, int(round(ny * nx / np.sum(share * np.pi * sizes**2 / 4))))
    yy, xx = np.mgrid[0:ny, 0:nx]
    pixels = np.stack([yy.ravel(), xx.ravel()], 1).astype(np.float64)
    out = np.zeros((count, ny, nx), dtype=np.uint8)
    for i in range(count):
        d = rng.choice(sizes, size=n_grains, p=share)
        # seeds over a margin so that border grains are not all cut small
        seeds = rng.uniform(-0.1, 1.1, (n_grains, 2)) * [ny, nx]
        power = ((pixels[:, None, :] - seeds[None]) ** 2).sum(-1) - (d / 2)[None] ** 2
        ids = power.argmin(1).reshape(ny, nx)
        edge = np.zeros((ny, nx), dtype=bool)
        edge[:-1] |= ids[:-1] != ids[1:]
        edge[:, :-1] |= ids[:, :-1] != ids[:, 1:]
        if cfg.boundary_width > 1:
            edge = ndimage.binary_dilation(edge, iterations=cfg.boundary_width - 1)
        out[i] = edge
    return out
