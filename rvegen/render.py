"""Deprecated: moved to rvegen.validation.render (this path works until rvegen 0.3)."""

import warnings

from .validation.render import *  # noqa: F401,F403

warnings.warn("rvegen.render moved to rvegen.validation.render", DeprecationWarning, stacklevel=2)
