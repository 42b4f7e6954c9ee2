"""Per-volume work on a Dask cluster: a ``mapper(fn, items)`` like the builtin ``map``.

Tasks are plain functions of one volume (sample volume i, describe it, solve it); results
come back as they finish, each carrying its volume's name, so the run is the same as a
local one: same seeds, same volumes, same tensors. A worker that dies loses only the task it was running, which
the scheduler gives to another worker; what finished is already on disk on the driver
(volumes.h5, the homogenization results), so a killed driver resumes too.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

from .errors import InputError


@contextlib.contextmanager
def dask_mapper(cfg: Any) -> Iterator[Callable[[Callable, list], Iterator[Any]]]:  # ExecutionSpec
    """A Dask client (a LocalCluster when ``cfg.address`` is None) as a mapper."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed  # noqa: F401
    except ImportError:
        raise InputError("execution.backend: dask needs dask.distributed "
                         "(pip install 'dask[distributed]')") from None
    cluster = None
    try:
        if cfg.address:
            client = Client(cfg.address, timeout=30)
        else:
            cluster = LocalCluster(n_workers=cfg.workers, threads_per_worker=cfg.threads_per_worker,
                                   processes=True, dashboard_address=None)
            client = Client(cluster)
    except OSError as exc:
        raise InputError(f"execution.address: cannot reach the Dask scheduler "
                         f"{cfg.address} ({exc})") from None
    try:
        def mapper(fn: Callable, items: list) -> Iterator[Any]:
            futures = client.map(fn, items, pure=False)
            for future in as_completed(futures):  # as they finish: kept at once
                yield future.result()

        yield mapper
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
