"""Deprecated: moved to rvegen.data.synthetic (this path works until rvegen 0.3)."""

import warnings

from .data.synthetic import *  # noqa: F401,F403

warnings.warn("rvegen.synthetic moved to rvegen.data.synthetic", DeprecationWarning, stacklevel=2)
