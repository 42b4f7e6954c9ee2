"""Phase labels <-> the continuous space the diffusion model works in."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def channels_for(phases: int, encoding: str = "one_hot") -> int:
    """Model channels for K phases: one when binary or ordinal, else K (one-hot)."""
    return 1 if phases == 2 or encoding == "ordinal" else phases


def levels(phases: int) -> torch.Tensor:
    """Model-space value of each phase in one channel: -1 + 2k / (K - 1)."""
    return torch.linspace(-1.0, 1.0, phases)


def labels_to_model(labels: torch.Tensor, phases: int, encoding: str = "one_hot") -> torch.Tensor:
    """(B, n, n) integer labels -> (B, C, n, n) in [-1, 1].

    Binary data gives one channel (phase 0 -> -1, phase 1 -> +1); K > 2 phases give K
    one-hot channels scaled to -1/+1, or with ``encoding="ordinal"`` one channel holding
    the phase's level (-1 + 2k / (K - 1)).
    """
    if channels_for(phases, encoding) == 1:
        return levels(phases)[labels.long()].unsqueeze(1)
    one_hot = F.one_hot(labels.long(), phases).movedim(-1, 1)
    return one_hot.float() * 2.0 - 1.0


def model_to_labels(x: torch.Tensor, phases: int, channel_dim: int = 0,
                    encoding: str = "one_hot") -> torch.Tensor:
    """Model-space values -> uint8 labels: the nearest level (binary: threshold at 0;
    ordinal) or the argmax (one-hot)."""
    if phases == 2:
        return (x.squeeze(channel_dim) > 0).to(torch.uint8)
    if encoding == "ordinal":
        k = torch.round((x.squeeze(channel_dim) + 1.0) * (phases - 1) / 2.0)
        return k.clamp(0, phases - 1).to(torch.uint8)
    return x.argmax(dim=channel_dim).to(torch.uint8)


def dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """The k-th of the 8 symmetries of the square (k % 4 quarter turns, then a flip if k >= 4)."""
    x = torch.rot90(x, k % 4, dims=(-2, -1))
    return torch.flip(x, dims=(-1,)) if k >= 4 else x
