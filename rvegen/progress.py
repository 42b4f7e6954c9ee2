"""Progress of long jobs: a tqdm bar on a terminal, plain periodic lines in a log.

A bar's carriage returns and escape codes fill a redirected log with noise, so when
stderr is not a terminal a job prints one line at every tenth of its work (and at the
end) instead; inner bars (steps of one volume) are shown on terminals only.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Iterator

from tqdm.auto import tqdm


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, **kwargs: object) -> None:
        pass


class _Lines:
    """Writes ``desc: done/total unit (pct) elapsed`` at every tenth of the work."""

    def __init__(self, total: int, desc: str, unit: str, initial: int) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.done = initial
        self.every = max(1, total // 10)
        self.start = time.monotonic()
        self.postfix = ""

    def update(self, n: int = 1) -> None:
        before = self.done
        self.done += n
        if self.done // self.every != before // self.every or self.done >= self.total:
            elapsed = time.monotonic() - self.start
            pct = 100.0 * self.done / self.total if self.total else 100.0
            print(f"{self.desc}: {self.done}/{self.total} {self.unit} ({pct:.0f} %), "
                  f"{elapsed:.0f} s{self.postfix}", file=sys.stderr, flush=True)

    def set_postfix(self, **kwargs: object) -> None:
        self.postfix = "".join(f", {k} {v}" for k, v in kwargs.items())


def is_terminal() -> bool:
    """Whether stderr is an interactive terminal."""
    return hasattr(sys.stderr, "isatty") and sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(
    total: int, desc: str, unit: str, enabled: bool = True, initial: int = 0,
    nested: bool = False,
) -> Iterator[object]:
    """A progress reporter with ``update(n)`` and ``set_postfix(**kw)``.

    Parameters
    ----------
    total, desc, unit, initial
        As for tqdm.
    enabled
        False: report nothing (``--quiet``).
    nested
        An inner loop (e.g. the steps of one volume): shown as a bar on a terminal,
        not at all in a log.
    """
    if not enabled or (nested and not is_terminal()):
        yield _Silent()
    elif is_terminal():
        with tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=not nested,
                  dynamic_ncols=True) as bar:
            yield bar
    else:
        yield _Lines(total, desc, unit, initial)
