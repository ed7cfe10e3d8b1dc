"""Every write to a pipeline, an execution and its steps: the adapters' create, update, delete,
start and stop, and the execution flow's reports."""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from console.core.errors import AlreadyExists, InvalidState, ValidationError
from console.core.names import account_id_for, arn
from console.core.services import job_start_flow, owned_resource_create
from console.core.shapes import validate_request
from console.pipelines.definition import Definition, load_definition, parse_definition
from console.pipelines.expressions import parameter_values
from console.pipelines.models import (
    Pipeline,
    PipelineExecution,
    PipelineExecutionStep,
    PipelineSchedule,
)
from console.pipelines.selectors import pipeline_execution_get, pipeline_get
from console.pipelines.steps import step_types
from infra.storage import StorageError, get_store

DEPLOYMENT = "pipeline/sagebrush"
DEFINITION_MAX_BYTES = 1024 * 1024
EXECUTION_ID_ALPHABET = string.ascii_lowercase + string.digits


def pipeline_definition_check(definition: str | dict[str, Any]) -> Definition:
    """Parse and check a definition against the platform's step types."""
    return parse_definition(definition, step_types=step_types())


def pipeline_create(*, user, spec: dict[str, Any]) -> Pipeline:
    """CreatePipeline: the definition is checked whole before anything is written."""
    validate_request("CreatePipeline", spec)
    name = spec["PipelineName"]
    document = _definition_document(spec, required=True)
    pipeline_arn = arn("pipeline", name, account_id=account_id_for(user.pk))
    existing = Pipeline.objects.filter(owner=user, name=name).first()
    if existing is not None and existing.client_request_token == spec["ClientRequestToken"]:
        return existing  # the same request again
    return owned_resource_create(
        Pipeline,
        owner=user,
        tags=spec.get("Tags"),
        name=name,
        duplicate=AlreadyExists(
            "Pipeline",
            name,
            arn=pipeline_arn,
            message=f"Pipeline names must be unique within an AWS account and region. "
            f"Pipeline with name ({name}) already exists.",
        ),
        definition=document,
        display_name=spec.get("PipelineDisplayName", name),
        description=spec.get("PipelineDescription", ""),
        role_arn=spec["RoleArn"],
        parallelism=spec.get("ParallelismConfiguration", {}),
        client_request_token=spec["ClientRequestToken"],
    )


def pipeline_update(*, user, spec: dict[str, Any]) -> Pipeline:
    """UpdatePipeline: what is given replaces what was; executions already started keep the
    definition they started with."""
    validate_request("UpdatePipeline", spec)
    document = _definition_document(spec, required=False)
    with transaction.atomic():
        pipeline = pipeline_get(user=user, name=spec["PipelineName"], for_update=True)
        if document is not None:
            pipeline.definition = document
            pipeline.version += 1
        for member, attribute in (
            ("PipelineDisplayName", "display_name"),
            ("PipelineDescription", "description"),
            ("RoleArn", "role_arn"),
            ("ParallelismConfiguration", "parallelism"),
        ):
            if member in spec:
                setattr(pipeline, attribute, spec[member])
        pipeline.save()
    return pipeline


def pipeline_delete(*, user, name: str) -> str:
    """DeletePipeline, refused while an execution runs; returns the pipeline's ARN."""
    with transaction.atomic():
        pipeline = pipeline_get(user=user, name=name, for_update=True)
        running = pipeline.executions.filter(status__in=PipelineExecution.ACTIVE_STATUSES)
        if running.exists():
            raise InvalidState(
                f"Pipeline {pipeline.arn} cannot be deleted while an execution is running; "
                "stop it first."
            )
        pipeline_arn = pipeline.arn
        pipeline.delete()
    return pipeline_arn


def _definition_document(spec: dict[str, Any], *, required: bool) -> dict[str, Any] | None:
    text, location = spec.get("PipelineDefinition"), spec.get("PipelineDefinitionS3Location")
    if text is not None and location is not None:
        raise ValidationError(
            "PipelineDefinition", "Specify PipelineDefinition or PipelineDefinitionS3Location"
        )
    if location is not None:
        text = _read_definition(location)
    if text is None:
        if required:
            raise ValidationError(
                "PipelineDefinition",
                "Member must not be null (or give PipelineDefinitionS3Location)",
            )
        return None
    if len(text.encode()) > DEFINITION_MAX_BYTES:
        raise ValidationError("PipelineDefinition", "Member must be at most 1 MB")
    document = load_definition(text)
    pipeline_definition_check(document)
    return document


def _read_definition(location: dict[str, Any]) -> str:
    uri = f"s3://{location['Bucket']}/{location['ObjectKey']}"
    try:
        data = get_store().read_bytes(uri)
    except StorageError as exc:
        raise ValidationError(
            "PipelineDefinitionS3Location", f"Cannot read {uri}: {exc}", value=uri
        ) from None
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise ValidationError("PipelineDefinitionS3Location", "Member must be UTF-8 JSON") from None


# -- executions --------------------------------------------------------------------------------


def pipeline_execution_start(*, user, spec: dict[str, Any]) -> PipelineExecution:
    """StartPipelineExecution: parameters typed and checked against the definition, the row
    saved Executing, its flow run started once committed. The same ClientRequestToken again
    answers the execution it started."""
    validate_request("StartPipelineExecution", spec)
    for member in ("SelectiveExecutionConfig", "PipelineVersionId", "PipelineVersionAlias"):
        if member in spec:
            raise ValidationError(member, "Member is not supported by this platform yet")
    pipeline = pipeline_get(user=user, name=spec["PipelineName"])
    token = spec["ClientRequestToken"]
    earlier = pipeline.executions.filter(client_request_token=token).first()
    if earlier is not None:
        return earlier
    definition = pipeline_definition_check(pipeline.definition)
    values = parameter_values(definition.parameters, spec.get("PipelineParameters"))
    execution_id = "".join(secrets.choice(EXECUTION_ID_ALPHABET) for _ in range(12))
    execution_arn = f"{pipeline.arn}/execution/{execution_id}"
    with transaction.atomic():
        execution = PipelineExecution.objects.create(
            owner=user,
            name=execution_id,
            arn=execution_arn,
            pipeline=pipeline,
            status="Executing",
            spec=spec,
            display_name=spec.get("PipelineExecutionDisplayName", f"execution-{execution_id}"),
            description=spec.get("PipelineExecutionDescription", ""),
            definition=pipeline.definition,
            parameters=values,
            client_request_token=token,
        )
        Pipeline.objects.filter(pk=pipeline.pk).update(last_run_at=timezone.now())
        job_start_flow(execution, deployment=DEPLOYMENT)
    return execution


def pipeline_execution_stop(*, user, execution_arn: str) -> PipelineExecution:
    """StopPipelineExecution: Executing → Stopping; the flow stops the running jobs, then
    Stopped."""
    with transaction.atomic():
        execution = pipeline_execution_get(user=user, execution_arn=execution_arn, for_update=True)
        if execution.status == "Stopping":
            return execution
        if execution.status != "Executing":
            raise InvalidState(
                f"Pipeline execution {execution.arn} is {execution.status}; only an Executing "
                "execution can be stopped."
            )
        execution.status = "Stopping"
        execution.save(update_fields=["status", "updated_at"])
    return execution


# The flow's reports. Each takes the row's id and reads the row afresh.


def pipeline_execution_begin(*, job_id: int) -> None:
    PipelineExecution.objects.filter(pk=job_id, started_at__isnull=True).update(
        started_at=timezone.now(), updated_at=timezone.now()
    )


def pipeline_step_begin(
    *, job_id: int, name: str, type: str, display_name: str = "", description: str = ""
) -> int:
    """A step starts: its row, Starting (the one row of this step in this execution)."""
    step, _ = PipelineExecutionStep.objects.update_or_create(
        execution_id=job_id,
        name=name,
        defaults={
            "type": type,
            "display_name": display_name,
            "description": description,
            "status": "Starting",
            "started_at": timezone.now(),
        },
    )
    return step.pk


def pipeline_step_report(*, step_id: int, **fields: Any) -> None:
    """Progress of a running step: ``status``, ``job_arn``, ``metadata``, ``attempts``,
    ``arguments`` and ``arguments_hash``, as the step reaches them."""
    allowed = {"status", "job_arn", "metadata", "attempts", "arguments", "arguments_hash"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"not a step report: {sorted(unknown)}")
    PipelineExecutionStep.objects.filter(pk=step_id).update(**fields)


def pipeline_step_finish(
    *,
    step_id: int,
    status: str,
    failure_reason: str = "",
    metadata: dict[str, Any] | None = None,
    properties: dict[str, Any] | None = None,
    cache_source_arn: str = "",
) -> None:
    fields: dict[str, Any] = {
        "status": status,
        "failure_reason": failure_reason[:3072],
        "ended_at": timezone.now(),
        "cache_source_arn": cache_source_arn,
    }
    if metadata is not None:
        fields["metadata"] = metadata
    if properties is not None:
        fields["properties"] = properties
    PipelineExecutionStep.objects.filter(pk=step_id).update(**fields)


def pipeline_execution_finish(*, job_id: int, status: str, failure_reason: str = "") -> None:
    """The execution's end. One asked to stop ends Stopped unless a step failed first."""
    with transaction.atomic():
        execution = PipelineExecution.objects.select_for_update().get(pk=job_id)
        if execution.status not in execution.ACTIVE_STATUSES:
            return
        if execution.status == "Stopping" and status == "Succeeded":
            status = "Stopped"
        execution.status = status
        execution.failure_reason = failure_reason[:1024] if status == "Failed" else ""
        execution.ended_at = timezone.now()
        execution.save(update_fields=["status", "failure_reason", "ended_at", "updated_at"])
        _end_open_steps(execution, "Stopped" if status == "Stopped" else "Failed")


def pipeline_execution_fail(*, job_id: int, reason: str) -> None:
    pipeline_execution_finish(job_id=job_id, status="Failed", failure_reason=reason)


def pipeline_execution_end_without_flow(
    *, job: PipelineExecution, status: str, reason: str
) -> None:
    """The run could not start, or the platform stopped under it: the execution and any step
    left running end with it."""
    pipeline_execution_finish(job_id=job.pk, status=status, failure_reason=reason)


def _end_open_steps(execution: PipelineExecution, status: str) -> None:
    execution.steps.filter(status__in=PipelineExecutionStep.ACTIVE_STATUSES).update(
        status=status, ended_at=timezone.now()
    )


def pipeline_execution_start_scheduled(
    *, schedule_id: int, flow_run_id, scheduled_time: datetime
) -> PipelineExecution | None:
    """The execution a schedule's flow run starts (this flow run runs it), or None: the
    schedule is gone, off, or outside its start and end, or this run was due while the platform
    was down (Prefect still holds such a run; it was reported in ``missed_runs`` instead)."""
    from console.pipelines.schedules import pipeline_schedule_due, pipeline_schedule_fired

    schedule = PipelineSchedule.objects.select_related("pipeline").filter(pk=schedule_id).first()
    if schedule is None or not pipeline_schedule_due(schedule, scheduled_time):
        return None
    if scheduled_time in {parse_datetime(at) for at in schedule.missed_runs}:
        return None  # reported missed when the platform came back: not run late as well
    pipeline = schedule.pipeline
    definition = pipeline_definition_check(pipeline.definition)
    values = parameter_values(definition.parameters, schedule.parameters)
    execution_id = "".join(secrets.choice(EXECUTION_ID_ALPHABET) for _ in range(12))
    with transaction.atomic():
        execution = PipelineExecution.objects.create(
            owner=pipeline.owner,
            name=execution_id,
            arn=f"{pipeline.arn}/execution/{execution_id}",
            pipeline=pipeline,
            status="Executing",
            spec={"PipelineName": pipeline.name, "PipelineParameters": schedule.parameters},
            display_name=f"{schedule.name}-{scheduled_time:%Y%m%dT%H%M%S}",
            description=f"Started by schedule {schedule.name} for {scheduled_time.isoformat()}",
            definition=pipeline.definition,
            parameters=values,
            schedule=schedule,
            flow_run_id=flow_run_id,
        )
        Pipeline.objects.filter(pk=pipeline.pk).update(last_run_at=timezone.now())
        pipeline_schedule_fired(schedule_id=schedule.pk, at=scheduled_time)
    return execution
