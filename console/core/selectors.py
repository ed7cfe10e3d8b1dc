"""Read helpers every resource's selectors use."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from django.db.models import Model, QuerySet

from console.core.errors import NotFound
from console.core.models import Job
from console.core.names import account_id_for, arn

J = TypeVar("J", bound=Job)


def visible_to(queryset: QuerySet, user) -> QuerySet:
    """A user sees only their own resources; staff see everyone's."""
    if user.is_staff:
        return queryset
    return queryset.filter(owner=user)


def get_visible(queryset: QuerySet, *, user, name: str) -> Model | None:
    return visible_to(queryset, user).filter(name=name).first()


def get_owned(
    queryset: QuerySet,
    *,
    user,
    name: str,
    resource: str,
    arn_type: str,
    for_update: bool = False,
    case_insensitive: bool = False,
) -> Model:
    """The caller's ``name`` row of ``queryset``, or ``NotFound(resource, name)`` with the ARN the
    row would have (``arn_type`` as in ARNs: ``training-job``, ``model``, ...). ``for_update``
    locks the row alone, not rows it is joined to."""
    lookup = "name__iexact" if case_insensitive else "name"
    rows = visible_to(queryset, user).filter(**{lookup: name})
    row = (rows.select_for_update(of=("self",)) if for_update else rows).first()
    if row is None:
        raise NotFound(resource, name, arn=arn(arn_type, name, account_id=account_id_for(user.pk)))
    return row


# What a job's flow run reads: the run knows its job by the row's id (``job_id``), and reads the
# row afresh each time, so a stop request written meanwhile is seen.


def job_by_id(model: type[J], *, job_id: int) -> J:
    return model.objects.get(pk=job_id)


def job_stop_requested(model: type[Job], *, job_id: int) -> bool:
    """True once the job's Stop* call has been made: what a running flow polls."""
    return model.objects.filter(pk=job_id, status="Stopping").exists()


def job_active_ids(model: type[Job]) -> set[int]:
    """The ids of the jobs of ``model`` that have not ended."""
    return set(model.objects.filter(status__in=model.ACTIVE_STATUSES).values_list("pk", flat=True))


def job_log_events(job: Job) -> list[tuple[datetime, str]]:
    """Each line of a job's log with when it was recorded, in order, for a job kind that keeps its
    log as batches of lines (``log_batches``: training, processing, transform)."""
    return [
        (created_at, line)
        for text, created_at in job.log_batches.order_by("pk").values_list("text", "created_at")
        for line in text.splitlines()
    ]
