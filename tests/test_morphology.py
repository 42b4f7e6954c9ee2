"""Morphology scalars against closed forms: ball, hollow sphere, torus, random voxels."""

import numpy as np
import pytest

from rvegen.validation.morphology import (
    describe_shape,
    euler_density,
    largest_cluster_fraction,
    mean_curvature_density,
    percolating_fraction,
    specific_surface,
)

N = 48


def grid():
    return np.indices((N, N, N)) - (N - 1) / 2


def ball(r):
    z, y, x = grid()
    return (x**2 + y**2 + z**2 <= r**2).astype(np.uint8)


def test_euler_characteristic_of_closed_forms():
    per = 1000.0 / N**3
    assert euler_density(ball(12), 1) == pytest.approx(1 * per)  # one component
    shell = ball(16) - ball(10)  # one component around one cavity: 1 - 0 + 1
    assert euler_density(shell, 1) == pytest.approx(2 * per)
    z, y, x = grid()
    torus = ((np.sqrt(x**2 + y**2) - 12) ** 2 + z**2 <= 5**2).astype(np.uint8)
    assert euler_density(torus, 1) == pytest.approx(0.0)  # a handle: 1 - 1
    two = ball(6)
    two = np.maximum(two, np.roll(two, 16, axis=2))  # two apart, inside the box
    assert euler_density(two, 1) == pytest.approx(2 * per)
    assert largest_cluster_fraction(two, 1) == pytest.approx(0.5)
    # 2D: a ring (annulus) is one component with one hole
    ring = (shell[N // 2] > 0).astype(np.uint8)
    assert euler_density(ring, 1) == pytest.approx(0.0)
    disk = ball(12)[N // 2]
    assert euler_density(disk, 1) == pytest.approx(1000.0 / N**2)


def test_euler_density_of_random_voxels():
    """Face connectivity: E[chi] per voxel = p - 3p^2 + 3p^4 - p^8 (3D), p - 2p^2 + p^4 (2D)."""
    p = 0.2
    rng = np.random.default_rng(0)
    vol = (rng.random((96, 96, 96)) < p).astype(np.uint8)
    expected = (p - 3 * p**2 + 3 * p**4 - p**8) * 1000
    assert euler_density(vol, 1) == pytest.approx(expected, rel=0.03)
    img = (rng.random((512, 512)) < p).astype(np.uint8)
    assert euler_density(img, 1) == pytest.approx((p - 2 * p**2 + p**4) * 1000, rel=0.03)
    # per plane = the mean of the slices
    assert euler_density(vol, 1, plane_axis=0) == pytest.approx(
        np.mean([euler_density(s, 1) for s in vol]))


def test_mean_curvature_and_surface_of_a_ball():
    r = 12.0
    b = ball(r)
    # M = 4 pi r, S = 4 pi r^2 per box volume; stereological estimates within a few %
    assert mean_curvature_density(b, 1) == pytest.approx(4 * np.pi * r / N**3 * 1000, rel=0.08)
    assert specific_surface(b, 1) == pytest.approx(4 * np.pi * r**2 / N**3, rel=0.05)
    assert np.isnan(mean_curvature_density(b, 1, plane_axis=0))


def test_percolation_and_shape_summary():
    slab = np.zeros((N, N, N), np.uint8)
    slab[:, :, :8] = 1  # spans z and y, not x
    shape = describe_shape(slab, 1)
    assert shape["percolating_fraction"] == {"z": 1.0, "y": 1.0, "x": 0.0}
    assert shape["largest_cluster_fraction"] == 1.0
    assert percolating_fraction(ball(10), 1, 0) == 0.0
    per_plane = describe_shape(slab, 1, plane_axis=0)  # slices (y, x): spans y only
    assert per_plane["percolating_fraction"] == {"y": 1.0, "x": 0.0}
    assert "mean_curvature_density" not in per_plane


def test_full_connectivity_counts_corner_neighbours():
    """A one-pixel staircase ring touches only at corners: broken under face
    connectivity, one closed loop under full connectivity (per phase on request)."""
    from rvegen.errors import SpecError

    ring = np.zeros((9, 9), dtype=np.uint8)
    for i in range(4):  # a diamond: (0, 4) -> (4, 8) -> (8, 4) -> (4, 0)
        ring[i, 4 + i] = ring[4 + i, 8 - i] = ring[8 - i, 4 - i] = ring[4 - i, i] = 1
    per = 1000.0 / ring.size
    assert euler_density(ring, 1) == pytest.approx(16 * per)  # 16 isolated pixels
    assert euler_density(ring, 1, connectivity="full") == pytest.approx(0.0)  # 1 - 1 hole
    assert largest_cluster_fraction(ring, 1) == pytest.approx(1 / 16)
    assert largest_cluster_fraction(ring, 1, connectivity=["face", "full"]) == 1.0
    # the background inside and outside stays apart under face connectivity
    assert largest_cluster_fraction(ring, 0, connectivity=["face", "full"]) < 1.0
    stack = np.stack([ring, ring])
    assert euler_density(stack, 1, plane_axis=0, connectivity="full") == pytest.approx(0.0)
    with pytest.raises(SpecError, match="validate.metric_options: connectivity"):
        euler_density(ring, 1, connectivity="corner")
    with pytest.raises(SpecError, match="one of them per phase"):
        largest_cluster_fraction(ring, 1, connectivity=["face"])


def test_a_wrong_connectivity_fails_when_the_spec_loads(write_spec):
    from rvegen.errors import SpecError
    from rvegen.spec import load_spec

    ok = {"metric_options": {"euler_density": {"connectivity": ["face", "full"]}}}
    assert load_spec(write_spec({"validate": ok})).validate_.metric_options == ok["metric_options"]
    for bad in ("corner", ["face"], ["face", "full", "full"]):
        options = {"metric_options": {"largest_cluster": {"connectivity": bad}}}
        with pytest.raises(SpecError, match="validate.metric_options.largest_cluster.connectivity"):
            load_spec(write_spec({"validate": options}))
