"""Deprecated: moved to rvegen.validation.plots (this path works until rvegen 0.3)."""

import warnings

from .validation.plots import *  # noqa: F401,F403

warnings.warn("rvegen.viz moved to rvegen.validation.plots", DeprecationWarning, stacklevel=2)
