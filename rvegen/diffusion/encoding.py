"""Phase labels <-> the continuous space the diffusion model works in."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def labels_to_model(labels: torch.Tensor, phases: int) -> torch.Tensor:
    """(B, n, n) integer labels -> (B, C, n, n) in [-1, 1].

    Binary data gives one channel (phase 0 -> -1, phase 1 -> +1); K > 2 phases give K
    one-hot channels scaled to -1/+1.
    """
    if phases == 2:
        return labels.float().unsqueeze(1) * 2.0 - 1.0
    one_hot = F.one_hot(labels.long(), phases).movedim(-1, 1)
    return one_hot.float() * 2.0 - 1.0


def model_to_labels(x: torch.Tensor, phases: int, channel_dim: int = 0) -> torch.Tensor:
    """Model-space values -> uint8 labels: threshold at 0 (binary) or argmax (K phases)."""
    if phases == 2:
        return (x.squeeze(channel_dim) > 0).to(torch.uint8)
    return x.argmax(dim=channel_dim).to(torch.uint8)


def dihedral(x: torch.Tensor, k: int) -> torch.Tensor:
    """The k-th of the 8 symmetries of the square (k % 4 quarter turns, then a flip if k >= 4)."""
    x = torch.rot90(x, k % 4, dims=(-2, -1))
    return torch.flip(x, dims=(-1,)) if k >= 4 else x
