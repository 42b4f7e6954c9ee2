"""Plugin contracts (pluggy hook specifications) and the registry built from them.

A plugin is a module (or any object) with functions marked ``@hookimpl`` whose names
are the hooks below. It is found through the ``rvegen.plugins`` entry-point group;
rvegen's own implementations come the same way (``rvegen.builtins``). Nothing is ever
imported from a string written in a spec: a spec only names implementations that an
installed plugin registered.

Two kinds of hook:

* **Registration** (``rvegen_readers``, ..., ``rvegen_solvers``): return a dict of
  implementations by name. The pipeline looks names up once, before the first stage, and
  passes the implementations into the stage functions.
* **Events**: ``rvegen_on_volume_generated`` is a filter (it may return a transformed
  continuous volume; every implementation sees the previous one's output);
  ``rvegen_on_volume_validated``, ``rvegen_on_export`` and ``rvegen_on_homogenized`` are
  notifications.

Contracts of the implementations (see each hook's docstring):

=========== =========================================================================
reader      ``read(path: Path, data: DataSpec) -> ndarray`` (2D or 3D); options in
            ``data.reader_options``
synthetic   ``make(cfg: SyntheticSpec, rng: numpy.random.Generator) -> ndarray`` (uint8)
backbone    a ``torch.nn.Module`` class with ``from_spec(channels, preset, options,
            timesteps)`` and a ``config`` dict (``cls(**config)`` rebuilds it)
sampler     ``sample(net, schedule, phases, channels, size, settings, seed, device,
            progress, desc, fractions, options) -> (continuous (C, m, m, m) tensor, info)``
metric      :class:`Metric`
exporter    ``write(labels, ctx: ExportContext, stem: Path) -> list[Path]``
solver      ``solve(labels, voxel_size, materials, workdir, options) -> (6, 6) stiffness``
            (Voigt 11, 22, 33, 12, 13, 23, engineering shears; units of the materials)
=========== =========================================================================
"""

from __future__ import annotations

import importlib.metadata
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import pluggy

from .errors import UnknownImplementationError

PROJECT = "rvegen"
ENTRY_POINT_GROUP = "rvegen.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: Registration hook of each kind of implementation.
KINDS = {
    "reader": "rvegen_readers",
    "synthetic": "rvegen_synthetic_sources",
    "backbone": "rvegen_backbones",
    "sampler": "rvegen_samplers",
    "metric": "rvegen_metrics",
    "exporter": "rvegen_exporters",
    "solver": "rvegen_solvers",
}


@dataclass(frozen=True)
class Metric:
    """A descriptor that validation compares between generated and real samples.

    Attributes
    ----------
    fn
        ``kind == "curve"``: ``fn(labels, phase, max_r, plane_axis=None, **options)
        -> ndarray`` of values at r = 0..max_r, compared by eq. 24 (area between the
        curves over the area under the reference, %). ``kind == "scalar"``:
        ``fn(labels, phase, plane_axis=None, **options) -> float``, compared by the
        absolute difference. ``plane_axis`` set means: average the 2D value over the
        slices at fixed index along that axis (per-plane validation of 2D data).
    kind
        "curve" or "scalar".
    unit
        How the error reads in reports ("%" for curves).
    resolution
        The smallest error difference that means anything. The calibrated gate never
        standardises this metric's errors by less: when every real sample agrees (a CT
        electrode's pores are 99.96 % one cluster in every sub-volume) the spread is ~0
        and differences no one could see would reject volumes.
    """

    fn: Callable[..., Any]
    kind: Literal["curve", "scalar"] = "curve"
    unit: str = "%"
    resolution: float = 0.0


@dataclass(frozen=True)
class GenerationContext:
    """What an ``rvegen_on_volume_generated`` filter knows about the volume it gets."""

    index: int
    seed: int
    phases: int
    fractions: list[float] | None
    generate: Any  # GenerateSpec
    periodic: bool


class HookSpecs:
    """The plugin contract. Implement any subset with ``@hookimpl`` functions."""

    @hookspec
    def rvegen_readers(self) -> dict[str, Callable[..., Any]]:
        """Readers by name (``data.reader``)."""

    @hookspec
    def rvegen_synthetic_sources(self) -> dict[str, Callable[..., Any]]:
        """Synthetic microstructure sources by name (``data.synthetic.kind``)."""

    @hookspec
    def rvegen_backbones(self) -> dict[str, type]:
        """Denoiser backbone classes by name (``model.backbone``)."""

    @hookspec
    def rvegen_samplers(self) -> dict[str, Callable[..., Any]]:
        """3D samplers by name (``generate.sampler``)."""

    @hookspec
    def rvegen_metrics(self) -> dict[str, Metric]:
        """Validation metrics by name (``validate.metrics``)."""

    @hookspec
    def rvegen_exporters(self) -> dict[str, Callable[..., Any]]:
        """Exporters by name (``export.formats``)."""

    @hookspec
    def rvegen_solvers(self) -> dict[str, Callable[..., Any]]:
        """Homogenization solvers by name (``homogenize.solver``)."""

    @hookspec
    def rvegen_on_volume_generated(self, volume: Any, context: GenerationContext) -> Any:
        """Filter a freshly sampled continuous volume (C, z, y, x) before labelling.

        Return a transformed tensor of the same shape, or None to leave it. Labels are
        then the sign (binary) or argmax (K phases) of the final volume.
        """

    @hookspec
    def rvegen_on_volume_validated(self, name: str, result: dict[str, Any],
                                   labels: Any) -> None:
        """A volume was scored; ``result`` holds its errors and verdict."""

    @hookspec
    def rvegen_on_export(self, name: str, paths: list[Any]) -> None:
        """A volume's files were written (into the export stage's temporary folder)."""

    @hookspec
    def rvegen_on_homogenized(self, name: str, result: dict[str, Any]) -> None:
        """A volume's effective properties were computed."""


@dataclass
class Registry:
    """Implementations by kind and name, with the plugin each came from."""

    manager: pluggy.PluginManager
    _items: dict[str, dict[str, Any]] = field(default_factory=dict)
    _origin: dict[tuple[str, str], str] = field(default_factory=dict)
    _distributions: dict[str, str] = field(default_factory=dict)

    def get(self, kind: str, name: str, field_path: str | None = None) -> Any:
        """Look up an implementation.

        Raises
        ------
        UnknownImplementationError
            Naming the spec field, the unknown name and what is available.
        """
        try:
            return self._items[kind][name]
        except KeyError:
            where = f"{field_path}: " if field_path else ""
            available = ", ".join(sorted(self._items.get(kind, {}))) or "none"
            raise UnknownImplementationError(
                f"{where}unknown {kind} {name!r} (available: {available}; "
                "`rvegen plugins` lists them)"
            ) from None

    def names(self, kind: str) -> list[str]:
        """Sorted names registered for ``kind``."""
        return sorted(self._items.get(kind, {}))

    def origin(self, kind: str, name: str) -> str:
        """Plugin (distribution) that registered an implementation."""
        return self._origin[(kind, name)]

    @property
    def hook(self) -> Any:
        """The event hooks (``registry.hook.rvegen_on_export(...)``)."""
        return self.manager.hook

    def filter_volume(self, volume: Any, context: GenerationContext) -> Any:
        """Run every ``rvegen_on_volume_generated`` filter in pluggy's call order, each
        on the previous one's output."""
        for impl in reversed(self.manager.hook.rvegen_on_volume_generated.get_hookimpls()):
            out = impl.function(volume=volume, context=context)
            if out is not None:
                volume = out
        return volume

    def plugins(self) -> list[dict[str, Any]]:
        """Each plugin with its origin and what it provides (for ``rvegen plugins``)."""
        out = []
        for name, plugin in self.manager.list_name_plugin():
            provides = {kind: sorted(n for (k, n), o in self._origin.items()
                                     if k == kind and o == name) for kind in KINDS}
            events = sorted(hook.name for hook in self.manager.get_hookcallers(plugin) or []
                            if hook.name not in KINDS.values())
            out.append({"plugin": name,
                        "origin": self._distributions.get(name, "registered in code"),
                        "provides": {k: v for k, v in provides.items() if v},
                        "events": events})
        return out


def build_registry(extra_plugins: list[Any] | None = None, entry_points: bool = True) -> Registry:
    """A registry from rvegen's built-ins, installed plugins and ``extra_plugins``.

    Parameters
    ----------
    extra_plugins
        Plugin objects registered in code (e.g. from a notebook), after the installed ones.
    entry_points
        Discover installed plugins through the ``rvegen.plugins`` entry-point group.
    """
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(HookSpecs)
    distributions: dict[str, str] = {}
    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if manager.has_plugin(ep.name):
                continue
            try:
                manager.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin must not break rvegen itself
                warnings.warn(f"rvegen plugin {ep.name!r} ({ep.value}) failed to load: {exc}")
                continue
            dist = getattr(ep, "dist", None)
            distributions[ep.name] = f"{dist.name} {dist.version}" if dist else ep.value
    if not manager.has_plugin(PROJECT):  # run from a source tree that is not installed:
        # load rvegen's own entry point as pip would have declared it
        own = importlib.metadata.EntryPoint(PROJECT, f"{__package__}.builtins",
                                            ENTRY_POINT_GROUP)
        manager.register(own.load(), name=PROJECT)
        distributions[PROJECT] = "rvegen (source tree)"
    for i, plugin in enumerate(extra_plugins or []):
        manager.register(plugin, name=getattr(plugin, "__name__", f"extra-{i}"))
    registry = Registry(manager, {kind: {} for kind in KINDS}, {}, distributions)
    for kind, hook_name in KINDS.items():
        # rvegen's own names first, then plugins in registration order; the first wins
        impls = sorted(getattr(manager.hook, hook_name).get_hookimpls(),
                       key=lambda impl: impl.plugin_name != PROJECT)
        for impl in impls:
            for name, obj in (impl.function() or {}).items():
                if name in registry._items[kind]:
                    warnings.warn(f"{kind} {name!r} of plugin {impl.plugin_name!r} ignored: "
                                  f"already registered by {registry._origin[(kind, name)]!r}")
                    continue
                registry._items[kind][name] = obj
                registry._origin[(kind, name)] = impl.plugin_name
    return registry


_DEFAULT: Registry | None = None


def registry() -> Registry:
    """The process-wide registry of installed plugins, built on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = build_registry()
    return _DEFAULT
