"""Registry of stage implementations, keyed by (kind, name).

The pipeline never branches on an implementation's name: it asks the registry. Built-in
implementations register themselves when this module is first queried; third-party and
bundled plugins are discovered through the ``rvegen.plugins`` entry-point group. Each
entry point names a callable ``register(registry: Registry) -> None``; nothing is ever
imported from a string written in a spec.
"""

from __future__ import annotations

import importlib.metadata
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import UnknownImplementationError

#: The kinds of stage implementation a plugin can provide.
KINDS = ("reader", "synthetic", "backbone", "sampler", "metric", "exporter")

ENTRY_POINT_GROUP = "rvegen.plugins"


@dataclass
class Registry:
    """Stage implementations by kind and name, with where each came from."""

    _items: dict[str, dict[str, Any]] = field(default_factory=lambda: {k: {} for k in KINDS})
    _origin: dict[tuple[str, str], str] = field(default_factory=dict)

    def register(self, kind: str, name: str, obj: Any, origin: str = "rvegen") -> None:
        """Register ``obj`` as implementation ``name`` of ``kind``.

        Raises
        ------
        ValueError
            If ``kind`` is unknown or the name is already taken (a programming error).
        """
        if kind not in self._items:
            raise ValueError(f"unknown kind {kind!r}; kinds are {', '.join(KINDS)}")
        if name in self._items[kind]:
            raise ValueError(
                f"{kind} {name!r} is already registered by {self._origin[(kind, name)]}"
            )
        self._items[kind][name] = obj
        self._origin[(kind, name)] = origin

    def get(self, kind: str, name: str, field_path: str | None = None) -> Any:
        """Look up an implementation.

        Parameters
        ----------
        kind, name
            What to look up.
        field_path
            Spec field that named it, quoted in the error message.

        Raises
        ------
        UnknownImplementationError
            Naming the field, the unknown name and what is available.
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
        return sorted(self._items[kind])

    def origin(self, kind: str, name: str) -> str:
        """Package that registered an implementation."""
        return self._origin[(kind, name)]


_REGISTRY: Registry | None = None


def _register_builtins(reg: Registry) -> None:
    # Imported here, not at module top, so `import rvegen` stays light.
    from .diffusion import denoisers, multiplane
    from .export import writers
    from .io import readers
    from . import metrics, synthetic

    readers.register(reg)
    synthetic.register(reg)
    denoisers.register(reg)
    multiplane.register(reg)
    metrics.register(reg)
    writers.register(reg)


def _load_entry_points(reg: Registry) -> None:
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            hook: Callable[[Registry], None] = ep.load()
            hook(reg)
        except Exception as exc:  # a broken plugin must not break rvegen itself
            warnings.warn(f"rvegen plugin {ep.name!r} ({ep.value}) failed to load: {exc}")


def registry() -> Registry:
    """The process-wide registry, built on first use (built-ins, then entry points)."""
    global _REGISTRY
    if _REGISTRY is None:
        reg = Registry()
        _register_builtins(reg)
        _load_entry_points(reg)
        _REGISTRY = reg
    return _REGISTRY
