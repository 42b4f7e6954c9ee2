"""Anisotropic data: one model per plane family, trained on its own slices and used by the
sampler on the planes it denoises."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

import rvegen
from rvegen.data.synthetic import spheres
from rvegen.diffusion.multiplane import PlaneDenoiser
from rvegen.diffusion.planes import FLIPS
from rvegen.errors import CheckpointError, InputError, SpecError
from rvegen.pipeline import build
from rvegen.spec import SyntheticSpec, load_spec
from rvegen.training import sample_batch


def _ellipsoids(shape=(40, 32, 32), aspect=(1.0, 1.0, 3.0), seed=0) -> np.ndarray:
    cfg = SyntheticSpec(kind="spheres", shape=list(shape), diameter_mean=5, diameter_std=1,
                        volume_fraction=0.3, aspect=list(aspect))
    return spheres(cfg, np.random.default_rng(seed))


def _mean_run(labels: np.ndarray, axis: int) -> float:
    """Mean length of the runs of phase 1 along ``axis``."""
    moved = np.moveaxis(labels, axis, -1).reshape(-1, labels.shape[axis]).astype(np.int8)
    padded = np.pad(moved, ((0, 0), (1, 1)))
    starts = (np.diff(padded, axis=1) == 1).sum()
    return float(moved.sum() / max(starts, 1))


def test_ellipsoids_are_longer_along_the_stretched_axis():
    vol = _ellipsoids(aspect=(1.0, 1.0, 3.0))
    assert abs(vol.mean() - 0.3) < 0.02
    z, y, x = (_mean_run(vol, a) for a in range(3))
    assert x > 2.0 * z and x > 2.0 * y and 0.7 < z / y < 1.4
    # aspect 1 is the spheres of the paper, unchanged
    same = SyntheticSpec(kind="spheres", shape=[24, 24, 24], diameter_mean=6)
    a = spheres(same, np.random.default_rng(1))
    b = spheres(same.model_copy(update={"aspect": [1.0, 1.0, 1.0]}), np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)


def test_per_plane_patches_come_from_the_slices_normal_to_their_axis():
    vol = _ellipsoids(shape=(16, 16, 16))
    ds = rvegen.Dataset.from_array(vol, per_plane=True, patch_size=16, num_patches=48)
    assert np.bincount(ds.patch_planes).tolist() == [16, 16, 16]
    for axis in range(3):  # slices exactly n x n: every slice, in numpy.take's order
        np.testing.assert_array_equal(ds.patches[ds.patch_planes == axis],
                                      np.moveaxis(vol, axis, 0))


def test_per_plane_needs_a_stack_and_all_three_axes():
    with pytest.raises(InputError, match="per_plane needs a 3D stack"):
        rvegen.Dataset.from_array(_ellipsoids()[0], per_plane=True, patch_size=16)
    with pytest.raises(Exception, match="per_plane: needs slices along all three axes"):
        rvegen.Dataset.from_array(_ellipsoids(), per_plane=True, slice_axes=[0], patch_size=16)


def test_flip_augmentation_keeps_the_in_plane_axes():
    patch = np.zeros((1, 8, 8), np.uint8)
    patch[0, 2, :] = 1  # one row: a quarter turn would make it a column
    gen = torch.Generator().manual_seed(0)
    x, idx = sample_batch(torch.from_numpy(patch), 2, 64, True, gen, FLIPS)
    rows = (x[:, 0] > 0).sum(dim=-1)  # phase-1 pixels per row
    assert (idx == 0).all() and (rows.max(dim=-1).values == 8).all()
    x8, _ = sample_batch(torch.from_numpy(patch), 2, 64, True, gen)
    assert ((x8[:, 0] > 0).sum(dim=-1).max(dim=-1).values == 1).any()  # some turned


@pytest.fixture(scope="module")
def plane_model():
    vol = _ellipsoids(shape=(48, 32, 32))
    ds = rvegen.Dataset.from_array(vol, per_plane=True, patch_size=16, num_patches=96,
                                   holdout=0.34)
    model = rvegen.train(ds, model={"preset": "tiny", "timesteps": 40},
                         train={"steps": 8, "batch_size": 6, "warmup_steps": 2})
    return ds, model


def test_each_plane_network_is_trained_on_its_own_slices(plane_model):
    _, model = plane_model
    assert model.per_plane and model.meta["planes"] == 3
    nets = model.net.nets
    # independent networks: the same initial weights would give the same output
    x = torch.randn(2, 1, 16, 16)
    t = torch.tensor([5, 30])
    outs = [net(x, t) for net in nets]
    assert not torch.allclose(outs[0], outs[1]) and not torch.allclose(outs[1], outs[2])
    # routing: a mixed batch gives each sample its own plane's output
    planes = torch.tensor([2, 0])
    mixed = model.net(x, t, planes)
    torch.testing.assert_close(mixed[0], outs[2][0])
    torch.testing.assert_close(mixed[1], outs[0][1])


def test_sampler_denoises_each_axis_with_its_plane_network(plane_model):
    _, model = plane_model
    denoise = PlaneDenoiser(model.net, torch.device("cpu"), batch_slices=7)
    volume = torch.randn(1, 16, 16, 16)
    for axis in range(3):
        got = denoise(volume, 20, axis)
        slices = volume.movedim(axis + 1, 0)
        want = model.net.nets[axis](slices, torch.full((16,), 20)).movedim(0, axis + 1)
        torch.testing.assert_close(got, want)


def test_per_plane_volumes_and_the_2d_ceiling(plane_model):
    ds, model = plane_model
    volumes = rvegen.sample_volumes(model, 2, {"size": 16, "steps": 4}, ds.fractions)
    assert volumes[0].labels.shape == (16, 16, 16)
    images = rvegen.sample_images(model, 16, {"size": 16, "steps": 4}, ds.fractions)
    report = rvegen.validate(volumes, ds, {"reference_samples": 4}, images_2d=images)
    assert set(report.per_axis["generated"]) >= {"z", "y", "x"}
    assert report.ceiling_2d is not None


def test_per_plane_build_and_checkpoint(tmp_path):
    spec = {
        "run_dir": "run", "seed": 0,
        "data": {"synthetic": {"kind": "spheres", "shape": [40, 24, 24], "diameter_mean": 5,
                               "diameter_std": 1, "aspect": [1, 1, 2.5]},
                 "per_plane": True, "patch_size": 16, "num_patches": 48, "holdout": 0.4},
        "model": {"preset": "tiny", "timesteps": 40},
        "train": {"steps": 4, "batch_size": 6},
        "generate": {"count": 2, "steps": 4},
        "validate": {"reference_samples": 4},
    }
    (tmp_path / "aniso.yaml").write_text(yaml.safe_dump(spec))
    result = build(load_spec(tmp_path / "aniso.yaml"), progress=False)
    model = rvegen.load_model(result.run_dir / "model" / "model.pt")
    assert model.per_plane
    assert set(result.report["per_axis"]["generated"]) >= {"z", "y", "x"}
    # an isotropic run cannot start from it
    iso = {**spec, "run_dir": "iso", "data": {**spec["data"], "per_plane": False},
           "train": {"steps": 0, "init_from": "run/model/model.pt"}}
    (tmp_path / "iso.yaml").write_text(yaml.safe_dump(iso))
    with pytest.raises(CheckpointError, match="one model per plane family"):
        build(load_spec(tmp_path / "iso.yaml"), progress=False)


def test_per_plane_spec_errors(tmp_path):
    spec = {"data": {"source": "x.tif", "per_plane": True, "train_slice": 0, "holdout": 0.2}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError, match="per_plane"):
        load_spec(tmp_path / "s.yaml")



# --- three orthogonal micrographs (data.sources) ---------------------------------------

def _plane_images(vol: np.ndarray, k: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The xy, xz and yz sections of a stack, in rvegen's (z, y, x) row/column order."""
    return vol[k], vol[:, k, :], vol[:, :, k]


def test_plane_micrographs_give_each_plane_its_patches():
    vol = _ellipsoids(shape=(48, 40, 56))
    xy, xz, yz = _plane_images(vol)
    ds = rvegen.Dataset.from_planes(xy, xz, yz, per_plane=True, patch_size=16, num_patches=30)
    assert ds.plane_images and ds.kind == "image"
    assert np.bincount(ds.patch_planes).tolist() == [10, 10, 10]
    # every patch is a crop of its own plane's image (and the images differ in shape)
    for axis, image in enumerate((xy, xz, yz)):
        windows = np.lib.stride_tricks.sliding_window_view(image, (16, 16))
        for patch in ds.patches[ds.patch_planes == axis]:
            assert (windows == patch).all(axis=(-2, -1)).any()
    # the stored reference: the three images cut to their common centre, one per plane
    assert ds.source.shape == (3, 40, 40)
    expect = np.mean([im.mean() for im in (xy, xz, yz)])
    assert abs(ds.fractions[1] - expect) < 1e-9
    iso = rvegen.Dataset.from_planes(xy, xz, yz, patch_size=16, num_patches=30)
    assert iso.patch_planes is None and iso.plane_images  # one model on all three


def test_plane_micrograph_errors(tmp_path):
    vol = _ellipsoids(shape=(24, 24, 24))
    with pytest.raises(InputError, match="yz array: data.sources needs 2D micrographs"):
        rvegen.Dataset.from_planes(vol[0], vol[:, 0], vol, patch_size=16)
    with pytest.raises(InputError, match="xz array: shape .* smaller than data.patch_size"):
        rvegen.Dataset.from_planes(vol[0], vol[:8, 0], vol[:, :, 0], patch_size=16)
    for data, match in (
        ({"source": "a.png", "sources": {"xy": "a", "xz": "b", "yz": "c"}}, "exactly one of"),
        ({"sources": {"xy": "a", "xz": "b", "yz": "c"}, "holdout": 0.2}, "data.sources"),
        ({"sources": {"xy": "a", "xz": "b"}}, "yz"),
    ):
        (tmp_path / "s.yaml").write_text(yaml.safe_dump({"data": data}))
        with pytest.raises(SpecError, match=match):
            load_spec(tmp_path / "s.yaml")


def _volumes(vols: list[np.ndarray]) -> list[rvegen.Volume]:
    return [rvegen.Volume(f"v{i}", v) for i, v in enumerate(vols)]


def test_each_plane_is_validated_against_its_own_micrograph():
    big = _ellipsoids(shape=(96, 96, 96), aspect=(1.0, 1.0, 3.0), seed=1)
    xy, xz, yz = _plane_images(big, 48)
    right = rvegen.Dataset.from_planes(xy, xz, yz, patch_size=16, num_patches=3)
    # the same images given to the wrong planes: the stretched axis would be y, not x
    wrong = rvegen.Dataset.from_planes(xy.T, yz, xz, patch_size=16, num_patches=3)
    vols = _volumes([_ellipsoids(shape=(24, 24, 24), seed=s) for s in range(4)])
    cfg = {"reference_samples": 24, "floor_draws": 2}
    good = rvegen.validate(vols, right, cfg)
    bad = rvegen.validate(vols, wrong, cfg)
    assert "own micrograph" in good.comparison
    for metric in ("s2", "lineal_path"):  # the stretched axis, x, is where it shows
        assert good.per_axis["generated"]["x"][metric] < 0.3 * \
            bad.per_axis["generated"]["x"][metric]
    # per-axis spread of real samples is reported as for stacks
    assert set(good.per_axis["real_median"]) == {"z", "y", "x"}
    # each plane is scored against its own image: yz slices (round sections) match yz
    yz_err = good.volumes[0]["per_plane"]["yz"]["1"]["lineal_path"]
    assert yz_err < bad.volumes[0]["per_plane"]["yz"]["1"]["lineal_path"]


def test_three_identical_micrographs_validate_as_one_image():
    image = _ellipsoids(shape=(48, 128, 128), aspect=(1.0, 1.0, 1.0), seed=2)[24]
    one = rvegen.Dataset.from_array(image, patch_size=16, num_patches=3)
    three = rvegen.Dataset.from_planes(image, image, image, patch_size=16, num_patches=3)
    assert one.fractions == pytest.approx(three.fractions)
    vols = _volumes([_ellipsoids(shape=(24, 24, 24), aspect=(1.0, 1.0, 1.0), seed=s)
                     for s in range(6)])
    cfg = {"reference_samples": 48, "floor_draws": 2}
    a = rvegen.validate(vols, one, cfg).headline()
    b = rvegen.validate(vols, three, cfg).headline()
    for key in ("s2", "lineal_path"):
        assert abs(a[key] - b[key]) < 0.25 * max(a[key], b[key]) + 1.0


def test_build_from_three_micrograph_files(tmp_path):
    vol = _ellipsoids(shape=(40, 40, 40), aspect=(1.0, 1.0, 2.5))
    for name, image in zip(("xy", "xz", "yz"), _plane_images(vol, 20)):
        np.save(tmp_path / f"{name}.npy", image)
    spec = {
        "run_dir": "run", "seed": 0,
        "data": {"sources": {"xy": "xy.npy", "xz": "xz.npy", "yz": "yz.npy"},
                 "per_plane": True, "patch_size": 16, "num_patches": 24},
        "model": {"preset": "tiny", "timesteps": 40},
        "train": {"steps": 4, "batch_size": 6},
        "generate": {"count": 2, "size": 16, "steps": 4},
        "validate": {"reference_samples": 4},
    }
    (tmp_path / "planes.yaml").write_text(yaml.safe_dump(spec))
    result = build(load_spec(tmp_path / "planes.yaml"), progress=False)
    assert rvegen.load_model(result.run_dir / "model" / "model.pt").per_plane
    assert "own micrograph" in result.report["comparison"]
    assert "xz: " in result.report["reference"]["source"]
    ds = rvegen.load_dataset(result.run_dir / "dataset.h5")
    assert ds.plane_images and ds.source.shape == (3, 40, 40)
    # a missing micrograph is named
    (tmp_path / "yz.npy").unlink()
    with pytest.raises(InputError, match="yz.npy: data.sources.yz file not found"):
        build(load_spec(tmp_path / "planes.yaml"), progress=False)
