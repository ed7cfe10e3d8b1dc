"""Dask cluster access: the configured scheduler, or a LocalCluster started for one job.

``DASK_SCHEDULER_ADDRESS`` points at a long-lived cluster (shared by jobs, sized by its operator);
unset, each job gets its own cluster of ``n_workers`` single-threaded worker processes, closed
when the job ends. ``dashboard_link(client)`` is what the console shows next to the job.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster

from infra.config import settings


@contextmanager
def dask_client(*, n_workers: int) -> Iterator[Client]:
    """A client for one job; ``n_workers`` sizes the job's own cluster when none is configured."""
    address = settings().dask_scheduler_address
    if address:
        with Client(address) as client:
            yield client
        return
    # One thread per process: the built-in models hold the GIL while parsing, so processes
    # (not threads) give parallelism, and a crashing model takes down only its own worker.
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def dashboard_link(client: Client) -> str | None:
    """The Dask dashboard's URL for this client's cluster, when it serves one."""
    return client.dashboard_link or None
