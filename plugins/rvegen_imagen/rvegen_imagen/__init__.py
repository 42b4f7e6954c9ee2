"""rvegen plugin: imagen-pytorch's Unet (the paper's network, Table A1) as a backbone."""

from rvegen.plugins import hookimpl

from .backbone import ImagenDenoiser, import_unet

__all__ = ["ImagenDenoiser", "import_unet", "rvegen_backbones"]


@hookimpl
def rvegen_backbones() -> dict[str, type]:
    """The ``imagen`` backbone (``model.backbone: imagen``)."""
    return {"imagen": ImagenDenoiser}
