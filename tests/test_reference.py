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


def test_headline_compares_with_the_whole_reference_not_the_crops_middle():
    """Random crops of a small image over-weight its middle: with phase 1 only near the
    edges the crops' mean holds less of it than the image does. The headline compares
    with the whole image's curves (fraction = the image's); the crops' figure is kept."""
    import rvegen
    from rvegen.volumes import Volume

    n, size = 48, 16
    img = np.zeros((n, n), dtype=np.uint8)
    img[:, :8] = img[:, -8:] = 1  # phase 1 in two edge bands: 1/3 of the image
    ds = rvegen.Dataset.from_array(img, patch_size=size, num_patches=8)
    vol = np.zeros((size, size, size), dtype=np.uint8)
    vol[..., :5] = 1  # a volume with about the image's fraction (5/16 = 0.31)
    report = rvegen.validate([Volume("v", vol)], ds, {"reference_samples": 64,
                                                       "floor_draws": 2})
    whole_vf = report.curves["reference"]["s2"][1][0]
    assert abs(whole_vf - 1 / 3) < 1e-9  # S2(0) of the whole image: its fraction
    crops = report.headline("ensemble_crops")
    whole = report.headline("ensemble")
    assert whole["volume_fraction"] < 0.03 < crops["volume_fraction"]
    assert report.headline("real_ensemble_whole")["volume_fraction"] > 0.03
    # single volumes are judged against the same whole data (the gate's errors)
    assert report.volumes[0]["errors"]["1"]["volume_fraction"] < 0.03


def test_whole_reference_in_slabs_matches_the_whole(monkeypatch):
    """Large references are described slab by slab (FFT memory): the voxel-weighted mean of
    the slabs' curves stays close to the curves of the whole block."""
    from scipy import ndimage

    import rvegen
    from rvegen.validation import report as rep

    rng = np.random.default_rng(3)
    block = (ndimage.gaussian_filter(rng.random((96, 24, 24)), 2, mode="wrap") > 0.5)
    ds = rvegen.Dataset.from_array(block.astype(np.uint8), patch_size=16, num_patches=8,
                                   kind="stack")
    vols = [rvegen.Volume("v", block[:16, :16, :16].astype(np.uint8))]

    def whole_s2() -> np.ndarray:
        report = rvegen.validate(vols, ds, {"reference_samples": 4, "floor_draws": 1})
        return np.array(report.curves["reference"]["s2"][1])

    one = whole_s2()
    monkeypatch.setattr(rep, "WHOLE_SLAB_VOXELS", 24 * 24 * 20)  # slabs of 20 (+ the rest)
    slabs = whole_s2()
    assert abs(one[0] - block.mean()) < 1e-9 and abs(slabs[0] - block.mean()) < 1e-9
    np.testing.assert_allclose(slabs, one, rtol=0.03)


def test_training_patches_show_the_data_limit_when_the_reference_is_held_out():
    """A held-out block unlike the training part (twice its fraction): the training
    patches themselves are far from it (the data limit), 2D windows of the block itself
    (the ceiling of a perfect model of the block) far closer; with a held-out block like
    the training part, the patches are close."""
    from scipy import ndimage

    import rvegen
    from rvegen.data.dataset import Dataset

    rng = np.random.default_rng(5)
    size = 16

    def field(shape: tuple[int, ...], sigma: float, fraction: float) -> np.ndarray:
        f = ndimage.gaussian_filter(rng.random(shape), sigma, mode="wrap")
        return (f > np.quantile(f, 1 - fraction)).astype(np.uint8)

    train = field((48, 48, 48), 1.5, 0.25)
    patches = np.stack([train[z, y:y + size, x:x + size] for z in range(0, 48, 3)
                        for y in (0, 16, 32) for x in (0, 32)])  # 96 patches
    vols = [rvegen.Volume("v", train[:size, :size, :size])]

    def limits(holdout: np.ndarray) -> tuple[dict, dict]:
        ds = Dataset(patches=patches, source=train, kind="stack", phases=2, holdout=holdout)
        # windows of the reference itself as the "model's samples"
        images = np.stack([holdout[z, y:y + size, x:x + size] for z in range(0, 48, 3)
                           for y in (0, 32) for x in (0, 32)])
        report = rvegen.validate(vols, ds, {"reference_samples": 32, "floor_draws": 1},
                                 images_2d=images)
        return report.headline("training_patches"), report.headline("ceiling_2d")

    unlike, own = limits(field((48, 48, 48), 1.5, 0.5))
    assert unlike["s2"] > 30 and own["s2"] < unlike["s2"] / 4
    alike, _ = limits(field((48, 48, 48), 1.5, 0.25))
    assert alike["s2"] < 8


def test_the_2d_ceiling_is_scored_against_every_section_not_a_draw_of_crops():
    """The ceiling's curve errors do not move with the seed (the crops' draw), and its
    reference is the sections' own S2, each slice counted once: the model's samples
    replaced by every whole slice of the block along z score 0 when only z is sliced."""
    import rvegen
    from rvegen.data.dataset import Dataset

    rng = np.random.default_rng(3)
    block = (rng.random((16, 16, 16)) < 0.3).astype(np.uint8)
    patches = block[:, :8, :8].copy()
    vols = [rvegen.Volume("v", block[:8, :8, :8].copy())]
    images = np.concatenate([block[z:z + 8, :8, :8] for z in (0, 8)])  # 16 model "samples"

    def ceiling(seed: int, axes: list[int]) -> dict:
        ds = Dataset(patches=patches, source=block, kind="stack", phases=2,
                     meta={"slice_axes": axes})
        report = rvegen.validate(vols, ds, {"reference_samples": 4, "floor_draws": 1},
                                 seed=seed, images_2d=images)
        return report.ceiling_2d["ensemble"]["errors"]["1"]

    a, b = ceiling(0, [0, 1, 2]), ceiling(1, [0, 1, 2])
    assert a["s2"] == b["s2"] and a["lineal_path"] == b["lineal_path"]
    # the whole z slices as the samples: sets of 8 slices of 16 x 16, scored per slice
    ds = Dataset(patches=block[:, :16, :16].copy(), source=block, kind="stack", phases=2,
                 meta={"slice_axes": [0]})
    whole = rvegen.validate([rvegen.Volume("v", block.copy())], ds,
                            {"reference_samples": 4, "floor_draws": 1}, images_2d=block)
    assert whole.ceiling_2d["ensemble"]["errors"]["1"]["s2"] < 1e-9
    assert whole.ceiling_2d["training_patches"]["errors"]["1"]["s2"] < 1e-9


def test_floor_samples_do_not_overlap():
    """The 3D floor's real samples are tiles of the reference block: without replacement
    while the block holds enough, each a true sub-block, no two overlapping."""
    from rvegen.data.dataset import Dataset
    from rvegen.validation.reference import tiled_samples

    block = np.arange(64 * 64 * 70).reshape(70, 64, 64)  # every voxel unique
    ds = Dataset(patches=np.zeros((1, 32, 32), np.uint8), source=block[:6],
                 kind="stack", phases=2, holdout=block)
    rng = np.random.default_rng(0)
    tiles = tiled_samples(ds, 32, 8, rng)
    assert len(tiles) == 8 and all(t.shape == (32, 32, 32) for t in tiles)
    voxels = np.concatenate([t.ravel() for t in tiles])
    assert len(np.unique(voxels)) == voxels.size  # 8 disjoint tiles
    z0, y0, x0 = np.unravel_index(tiles[0][0, 0, 0], block.shape)
    np.testing.assert_array_equal(tiles[0], block[z0:z0 + 32, y0:y0 + 32, x0:x0 + 32])
    assert len(tiled_samples(ds, 32, 20, rng)) == 20  # fewer tiles than asked: a bootstrap


def test_self_score_sees_fragmented_slices():
    """The 2D self score's topology terms: volumes whose slices are like the target images
    score low on them, the same volumes with a few percent of speckle far higher (their
    S2 barely moves); S2 and L(z) read the guided target, the topology the plain one."""
    from scipy import ndimage

    from rvegen.validation.report import self_score
    from rvegen.volumes import Volume

    def field(seed: int, shape: tuple[int, ...]) -> np.ndarray:
        g = ndimage.gaussian_filter(np.random.default_rng(seed).normal(size=shape), 2.0)
        return (g > np.quantile(g, 0.7)).astype(np.uint8)

    block = field(0, (32, 32, 32))
    volumes = [Volume(f"v{i}", block[z:z + 16, y:y + 16, x:x + 16].copy())
               for i, (z, y, x) in enumerate([(0, 0, 0), (16, 16, 16), (0, 16, 0), (16, 0, 16)])]
    images = np.concatenate([field(s, (8, 64, 64))[:, :16, :16] for s in range(2, 10)])
    flip = np.random.default_rng(3)
    speckled = [Volume(v.name, np.where(flip.random(v.labels.shape) < 0.03,
                                        1 - v.labels, v.labels).astype(np.uint8))
                for v in volumes]
    own = self_score(volumes, images, images, 2)
    broken = self_score(speckled, images, images, 2)
    assert set(own) == {"s2", "lineal_path", "euler_density", "largest_cluster", "sum"}
    assert broken["euler_density"] > 3 * own["euler_density"] + 2
    assert broken["sum"] > own["sum"]
    # the topology terms follow the plain target only
    joined = ndimage.binary_closing(images, np.ones((1, 3, 3))).astype(np.uint8)
    other = self_score(volumes, images, joined, 2)
    assert other["s2"] == pytest.approx(own["s2"])
    assert other["euler_density"] != pytest.approx(own["euler_density"])
    # scored as the spec validates: its connectivity and phase of interest
    full = self_score(speckled, images, images, 2,
                      scoring={"metric_options": {"euler_density": {"connectivity": "full"}}})
    assert full["euler_density"] != pytest.approx(broken["euler_density"])
    assert full["s2"] == pytest.approx(broken["s2"])
    matrix = self_score(volumes, images, images, 2, scoring={"phase_of_interest": 0})
    assert matrix["s2"] != pytest.approx(own["s2"])


def test_three_phase_auto_score_sums_every_phase():
    """With more than two phases the 'auto' score is the mean over every phase of each
    term (each phase's own terms kept beside it): speckle between the two phases that are
    not of interest leaves the phase of interest's terms as they were, and still costs.
    Scoring the phase of interest alone chose the composite's pooling width at the
    matrix's expense (benchmarks/results/phase_tradeoff_composite.txt)."""
    from scipy import ndimage

    from rvegen.validation.report import self_score
    from rvegen.volumes import Volume

    def field(seed: int, shape: tuple[int, ...]) -> np.ndarray:
        g = ndimage.gaussian_filter(np.random.default_rng(seed).normal(size=shape), 2.0)
        return np.digitize(g, np.quantile(g, [0.5, 0.8])).astype(np.uint8)  # 50/30/20 %

    block = field(0, (32, 32, 32))
    volumes = [Volume(f"v{i}", block[z:z + 16, y:y + 16, x:x + 16].copy())
               for i, (z, y, x) in enumerate([(0, 0, 0), (16, 16, 16), (0, 16, 0), (16, 0, 16)])]
    images = np.concatenate([field(s, (8, 64, 64))[:, :16, :16] for s in range(2, 10)])
    flip = np.random.default_rng(3)
    speckled = [Volume(v.name, np.where((v.labels < 2) & (flip.random(v.labels.shape) < 0.05),
                                        1 - v.labels, v.labels).astype(np.uint8))
                for v in volumes]
    own = self_score(volumes, images, images, 3)
    broken = self_score(speckled, images, images, 3)
    terms = ("s2", "lineal_path", "euler_density", "largest_cluster")
    assert set(own) == {"sum", *terms, *(f"{k}/{p}" for k in terms for p in range(3))}
    for k in terms:
        assert own[k] == pytest.approx(np.mean([own[f"{k}/{p}"] for p in range(3)]))
    assert own["sum"] == pytest.approx(sum(own[k] for k in terms))
    # the phase of interest (2, the rarest) is untouched by the speckle, the others are not
    for k in terms:
        assert broken[f"{k}/2"] == pytest.approx(own[f"{k}/2"])
    # specks of phase 1 in the matrix (phase 0): its Euler density, and the sum
    assert broken["euler_density/1"] > 3 * own["euler_density/1"] + 2
    assert broken["sum"] > own["sum"] + 2
