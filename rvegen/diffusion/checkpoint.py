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

from .._version import __version__
from ..atomic import atomic_path
from ..errors import CheckpointError, RvegenError
from ..plugins import Registry, registry as default_registry
from .encoding import channels_for
from .planes import PlaneModels, plane_networks
from .schedule import Schedule

FORMAT = "rvegen-checkpoint-v1"


class EpsilonView(nn.Module):
    """A network that predicts v or x0, seen as one that predicts the noise.

    Samplers only know ``eps = net(x_t, t)``; this converts the other targets with the
    schedule: eps = sqrt(a) v + sqrt(1 - a) x_t, or eps = (x_t - sqrt(a) x0) / sqrt(1 - a).
    """

    def __init__(self, net: nn.Module, schedule: Schedule, prediction: str) -> None:
        super().__init__()
        self.net = net
        self.prediction = prediction
        self.schedule = schedule
        self.register_buffer("alpha_bars", torch.as_tensor(schedule.alpha_bars,
                                                            dtype=torch.float32))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = self.net(x, t)
        ab = self.alpha_bars.to(x.device)[t].view(-1, 1, 1, 1).to(out.dtype)
        if self.prediction == "v":
            return ab.sqrt() * out + (1 - ab).sqrt() * x.to(out.dtype)
        return (x.to(out.dtype) - ab.sqrt() * out) / (1 - ab).sqrt()

    def set_periodic(self, periodic: bool) -> None:
        if hasattr(self.net, "set_periodic"):
            self.net.set_periodic(periodic)

    def for_plane(self, axis: int) -> nn.Module:
        """The noise predictor of one plane family (when ``net`` is a PlaneModels)."""
        return EpsilonView(self.net.for_plane(axis), self.schedule, self.prediction).eval()

    def min_divisor(self) -> int:
        return self.net.min_divisor() if hasattr(self.net, "min_divisor") else 1


@dataclass
class LoadedModel:
    """A network ready for sampling (it predicts the noise), with the facts it was
    trained on."""

    net: nn.Module
    schedule: Schedule
    image_size: int
    phases: int
    backbone: str
    meta: dict[str, Any]

    @property
    def encoding(self) -> str:
        """How K > 2 phases are encoded: "one_hot" (K channels) or "ordinal" (one)."""
        return str(self.meta.get("encoding", "one_hot"))

    @property
    def channels(self) -> int:
        """Channels the network sees: 1 for binary or ordinal data, K for one-hot."""
        return channels_for(self.phases, self.encoding)

    @property
    def per_plane(self) -> bool:
        """One network per plane family (anisotropic data)."""
        return plane_networks(self.net) is not None


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write a checkpoint dict atomically, stamped with the format and rvegen version."""
    payload = {"format": FORMAT, "rvegen_version": __version__, **payload}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


#: Keys every checkpoint must hold.
REQUIRED = ("backbone", "backbone_config", "image_size", "phases", "schedule", "step", "ema")


def read_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint dict safely (``weights_only=True``).

    Raises
    ------
    CheckpointError
        If the file is missing, corrupt, unsafe or not an rvegen checkpoint.
    """
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or unsafe files
        text = str(exc)
        if "unsupported GLOBAL" in text or "Unsupported global" in text:
            raise CheckpointError(
                f"{path}: refused: the file holds Python objects that would run code when "
                "loaded (rvegen loads weights only); it is not an rvegen checkpoint"
            ) from None
        raise CheckpointError(f"{path}: not a readable checkpoint (corrupt, truncated or "
                              "not a PyTorch file)") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an rvegen checkpoint (format {FORMAT} expected)")
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path}: damaged rvegen checkpoint (missing {', '.join(missing)})")
    return ckpt


def build_network(ckpt: dict[str, Any], path: Path | str, weights: str = "ema",
                  plugins: Registry | None = None) -> nn.Module:
    """Rebuild the network a checkpoint describes and load its weights (raw output)."""
    try:
        cls = (plugins or default_registry()).get("backbone", ckpt["backbone"])
    except RvegenError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    try:
        net = cls(**ckpt["backbone_config"])
        if ckpt.get("planes"):  # anisotropic: one network per plane family
            net = PlaneModels([net] + [cls(**ckpt["backbone_config"]) for _ in range(2)])
    except TypeError as exc:
        raise CheckpointError(f"{path}: backbone config does not fit {ckpt['backbone']} "
                              f"({exc})") from None
    state = ckpt.get(weights) or ckpt["model"]
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise CheckpointError(f"{path}: weights do not fit its backbone config ({first})") from None
    return net


def model_from_payload(ckpt: dict[str, Any], path: Path | str,
                       plugins: Registry | None = None) -> LoadedModel:
    """A sampling-ready model from a checkpoint dict (read from a file or in memory)."""
    net = build_network(ckpt, path, plugins=plugins)
    net.eval()
    try:
        schedule = Schedule(**ckpt["schedule"])
    except TypeError as exc:
        raise CheckpointError(f"{path}: unknown schedule fields ({exc})") from None
    prediction = ckpt.get("prediction", "eps")
    if prediction != "eps":
        net = EpsilonView(net, schedule, prediction).eval()
    meta = {k: ckpt[k] for k in ("rvegen_version", "step", "backbone_config", "train_seconds",
                                 "train_cpu_seconds", "prediction", "planes", "encoding")
            if k in ckpt}
    return LoadedModel(net, schedule, ckpt["image_size"], ckpt["phases"], ckpt["backbone"], meta)


def load_model(
    path: Path, phases: int | None = None, image_size: int | None = None,
    plugins: Registry | None = None,
) -> LoadedModel:
    """Load a checkpoint's EMA network for sampling, checking it fits the data.

    Parameters
    ----------
    path
        Checkpoint file.
    phases, image_size
        What the caller needs; a mismatch raises instead of failing later on shapes.
    plugins
        Where the backbone comes from (default: the installed plugins).
    """
    path = Path(path)
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
    return model_from_payload(ckpt, path, plugins)
