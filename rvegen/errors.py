"""User-facing errors.

Every mistake a user can make (a wrong spec, a missing or corrupt file, a checkpoint that
does not fit) raises a subclass of :class:`RvegenError`. The CLI prints its message on one
line and exits with code 2. Bugs raise ordinary exceptions.
"""

from __future__ import annotations


class RvegenError(Exception):
    """Base class of every error caused by user input."""


class SpecError(RvegenError):
    """The spec file is missing, unreadable or invalid."""


class InputError(RvegenError):
    """An input file (image, stack, dataset, volume) is missing, unreadable or unusable."""


class CheckpointError(RvegenError):
    """A model checkpoint is missing, corrupt or does not fit the spec."""


class UnknownImplementationError(RvegenError):
    """A spec names a stage implementation that is not registered."""


class TrainingError(RvegenError):
    """Training cannot continue (e.g. the loss became NaN or infinite)."""
