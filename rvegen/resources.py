"""Memory checks before work starts: a job that cannot fit is refused with its estimate."""

from __future__ import annotations

import os

from .errors import RvegenError

GIB = 1024**3


def available_memory() -> int:
    """Bytes of memory available to a new allocation (MemAvailable on Linux)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 2**62  # unknown: do not refuse


def check_memory(needed: float, what: str, error: type[RvegenError], hint: str) -> None:
    """Raise ``error`` when ``needed`` bytes exceed the memory available now.

    Parameters
    ----------
    needed
        Estimated bytes.
    what
        What needs them, starting the message (e.g. "generate.size: 2048^3 volumes").
    error
        The error class (SpecError for a setting, InputError for a file).
    hint
        What to do instead.
    """
    free = available_memory()
    if needed > free:
        raise error(f"{what} need about {needed / GIB:.1f} GiB of memory, "
                    f"{free / GIB:.1f} GiB are available; {hint}")
