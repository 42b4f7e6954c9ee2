"""Deprecated: moved to rvegen.data.segment (this path works until rvegen 0.3)."""

import warnings

from .data.segment import *  # noqa: F401,F403

warnings.warn("rvegen.segment moved to rvegen.data.segment", DeprecationWarning, stacklevel=2)
