import numpy as np
import pytest

from rvegen.validation.metrics import (
    error_rate,
    lineal_path,
    lineal_path_axis,
    two_point_correlation,
)
from rvegen.validation.morphology import volume_fraction


def test_independent_random_voxels():
    rng = np.random.default_rng(0)
    phi = 0.4
    labels = (rng.random((48, 48, 48)) < phi).astype(np.uint8)
    vf = volume_fraction(labels, 1)
    s2 = two_point_correlation(labels, 1, 6)
    assert s2[0] == pytest.approx(vf)
    np.testing.assert_allclose(s2[1:], vf**2, rtol=0.03)
    lp = lineal_path(labels, 1, 6)
    np.testing.assert_allclose(lp, vf ** np.arange(1, 8), rtol=0.05)
    periodic = two_point_correlation(labels, 1, 6, periodic=True)
    np.testing.assert_allclose(periodic[1:], vf**2, rtol=0.03)


def test_slab_analytic():
    """Slabs of width w and period 2w along x: exact S2 and L(z) along each axis."""
    w, n = 4, 32
    x = np.arange(n)
    labels = np.broadcast_to(((x // w) % 2 == 0).astype(np.uint8), (n, n, n)).copy()
    # along x: segments of z+1 voxels inside a run of w: L(z) = (w - z)/(2w) * n/(n - z) corr.
    lx = lineal_path_axis(labels, 1, 2, 6)
    runs = n // (2 * w)
    for z in range(7):
        expected = runs * max(w - z, 0) / (n - z)
        assert lx[z] == pytest.approx(expected)
    # along z and y the phase is constant: L(z) = phi
    np.testing.assert_allclose(lineal_path_axis(labels, 1, 0, 6), 0.5)
    # periodic S2 along x of a square wave: triangular, S2(w) = 0, S2(2w) = 1/2
    s2_plane = two_point_correlation(labels[0], 1, 2 * w, periodic=True)
    assert s2_plane[0] == pytest.approx(0.5)


def test_checkerboard():
    n = 16
    y, x = np.indices((n, n))
    board = ((x + y) % 2).astype(np.uint8)
    assert volume_fraction(board, 1) == 0.5
    np.testing.assert_allclose(lineal_path(board, 1, 3)[1:], 0.0)
    s2 = two_point_correlation(board, 1, 2, periodic=True)
    # floor bin 1 holds the 4 axis lags (other phase: 0) and the 4 diagonals (same: 1/2)
    assert s2[1] == pytest.approx(0.25)
    # bin 2 holds 4 lags like (2, 0) (same phase), 8 like (2, 1) (other), 4 like (2, 2) (same)
    assert s2[2] == pytest.approx((4 + 4) * 0.5 / 16)


def test_lineal_path_by_hand():
    line = np.array([[1, 1, 1, 0, 1, 1, 0, 0]], dtype=np.uint8)
    lp = lineal_path_axis(line, 1, 1, 3)
    # z=0: 5/8; z=1: pairs (0,1),(1,2),(4,5) of 7 -> 3/7; z=2: one triple of 6; z=3: 0/5
    np.testing.assert_allclose(lp, [5 / 8, 3 / 7, 1 / 6, 0.0])


def test_per_plane_equals_mean_of_slices():
    rng = np.random.default_rng(1)
    vol = (rng.random((6, 12, 12)) < 0.3).astype(np.uint8)
    per_plane = two_point_correlation(vol, 1, 4, plane_axis=0)
    slices = np.mean([two_point_correlation(s, 1, 4) for s in vol], axis=0)
    np.testing.assert_allclose(per_plane, slices, atol=1e-12)
    lp_plane = lineal_path(vol, 1, 4, plane_axis=0)
    np.testing.assert_allclose(lp_plane, np.mean([lineal_path(s, 1, 4) for s in vol], axis=0))


def test_error_rate():
    ref = np.array([1.0, 0.5, 0.25])
    assert error_rate(ref, ref) == 0.0
    # trapezoid areas: ref 1.125, |diff| = 0.1 everywhere -> 0.2
    assert error_rate(ref, ref + 0.1) == pytest.approx(100 * 0.2 / 1.125)


def _blobs(shape, seed=0, sigma=2.0, phi=0.35):
    from scipy import ndimage

    field = ndimage.gaussian_filter(np.random.default_rng(seed).normal(size=shape), sigma)
    return (field > np.quantile(field, 1 - phi)).astype(np.uint8)


@pytest.mark.parametrize("shape", [(40, 36), (20, 22, 18)])
def test_s2_equals_porespy(shape):
    porespy = pytest.importorskip("porespy")
    im = _blobs(shape)
    max_r = min(shape) // 2
    ours = two_point_correlation(im, 1, max_r)
    theirs = porespy.metrics.two_point_correlation(im == 1, bins=np.arange(max_r + 2))
    np.testing.assert_allclose(ours, theirs.probability_scaled, rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", [(40, 36), (20, 22, 18)])
def test_lineal_path_porespy_identity(shape):
    """phi * cdf of PoreSpy's distribution of forward linear distances = L(z) (n - z) / n."""
    porespy = pytest.importorskip("porespy")
    im = _blobs(shape, seed=1)
    phi = im.mean()
    for axis, n in enumerate(shape):
        dt = porespy.filters.distance_transform_lin(im == 1, axis=axis, mode="forward")
        dist = porespy.metrics.lineal_path_distribution(dt, bins=np.arange(1, n + 2))
        z = np.arange(n)
        ours = lineal_path_axis(im, 1, axis, n - 1)
        np.testing.assert_allclose(phi * dist.cdf, ours * (n - z) / n, atol=1e-12)


def test_specific_surface_of_a_ball_and_a_disk():
    from rvegen.validation.morphology import specific_surface

    n, r = 64, 14.0
    z, y, x = np.indices((n, n, n)) - (n - 1) / 2
    ball = (x**2 + y**2 + z**2 <= r**2).astype(np.uint8)
    assert specific_surface(ball, 1) == pytest.approx(4 * np.pi * r**2 / n**3, rel=0.05)
    disk = ball[n // 2]
    assert specific_surface(disk, 1) == pytest.approx(2 * np.pi * r / n**2, rel=0.05)


def test_chords_and_percolation_of_slabs():
    from rvegen.validation.metrics import chord_length_distribution, mean_chord_length
    from rvegen.validation.morphology import percolating_fraction

    w, n = 4, 32
    x = np.arange(n)
    slabs = np.broadcast_to(((x // w) % 2 == 0).astype(np.uint8), (n, n, n)).copy()
    dist = chord_length_distribution(slabs, 1, 2)
    assert dist[w] == 1.0 and mean_chord_length(slabs, 1, 2) == w
    assert mean_chord_length(slabs, 1, 0) == n  # along z a slab is one chord per line
    assert percolating_fraction(slabs, 1, 0) == 1.0
    assert percolating_fraction(slabs, 1, 2) == 0.0


def test_three_phase_laminate_every_phase_against_closed_forms():
    """Layers of 2, 3 and 5 voxels (phases 0, 1, 2) repeated 6 times along axis 0."""
    from rvegen.validation.metrics import two_point_correlation_axis
    from rvegen.validation.morphology import (
        euler_density,
        largest_cluster_fraction,
        percolating_fraction,
    )

    thickness, period, repeats, side = (2, 3, 5), 10, 6, 8
    column = np.tile(np.repeat([0, 1, 2], thickness), repeats)[:, None, None]
    labels = np.broadcast_to(column, (period * repeats, side, side)).copy()
    n, r = labels.shape[0], np.arange(period + 1)
    for phase, t in enumerate(thickness):
        phi = t / period
        assert volume_fraction(labels, phase) == pytest.approx(phi)
        # along the layers' normal: a periodic overlap of two layers of thickness t
        s2 = two_point_correlation_axis(labels, phase, 0, period, periodic=True)
        exact = (np.maximum(0, t - r) + np.maximum(0, t - (period - r))) / period
        np.testing.assert_allclose(s2, exact, atol=1e-12)
        # within a layer every line is one phase: S2 = L = phi at every lag
        np.testing.assert_allclose(two_point_correlation_axis(labels, phase, 1, 4), phi)
        np.testing.assert_allclose(lineal_path_axis(labels, phase, 2, 4), phi)
        # L(z) along the normal: (z+1)-voxel segments inside the 6 runs of length t
        z = np.arange(period)
        np.testing.assert_allclose(lineal_path_axis(labels, phase, 0, period - 1),
                                   repeats * np.maximum(0, t - z) / (n - z), atol=1e-12)
        # 6 separate slabs (each a ball topologically): chi = 6, the largest holds 1/6;
        # each slab spans y and x but never z
        assert euler_density(labels, phase) == pytest.approx(repeats / labels.size * 1000)
        assert largest_cluster_fraction(labels, phase) == pytest.approx(1 / repeats)
        assert percolating_fraction(labels, phase, 1) == 1.0
        assert percolating_fraction(labels, phase, 0) == 0.0
