"""What ``test_training_worker`` runs on the Dask workers: kept apart from the test module, so
that a worker imports only ``algorithms.coordination`` to run it, not the test's imports."""

from __future__ import annotations

import os
import signal

from algorithms.coordination import WorkerLink


def report_iterations(token: str, *, die_at: int | None) -> None:
    """Report iterations until told to end; die (SIGKILL) before reporting ``die_at``, as a
    worker killed mid-iteration does."""
    link = WorkerLink(token)
    for iteration in range(10_000):
        if iteration == die_at:
            os.kill(os.getpid(), signal.SIGKILL)
        link.ask(iteration, 2, {})
