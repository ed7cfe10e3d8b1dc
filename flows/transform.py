"""The batch-transform flow: run ``batch.engine.run_transform`` on Dask and report as it goes.

``run_transform_job(job_id)`` does the work and is what tests call; the ``transform`` flow wraps
it for Prefect. Progress (records and bytes, in total and per object) reaches the row through
``console.transform.services`` about once a second; a StopTransformJob written there is seen
within a second, after which nothing more is published.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from prefect import flow

from flows.django_setup import setup

log = logging.getLogger(__name__)

REPORT_SECONDS = 1.0
STOP_CHECK_SECONDS = 1.0
# Per-object rows kept in the job's progress; counters in total always cover every object.
MAX_OBJECTS_SHOWN = 1000


@flow(name="transform", log_prints=True)
def transform(job_id: int) -> str:
    """Run one transform job to its end; returns the job's final status."""
    setup()
    return run_transform_job(job_id)


def run_transform_job(job_id: int, *, client=None, range_bytes: int | None = None) -> str:
    """Run the job on ``client`` (tests pass one), else on a cluster of InstanceCount workers
    (or the configured ``DASK_SCHEDULER_ADDRESS``)."""
    setup()
    from console.transform import services
    from console.transform.models import TransformJob

    job = TransformJob.objects.get(pk=job_id)
    if job.status != "InProgress":
        if job.status == "Stopping":  # stopped before it started: nothing was published
            services.transform_job_finish(job_id=job_id, status="Stopped")
        return TransformJob.objects.get(pk=job_id).status
    try:
        result = _run(job, client=client, range_bytes=range_bytes)
    except Exception as exc:  # every failure becomes the job's FailureReason
        log.exception("Transform job %s failed", job.name)
        services.transform_job_finish(job_id=job_id, status="Failed", failure_reason=reason(exc))
    else:
        services.transform_job_finish(
            job_id=job_id,
            status=result.status,
            failure_reason=result.failure_reason,
            progress=progress_json(result.progress),
        )
    return TransformJob.objects.get(pk=job_id).status


def _run(job, *, client, range_bytes: int | None):
    from batch.engine import run_transform
    from batch.spec import TransformSpec
    from infra.dask import dashboard_link, dask_client
    from infra.storage import get_store

    spec = TransformSpec.from_request(job.spec)
    monitor = JobMonitor(job.pk)

    def run(dask) -> Any:
        from console.transform.services import transform_job_begin

        transform_job_begin(job_id=job.pk, dashboard_url=dashboard_link(dask))
        return run_transform(
            spec,
            job_name=job.name,
            containers=job.containers,
            store=get_store(),
            client=dask,
            progress=monitor.progress,
            should_stop=monitor.should_stop,
            range_bytes=range_bytes,
        )

    if client is not None:
        return run(client)
    with dask_client(n_workers=spec.instance_count) as dask:
        return run(dask)


class JobMonitor:
    """The engine's callbacks for one job: progress written at most every second, and the stop
    request read from the row at most every second."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self._reported_at = 0.0
        self._checked_at = 0.0
        self._stopping = False

    def progress(self, progress) -> None:
        from console.transform.services import transform_job_report

        now = time.monotonic()
        if now - self._reported_at < REPORT_SECONDS:
            return
        self._reported_at = now
        transform_job_report(job_id=self.job_id, progress=progress_json(progress))

    def should_stop(self) -> bool:
        from console.transform.selectors import transform_job_stop_requested

        now = time.monotonic()
        if not self._stopping and now - self._checked_at >= STOP_CHECK_SECONDS:
            self._checked_at = now
            self._stopping = transform_job_stop_requested(job_id=self.job_id)
        return self._stopping


def progress_json(progress) -> dict[str, Any]:
    """The engine's :class:`batch.engine.Progress` as the job's ``progress`` JSON."""
    return {
        "objects_total": progress.objects_total,
        "objects_completed": progress.objects_completed,
        "objects_failed": progress.objects_failed,
        "ranges_total": progress.ranges_total,
        "ranges_done": progress.ranges_done,
        "records": progress.records,
        "bytes_done": progress.bytes_done,
        "bytes_total": progress.bytes_total,
        "objects": [
            {
                "uri": item.uri,
                "output_uri": item.output_uri,
                "status": item.status,
                "records": item.records,
                "bytes_done": item.bytes_in,
                "bytes_total": item.size,
            }
            for item in progress.objects[:MAX_OBJECTS_SHOWN]
        ],
    }


def reason(exc: Exception) -> str:
    """A FailureReason for a job that could not run at all (its input vanished, say)."""
    from batch.spec import ValidationError as SpecError
    from infra.storage import StorageError
    from infra.storage.inputs import InputError

    if isinstance(exc, InputError | SpecError | StorageError):
        return f"ClientError: {exc}"
    return f"InternalServerError: {type(exc).__name__}: {exc}"
