"""Denoiser backbones behind one interface: ``eps = net(x_t, t)``.

``x_t`` is (B, C, n, n) (C = 1 for binary data, one channel per phase otherwise) and ``t``
a (B,) integer tensor of diffusion steps. A backbone is registered as a class with

* ``from_spec(channels, preset, options, timesteps) -> module``: build from a spec's
  model section (``timesteps`` is T, for backbones whose time embedding wants t / T);
* ``module.config``: a plain dict such that ``cls(**config)`` rebuilds the same network
  (stored in checkpoints);
* ``module.set_periodic(flag)``: switch circular padding on or off (sampling periodic
  volumes with a network trained on non-periodic patches).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import SpecError


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer steps (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def _norm(channels: int, groups: int) -> nn.GroupNorm:
    return nn.GroupNorm(math.gcd(groups, channels), channels)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, time embedding added in between, residual skip."""

    def __init__(self, cin: int, cout: int, emb_dim: int, groups: int) -> None:
        super().__init__()
        self.norm1 = _norm(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout)
        self.norm2 = _norm(cout, groups)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class SelfAttention(nn.Module):
    """Multi-head self-attention over the pixels of the lowest resolution."""

    def __init__(self, channels: int, groups: int, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads if channels % heads == 0 else 1
        self.norm = _norm(channels, groups)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).unbind(1)
        attn = F.scaled_dot_product_attention(
            q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2)
        )
        return x + self.out(attn.transpose(-1, -2).reshape(b, c, h, w))


class CompactUNet(nn.Module):
    """A plain convolutional U-Net written for speed on CPUs.

    Parameters
    ----------
    channels
        Input and output channels C.
    widths
        Channels per resolution level; the image is halved between levels, so the patch
        side must be divisible by 2 ** (len(widths) - 1).
    blocks
        Residual blocks per level on the way down.
    attention
        Self-attention at the lowest resolution.
    groups
        GroupNorm groups (reduced to a divisor of each width).
    periodic
        Circular instead of zero padding in every 3x3 convolution.
    """

    PRESETS: dict[str, dict[str, Any]] = {
        "tiny": {"widths": [16, 32, 64], "blocks": 1, "attention": False},
        "small": {"widths": [32, 64, 128], "blocks": 1, "attention": False},
        "base": {"widths": [64, 128, 256], "blocks": 2, "attention": True},
    }

    def __init__(
        self,
        channels: int = 1,
        widths: list[int] | tuple[int, ...] = (16, 32, 64),
        blocks: int = 1,
        attention: bool = False,
        groups: int = 8,
        periodic: bool = False,
    ) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        self.config = {
            "channels": channels, "widths": widths, "blocks": blocks,
            "attention": attention, "groups": groups, "periodic": periodic,
        }
        emb_dim = 4 * widths[0]
        self.emb_dim = emb_dim
        self.time_mlp = nn.Sequential(
            nn.Linear(widths[0], emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim)
        )
        self.stem = nn.Conv2d(channels, widths[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        cin = widths[0]
        for level, w in enumerate(widths):
            self.down_blocks.append(
                nn.ModuleList(
                    [ResBlock(cin if b == 0 else w, w, emb_dim, groups) for b in range(blocks)]
                )
            )
            cin = w
            if level < len(widths) - 1:
                self.downsamples.append(nn.Conv2d(w, w, 3, stride=2, padding=1))
        self.mid1 = ResBlock(widths[-1], widths[-1], emb_dim, groups)
        self.mid_attn = SelfAttention(widths[-1], groups) if attention else nn.Identity()
        self.mid2 = ResBlock(widths[-1], widths[-1], emb_dim, groups)
        self.upsamples = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for level in reversed(range(len(widths))):
            w = widths[level]
            below = widths[min(level + 1, len(widths) - 1)]
            if level < len(widths) - 1:
                self.upsamples.append(nn.Conv2d(below, below, 3, padding=1))
            self.up_blocks.append(ResBlock(below + w, w, emb_dim, groups))
        self.out_norm = _norm(widths[0], groups)
        self.out = nn.Conv2d(widths[0], channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.set_periodic(periodic)

    @classmethod
    def from_spec(
        cls, channels: int, preset: str, options: dict[str, Any], timesteps: int = 1000
    ) -> "CompactUNet":
        """Build from a preset name plus option overrides (the spec's model section).

        ``timesteps`` is unused: the sinusoidal embedding takes the integer step itself.
        """
        if preset not in cls.PRESETS:
            raise SpecError(
                f"model.preset: unknown compact preset {preset!r} "
                f"(available: {', '.join(cls.PRESETS)})"
            )
        allowed = {"widths", "blocks", "attention", "groups", "periodic"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise SpecError(
                f"model.options.{unknown[0]}: not an option of the compact backbone "
                f"(options: {', '.join(sorted(allowed))})"
            )
        return cls(channels=channels, **{**cls.PRESETS[preset], **options})

    def set_periodic(self, periodic: bool) -> None:
        """Use circular (True) or zero (False) padding in every padded convolution."""
        self.config["periodic"] = bool(periodic)
        for module in self.modules():
            if isinstance(module, nn.Conv2d) and module.padding != (0, 0):
                module.padding_mode = "circular" if periodic else "zeros"

    def min_divisor(self) -> int:
        """Patch sides must be multiples of this."""
        return 2 ** (len(self.config["widths"]) - 1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.time_mlp(timestep_embedding(t, self.config["widths"][0]))
        h = self.stem(x)
        skips = []
        for level, blocks in enumerate(self.down_blocks):
            for block in blocks:
                h = block(h, emb)
            skips.append(h)
            if level < len(self.downsamples):
                h = self.downsamples[level](h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)
        n_levels = len(self.down_blocks)
        for i, block in enumerate(self.up_blocks):
            level = n_levels - 1 - i
            if level < n_levels - 1:
                h = self.upsamples[i - 1](F.interpolate(h, scale_factor=2.0, mode="nearest"))
            h = block(torch.cat([h, skips[level]], dim=1), emb)
        return self.out(F.silu(self.out_norm(h)))
