"""rvegen: validated, FEA-ready 3D representative volume elements from 2D micrographs.

The whole pipeline from a spec file::

    import rvegen
    result = rvegen.build("examples/quickstart.yaml")     # -> BuildResult

or stage by stage on arrays, from a notebook::

    ds = rvegen.Dataset.from_array(image, patch_size=32)
    model = rvegen.train(ds, train={"steps": 5000})
    volumes = rvegen.sample_volumes(model, count=8, fractions=ds.fractions)
    report = rvegen.validate(volumes, ds)
    rvegen.export_volumes(volumes, "rves/", {"formats": ["abaqus", "vti"]})

Names are imported on first use, so ``import rvegen`` (and the CLI) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: public name -> (module, attribute)
_API = {
    "BuildResult": ("pipeline", "BuildResult"),
    "build": ("pipeline", "build"),
    "Dataset": ("data.dataset", "Dataset"),
    "load_dataset": ("data.dataset", "load_dataset"),
    "Model": ("diffusion.checkpoint", "LoadedModel"),
    "load_model": ("diffusion.checkpoint", "load_model"),
    "RvegenError": ("errors", "RvegenError"),
    "export_volumes": ("export.stage", "export_volumes"),
    "sample_volumes": ("generate", "sample_volumes"),
    "sample_images": ("generate", "sample_images"),
    "GenerationContext": ("plugins", "GenerationContext"),
    "Metric": ("plugins", "Metric"),
    "build_registry": ("plugins", "build_registry"),
    "hookimpl": ("plugins", "hookimpl"),
    "Spec": ("spec", "Spec"),
    "load_spec": ("spec", "load_spec"),
    "train": ("training", "train"),
    "Report": ("validation.report", "Report"),
    "validate": ("validation.report", "validate"),
    "Volume": ("volumes", "Volume"),
    "read_volumes": ("volumes", "read_volumes"),
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _API[name]
    except KeyError:
        raise AttributeError(f"module 'rvegen' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover
    from .data.dataset import Dataset, load_dataset
    from .diffusion.checkpoint import LoadedModel as Model, load_model
    from .errors import RvegenError
    from .export.stage import export_volumes
    from .generate import sample_images, sample_volumes
    from .pipeline import BuildResult, build
    from .plugins import GenerationContext, Metric, build_registry, hookimpl
    from .spec import Spec, load_spec
    from .training import train
    from .validation.report import Report, validate
    from .volumes import Volume, read_volumes
