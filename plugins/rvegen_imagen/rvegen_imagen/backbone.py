"""imagen-pytorch's Unet as a plain unconditional epsilon predictor ``eps = net(x_t, t)``.

rvegen drives it with its own discrete DDPM schedule: the integer step t is passed to the
Unet's (continuous) time embedding as t / T. Text conditioning is off.
"""

from __future__ import annotations

import contextlib
import json
from importlib import resources
from typing import Any, Iterator

import torch
from torch import nn

from rvegen.errors import SpecError

T5_NAME = "google/t5-v1_1-base"


@contextlib.contextmanager
def _local_t5_config() -> Iterator[None]:
    """Answer imagen-pytorch's import-time request for the T5 config from a local file.

    ``import imagen_pytorch`` evaluates ``get_encoded_dim('google/t5-v1_1-base')`` as a
    default argument, which asks the Hugging Face hub for that model's config and fails
    without network. While importing, ``T5Config.from_pretrained`` returns the shipped
    copy for that one name and defers to the original for any other.
    """
    from transformers import T5Config

    original = T5Config.from_pretrained
    local = json.loads(resources.files(__package__).joinpath("t5-v1_1-base.json").read_text())
    local.pop("_comment")

    def from_pretrained(name: Any, *args: Any, **kwargs: Any) -> T5Config:
        if str(name) == T5_NAME:
            return T5Config(**local)
        return original(name, *args, **kwargs)

    T5Config.from_pretrained = from_pretrained  # type: ignore[method-assign]
    try:
        yield
    finally:
        T5Config.from_pretrained = original  # type: ignore[method-assign]


def import_unet() -> type:
    """imagen-pytorch's ``Unet`` class, imported without network access."""
    with _local_t5_config():
        from imagen_pytorch import Unet
    return Unet


class ImagenDenoiser(nn.Module):
    """imagen-pytorch ``Unet`` behind rvegen's denoiser interface.

    Parameters
    ----------
    channels
        Input and output channels (1 for binary data, K for K phases).
    timesteps
        T of the schedule; the step t enters the time embedding as t / T.
    unet
        Keyword arguments of ``imagen_pytorch.Unet`` (see ``PRESETS``).
    """

    #: ``paper`` is Table A1 of Lee & Yun: dim 128, mults (1, 2, 4, 8), attention in the
    #: two lowest levels, 2 ResNet blocks, 8 heads of 64 (for 64 x 64 images).
    PRESETS: dict[str, dict[str, Any]] = {
        "paper": {
            "dim": 128, "dim_mults": [1, 2, 4, 8], "layer_attns": [False, False, True, True],
            "num_resnet_blocks": 2, "attn_heads": 8, "attn_dim_head": 64,
        },
        "small": {
            "dim": 32, "dim_mults": [1, 2, 4], "layer_attns": False,
            "num_resnet_blocks": 1, "attn_heads": 4, "attn_dim_head": 32,
        },
    }
    #: Unconditional, and the defaults that the paper does not use switched off explicitly.
    FIXED: dict[str, Any] = {
        "cond_on_text": False, "layer_cross_attns": False, "use_global_context_attn": False,
        "init_cross_embed": False, "lowres_cond": False, "self_cond": False,
    }

    def __init__(self, channels: int = 1, timesteps: int = 1000, unet: dict | None = None) -> None:
        super().__init__()
        unet = dict(unet or self.PRESETS["small"])
        self.config = {"channels": channels, "timesteps": timesteps, "unet": unet}
        Unet = import_unet()
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in unet.items()}
        self.unet = Unet(channels=channels, **kwargs, **self.FIXED)
        self.timesteps = timesteps

    @classmethod
    def from_spec(
        cls, channels: int, preset: str, options: dict[str, Any], timesteps: int = 1000
    ) -> "ImagenDenoiser":
        """Build from a preset plus overrides (keyword arguments of imagen's Unet)."""
        if preset not in cls.PRESETS:
            raise SpecError(f"model.preset: unknown imagen preset {preset!r} "
                            f"(available: {', '.join(cls.PRESETS)})")
        clash = sorted(set(options) & set(cls.FIXED))
        if clash:
            raise SpecError(f"model.options.{clash[0]}: fixed by the imagen backbone")
        return cls(channels, timesteps, {**cls.PRESETS[preset], **options})

    def min_divisor(self) -> int:
        """Image sides must be multiples of this."""
        return 2 ** (len(self.config["unet"]["dim_mults"]) - 1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.unet(x, t.float() / self.timesteps)
