"""Deprecated: moved to rvegen.validation.metrics, rvegen.validation.morphology (this path works until rvegen 0.3)."""

import warnings

from .validation.metrics import *  # noqa: F401,F403
from .validation.morphology import *  # noqa: F401,F403

warnings.warn("rvegen.metrics moved to rvegen.validation.metrics, rvegen.validation.morphology", DeprecationWarning, stacklevel=2)
