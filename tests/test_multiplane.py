"""The sampler against a hand-written transcription of Algorithm 1 with a toy denoiser."""

import numpy as np
import torch
from torch import nn

from rvegen.diffusion.multiplane import (
    PlaneDenoiser,
    PooledDenoiser,
    SamplerSettings,
    data_mean,
    gaussian_kernel,
    guide_fraction,
    initial_noise,
    multiplane_sample,
    pool_along,
    sample_volume,
)
from rvegen.diffusion.schedule import Schedule


class PositionalToy(nn.Module):
    """Deterministic test denoiser: eps depends on pixel position, value and t.

    Not permutation-equivariant, so a wrong plane would change the result.
    """

    def forward(self, x, t):
        n = x.shape[-1]
        rows = torch.arange(n, dtype=x.dtype).view(n, 1)
        cols = torch.arange(n, dtype=x.dtype).view(1, n)
        weight = 0.1 * (rows + 1) + 0.01 * (cols + 1)
        return weight * x + 0.001 * t.view(-1, 1, 1, 1).to(x.dtype)


def reference(schedule, n, n_h, draws, cycle=True):
    """Algorithm 1 by hand in numpy, planes cycling yz -> xz -> xy (or yz only when
    ``cycle`` is False); draws is an iterator."""
    toy = PositionalToy()
    x = next(draws)[0]  # (z, y, x)
    plane = 0
    for t in range(schedule.timesteps, 0, -1):
        fixed_axis = (2, 1, 0)[plane % 3] if cycle else 2
        for h in range(n_h if t > 1 else 1):
            slices = np.moveaxis(x, fixed_axis, 0)[:, None]
            eps = toy(torch.from_numpy(slices), torch.full((n,), t)).numpy()[:, 0]
            eps = np.moveaxis(eps, 0, fixed_axis)
            b, ab = schedule.beta(t), schedule.alpha_bar(t)
            mean = (x - b / np.sqrt(1 - ab) * eps) / np.sqrt(1 - b)
            x_prev = mean + np.sqrt(b) * next(draws)[0] if t > 1 else mean
            if h < n_h - 1 and t > 1:
                x = np.sqrt(1 - b) * x_prev + np.sqrt(b) * next(draws)[0]
        x = x_prev
        plane += 1
    return x


def test_faithful_sampler_matches_hand_computation():
    n, T, n_h = 4, 3, 2
    schedule = Schedule(T, 1e-4, 0.3)
    settings = SamplerSettings(steps=T, harmonizing_steps=n_h)
    gen = torch.Generator().manual_seed(7)
    out, evaluations = multiplane_sample(
        PositionalToy(), schedule, 1, n, settings,
        gen, torch.device("cpu"), dtype=torch.float64,
    )
    gen = torch.Generator().manual_seed(7)
    draws = (torch.randn((1, n, n, n), generator=gen, dtype=torch.float64).numpy() for _ in iter(int, 1))
    expected = reference(schedule, n, n_h, draws)
    np.testing.assert_allclose(out[0].numpy(), expected, rtol=1e-10, atol=1e-12)
    # t = 3, 2 with n_h = 2 repeats, t = 1 once: 5 plane passes of n slices
    assert evaluations == 5 * n


def test_single_plane_ablation_and_observer():
    n, T, n_h = 4, 3, 2
    schedule = Schedule(T, 1e-4, 0.3)
    seen = []
    gen = torch.Generator().manual_seed(3)
    out, _ = multiplane_sample(
        PositionalToy(), schedule, 1, n,
        SamplerSettings(steps=T, harmonizing_steps=n_h, cycle_planes=False),
        gen, torch.device("cpu"), dtype=torch.float64,
        observe=lambda t, h, x, eps: seen.append((t, h, tuple(eps.shape))),
    )
    gen = torch.Generator().manual_seed(3)
    draws = (torch.randn((1, n, n, n), generator=gen, dtype=torch.float64).numpy() for _ in iter(int, 1))
    expected = reference(schedule, n, n_h, draws, cycle=False)
    np.testing.assert_allclose(out[0].numpy(), expected, rtol=1e-10, atol=1e-12)
    assert seen == [(3, 0, (1, n, n, n)), (3, 1, (1, n, n, n)), (2, 0, (1, n, n, n)),
                    (2, 1, (1, n, n, n)), (1, 0, (1, n, n, n))]


def test_plane_cycle_changes_result():
    """The same draws give another volume when every step stays on one plane."""
    n, T = 4, 3
    schedule = Schedule(T, 1e-4, 0.3)
    results = []
    for cycle in (True, False):
        gen = torch.Generator().manual_seed(7)
        out, _ = multiplane_sample(PositionalToy(), schedule, 1, n,
                                   SamplerSettings(steps=T, cycle_planes=cycle), gen,
                                   torch.device("cpu"), dtype=torch.float64)
        results.append(out)
    assert not torch.allclose(results[0], results[1])


def test_pool_along_keeps_constants_and_wraps_periodically():
    x = torch.randn(1, 6, 5, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    w = gaussian_kernel(1.5)
    assert abs(float(w.sum()) - 1.0) < 1e-12 and len(w) == 2 * 6 + 1
    const = torch.full((1, 6, 5, 4), 0.3, dtype=torch.float64)
    for periodic in (True, False):
        torch.testing.assert_close(pool_along(const, 1, w, periodic), const)
    # periodic pooling commutes with a roll along the pooled axis
    torch.testing.assert_close(
        pool_along(torch.roll(x, 2, dims=1), 1, w, True), torch.roll(pool_along(x, 1, w, True), 2, dims=1)
    )
    # by hand: one voxel, periodic, along x (n = 4, kernel radius 6 wraps around)
    by_hand = sum(w[j] * x[0, 0, 0, (j - 6) % 4] for j in range(len(w)))
    assert abs(float(pool_along(x, 3, w, True)[0, 0, 0, 0]) - float(by_hand)) < 1e-12


class ZeroNoise(nn.Module):
    """Predicts no noise at all: x0_hat = x_t / sqrt(a_t'), which exposes the step t' used."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def forward(self, x, t):
        self.steps.append(int(t[0]))
        return torch.zeros_like(x)


def test_pooled_prediction_asks_at_the_pooled_noise_level():
    schedule = Schedule(1000, 1e-4, 1e-2)
    net = ZeroNoise()
    pooled = PooledDenoiser(PlaneDenoiser(net, torch.device("cpu"), 64), schedule, periodic=True)
    x = torch.randn(1, 8, 8, 8, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    t, sigma = 600, 2.0
    w = gaussian_kernel(sigma)
    a = schedule.alpha_bar(t)
    c = 1.0 / np.sqrt(a + (1 - a) * float((w**2).sum()))
    t_eff = schedule.nearest_step(c * c * a)
    assert t_eff < t  # averaging removes noise: a lower noise level
    x0 = pooled.x0(x, t, 0, sigma)
    assert net.steps == [t_eff]
    expected = c * pool_along(x, 1, w, True) / np.sqrt(schedule.alpha_bar(t_eff))
    torch.testing.assert_close(x0, expected)
    # no pooling: the plain prediction at t
    torch.testing.assert_close(pooled.x0(x, t, 0, 0.0), x / np.sqrt(a))


def test_fraction_guidance_sets_the_fraction_and_keeps_the_ranking():
    x0 = torch.randn(1, 10, 10, 10, generator=torch.Generator().manual_seed(3))
    guided = guide_fraction(x0, 0.137)
    assert int((guided > 0).sum()) == 137
    torch.testing.assert_close(guided - x0, torch.full_like(x0, float((guided - x0)[0, 0, 0, 0])))


def test_guided_pooled_sampler_gives_the_target_fraction():
    schedule = Schedule(50, 1e-4, 0.05)
    settings = SamplerSettings(steps=10, pool_sigma=1.5, fraction_guidance=True,
                               start_from_data_mean=True, target_fraction=0.3)
    x, info = sample_volume(PositionalToy(), schedule, 2, 1, 8, settings, seed=5,
                            device=torch.device("cpu"), fractions=[0.7, 0.3])
    # the last x0 prediction has 30 % of voxels > 0 and the last step returns it
    assert abs(float((x > 0).float().mean()) - 0.3) < 0.01
    assert info.evaluations == 10 * 8


def test_guided_2d_samples_hold_the_fractions_per_group_of_slices():
    """The reference-free score's target: 2D samples with fraction guidance on each group
    of m images (a volume's worth of slices); unguided ones drift off the fraction."""
    from rvegen.diffusion.multiplane import sample_images_2d

    schedule = Schedule(50, 1e-4, 0.05)
    args = (PositionalToy(), schedule, 1, 8, 24, 10, "ddpm", 1.0)
    mean = data_mean(2, [0.7, 0.3])
    settings = SamplerSettings(steps=10, fraction_guidance=True, target_fraction=0.3)
    guided = sample_images_2d(*args, torch.Generator().manual_seed(2), torch.device("cpu"),
                              mean, batch=5, guidance=settings)
    assert guided.shape == (24, 1, 8, 8)
    for group in guided.split(8):  # each group of 8 images of 8 x 8 holds 30 % exactly
        assert int((group > 0).sum()) == round(0.3 * 8 * 8 * 8)
    assert len({int((g > 0).sum()) for g in guided}) > 1  # images still differ
    plain = sample_images_2d(*args, torch.Generator().manual_seed(2), torch.device("cpu"), mean)
    assert abs(float((plain > 0).float().mean()) - 0.3) > 0.02


def test_initial_noise_carries_the_terminal_mean():
    schedule = Schedule(1000, 1e-4, 1e-2)
    mean = data_mean(2, [0.86, 0.14])
    x = initial_noise((1, 40, 40, 40), schedule, mean, torch.Generator().manual_seed(0),
                      torch.float64)
    expected = np.sqrt(schedule.alpha_bar(1000)) * (2 * 0.14 - 1)
    assert abs(float(x.mean()) - expected) < 4 / 40**1.5


def test_fraction_matching_filter_and_smoothing():
    """The built-in filter after sampling: smoothing, then the data's fraction above 0."""
    from rvegen.builtins import rvegen_on_volume_generated
    from rvegen.diffusion.multiplane import smooth
    from rvegen.plugins import GenerationContext
    from rvegen.spec import GenerateSpec

    x = torch.randn(1, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    cfg = GenerateSpec(match_volume_fraction=True)
    out = rvegen_on_volume_generated(x, GenerationContext(0, 0, 2, [0.75, 0.25], cfg, False))
    labels = (out[0] > 0).numpy()
    assert labels.sum() == 128
    # phase 1 sits exactly on the largest values
    assert x[0].numpy()[labels].min() > x[0].numpy()[~labels].max()
    smoothed = smooth(x, 1.0, periodic=True)
    assert smoothed.shape == x.shape and float(smoothed.std()) < float(x.std())
    # periodic smoothing commutes with a periodic shift
    shifted = smooth(torch.roll(x, 3, dims=1), 1.0, periodic=True)
    torch.testing.assert_close(shifted, torch.roll(smoothed, 3, dims=1))


def test_k_phase_fraction_guidance():
    from rvegen.diffusion.multiplane import guide_fractions, phase_counts

    x0 = torch.randn(3, 12, 12, 12, generator=torch.Generator().manual_seed(4))
    x0[0] += 0.5  # phase 0 would take far more than its share
    target = [0.2, 0.5, 0.3]
    guided = guide_fractions(x0, target)
    # to the voxel: the nearest whole counts (346, 864, 518 of 1728)
    counts = torch.bincount(guided.argmax(0).ravel(), minlength=3)
    assert counts.tolist() == phase_counts(target, 12**3).tolist() == [346, 864, 518]
    # a confident x0 (late in sampling) too, where a fixed step size stalls
    labels = torch.randint(0, 3, (12, 12, 12), generator=torch.Generator().manual_seed(5))
    sure = 8.0 * torch.nn.functional.one_hot(labels, 3).movedim(-1, 0).float() + 0.1 * x0
    counts = torch.bincount(guide_fractions(sure, target).argmax(0).ravel(), minlength=3)
    assert counts.tolist() == [346, 864, 518]
    # one offset per channel: the ranking inside a channel is kept
    diff = guided - x0
    assert torch.allclose(diff, diff[:, :1, :1, :1].expand_as(diff))
    settings = SamplerSettings(steps=5, pool_sigma=1.0, fraction_guidance=True,
                               target_fractions=(0.2, 0.5, 0.3))
    x, _ = sample_volume(PositionalToy(), Schedule(20, 1e-4, 0.1), 3, 3, 8, settings, seed=1,
                         device=torch.device("cpu"), fractions=[0.2, 0.5, 0.3])
    labels = x.argmax(0)
    counts = torch.bincount(labels.ravel(), minlength=3).double() / 8**3
    np.testing.assert_allclose(counts.numpy(), [0.2, 0.5, 0.3], atol=0.02)


def test_ordinal_encoding_round_trip_and_level_guidance():
    from rvegen.diffusion.encoding import channels_for, labels_to_model, model_to_labels
    from rvegen.diffusion.multiplane import guide_levels

    labels = torch.randint(0, 4, (3, 6, 6), generator=torch.Generator().manual_seed(0))
    x = labels_to_model(labels, 4, "ordinal")
    assert x.shape == (3, 1, 6, 6) and channels_for(4, "ordinal") == 1
    torch.testing.assert_close(torch.unique(x), torch.tensor([-1.0, -1 / 3, 1 / 3, 1.0]))
    assert torch.equal(model_to_labels(x, 4, 1, "ordinal"), labels.to(torch.uint8))
    # binary data is one channel at -1 / +1 whatever the encoding
    b = torch.randint(0, 2, (2, 5, 5), generator=torch.Generator().manual_seed(1))
    assert torch.equal(labels_to_model(b, 2, "ordinal"), b.float().unsqueeze(1) * 2 - 1)
    # guidance: exact fractions of the nearest levels, ranking of the voxels kept
    x0 = 0.6 * torch.randn(1, 12, 12, 12, generator=torch.Generator().manual_seed(2)) + 0.4
    target = [0.5, 0.2, 0.3]
    guided = guide_levels(x0, target)
    counts = torch.bincount(model_to_labels(guided, 3, 0, "ordinal").ravel(), minlength=3)
    np.testing.assert_allclose(counts.numpy() / 12**3, target, atol=2 / 12**3)
    assert torch.equal(torch.argsort(guided.ravel()), torch.argsort(x0.ravel()))
    # the mean level starts an ordinal chain; one-hot starts each channel at its own mean
    torch.testing.assert_close(data_mean(3, target, 1), torch.tensor([-0.2], dtype=torch.float64))
    assert data_mean(3, target).shape == (3,)
    settings = SamplerSettings(steps=5, pool_sigma=1.0, fraction_guidance=True,
                               start_from_data_mean=True, target_fractions=tuple(target))
    x, _ = sample_volume(PositionalToy(), Schedule(20, 1e-4, 0.1), 3, 1, 8, settings, seed=1,
                         device=torch.device("cpu"), fractions=target)
    counts = torch.bincount(model_to_labels(x, 3, 0, "ordinal").ravel(), minlength=3)
    np.testing.assert_allclose(counts.numpy() / 8**3, target, atol=0.02)


def test_plane_block_holds_each_plane_for_several_passes():
    from rvegen.diffusion.multiplane import plane_sequence

    gen = torch.Generator().manual_seed(0)
    one = plane_sequence(SamplerSettings(steps=9), 9, gen)
    assert one == [2, 1, 0] * 3
    assert plane_sequence(SamplerSettings(steps=9, plane_block=3), 9, gen) == \
        [2, 2, 2, 1, 1, 1, 0, 0, 0]
    pal = plane_sequence(SamplerSettings(steps=8, plane_order="palindrome", plane_block=2), 8, gen)
    assert pal == [2, 2, 1, 1, 0, 0, 0, 0]


def test_pool_repeats_only_changes_the_harmonizing_repeats():
    schedule = Schedule(30, 1e-4, 0.1)

    def run(n_h, repeats):
        settings = SamplerSettings(steps=6, harmonizing_steps=n_h, pool_sigma=1.5,
                                   pool_repeats=repeats)
        return sample_volume(PositionalToy(), schedule, 2, 1, 8, settings, seed=3,
                             device=torch.device("cpu"))[0]

    torch.testing.assert_close(run(1, False), run(1, True))  # no repeats: no difference
    assert not torch.allclose(run(2, False), run(2, True))
