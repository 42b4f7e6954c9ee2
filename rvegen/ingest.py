"""Deprecated: moved to rvegen.data.dataset, rvegen.data.ingest (this path works until rvegen 0.3)."""

import warnings

from .data.dataset import *  # noqa: F401,F403
from .data.ingest import *  # noqa: F401,F403

warnings.warn("rvegen.ingest moved to rvegen.data.dataset, rvegen.data.ingest", DeprecationWarning, stacklevel=2)
