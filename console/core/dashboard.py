"""What the home page shows: the user's running jobs with their progress, recent failures with
their reasons, and the health of their endpoints. Reads only, through each app's selectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from console.core import display
from console.endpoints.selectors import endpoint_list
from console.processing.selectors import processing_job_list
from console.training.models import TrainingJob
from console.training.selectors import training_job_list
from console.transform.selectors import transform_job_list, transform_job_progress
from console.tuning.selectors import tuning_job_list

SHOWN = 8  # rows per panel; each panel links to the whole list
FAILURES_SINCE = timedelta(days=7)


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    url_name: str  # the row's page
    status: str
    detail: str  # a secondary status, a failure reason
    elapsed: str
    percent: int | None  # progress, where the job knows it
    when: datetime | None = None


# (kind, list selector, detail page, list page)
_JOB_KINDS = (
    ("Training", training_job_list, "training-job", "training-jobs"),
    ("Tuning", tuning_job_list, "tuning-job", "tuning-jobs"),
    ("Batch transform", transform_job_list, "transform-job", "transform-jobs"),
    ("Processing", processing_job_list, "processing-job", "processing-jobs"),
)


def dashboard_running(*, user) -> tuple[list[Row], int]:
    """The newest running jobs of every kind (at most SHOWN) and how many run in all."""
    rows: list[Row] = []
    total = 0
    for kind, selector, url_name, _ in _JOB_KINDS:
        running = selector(user=user).filter(status__in=("InProgress", "Stopping"))
        total += running.count()
        for job in running.order_by("-created_at")[:SHOWN]:
            detail, percent = _progress(kind, job)
            rows.append(
                Row(
                    kind=kind,
                    name=job.name,
                    url_name=url_name,
                    status=job.status,
                    detail=detail,
                    elapsed=display.span(display.duration(job)),
                    percent=percent,
                    when=job.created_at,
                )
            )
    rows.sort(key=lambda row: row.when, reverse=True)
    return rows[:SHOWN], total


def _progress(kind: str, job) -> tuple[str, int | None]:
    if kind == "Training":
        return job.secondary_status, None
    if kind == "Batch transform":
        progress = transform_job_progress(job)
        return f"{progress['records']} records", progress["percent"]
    if kind == "Tuning":
        trials = TrainingJob.objects.filter(tuning_job_arn=job.arn, owner=job.owner)
        done = trials.exclude(status__in=("InProgress", "Stopping")).count()
        limits = job.spec.get("HyperParameterTuningJobConfig", {}).get("ResourceLimits", {})
        planned = limits.get("MaxNumberOfTrainingJobs")
        if planned:
            return f"{done} of {planned} trials done", min(100, done * 100 // planned)
        return f"{done} trials done", None
    return "", None


def dashboard_failures(*, user) -> list[Row]:
    """The user's jobs that failed in the last FAILURES_SINCE, newest first, with their reasons."""
    since = timezone.now() - FAILURES_SINCE
    rows: list[Row] = []
    for kind, selector, url_name, _ in _JOB_KINDS:
        failed = selector(user=user).filter(status="Failed", updated_at__gte=since)
        for job in failed.order_by("-updated_at")[:SHOWN]:
            rows.append(
                Row(
                    kind=kind,
                    name=job.name,
                    url_name=url_name,
                    status=job.status,
                    detail=job.failure_reason or "no reason was recorded",
                    elapsed=display.span(display.duration(job)),
                    percent=None,
                    when=job.ended_at or job.updated_at,
                )
            )
    rows.sort(key=lambda row: row.when, reverse=True)
    return rows[:SHOWN]


def dashboard_endpoints(*, user) -> tuple[list[Row], dict[str, int]]:
    """The user's endpoints, those not InService first, and their count by status."""
    endpoints = endpoint_list(user=user)
    counts: dict[str, int] = {}
    for status in endpoints.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    rows = [
        Row(
            kind="Endpoint",
            name=endpoint.name,
            url_name="endpoint",
            status=endpoint.status,
            detail=endpoint.failure_reason or endpoint.config_name,
            elapsed="",
            percent=None,
            when=endpoint.updated_at,
        )
        for endpoint in list(endpoints.exclude(status="InService").order_by("-updated_at")[:SHOWN])
        + list(endpoints.filter(status="InService").order_by("-updated_at")[:SHOWN])
    ]
    return rows[:SHOWN], dict(sorted(counts.items()))
