"""Closing grain-boundary networks (rvegen.boundaries, generate.close_boundaries)."""

import numpy as np
import pytest
import torch
from scipy import ndimage

import rvegen
from typer.testing import CliRunner

from rvegen.boundaries import (close_boundaries, grain_density, section_density,
                               thicken_lines)
from rvegen.errors import SpecError
from rvegen.generate import resolve_grain_density, sampler_settings
from rvegen.cli import app
from rvegen.spec import GenerateSpec, load_spec


def cubic_grains(n: int = 24, period: int = 8) -> np.ndarray:
    """Boundary planes (1) at every period-th index along each axis: cubic grains."""
    on = (np.arange(n) % period) == period - 1
    z, y, x = np.meshgrid(on, on, on, indexing="ij")
    return (z | y | x).astype(np.uint8)


def test_grain_density_uses_an_unbiased_counting_frame():
    grid = cubic_grains()[0]  # 2D: lines at 7, 15, 23 -> 9 grains of 7 x 7 px
    assert grain_density(grid) == pytest.approx(9 / 24**2 * 1000)
    # shifted by 3 px, the window cuts grains into 16 pieces; the 7 touching the last
    # row or column are not counted, so the density stays that of the whole grains
    shifted = np.roll(grid, 3, axis=(0, 1))
    assert ndimage.label(shifted == 0)[1] == 16
    assert grain_density(shifted) == pytest.approx(9 / 24**2 * 1000)
    # 3 of 24 slices per axis lie in a boundary plane and hold no grain
    assert section_density(cubic_grains()) == pytest.approx(9 * 21 / 24 / 24**2 * 1000)
    assert grain_density(np.stack([grid, grid])) == grain_density(grid)


def test_closure_separates_grains_merged_through_holes_in_their_boundaries():
    # 23 voxels: no boundary plane on the volume's faces, where no grain lies beyond it
    # and no watershed line is drawn
    intact = cubic_grains(23)
    broken = intact.copy()
    for i in (7, 15):  # a 3 x 3 hole in every face between two cubes
        for c in (3, 11, 19):
            for d in (3, 11, 19):
                hole = (slice(c - 1, c + 2), slice(d - 1, d + 2))
                broken[(i, *hole)] = broken[hole[0], i, hole[1]] = broken[(*hole, i)] = 0
    assert ndimage.label(broken == 0)[1] == 1  # every grain runs into the next
    field = broken * 2.0 - 1.0
    closed = close_boundaries(field, intact.mean(), section_density(intact))
    assert ndimage.label(~closed)[1] == 27  # the 27 cubes apart again
    assert closed.mean() == pytest.approx(intact.mean(), abs=0.01)
    assert section_density(closed) == pytest.approx(section_density(intact), rel=0.05)
    assert not close_boundaries(-np.ones((4, 4, 4)), 0.2, 10.0).any()  # nothing to close
    assert close_boundaries(np.ones((4, 4, 4)), 0.2, 10.0).all()  # no grain phase at all


def test_lines_are_thickened_only_next_to_them():
    """The strongest face neighbours of the lines join them up to the fraction; a strong
    plane two voxels away from them and a line's corner neighbours never do."""
    lines = np.zeros((10, 10, 10), bool)
    lines[:, :, 4] = True  # one plane: 0.1 of the voxels
    field = np.zeros(lines.shape)
    field[:5, :, 3] = 2.0  # half of one face-neighbour layer is strong
    field[:, :, 5] = 1.0  # the other layer weaker
    field[:, :, 8] = 5.0  # a strong plane two voxels away from the lines
    thick = thicken_lines(field, lines, 0.15)
    assert thick.mean() == pytest.approx(0.15)
    assert (thick == (lines | (field == 2.0))).all()
    assert thicken_lines(field, lines, 0.5).mean() == pytest.approx(0.3)  # neighbours only
    assert not thicken_lines(field, lines, 0.05)[:, :, 8].any()
    assert (thicken_lines(field, lines, 0.05) == lines).all()  # the lines are kept whole
    dot = np.zeros((5, 5, 5), bool)
    dot[2, 2, 2] = True
    assert thicken_lines(np.ones(dot.shape), dot, 1.0).sum() == 7  # no corner neighbours


def test_the_built_in_filter_closes_and_labels_by_sign():
    from rvegen.builtins import rvegen_on_volume_generated
    from rvegen.plugins import GenerationContext

    intact = cubic_grains()
    broken = intact.copy()
    broken[7, 2:5, 2:5] = 0
    x = torch.from_numpy(broken * 2.0 - 1.0).float()[None]
    cfg = GenerateSpec(close_boundaries=True, grain_density=section_density(intact))
    out = rvegen_on_volume_generated(x, GenerationContext(0, 0, 2, [0.66, 0.34], cfg, False))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert set(np.unique(out.numpy())) == {-1.0, 1.0}
    assert ndimage.label(out[0].numpy() < 0)[1] == 27


def test_close_boundaries_asks_for_binary_data_and_a_density():
    cfg = GenerateSpec(close_boundaries=True, grain_density=10.0)
    assert sampler_settings(cfg, 2, [0.8, 0.2]) is not None
    with pytest.raises(SpecError, match="generate.close_boundaries: only for binary"):
        sampler_settings(cfg, 3, [0.5, 0.3, 0.2])
    with pytest.raises(SpecError, match="generate.close_boundaries: the watershed is not periodic"):
        sampler_settings(cfg.model_copy(update={"periodic": True}), 2, [0.8, 0.2])
    with pytest.raises(SpecError, match="generate.grain_density"):
        sampler_settings(GenerateSpec(close_boundaries=True), 2, [0.8, 0.2])
    with pytest.raises(ValueError, match="grain_density"):
        GenerateSpec(close_boundaries=True, grain_density=-1)


def test_a_wrong_close_boundaries_spec_fails_before_any_stage(write_spec, tmp_path):
    """Checked when the spec loads, not after hours of training: exit code 2, the field
    named, nothing written."""
    for generate, data in (({"close_boundaries": True}, {"phases": 3}),
                           ({"close_boundaries": True, "periodic": True}, {})):
        path = write_spec({"generate": generate, "data": data})
        result = CliRunner().invoke(app, ["build", str(path)])
        assert result.exit_code == 2
        assert "generate.close_boundaries" in result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / "run").exists()


def test_generate_closes_the_networks_to_the_training_grain_density(write_spec, tmp_path):
    """A tiny real model on grain-boundary images: the density comes from its patches,
    and every volume's sections hold it."""
    data = {"source": None, "kind": "images", "patch_size": 16, "num_patches": 64,
            "synthetic": {"kind": "grains", "shape": [6, 32, 32], "grain_sizes": [6, 9],
                          "boundary_width": 1}}
    path = write_spec({"data": data, "generate": {
        "count": 1, "size": 16, "steps": 4, "harmonizing_steps": 1,
        "close_boundaries": True, "ceiling_2d": False}})
    spec = load_spec(path)
    logs = ""
    for stage in ("ingest", "train", "generate"):  # validation is not needed here
        result = CliRunner().invoke(app, [stage, str(path)])
        assert result.exit_code == 0, result.output
        logs += result.output
    ds = rvegen.load_dataset(tmp_path / "run" / "dataset.h5")
    target = grain_density(ds.patches)
    assert f"closing boundary networks to {target:.2f} grains per 1000 px" in logs
    assert resolve_grain_density(spec.generate, ds).grain_density == target
    assert resolve_grain_density(spec.generate, None).grain_density is None
    vols, _ = rvegen.read_volumes(tmp_path / "run" / "volumes.h5")
    labels = vols[0].labels
    assert section_density(labels) == pytest.approx(target, rel=0.25)
    assert labels.mean() == pytest.approx(ds.fractions[1], abs=0.03)
