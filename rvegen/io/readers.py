"""Deprecated: moved to rvegen.data.readers (this path works until rvegen 0.3)."""

import warnings

from ..data.readers import *  # noqa: F401,F403

warnings.warn("rvegen.io.readers moved to rvegen.data.readers", DeprecationWarning, stacklevel=2)
