"""Deprecated: moved to rvegen.training (this path works until rvegen 0.3)."""

import warnings

from ..training import *  # noqa: F401,F403

warnings.warn("rvegen.diffusion.training moved to rvegen.training", DeprecationWarning, stacklevel=2)
