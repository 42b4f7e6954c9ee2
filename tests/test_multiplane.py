"""The sampler against a hand-written transcription of Algorithm 1 with a toy denoiser."""

import numpy as np
import torch
from torch import nn

from rvegen.diffusion.multiplane import SamplerSettings, multiplane_sample
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
    """Stacking along one plane only (a wrong cycle) would give another volume."""
    n, T = 4, 3
    schedule = Schedule(T, 1e-4, 0.3)
    gen = torch.Generator().manual_seed(7)
    out, _ = multiplane_sample(PositionalToy(), schedule, 1, n,
                               SamplerSettings(steps=T), gen, torch.device("cpu"))
    gen = torch.Generator().manual_seed(7)
    fused, _ = multiplane_sample(PositionalToy(), schedule, 1, n,
                                 SamplerSettings(steps=T, fusion=True), gen,
                                 torch.device("cpu"))
    assert not torch.allclose(out, fused)


def test_match_fraction_and_smoothing():
    from rvegen.diffusion.multiplane import match_fraction, smooth

    x = torch.randn(1, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    labels = match_fraction(x[0], 0.25)
    assert labels.sum() == 128
    # phase 1 sits exactly on the largest values
    assert x[0].numpy()[labels == 1].min() > x[0].numpy()[labels == 0].max()
    smoothed = smooth(x, 1.0, periodic=True)
    assert smoothed.shape == x.shape and float(smoothed.std()) < float(x.std())
    # periodic smoothing commutes with a periodic shift
    shifted = smooth(torch.roll(x, 3, dims=1), 1.0, periodic=True)
    torch.testing.assert_close(shifted, torch.roll(smoothed, 3, dims=1))
