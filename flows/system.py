"""Housekeeping flows of the platform itself."""

from __future__ import annotations

from prefect import flow, get_run_logger


@flow(name="reconcile", log_prints=True)
def reconcile() -> dict[str, int]:
    """Fail jobs left InProgress by a crash: their flow run is gone, so nothing will finish them."""
    from flows.django_setup import setup

    setup()
    from console.core.services import job_reconcile_interrupted

    counts = job_reconcile_interrupted()
    get_run_logger().info("Reconciled interrupted jobs: %s", counts or "none")
    return counts
