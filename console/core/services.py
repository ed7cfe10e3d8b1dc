"""Writes that span every job kind."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

import infra.prefect
from console.core.errors import AlreadyExists
from console.core.models import Job, OwnedResource
from console.core.tags import resource_tags_set, tags_validate
from infra.prefect import flow_run_crash, flow_run_state

log = logging.getLogger(__name__)
# Before the serve process (the one runner of the platform's deployments) polls for runs, only a
# run that waits to be picked up is alive: one Pending, Running or Paused had its process in the
# previous serve, and a machine that stopped left it so in Prefect, where nothing will end it.
WAITING_FLOW_STATES = {"SCHEDULED"}


def job_models() -> list[type[Job]]:
    return [m for m in apps.get_models() if issubclass(m, Job)]


def owned_resource_create(
    model: type[OwnedResource],
    *,
    owner,
    name: str,
    duplicate: AlreadyExists,
    tags: object = None,
    **fields,
) -> OwnedResource:
    """Insert the owner's ``name`` row with the ARN ``duplicate`` names, and its ``tags`` (the
    request's ``Tags``), or raise ``duplicate`` when the name is taken (checked first, and by the
    unique constraint against a concurrent request)."""
    clean_tags = tags_validate(tags)
    if model.objects.filter(owner=owner, name=name).exists():
        raise duplicate
    try:
        with transaction.atomic():
            row = model.objects.create(owner=owner, name=name, arn=duplicate.arn, **fields)
            resource_tags_set(resource_arn=row.arn, tags=clean_tags)
            return row
    except IntegrityError:
        raise duplicate from None


def flow_run_start_on_commit(
    row: OwnedResource,
    *,
    deployment: str,
    parameters: dict,
    on_failure: Callable[[str], None],
) -> None:
    """Once ``row`` is committed, start its flow run (``<flow>/sagebrush``) and keep the run's id
    on the row (``flow_run_id``). A platform that cannot start the run calls ``on_failure`` with
    the reason, for the row to say why."""

    def start() -> None:
        try:
            flow_run_id = infra.prefect.start_flow_run(deployment, parameters=parameters)
        except Exception as exc:  # the Prefect API is down or the deployment is missing
            log.exception("Could not start %s for %s", deployment, row.arn)
            on_failure(f"The platform could not start its flow run: {exc}")
            return
        type(row).objects.filter(pk=row.pk).update(flow_run_id=flow_run_id)

    transaction.on_commit(start)


def job_start_flow(job: Job, *, deployment: str) -> None:
    """Start the job's flow run on commit; a job whose run cannot start ends Failed."""

    def fail(reason: str) -> None:
        _end_without_flow(job, status="Failed", reason=reason)

    flow_run_start_on_commit(
        job, deployment=deployment, parameters={"job_id": job.pk}, on_failure=fail
    )


def job_end_without_flow(*, job: Job, status: str, reason: str) -> None:
    """End an active job ``Failed`` (saying ``reason``) or ``Stopped`` without its flow run: the
    run could not start, or the platform stopped under it."""
    now = timezone.now()
    fields = {"status": status, "ended_at": now, "updated_at": now}
    if status == "Failed":
        fields["failure_reason"] = reason[:1024]
    type(job).objects.filter(pk=job.pk, status__in=job.ACTIVE_STATUSES).update(**fields)


def _end_without_flow(job: Job, *, status: str, reason: str) -> None:
    import_string(job.END_WITHOUT_FLOW)(job=job, status=status, reason=reason)


def job_reconcile_interrupted() -> dict[str, int]:
    """Fail (or finish stopping) every active job whose flow run is no longer waiting to start,
    and mark a run that Prefect still shows as going ``Crashed``.

    Run by the serve process at start-up, before it runs anything: after a crash (a machine that
    stopped, a kill -9), no job stays InProgress forever.
    """
    counts: dict[str, int] = {}
    waiting: list[Job] = []
    for model in job_models():
        for job in model.objects.filter(status__in=model.ACTIVE_STATUSES):
            state = flow_run_state(job.flow_run_id) if job.flow_run_id else None
            if state in WAITING_FLOW_STATES:
                waiting.append(job)
                continue
            if state in ("PENDING", "RUNNING", "PAUSED"):
                flow_run_crash(job.flow_run_id, "The platform stopped while this run was going.")
                state = "CRASHED"
            ended = f"its flow run ended {state}" if state else "it had no flow run"
            if job.status == "Stopping":
                _end_without_flow(job, status="Stopped", reason=f"The platform stopped ({ended}).")
            else:
                _end_without_flow(
                    job,
                    status="Failed",
                    reason=f"The platform stopped while this job was running ({ended}); create "
                    "it again under a new name to retry.",
                )
            counts[model.__name__] = counts.get(model.__name__, 0) + 1
    # A job still waiting to start whose tuning or labeling job has ended (above, or before) would
    # otherwise run after the start for a parent that no longer wants it.
    for job in waiting:
        if _parent_ended(job):
            _end_without_flow(
                job,
                status="Failed",
                reason="The platform stopped while the job that started it was running; that job "
                "ended, so this one did not start.",
            )
            name = type(job).__name__
            counts[name] = counts.get(name, 0) + 1
    return counts


def _parent_ended(job: Job) -> bool:
    """Whether the tuning or labeling job that started ``job`` (named by its ARN) has ended."""
    for field in ("tuning_job_arn", "labeling_job_arn"):
        parent_arn = getattr(job, field, "")
        if not parent_arn:
            continue
        for model in job_models():
            parent = model.objects.filter(arn=parent_arn).first()
            if parent is not None:
                return parent.status not in model.ACTIVE_STATUSES
    return False
