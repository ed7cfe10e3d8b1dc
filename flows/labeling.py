"""The labeling flow: the job's items from its manifest, labeled by its work team, and the output
manifest in Ground Truth's layout.

``run_labeling_job(job_id)`` is what tests call; the ``labeling`` flow wraps it for Prefect. The
job runner (``flows.jobs``) gates, fails and reads the job. For now every job is labeled by
people alone (:func:`label_by_humans`); the automated-labeling loop goes beside it.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from prefect import flow

from console.core.errors import ValidationError
from console.labeling import selectors, services
from flows.jobs import JobKind, StopPoll, run_job
from infra.storage import StorageError

if TYPE_CHECKING:
    from console.labeling.models import LabelingJob

LABELING = JobKind(
    noun="Labeling job",
    get=selectors.labeling_job_by_id,
    stop_requested=selectors.labeling_job_stop_requested,
    end_stopped=partial(services.labeling_job_finish, status="Stopped"),
    fail=services.labeling_job_fail,
    client_errors=(ValidationError, StorageError),
    fault="InternalServerError",
)
POLL_SECONDS = 2.0
# An intermediate manifest is written at most this often while people label.
CHECKPOINT_SECONDS = 60.0


@flow(name="labeling", log_prints=True)
def labeling(job_id: int) -> str:
    """Run one labeling job to its end; returns the job's final status."""
    return run_labeling_job(job_id)


def run_labeling_job(job_id: int, *, poll_seconds: float = POLL_SECONDS) -> str:
    return run_job(LABELING, job_id, work=partial(_work, poll_seconds=poll_seconds), finish=_finish)


def _work(job: LabelingJob, *, poll_seconds: float) -> str:
    services.labeling_job_start(job_id=job.pk)
    return label_by_humans(job.pk, poll_seconds=poll_seconds)


def _finish(job_id: int, status: str) -> None:
    services.labeling_job_finish(job_id=job_id, status=status)


def label_by_humans(job_id: int, *, poll_seconds: float = POLL_SECONDS) -> str:
    """Send every unlabeled item to the work team, then wait until each is consolidated, a
    stopping condition holds, or the job is asked to stop. Returns the status to end with."""
    unlabeled = selectors.labeling_items(job_id=job_id, state="unlabeled")
    services.labeling_items_send_to_humans(
        job_id=job_id, item_ids=list(unlabeled.values_list("pk", flat=True))
    )
    return wait_for_humans(job_id, poll_seconds=poll_seconds)


def wait_for_humans(job_id: int, *, poll_seconds: float = POLL_SECONDS) -> str:
    """Poll until no item waits, a stopping condition holds ("Completed"), or StopLabelingJob
    was called ("Stopped"), writing an intermediate manifest now and then."""
    stop = StopPoll(LABELING, job_id, every=poll_seconds)
    checkpoint_at, iteration, last_counters = time.monotonic(), 1, None
    while True:
        if stop():
            return "Stopped"
        job = selectors.labeling_job_by_id(job_id=job_id)
        if selectors.labeling_job_all_labeled(job) or selectors.labeling_job_stopping_condition(
            job
        ):
            return "Completed"
        now = time.monotonic()
        if now - checkpoint_at >= CHECKPOINT_SECONDS and job.label_counters != last_counters:
            services.labeling_job_checkpoint(job_id=job_id, iteration=iteration)
            checkpoint_at, last_counters, iteration = now, job.label_counters, iteration + 1
        time.sleep(poll_seconds)
