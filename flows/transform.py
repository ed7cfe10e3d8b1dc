"""The batch-transform flow: run ``batch.engine.run_transform`` on Dask and report as it goes.

``run_transform_job(job_id)`` does the work and is what tests call; the ``transform`` flow wraps
it for Prefect. The job runner (``flows.jobs``) gates, fails and reads the job. Progress (records
and bytes, in total and per object) reaches the row through ``console.transform.services`` about
once a second; a StopTransformJob written there is seen within a second, after which nothing
more is published.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any

from prefect import flow

from batch.engine import Progress, TransformResult, run_transform
from batch.spec import TransformSpec
from batch.spec import ValidationError as SpecError
from console.buckets.selectors import bucket_store
from console.transform import selectors, services
from flows.jobs import JobKind, StopPoll, log_lines, run_job
from infra.dask import dashboard_link, dask_client
from infra.storage import StorageError
from infra.storage.inputs import InputError

if TYPE_CHECKING:
    from console.transform.models import TransformJob

TRANSFORM = JobKind(
    noun="Transform job",
    get=selectors.transform_job_by_id,
    stop_requested=selectors.transform_job_stop_requested,
    end_stopped=partial(services.transform_job_finish, status="Stopped"),
    fail=services.transform_job_fail,
    client_errors=(InputError, SpecError, StorageError),
    fault="InternalServerError",
    record=services.transform_job_record,
)
REPORT_SECONDS = 1.0
# Per-object rows kept in the job's progress; counters in total always cover every object.
MAX_OBJECTS_SHOWN = 1000


@flow(name="transform", log_prints=True)
def transform(job_id: int) -> str:
    """Run one transform job to its end; returns the job's final status."""
    return run_transform_job(job_id)


def run_transform_job(job_id: int, *, client=None, range_bytes: int | None = None) -> str:
    """Run the job on ``client`` (tests pass one), else on a cluster of InstanceCount workers
    (or the configured ``DASK_SCHEDULER_ADDRESS``)."""
    work = partial(_run, client=client, range_bytes=range_bytes)
    return run_job(TRANSFORM, job_id, work=work, finish=_finish)


def _run(job: TransformJob, *, client, range_bytes: int | None) -> TransformResult:
    spec = TransformSpec.from_request(job.spec)
    monitor = JobMonitor(job.pk)

    def run(dask) -> TransformResult:
        services.transform_job_begin(job_id=job.pk, dashboard_url=dashboard_link(dask))
        return run_transform(
            spec,
            job_name=job.name,
            containers=job.containers,
            store=bucket_store(user=job.owner),
            client=dask,
            progress=monitor.progress,
            should_stop=monitor.should_stop,
            range_bytes=range_bytes,
            log=monitor.log,
        )

    try:
        if client is not None:
            return run(client)
        with dask_client(n_workers=spec.instance_count) as dask:
            return run(dask)
    finally:
        monitor.flush_log()


def _finish(job_id: int, result: TransformResult) -> None:
    services.transform_job_finish(
        job_id=job_id,
        status=result.status,
        failure_reason=result.failure_reason,
        progress=progress_json(result.progress),
    )


class JobMonitor:
    """The engine's callbacks for one job: progress and log lines written at most every second,
    and the stop request read from the row at most every second."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.should_stop = StopPoll(TRANSFORM, job_id)
        self._reported_at = 0.0
        self._logged_at = 0.0
        self._lines: list[str] = []

    def log(self, line: str) -> None:
        self._lines += log_lines(line)
        if time.monotonic() - self._logged_at >= REPORT_SECONDS:
            self.flush_log()

    def flush_log(self) -> None:
        self._logged_at = time.monotonic()
        lines, self._lines = self._lines, []
        services.transform_job_record(job_id=self.job_id, log_lines=lines)

    def progress(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._reported_at < REPORT_SECONDS:
            return
        self._reported_at = now
        services.transform_job_report(job_id=self.job_id, progress=progress_json(progress))


def progress_json(progress: Progress) -> dict[str, Any]:
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
