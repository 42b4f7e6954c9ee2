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

