import numpy as np
import pytest
import torch

from rvegen.diffusion.schedule import Schedule, strided_steps


def test_linear_betas_and_alpha_bar():
    s = Schedule(1000, 1e-4, 1e-2)
    assert s.beta(1) == pytest.approx(1e-4)
    assert s.beta(1000) == pytest.approx(1e-2)
    assert s.alpha_bar(0) == 1.0
    assert s.alpha_bar(3) == pytest.approx((1 - s.beta(1)) * (1 - s.beta(2)) * (1 - s.beta(3)))


def test_iterated_one_step_noising_equals_closed_form():
    """q(x_t | x_{t-1}) iterated from x_0 has mean sqrt(a_t) x_0 and variance 1 - a_t."""
    s = Schedule(200, 1e-4, 2e-2)
    mean, var = 1.0, 0.0
    for t in range(1, 201):
        f, v = s.transition(t, t - 1)
        assert f == pytest.approx(np.sqrt(1 - s.beta(t)))
        assert v == pytest.approx(s.beta(t))
        mean, var = f * mean, f**2 * var + v
        assert mean == pytest.approx(np.sqrt(s.alpha_bar(t)))
        assert var == pytest.approx(1 - s.alpha_bar(t))
    # and the strided transition composes the same way
    f1, v1 = s.transition(120, 50)
    f2, v2 = s.transition(50, 10)
    f, v = s.transition(120, 10)
    assert f == pytest.approx(f1 * f2) and v == pytest.approx(f1**2 * v2 + v1)


def test_renoise_in_distribution():
    s = Schedule(100, 1e-4, 2e-2)
    g = torch.Generator().manual_seed(0)
    x = torch.full((200_000,), 0.7, dtype=torch.float64)
    for t in range(1, 101):
        x = s.renoise(x, t, t - 1, torch.randn(x.shape, generator=g, dtype=torch.float64))
    assert float(x.mean()) == pytest.approx(0.7 * np.sqrt(s.alpha_bar(100)), abs=5e-3)
    assert float(x.var()) == pytest.approx(1 - s.alpha_bar(100), rel=1e-2)


def test_eq17_step_equals_posterior_mean_with_beta_variance():
    """The one-step update (eq. 17) is the posterior mean of q(x_{t-1} | x_t, x_0(eps))."""
    s = Schedule(50, 1e-4, 2e-2)
    g = torch.Generator().manual_seed(1)
    x_t = torch.randn(1000, generator=g, dtype=torch.float64)
    eps = torch.randn(1000, generator=g, dtype=torch.float64)
    z = torch.randn(1000, generator=g, dtype=torch.float64)
    for t in (2, 17, 50):
        a_t = s.alpha_bar(t)
        x0 = (x_t - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t)
        c0, ct, var = s.posterior(t, t - 1)
        assert var == pytest.approx(s.beta(t) * (1 - s.alpha_bar(t - 1)) / (1 - a_t))
        expected = c0 * x0 + ct * x_t + np.sqrt(s.beta(t)) * z
        torch.testing.assert_close(s.step(x_t, eps, t, t - 1, z), expected)
    # the strided branch with stride 1 would give the same: check it through s = t - 2
    mean_direct = s.step(x_t, eps, 10, 8, None)
    c0, ct, _ = s.posterior(10, 8)
    x0 = (x_t - np.sqrt(1 - s.alpha_bar(10)) * eps) / np.sqrt(s.alpha_bar(10))
    torch.testing.assert_close(mean_direct, c0 * x0 + ct * x_t)


def test_add_noise_matches_closed_form():
    s = Schedule(30)
    x0 = torch.ones(4, 1, 2, 2)
    noise = torch.zeros(4, 1, 2, 2)
    t = torch.tensor([1, 5, 10, 30])
    out = s.add_noise(x0, noise, t)
    for i, ti in enumerate(t.tolist()):
        assert float(out[i, 0, 0, 0]) == pytest.approx(np.sqrt(s.alpha_bar(ti)), rel=1e-6)


def test_strided_steps():
    assert strided_steps(3, 3) == [(3, 2), (2, 1), (1, 0)]
    pairs = strided_steps(1000, 100)
    assert len(pairs) == 100 and pairs[0][0] == 1000 and pairs[-1][1] == 0
    assert all(a > b for a, b in pairs)
    assert all(p[1] == q[0] for p, q in zip(pairs, pairs[1:]))
    with pytest.raises(ValueError):
        strided_steps(10, 11)


def test_ddim_eta_one_is_the_ddpm_posterior_and_eta_zero_is_deterministic():
    s = Schedule(100, 1e-4, 2e-2)
    g = torch.Generator().manual_seed(2)
    x_t = torch.randn(1000, generator=g, dtype=torch.float64)
    eps = torch.randn(1000, generator=g, dtype=torch.float64)
    z = torch.randn(1000, generator=g, dtype=torch.float64)
    t, s_ = 60, 45
    c0, ct, var = s.posterior(t, s_)
    expected = c0 * s.predict_x0(x_t, eps, t) + ct * x_t + np.sqrt(var) * z
    torch.testing.assert_close(s.ddim_step(x_t, eps, t, s_, z, eta=1.0), expected)
    det = s.ddim_step(x_t, eps, t, s_, z, eta=0.0)
    torch.testing.assert_close(det, s.ddim_step(x_t, eps, t, s_, None, eta=0.0))
    # clipping keeps the implied x_0 inside [-1, 1]
    clipped = s.ddim_step(x_t * 10, eps, t, 0, None, eta=0.0, clip_x0=True)
    assert float(clipped.abs().max()) <= 1.0 + 1e-12


def test_prediction_targets_convert_back_to_the_noise():
    """A network predicting v or x0 exactly is, through EpsilonView, one predicting eps."""
    from torch import nn

    from rvegen.diffusion.checkpoint import EpsilonView
    from rvegen.training import target_and_weight

    for kind in ("linear", "cosine"):
        schedule = Schedule(1000, 1e-4, 1e-2, kind)
        gen = torch.Generator().manual_seed(0)
        x0 = torch.randn(4, 1, 8, 8, generator=gen)
        eps = torch.randn(4, 1, 8, 8, generator=gen)
        t = torch.tensor([1, 250, 600, 1000])
        x_t = schedule.add_noise(x0, eps, t)
        for prediction in ("eps", "v", "x0"):
            target, weight = target_and_weight(schedule, prediction, "min_snr", x0, eps, t)

            class Oracle(nn.Module):
                def forward(self, x, steps):
                    return target

            view = Oracle() if prediction == "eps" else EpsilonView(Oracle(), schedule, prediction)
            torch.testing.assert_close(view(x_t, t), eps, rtol=1e-4, atol=2e-3)
            assert weight.shape == (4,) and (weight > 0).all()


def test_cosine_schedule_reaches_zero_signal():
    cos = Schedule(1000, kind="cosine")
    lin = Schedule(1000)
    assert cos.alpha_bar(1000) < 1e-6 < lin.alpha_bar(1000)
    assert 0.006 < lin.alpha_bar(1000) < 0.007  # the paper's betas keep 8 % of the signal
    assert np.all(np.diff(cos.alpha_bars) < 0) and cos.betas.max() <= 0.999
