"""Housekeeping flows of the platform itself."""

from __future__ import annotations

from prefect import flow, get_run_logger

from console.core.services import job_reconcile_interrupted
from flows.staging import remove_abandoned_scratch


@flow(name="reconcile", log_prints=True)
def reconcile() -> dict[str, int]:
    """Fail jobs left InProgress by a crash (their flow run is gone, so nothing will finish them),
    then remove the scratch folders those runs left."""
    counts = job_reconcile_interrupted()
    get_run_logger().info("Reconciled interrupted jobs: %s", counts or "none")
    removed = remove_abandoned_scratch()
    if removed:
        get_run_logger().info("Removed %d abandoned training scratch folders", removed)
    return counts
