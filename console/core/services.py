"""Writes that span every job kind."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from console.core.models import Job
from infra.prefect import flow_run_state

LIVE_FLOW_STATES = {"SCHEDULED", "PENDING", "RUNNING", "PAUSED"}


def job_models() -> list[type[Job]]:
    return [m for m in apps.get_models() if issubclass(m, Job)]


def job_reconcile_interrupted() -> dict[str, int]:
    """Fail (or finish stopping) every active job whose flow run is no longer alive.

    Run at start-up by the serve process: after a crash, no job stays InProgress forever.
    """
    counts: dict[str, int] = {}
    for model in job_models():
        for job in model.objects.filter(status__in=model.ACTIVE_STATUSES):
            state = flow_run_state(job.flow_run_id) if job.flow_run_id else None
            if state in LIVE_FLOW_STATES:
                continue
            _end_interrupted(job, state)
            counts[model.__name__] = counts.get(model.__name__, 0) + 1
    return counts


@transaction.atomic
def _end_interrupted(job: Job, flow_state: str | None) -> None:
    stopping = job.status == "Stopping"
    job.status = "Stopped" if stopping else "Failed"
    if not stopping:
        ended = f"its flow run ended {flow_state}" if flow_state else "it had no flow run"
        job.failure_reason = (
            f"The platform stopped while this job was running ({ended}); create it again "
            "under a new name to retry."
        )
    job.ended_at = timezone.now()
    job.save(update_fields=["status", "failure_reason", "ended_at", "updated_at"])
