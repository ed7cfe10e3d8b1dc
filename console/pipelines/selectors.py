"""Reads of pipelines, their executions and steps, and their Describe*/List* shapes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from console.core.errors import NotFound
from console.core.names import account_id_for
from console.core.selectors import get_owned, job_by_id, job_stop_requested, visible_to
from console.pipelines.models import Pipeline, PipelineExecution, PipelineExecutionStep


def pipeline_list(*, user) -> QuerySet[Pipeline]:
    return visible_to(Pipeline.objects.all(), user)


def pipeline_get(*, user, name: str, for_update: bool = False) -> Pipeline:
    """The caller's pipeline by name or ARN."""
    if name.startswith("arn:"):
        row = visible_to(Pipeline.objects.filter(arn=name.lower()), user).first()
        if row is None:
            raise NotFound("Pipeline", name.rpartition("/")[2], arn=name)
        return row
    return get_owned(
        Pipeline.objects.all(),
        user=user,
        name=name,
        resource="Pipeline",
        arn_type="pipeline",
        for_update=for_update,
    )


def pipeline_execution_list(*, user, pipeline: Pipeline) -> QuerySet[PipelineExecution]:
    return visible_to(PipelineExecution.objects.filter(pipeline=pipeline), user)


def pipeline_execution_get(
    *, user, execution_arn: str, for_update: bool = False
) -> PipelineExecution:
    rows = visible_to(PipelineExecution.objects.filter(arn=execution_arn), user)
    row = (rows.select_for_update() if for_update else rows).first()
    if row is None:
        raise NotFound("PipelineExecution", execution_arn, arn=execution_arn)
    return row


def pipeline_execution_by_id(*, job_id: int) -> PipelineExecution:
    """The execution a pipeline flow run was started for."""
    return job_by_id(PipelineExecution, job_id=job_id)


def pipeline_execution_stop_requested(*, job_id: int) -> bool:
    return job_stop_requested(PipelineExecution, job_id=job_id)


def pipeline_execution_steps(execution: PipelineExecution) -> QuerySet[PipelineExecutionStep]:
    return execution.steps.all()


def pipeline_step_cached(
    *, pipeline_id: int, name: str, arguments_hash: str, expire_after: timedelta | None
) -> PipelineExecutionStep | None:
    """The latest earlier success of this step with the same resolved arguments, within
    ``expire_after`` of now (any age when None)."""
    rows = PipelineExecutionStep.objects.filter(
        execution__pipeline_id=pipeline_id,
        name=name,
        arguments_hash=arguments_hash,
        status="Succeeded",
    )
    if expire_after is not None:
        rows = rows.filter(ended_at__gte=timezone.now() - expire_after)
    return rows.order_by("-ended_at").first()


def _user_context(user_id: int) -> dict[str, str]:
    return {
        "UserProfileArn": "",
        "UserProfileName": f"user-{account_id_for(user_id)}",
        "DomainId": "",
    }


def pipeline_describe(pipeline: Pipeline) -> dict[str, Any]:
    response: dict[str, Any] = {
        "PipelineArn": pipeline.arn,
        "PipelineName": pipeline.name,
        "PipelineDisplayName": pipeline.display_name or pipeline.name,
        "PipelineDefinition": json.dumps(pipeline.definition),
        "PipelineDescription": pipeline.description,
        "RoleArn": pipeline.role_arn,
        "PipelineStatus": pipeline.status,
        "CreationTime": pipeline.created_at,
        "LastModifiedTime": pipeline.updated_at,
        "CreatedBy": _user_context(pipeline.owner_id),
        "LastModifiedBy": _user_context(pipeline.owner_id),
    }
    if pipeline.last_run_at:
        response["LastRunTime"] = pipeline.last_run_at
    if pipeline.parallelism:
        response["ParallelismConfiguration"] = pipeline.parallelism
    return response


def pipeline_summary(pipeline: Pipeline) -> dict[str, Any]:
    summary = {
        "PipelineArn": pipeline.arn,
        "PipelineName": pipeline.name,
        "PipelineDisplayName": pipeline.display_name or pipeline.name,
        "PipelineDescription": pipeline.description,
        "RoleArn": pipeline.role_arn,
        "CreationTime": pipeline.created_at,
        "LastModifiedTime": pipeline.updated_at,
    }
    if pipeline.last_run_at:
        summary["LastExecutionTime"] = pipeline.last_run_at
    return summary


def pipeline_execution_describe(execution: PipelineExecution) -> dict[str, Any]:
    definition = execution.definition
    response: dict[str, Any] = {
        "PipelineArn": execution.pipeline.arn,
        "PipelineExecutionArn": execution.arn,
        "PipelineExecutionDisplayName": execution.display_name,
        "PipelineExecutionStatus": execution.status,
        "PipelineExecutionDescription": execution.description,
        "PipelineExperimentConfig": {
            "ExperimentName": execution.pipeline.name,
            "TrialName": execution.name,
        },
        "CreationTime": execution.created_at,
        "LastModifiedTime": execution.updated_at,
        "CreatedBy": _user_context(execution.owner_id),
        "LastModifiedBy": _user_context(execution.owner_id),
        "RoleArn": execution.pipeline.role_arn,
    }
    if definition.get("PipelineExperimentConfig") is None:
        response.pop("PipelineExperimentConfig")
    if execution.failure_reason:
        response["FailureReason"] = execution.failure_reason
    parallelism = execution.spec.get("ParallelismConfiguration") or execution.pipeline.parallelism
    if parallelism:
        response["ParallelismConfiguration"] = parallelism
    return response


def pipeline_execution_summary(execution: PipelineExecution) -> dict[str, Any]:
    summary = {
        "PipelineExecutionArn": execution.arn,
        "StartTime": execution.created_at,
        "PipelineExecutionStatus": execution.status,
        "PipelineExecutionDescription": execution.description,
        "PipelineExecutionDisplayName": execution.display_name,
    }
    if execution.failure_reason:
        summary["PipelineExecutionFailureReason"] = execution.failure_reason
    return summary


def pipeline_execution_parameters(execution: PipelineExecution) -> list[dict[str, str]]:
    """ListPipelineParametersForExecution's shape: every parameter's value, as text."""
    return [{"Name": name, "Value": _text(value)} for name, value in execution.parameters.items()]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def pipeline_step_describe(step: PipelineExecutionStep) -> dict[str, Any]:
    """One PipelineExecutionStep of ListPipelineExecutionSteps."""
    response: dict[str, Any] = {
        "StepName": step.name,
        "StepDisplayName": step.display_name or step.name,
        "StepDescription": step.description,
        "StepStatus": step.status,
        "Metadata": step.metadata,
        "AttemptCount": step.attempts,
    }
    if step.started_at:
        response["StartTime"] = step.started_at
    if step.ended_at:
        response["EndTime"] = step.ended_at
    if step.failure_reason:
        response["FailureReason"] = step.failure_reason
    if step.cache_source_arn:
        response["CacheHitResult"] = {"SourcePipelineExecutionArn": step.cache_source_arn}
    return response


def pipeline_step_job(row):
    """A step's job (or resource) row read afresh: what the execution waits on."""
    return type(row).objects.get(pk=row.pk)


def pipeline_execution_by_name(*, user, pipeline: str, name: str) -> PipelineExecution:
    """An execution of the caller's pipeline by its execution id."""
    row = pipeline_get(user=user, name=pipeline).executions.filter(name=name).first()
    if row is None:
        raise NotFound("PipelineExecution", name)
    return row


def pipeline_schedule_list(*, user, pipeline: str) -> QuerySet:
    return pipeline_get(user=user, name=pipeline).schedules.all()


def pipeline_schedule_get(*, user, pipeline: str, name: str):
    row = pipeline_schedule_list(user=user, pipeline=pipeline).filter(name=name).first()
    if row is None:
        raise NotFound("PipelineSchedule", name)
    return row


def pipeline_schedule_describe(schedule) -> dict[str, Any]:
    """A schedule as the REST API and the console show it."""
    return {
        "schedule_name": schedule.name,
        "cron": schedule.cron or None,
        "interval_seconds": schedule.interval_seconds,
        "timezone": schedule.timezone,
        "start_time": schedule.start_at,
        "end_time": schedule.end_at,
        "pipeline_parameters": [
            {"name": item["Name"], "value": item["Value"]} for item in schedule.parameters
        ],
        "enabled": schedule.enabled,
        "last_fired_at": schedule.last_fired_at,
        "missed_runs": schedule.missed_runs,
        "applied": schedule.applied,
        "apply_error": schedule.apply_error,
        "created_at": schedule.created_at,
        "updated_at": schedule.updated_at,
    }
