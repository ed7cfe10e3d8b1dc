"""Every write to a pipeline's schedules, and their Prefect side.

A schedule row is the source of truth; Prefect holds each as a schedule of the
``pipeline-schedule/sagebrush`` deployment, with ``{"schedule_id": <row>}`` as its parameters
and ``pipeline-schedule-<row>`` as its slug. Writes apply the change to Prefect once committed;
a platform whose Prefect cannot be reached keeps the row (``applied`` false, ``apply_error``
saying why) and applies it when the serve process starts: :func:`pipeline_schedules_restore`
applies every row again (the serve process re-registers its deployments, which clears their
schedules) and records the runs that were due while the platform was down as ``missed_runs``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from console.core.errors import AlreadyExists, NotFound, ValidationError
from console.core.names import validate_name
from console.pipelines.expressions import parameter_values
from console.pipelines.models import PipelineSchedule
from console.pipelines.selectors import pipeline_get
from console.pipelines.services import pipeline_definition_check

log = logging.getLogger(__name__)

DEPLOYMENT = "pipeline-schedule/sagebrush"
MIN_INTERVAL_SECONDS = 60
MISSED_KEPT = 100  # missed times kept per schedule (the count goes on)


def pipeline_schedule_create(*, user, pipeline_name: str, spec: dict[str, Any]) -> PipelineSchedule:
    """A new schedule: ``ScheduleName``, ``Cron`` or ``IntervalSeconds``, ``Timezone``,
    ``StartTime``, ``EndTime``, ``PipelineParameters``, ``Enabled``."""
    pipeline = pipeline_get(user=user, name=pipeline_name)
    name = validate_name("ScheduleName", spec.get("ScheduleName"))
    fields = _fields(pipeline, spec, partial=False)
    if pipeline.schedules.filter(name=name).exists():
        raise AlreadyExists("PipelineSchedule", name, arn=f"{pipeline.arn}/schedule/{name}")
    with transaction.atomic():
        schedule = PipelineSchedule.objects.create(pipeline=pipeline, name=name, **fields)
        transaction.on_commit(lambda: pipeline_schedule_apply(schedule_id=schedule.pk))
    return schedule


def pipeline_schedule_update(
    *, user, pipeline_name: str, schedule_name: str, spec: dict[str, Any]
) -> PipelineSchedule:
    """Change what is given; the rest stays."""
    pipeline = pipeline_get(user=user, name=pipeline_name)
    schedule = _get(pipeline, schedule_name)
    merged = {**_as_spec(schedule), **spec}
    if "Cron" in spec:
        merged.pop("IntervalSeconds", None)
    if "IntervalSeconds" in spec:
        merged.pop("Cron", None)
    fields = _fields(pipeline, merged, partial=False)
    with transaction.atomic():
        for key, value in fields.items():
            setattr(schedule, key, value)
        schedule.applied = False
        schedule.save()
        transaction.on_commit(lambda: pipeline_schedule_apply(schedule_id=schedule.pk))
    return schedule


def pipeline_schedule_delete(*, user, pipeline_name: str, schedule_name: str) -> None:
    pipeline = pipeline_get(user=user, name=pipeline_name)
    schedule = _get(pipeline, schedule_name)
    slug = schedule.slug
    schedule.delete()
    transaction.on_commit(lambda: _prefect_remove(slug))


def _get(pipeline, name: str) -> PipelineSchedule:
    schedule = pipeline.schedules.filter(name=name).first()
    if schedule is None:
        raise NotFound("PipelineSchedule", name)
    return schedule


def _as_spec(schedule: PipelineSchedule) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "Timezone": schedule.timezone,
        "PipelineParameters": schedule.parameters,
        "Enabled": schedule.enabled,
    }
    if schedule.cron:
        spec["Cron"] = schedule.cron
    if schedule.interval_seconds:
        spec["IntervalSeconds"] = schedule.interval_seconds
    if schedule.start_at:
        spec["StartTime"] = schedule.start_at
    if schedule.end_at:
        spec["EndTime"] = schedule.end_at
    return spec


def _fields(pipeline, spec: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    known = {
        "ScheduleName",
        "Cron",
        "IntervalSeconds",
        "Timezone",
        "StartTime",
        "EndTime",
        "PipelineParameters",
        "Enabled",
    }
    for key in spec:
        if key not in known:
            raise ValidationError(key, "Member is not a known field")
    cron, interval = spec.get("Cron"), spec.get("IntervalSeconds")
    if (cron is None) == (interval is None):
        raise ValidationError("Cron", "Give Cron or IntervalSeconds (one of them)")
    zone = spec.get("Timezone", "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValidationError("Timezone", "Member must be an IANA time zone", value=zone) from None
    if interval is not None and (
        not isinstance(interval, int)
        or isinstance(interval, bool)
        or interval < MIN_INTERVAL_SECONDS
    ):
        rule = f"Member must be a whole number of seconds >= {MIN_INTERVAL_SECONDS}"
        raise ValidationError("IntervalSeconds", rule, value=interval)
    if cron is not None:
        _check_cron(cron, zone)
    start, end = _time("StartTime", spec.get("StartTime")), _time("EndTime", spec.get("EndTime"))
    if start and end and end <= start:
        raise ValidationError("EndTime", "Member must be after StartTime")
    parameters = spec.get("PipelineParameters", [])
    definition = pipeline_definition_check(pipeline.definition)
    parameter_values(definition.parameters, parameters)  # checked as StartPipelineExecution does
    enabled = spec.get("Enabled", True)
    if not isinstance(enabled, bool):
        raise ValidationError("Enabled", "Member must be a boolean", value=enabled)
    return {
        "cron": cron or "",
        "interval_seconds": interval,
        "timezone": zone,
        "start_at": start,
        "end_at": end,
        "parameters": parameters,
        "enabled": enabled,
    }


def _check_cron(cron: Any, zone: str) -> None:
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=cron, timezone=zone)
    except Exception:  # pydantic says why in many words; the rule is short
        rule = "Member must be a cron expression of five fields (minute hour day month weekday)"
        raise ValidationError("Cron", rule, value=cron) from None


def _time(field: str, value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValidationError(field, "Member must be an ISO-8601 date and time", value=value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- the scheduled run -------------------------------------------------------------------------


def pipeline_schedule_due(schedule: PipelineSchedule, at: datetime) -> bool:
    """Whether a run due ``at`` belongs to the schedule's window and the schedule is on."""
    if not schedule.enabled:
        return False
    if schedule.start_at and at < schedule.start_at:
        return False
    return not (schedule.end_at and at > schedule.end_at)


def pipeline_schedule_fired(*, schedule_id: int, at: datetime) -> None:
    PipelineSchedule.objects.filter(pk=schedule_id).update(last_fired_at=at)


def fire_times(schedule: PipelineSchedule, start: datetime, end: datetime) -> list[datetime]:
    """The times the schedule was due in (start, end]."""
    from prefect.server.schemas.schedules import CronSchedule, IntervalSchedule

    if schedule.cron:
        rule = CronSchedule(cron=schedule.cron, timezone=schedule.timezone)
    else:
        anchor = schedule.start_at or schedule.created_at
        rule = IntervalSchedule(
            interval=timedelta(seconds=schedule.interval_seconds),
            anchor_date=anchor,
            timezone=schedule.timezone,
        )
    times = []
    for at in rule._get_dates_generator(start=start + timedelta(seconds=1), end=end):
        times.append(at)
        if len(times) > MISSED_KEPT:
            break
    return [at for at in times if at > start and pipeline_schedule_due(schedule, at)]


def pipeline_schedules_restore(*, now: datetime | None = None, apply: bool = True) -> dict:
    """At the serve process's start: record every run that was due while nothing ran
    (``missed_runs``), then apply every schedule to Prefect again."""
    now = now or timezone.now()
    missed_total = 0
    for schedule in PipelineSchedule.objects.all():
        since = schedule.last_fired_at or schedule.updated_at
        missed = fire_times(schedule, since, now - timedelta(seconds=30))
        if missed:
            missed_total += len(missed)
            log.warning(
                "Pipeline schedule %s of %s missed %d run(s) while the platform was down",
                schedule.name,
                schedule.pipeline.name,
                len(missed),
            )
            kept = [*schedule.missed_runs, *(at.isoformat() for at in missed)][-MISSED_KEPT:]
            PipelineSchedule.objects.filter(pk=schedule.pk).update(
                missed_runs=kept, last_fired_at=missed[-1]
            )
        if apply:
            pipeline_schedule_apply(schedule_id=schedule.pk)
    return {"schedules": PipelineSchedule.objects.count(), "missed": missed_total}


# -- Prefect's side ----------------------------------------------------------------------------


def pipeline_schedule_apply(*, schedule_id: int) -> bool:
    """Make Prefect hold the schedule as the row says; the row records whether it could."""
    schedule = PipelineSchedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        return False
    try:
        _prefect_remove(schedule.slug)
        if schedule.enabled:
            _prefect_create(schedule)
    except Exception as exc:  # Prefect is down or the deployment is not served yet
        log.warning("Could not apply pipeline schedule %s: %s", schedule.slug, exc)
        PipelineSchedule.objects.filter(pk=schedule_id).update(
            applied=False, apply_error=f"Prefect could not be reached: {exc}"[:1024]
        )
        return False
    PipelineSchedule.objects.filter(pk=schedule_id).update(applied=True, apply_error="")
    return True


def _prefect_client():
    from infra.prefect import configure_environment

    configure_environment()
    from prefect import get_client

    return get_client(sync_client=True)


def _prefect_schedule(schedule: PipelineSchedule):
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    if schedule.cron:
        return CronSchedule(cron=schedule.cron, timezone=schedule.timezone)
    return IntervalSchedule(
        interval=timedelta(seconds=schedule.interval_seconds),
        anchor_date=schedule.start_at or schedule.created_at,
        timezone=schedule.timezone,
    )


def _prefect_create(schedule: PipelineSchedule) -> None:
    from prefect.client.schemas.actions import DeploymentScheduleCreate

    with _prefect_client() as client:
        deployment = client.read_deployment_by_name(DEPLOYMENT)
        client.create_deployment_schedules(
            deployment.id,
            [
                DeploymentScheduleCreate(
                    schedule=_prefect_schedule(schedule),
                    active=True,
                    parameters={"schedule_id": schedule.pk},
                    slug=schedule.slug,
                )
            ],
        )


def _prefect_remove(slug: str) -> None:
    with _prefect_client() as client:
        deployment = client.read_deployment_by_name(DEPLOYMENT)
        for held in client.read_deployment_schedules(deployment.id):
            if held.slug == slug:
                client.delete_deployment_schedule(deployment.id, held.id)


def pipeline_schedule_prefect_slugs() -> list[str]:
    """The slugs Prefect holds on the schedule deployment (what the console may compare)."""
    with _prefect_client() as client:
        deployment = client.read_deployment_by_name(DEPLOYMENT)
        return [held.slug for held in client.read_deployment_schedules(deployment.id)]
