"""The processing flow: run the job's container command in the job sandbox, once per instance.

``run_processing_job(job_id)`` does the work and is what tests call; the ``processing`` flow wraps
it for Prefect. The job runner (``flows.jobs``) gates, fails and reads the job; the container
contract itself (inputs, /opt/ml, outputs) is ``algorithms.script_processing``. The log, the
uploads and the end reach the row through ``console.processing.services``.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from prefect import flow

from algorithms.sandbox import sandbox_status
from algorithms.script_processing import ProcessingClientError, ProcessingResult, run_processing
from console.buckets.selectors import bucket_store
from console.processing import selectors, services
from flows.jobs import JobKind, run_job
from flows.reporter import JobReporter
from infra.config import settings
from infra.storage import StorageError
from infra.storage.inputs import InputError

if TYPE_CHECKING:
    from console.processing.models import ProcessingJob

PROCESSING = JobKind(
    noun="Processing job",
    get=selectors.processing_job_by_id,
    stop_requested=selectors.processing_job_stop_requested,
    end_stopped=services.processing_job_end_stopped,
    fail=services.processing_job_fail,
    client_errors=(ProcessingClientError, InputError, StorageError),
    fault="AlgorithmError",
    record=services.processing_job_record,
)
STOP_MESSAGE = "Stop requested: sending SIGTERM to the processing script"


@flow(name="processing", log_prints=True)
def processing(job_id: int) -> str:
    """Run one processing job to its end; returns the job's final status."""
    return run_processing_job(job_id)


def run_processing_job(job_id: int, *, stop_grace_seconds: float | None = None) -> str:
    work = partial(_process, stop_grace_seconds=stop_grace_seconds)
    return run_job(PROCESSING, job_id, work=work, finish=_finish)


def scratch_root() -> Path:
    """Where processing jobs keep their scratch folders (one per job, named by its id)."""
    return settings().work_dir / "processing"


@contextlib.contextmanager
def job_scratch(job_id: int) -> Iterator[Path]:
    """The job's empty scratch folder, removed when done. The folders of jobs that have ended
    go first: a run killed mid-way (the machine stopped, a kill -9) leaves its own behind."""
    remove_abandoned_scratch()
    work = scratch_root() / str(job_id)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def remove_abandoned_scratch() -> int:
    """Remove the scratch folders of processing jobs that no longer run; returns how many."""
    root = scratch_root()
    # The folders first, then the running jobs: a folder listed here belongs to a job that was
    # running when it was made, so a job absent from the second read has ended.
    folders = list(root.iterdir()) if root.is_dir() else []
    running = {str(pk) for pk in selectors.processing_job_active_ids()}
    abandoned = [folder for folder in folders if folder.name not in running]
    for folder in abandoned:
        shutil.rmtree(folder, ignore_errors=True)
    return len(abandoned)


def _process(job: ProcessingJob, *, stop_grace_seconds: float | None) -> ProcessingResult:
    max_runtime = job.spec.get("StoppingCondition", {}).get(
        "MaxRuntimeInSeconds", services.DEFAULT_MAX_RUNTIME_SECONDS
    )
    reporter = JobReporter(PROCESSING, job.pk, max_runtime=max_runtime, stop_message=STOP_MESSAGE)
    sandbox = sandbox_status()
    with job_scratch(job.pk) as work, reporter:
        if not sandbox.available:
            reporter.log(f"The job sandbox is unavailable: {sandbox.reason}")
        extra = {} if stop_grace_seconds is None else {"stop_grace_seconds": stop_grace_seconds}
        return run_processing(
            job.spec,
            work=work,
            store=bucket_store(user=job.owner),
            reporter=reporter,
            stopped_by=lambda: reporter.stopped_by,
            on_started=partial(services.processing_job_begin, job_id=job.pk),
            on_uploaded=partial(_uploaded, job.pk),
            **extra,
        )


def _uploaded(job_id: int, uploaded: list[dict]) -> None:
    services.processing_job_uploaded(job_id=job_id, uploaded=uploaded)


def _finish(job_id: int, result: ProcessingResult) -> None:
    if result.failure_reason:
        services.processing_job_record(job_id=job_id, log_lines=[result.failure_reason])
    services.processing_job_finish(
        job_id=job_id,
        status=result.status,
        failure_reason=result.failure_reason,
        exit_message=result.exit_message,
    )
