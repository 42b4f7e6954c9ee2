"""DDPM noise schedule: small, stateless math (in the spirit of diffusers' schedulers).

Steps are numbered t = 1..T as in the paper; ``alpha_bar(0) = 1`` stands for clean data.
All formulas work on a pair of steps (t, s) with s < t, so that the same code serves the
faithful one-step chain (s = t - 1) and strided schedules (s = t - stride).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Schedule:
    """DDPM noise schedule: linear betas (the paper) or cosine alpha_bar.

    Parameters
    ----------
    timesteps
        T, the number of diffusion steps.
    beta_start, beta_end
        beta_1 and beta_T of the linear schedule (paper: 1e-4 and 1e-2; with these
        alpha_bar_T = 0.0064, i.e. x_T keeps 8 % of the signal).
    kind
        "linear", or "cosine" (Nichol & Dhariwal 2021: alpha_bar_t = f(t) / f(0),
        f(t) = cos^2((t / T + 0.008) / 1.008 * pi / 2), betas clipped at 0.999), which
        reaches alpha_bar_T ~ 0.
    """

    timesteps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 1e-2
    kind: str = "linear"

    @property
    def betas(self) -> np.ndarray:
        """beta_t for t = 1..T at index t - 1 (float64)."""
        if self.kind == "cosine":
            s = 0.008
            steps = np.arange(self.timesteps + 1, dtype=np.float64) / self.timesteps
            f = np.cos((steps + s) / (1 + s) * np.pi / 2) ** 2
            return np.clip(1.0 - f[1:] / f[:-1], 0.0, 0.999)
        return np.linspace(self.beta_start, self.beta_end, self.timesteps, dtype=np.float64)

    def as_dict(self) -> dict[str, object]:
        """The fields (stored in checkpoints)."""
        return {"timesteps": self.timesteps, "beta_start": self.beta_start,
                "beta_end": self.beta_end, "kind": self.kind}

    @property
    def alpha_bars(self) -> np.ndarray:
        """alpha_bar_t for t = 0..T at index t (alpha_bar_0 = 1)."""
        return np.concatenate([[1.0], np.cumprod(1.0 - self.betas)])

    def beta(self, t: int) -> float:
        """beta_t."""
        return float(self.betas[t - 1])

    def alpha_bar(self, t: int) -> float:
        """alpha_bar_t, with alpha_bar_0 = 1."""
        return float(self.alpha_bars[t])

    def transition(self, t: int, s: int) -> tuple[float, float]:
        """Mean factor and variance of q(x_t | x_s), s < t: (sqrt(a_t / a_s), 1 - a_t / a_s)."""
        ratio = self.alpha_bar(t) / self.alpha_bar(s)
        return float(np.sqrt(ratio)), float(1.0 - ratio)

    def add_noise(
        self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor
    ) -> torch.Tensor:
        """Sample q(x_t | x_0) for a batch: sqrt(a_t) x_0 + sqrt(1 - a_t) noise.

        ``t`` is a (B,) integer tensor of steps in 1..T.
        """
        ab = torch.as_tensor(self.alpha_bars, dtype=x0.dtype, device=x0.device)[t]
        shape = (-1,) + (1,) * (x0.dim() - 1)
        return ab.sqrt().view(shape) * x0 + (1 - ab).sqrt().view(shape) * noise

    def renoise(
        self, x_s: torch.Tensor, t: int, s: int, noise: torch.Tensor
    ) -> torch.Tensor:
        """Harmonizing re-noise from step s back up to step t (eq. 21 when s = t - 1).

        x_t = sqrt(a_t / a_s) x_s + sqrt(1 - a_t / a_s) z, i.e. q(x_t | x_s). For s = t - 1
        this is exactly sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) z.
        """
        mean_factor, var = self.transition(t, s)
        return mean_factor * x_s + var**0.5 * noise

    def predict_x0(self, x_t: torch.Tensor, eps: torch.Tensor, t: int) -> torch.Tensor:
        """x_0 implied by x_t and the predicted noise: (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)."""
        a_t = self.alpha_bar(t)
        return (x_t - np.sqrt(1.0 - a_t) * eps) / np.sqrt(a_t)

    def step(
        self,
        x_t: torch.Tensor,
        eps: torch.Tensor,
        t: int,
        s: int,
        noise: torch.Tensor | None,
        clip_x0: bool = False,
    ) -> torch.Tensor:
        """One DDPM reverse step x_t -> x_s (s < t) from predicted noise ``eps``.

        For s = t - 1 (and no clipping) this is eq. 17 of the paper with
        sigma_t = sqrt(beta_t) (Algorithm 1, line 7). Otherwise it is the same DDPM
        posterior over the skipped steps: the mean of q(x_s | x_t, x_0) with x_0 predicted
        from ``eps`` (clipped to [-1, 1] when ``clip_x0``, as in Ho et al.'s code), and
        sigma^2 = 1 - a_t / a_s (the stride's beta). ``noise`` is None at the last step.
        """
        if s == t - 1 and not clip_x0:
            beta = self.beta(t)
            mean = (x_t - beta / np.sqrt(1.0 - self.alpha_bar(t)) * eps) / np.sqrt(1.0 - beta)
            var = beta
        else:
            x0 = self.predict_x0(x_t, eps, t)
            if clip_x0:
                x0 = x0.clamp(-1.0, 1.0)
            coef_x0, coef_xt, _ = self.posterior(t, s)
            mean = coef_x0 * x0 + coef_xt * x_t
            var = self.transition(t, s)[1]
        if noise is None:
            return mean
        return mean + var**0.5 * noise

    def ddim_step(
        self,
        x_t: torch.Tensor,
        eps: torch.Tensor,
        t: int,
        s: int,
        noise: torch.Tensor | None,
        eta: float = 0.0,
        clip_x0: bool = False,
    ) -> torch.Tensor:
        """One DDIM step x_t -> x_s (Song et al. 2021, eq. 12); eta = 0 is deterministic.

        sigma = eta sqrt((1 - a_s) / (1 - a_t)) sqrt(1 - a_t / a_s); eta = 1 has the DDPM
        posterior variance.
        """
        a_t, a_s = self.alpha_bar(t), self.alpha_bar(s)
        x0 = self.predict_x0(x_t, eps, t)
        if clip_x0:
            x0 = x0.clamp(-1.0, 1.0)
            eps = (x_t - np.sqrt(a_t) * x0) / np.sqrt(1.0 - a_t)
        sigma = eta * np.sqrt((1.0 - a_s) / (1.0 - a_t) * (1.0 - a_t / a_s))
        out = np.sqrt(a_s) * x0 + np.sqrt(max(1.0 - a_s - sigma**2, 0.0)) * eps
        if noise is not None and sigma > 0:
            out = out + sigma * noise
        return out

    def eps_from_x0(self, x_t: torch.Tensor, x0: torch.Tensor, t: int) -> torch.Tensor:
        """The noise that takes ``x0`` to ``x_t`` at step t: (x_t - sqrt(a_t) x0) / sqrt(1 - a_t)."""
        a_t = self.alpha_bar(t)
        return (x_t - np.sqrt(a_t) * x0) / np.sqrt(1.0 - a_t)

    def nearest_step(self, alpha_bar: float) -> int:
        """The step t in 1..T whose alpha_bar_t is closest to ``alpha_bar``."""
        return int(np.argmin(np.abs(self.alpha_bars[1:] - alpha_bar))) + 1

    def noise_to_signal(self, t: int) -> float:
        """sqrt((1 - a_t) / a_t): the noise standard deviation per unit of signal at step t."""
        a_t = self.alpha_bar(t)
        return float(np.sqrt((1.0 - a_t) / a_t))

    def posterior(self, t: int, s: int) -> tuple[float, float, float]:
        """Coefficients of q(x_s | x_t, x_0): (coef_x0, coef_xt, variance)."""
        a_t, a_s = self.alpha_bar(t), self.alpha_bar(s)
        beta_ts = 1.0 - a_t / a_s
        coef_x0 = np.sqrt(a_s) * beta_ts / (1.0 - a_t)
        coef_xt = np.sqrt(1.0 - beta_ts) * (1.0 - a_s) / (1.0 - a_t)
        return float(coef_x0), float(coef_xt), float(beta_ts * (1.0 - a_s) / (1.0 - a_t))


def schedule_of(model) -> Schedule:  # noqa: ANN001 - ModelSpec
    """The schedule a spec's model section describes."""
    return Schedule(model.timesteps, model.beta_start, model.beta_end, model.schedule)


def strided_steps(timesteps: int, steps: int) -> list[tuple[int, int]]:
    """Pairs (t, s) from T down to 0 in ``steps`` nearly even strides.

    ``steps == timesteps`` gives the faithful chain (T, T-1), ..., (1, 0).
    """
    if not 1 <= steps <= timesteps:
        raise ValueError(f"steps must lie in 1..{timesteps}, got {steps}")
    ts = np.unique(np.round(np.linspace(0, timesteps, steps + 1)).astype(int))[::-1]
    return [(int(a), int(b)) for a, b in zip(ts[:-1], ts[1:])]
