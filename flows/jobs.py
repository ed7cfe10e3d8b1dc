"""What every job flow does the same way: the status gate, the failure capture and the stop poll.

A job kind describes itself once as a :class:`JobKind` (its selectors, the services that end it,
which failures are the user's) and its flow hands :func:`run_job` only what is new about it::

    TRAINING = JobKind(noun="Training job", get=training_job_by_id, ...)

    def run_training_job(job_id: int) -> str:
        return run_job(TRAINING, job_id, work=_train, finish=_finish)

The job's row is the source of truth: the runner reads it afresh through the kind's selector, and
every end reaches it through the kind's services.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from infra.storage import StorageUnavailable

if TYPE_CHECKING:
    from console.core.models import Job

log = logging.getLogger(__name__)

STOP_CHECK_SECONDS = 1.0
LOG_LINE_LIMIT = 8192  # characters kept of one log line

R = TypeVar("R")


@dataclass(frozen=True)
class JobKind:
    """One kind of job as the runner sees it. Its selectors and services are the console's, called
    with keywords as the console defines them."""

    noun: str  # how the platform's log names one: "Training job"
    get: Callable[..., Job]  # selector: (job_id=) -> the row, read afresh
    stop_requested: Callable[..., bool]  # selector: (job_id=) -> its Stop* call was made
    end_stopped: Callable[..., None]  # service: (job_id=) ends a job stopped before its run began
    fail: Callable[..., None]  # service: (job_id=, reason=) ends the job Failed
    client_errors: tuple[type[Exception], ...]  # failures the user's request or data caused
    fault: str  # the FailureReason prefix of any other failure: "AlgorithmError"
    # service: (job_id=, metrics=, log_lines=), for a kind that keeps a log; the reason a job
    # failed is its last line.
    record: Callable[..., None] | None = None

    def failure_reason(self, exc: Exception) -> str:
        """SageMaker's prefixes: ``ClientError`` for the user's request or data,
        ``InternalServerError`` for the platform's storage not answering, the kind's ``fault``
        for anything else."""
        if isinstance(exc, StorageUnavailable):  # a StorageError, but not the user's doing
            return f"InternalServerError: {exc}"
        if isinstance(exc, self.client_errors):
            return f"ClientError: {exc}"
        if not str(exc):
            return f"{self.fault}: {exc!r}"
        return f"{self.fault}: {type(exc).__name__}: {exc}"


def run_job(
    kind: JobKind,
    job_id: int,
    *,
    work: Callable[[Job], R],
    finish: Callable[[int, R], None] | None = None,
) -> str:
    """Run one job of ``kind`` to its end and return its final status.

    A job asked to stop before its run began ends through ``kind.end_stopped``, and one that has
    ended already is left as it is. Otherwise ``work(job)`` runs; what it returns goes to
    ``finish(job_id, result)`` (none: ``work`` ends the job itself). Whatever ``work`` raises
    becomes the job's FailureReason: logged, recorded in the job's log where the kind keeps one,
    and written through ``kind.fail``.
    """
    job = kind.get(job_id=job_id)
    if job.status == "Stopping":  # stopped before its run began: nothing to keep
        kind.end_stopped(job_id=job_id)
        return kind.get(job_id=job_id).status
    if job.status not in job.ACTIVE_STATUSES:
        return job.status
    try:
        result = work(job)
    except Exception as exc:  # every failure becomes the job's FailureReason
        _fail(kind, job, exc)
    else:
        if finish is not None:
            finish(job_id, result)
    return kind.get(job_id=job_id).status


def _fail(kind: JobKind, job: Job, exc: Exception) -> None:
    reason = kind.failure_reason(exc)
    # The user's mistakes are told by their reason; the platform's own need the traceback too.
    if isinstance(exc, kind.client_errors):
        log.info("%s %s failed: %s", kind.noun, job.name, reason)
    else:
        log.error("%s %s failed: %s", kind.noun, job.name, reason, exc_info=exc)
    if kind.record is not None:
        kind.record(job_id=job.pk, log_lines=log_lines(reason))
    kind.fail(job_id=job.pk, reason=reason)


def log_lines(message: str) -> list[str]:
    """A message as the lines of a job's log, each cut to ``LOG_LINE_LIMIT`` characters."""
    return [line[:LOG_LINE_LIMIT] for line in message.splitlines() or [""]]


class StopPoll:
    """Whether a running job was asked to stop: the row read at most every ``every`` seconds, and
    not again once the request is seen. Call it as often as the work likes."""

    def __init__(self, kind: JobKind, job_id: int, *, every: float = STOP_CHECK_SECONDS) -> None:
        self._stop_requested = partial(kind.stop_requested, job_id=job_id)
        self.every = every
        self.requested = False
        self._checked_at = float("-inf")

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self.requested and now - self._checked_at >= self.every:
            self._checked_at = now
            self.requested = self._stop_requested()
        return self.requested
