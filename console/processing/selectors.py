"""Reads of processing jobs: lists, one job, its Describe response and its log."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from console.core.selectors import (
    get_owned,
    job_active_ids,
    job_by_id,
    job_stop_requested,
    visible_to,
)
from console.processing.models import ProcessingJob

# What SageMaker fills in where the request leaves a member out.
S3_INPUT_DEFAULTS = {
    "S3InputMode": "File",
    "S3DataDistributionType": "FullyReplicated",
    "S3CompressionType": "None",
}


def processing_job_list(*, user) -> QuerySet[ProcessingJob]:
    return visible_to(ProcessingJob.objects.all(), user)


def processing_job_get(*, user, name: str, for_update: bool = False) -> ProcessingJob:
    return get_owned(
        ProcessingJob.objects.all(),
        user=user,
        name=name,
        resource="ProcessingJob",
        arn_type="processing-job",
        for_update=for_update,
    )


def processing_job_by_id(*, job_id: int) -> ProcessingJob:
    """The job a processing flow run was started for."""
    return job_by_id(ProcessingJob, job_id=job_id)


def processing_job_stop_requested(*, job_id: int) -> bool:
    """True once StopProcessingJob has been called: what the flow polls while the script runs."""
    return job_stop_requested(ProcessingJob, job_id=job_id)


def processing_job_active_ids() -> set[int]:
    """The ids of the processing jobs that have not ended (whose scratch folders are in use)."""
    return job_active_ids(ProcessingJob)


def processing_job_log(job: ProcessingJob) -> str:
    return "".join(job.log_batches.values_list("text", flat=True))


def processing_inputs(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's inputs with SageMaker's defaults filled in: what the job runs with."""
    inputs = []
    for item in spec.get("ProcessingInputs", []):
        item = dict(item)
        if "S3Input" in item:
            item["S3Input"] = {**S3_INPUT_DEFAULTS, **item["S3Input"]}
        inputs.append(item)
    return inputs


def processing_job_describe(job: ProcessingJob) -> dict[str, Any]:
    """The DescribeProcessingJob response: every member SageMaker returns, empty where unset."""
    spec = job.spec
    response: dict[str, Any] = {
        "ProcessingInputs": processing_inputs(spec),
        "ProcessingOutputConfig": spec.get("ProcessingOutputConfig", {"Outputs": []}),
        "ProcessingJobName": job.name,
        "ProcessingResources": spec["ProcessingResources"],
        "StoppingCondition": spec.get("StoppingCondition", {}),
        "AppSpecification": spec["AppSpecification"],
        "Environment": spec.get("Environment", {}),
        "RoleArn": spec["RoleArn"],
        "ProcessingJobArn": job.arn,
        "ProcessingJobStatus": job.status,
        "ExitMessage": job.exit_message,
        "FailureReason": job.failure_reason,
        "LastModifiedTime": job.updated_at,
        "CreationTime": job.created_at,
        "MonitoringScheduleArn": job.monitoring_schedule_arn,
        "AutoMLJobArn": job.automl_job_arn,
        "TrainingJobArn": job.training_job_arn,
    }
    for member in ("NetworkConfig", "ExperimentConfig"):
        if member in spec:
            response[member] = spec[member]
    if job.started_at:
        response["ProcessingStartTime"] = job.started_at
    if job.ended_at:
        response["ProcessingEndTime"] = job.ended_at
    return response


def processing_job_summary(job: ProcessingJob) -> dict[str, Any]:
    """One job as ListProcessingJobs lists it."""
    summary: dict[str, Any] = {
        "ProcessingJobName": job.name,
        "ProcessingJobArn": job.arn,
        "CreationTime": job.created_at,
        "LastModifiedTime": job.updated_at,
        "ProcessingJobStatus": job.status,
    }
    if job.ended_at:
        summary["ProcessingEndTime"] = job.ended_at
    if job.failure_reason:
        summary["FailureReason"] = job.failure_reason
    if job.exit_message:
        summary["ExitMessage"] = job.exit_message
    return summary
