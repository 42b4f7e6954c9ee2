"""Real samples: how many independent sections a volume holds; plane orders."""

import numpy as np
import pytest
import torch

from rvegen.data.dataset import Dataset
from rvegen.diffusion.multiplane import PLANE_AXES, SamplerSettings, plane_sequence
from rvegen.validation.reference import integral_range, independent_sections, real_samples


def test_integral_range_of_closed_forms():
    rng = np.random.default_rng(0)
    noise = (rng.random((4, 128, 128)) < 0.3).astype(np.uint8)
    assert integral_range(noise, 1, 16) == pytest.approx(1.0, abs=0.05)  # white noise
    # a checkerboard of a x a squares: along an axis a square wave of period 2a, whose
    # normalised autocovariance is 1 - 2 r / a; summed over r = 0 .. a / 2: a / 4 + 1 / 2
    a = 8
    y, x = np.indices((128, 128))
    checker = (((y // a) + (x // a)) % 2).astype(np.uint8)[None]
    assert integral_range(checker, 1, 32) == pytest.approx(a / 4 + 0.5, abs=0.15)


def test_real_2d_samples_hold_the_volume_s_independent_sections():
    rng = np.random.default_rng(1)
    image = (rng.random((256, 256)) < 0.3).astype(np.uint8)
    ds = Dataset(patches=image[None, :32, :32], source=image, kind="image", phases=2,
                 meta={"volume_fractions": [0.7, 0.3]})
    assert independent_sections(ds, 32) == 32  # white noise: every section independent
    blobs = np.kron((rng.random((32, 32)) < 0.3).astype(np.uint8), np.ones((8, 8), np.uint8))
    ds = Dataset(patches=blobs[None, :32, :32], source=blobs, kind="image", phases=2,
                 meta={"volume_fractions": [0.7, 0.3]})
    k = independent_sections(ds, 32)
    assert 4 <= k <= 10
    sample = real_samples(ds, 32, 1, np.random.default_rng(2))[0][0]
    assert sample.shape == (32, 32, 32)
    assert len({s.tobytes() for s in sample}) == k  # k distinct crops, each repeated


def test_plane_orders():
    gen = torch.Generator().manual_seed(0)
    cycle = plane_sequence(SamplerSettings(steps=1), 7, gen)
    assert cycle == [2, 1, 0, 2, 1, 0, 2]
    pal = plane_sequence(SamplerSettings(steps=1, plane_order="palindrome"), 7, gen)
    assert pal == [2, 1, 0, 0, 1, 2, 2]
    rnd = plane_sequence(SamplerSettings(steps=1, plane_order="random"), 30, gen)
    assert all(sorted(rnd[i:i + 3]) == sorted(PLANE_AXES) for i in range(0, 30, 3))
    assert rnd != plane_sequence(SamplerSettings(steps=1), 30, gen)
