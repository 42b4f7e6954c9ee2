"""Model checkpoints: state dicts plus what is needed to rebuild and check the network.

Saved with ``torch.save`` (atomically) and loaded with ``weights_only=True``, so loading a
checkpoint never runs code from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import __version__
from ..atomic import atomic_path
from ..errors import CheckpointError, RvegenError
from ..plugins import registry
from .schedule import Schedule

FORMAT = "rvegen-checkpoint-v1"


@dataclass
class LoadedModel:
    """A network ready for sampling, with the facts it was trained on."""

    net: nn.Module
    schedule: Schedule
    image_size: int
    phases: int
    backbone: str
    meta: dict[str, Any]

    @property
    def channels(self) -> int:
        """Channels the network sees: 1 for binary data, K otherwise."""
        return channels_for(self.phases)


def channels_for(phases: int) -> int:
    """Model channels for K phases: one (labels mapped to -1/+1) when binary, else K."""
    return 1 if phases == 2 else phases


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write a checkpoint dict atomically, stamped with the format and rvegen version."""
    payload = {"format": FORMAT, "rvegen_version": __version__, **payload}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def read_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint dict safely (``weights_only=True``).

    Raises
    ------
    CheckpointError
        If the file is missing, corrupt or not an rvegen checkpoint.
    """
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({first})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an rvegen checkpoint (format {FORMAT} expected)")
    return ckpt


def build_network(ckpt: dict[str, Any], path: Path, weights: str = "ema") -> nn.Module:
    """Rebuild the network a checkpoint describes and load its weights."""
    try:
        cls = registry().get("backbone", ckpt["backbone"])
    except RvegenError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    net = cls(**ckpt["backbone_config"])
    state = ckpt.get(weights) or ckpt["model"]
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"{path}: weights do not fit its backbone config ({first})") from None
    return net


def load_model(
    path: Path, phases: int | None = None, image_size: int | None = None
) -> LoadedModel:
    """Load a checkpoint's EMA network for sampling, checking it fits the data.

    Parameters
    ----------
    path
        Checkpoint file.
    phases, image_size
        What the caller needs; a mismatch raises instead of failing later on shapes.
    """
    ckpt = read_checkpoint(path)
    if phases is not None and ckpt["phases"] != phases:
        raise CheckpointError(
            f"{path}: trained for {ckpt['phases']} phases but data.phases is {phases}"
        )
    if image_size is not None and ckpt["image_size"] != image_size:
        raise CheckpointError(
            f"{path}: trained on {ckpt['image_size']}x{ckpt['image_size']} patches but "
            f"data.patch_size is {image_size}"
        )
    net = build_network(ckpt, path)
    net.eval()
    schedule = Schedule(**ckpt["schedule"])
    meta = {k: ckpt[k] for k in ("rvegen_version", "step", "backbone_config") if k in ckpt}
    return LoadedModel(net, schedule, ckpt["image_size"], ckpt["phases"], ckpt["backbone"], meta)
