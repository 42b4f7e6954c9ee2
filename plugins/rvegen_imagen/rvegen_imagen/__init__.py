"""rvegen plugin: imagen-pytorch's Unet (the paper's network, Table A1) as a backbone."""

from .backbone import ImagenDenoiser, import_unet

__all__ = ["ImagenDenoiser", "import_unet", "register"]


def register(registry) -> None:  # noqa: ANN001
    """Entry point of the ``rvegen.plugins`` group."""
    registry.register("backbone", "imagen", ImagenDenoiser, origin="rvegen-imagen")
