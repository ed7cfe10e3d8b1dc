"""Reads of training jobs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from console.core.selectors import (
    get_owned,
    job_active_ids,
    job_by_id,
    job_stop_requested,
    visible_to,
)
from console.training.models import TrainingJob, TrainingMetric


def training_job_list(*, user) -> QuerySet[TrainingJob]:
    return visible_to(TrainingJob.objects.all(), user)


def training_job_get(*, user, name: str, for_update: bool = False) -> TrainingJob:
    return get_owned(
        TrainingJob.objects.all(),
        user=user,
        name=name,
        resource="TrainingJob",
        arn_type="training-job",
        for_update=for_update,
    )


def training_job_by_id(*, job_id: int) -> TrainingJob:
    """The job a training flow run was started for."""
    return job_by_id(TrainingJob, job_id=job_id)


def training_job_stop_requested(*, job_id: int) -> bool:
    """True once StopTrainingJob has been called: what the flow polls while it trains."""
    return job_stop_requested(TrainingJob, job_id=job_id)


def training_job_active_ids() -> set[int]:
    """The ids of the training jobs that have not ended (whose scratch folders are in use)."""
    return job_active_ids(TrainingJob)


def training_job_log(job: TrainingJob) -> str:
    return "".join(job.log_batches.values_list("text", flat=True))


def training_job_metric_names(*, user) -> list[tuple[str, str]]:
    """(job name, metric name) of every metric the user's training jobs have recorded: what
    CloudWatch's ListMetrics lists under ``/aws/sagemaker/TrainingJobs``."""
    return list(
        TrainingMetric.objects.filter(job__in=training_job_list(user=user))
        .values_list("job__name", "name")
        .distinct()
        .order_by("job__name", "name")
    )


def _recorded_metric_definitions(job: TrainingJob) -> list[dict[str, str]]:
    """A built-in algorithm's metrics as MetricDefinitions name them (SageMaker lists them for
    its own algorithms): each metric the job has recorded, with a pattern for its log line."""
    names = job.metrics.values_list("name", flat=True).distinct().order_by("name")
    return [
        {"Name": name, "Regex": re.escape(name).replace(":", "[:-]") + r"[:=\s]+([-+0-9.eE]+)"}
        for name in names
    ]


def training_job_metric_series(job: TrainingJob) -> dict[str, list[dict]]:
    """Every recorded value per metric, in order: what the console charts."""
    series: dict[str, list[dict]] = {}
    for name, step, value, at in job.metrics.values_list("name", "step", "value", "timestamp"):
        series.setdefault(name, []).append({"step": step, "value": value, "timestamp": at})
    return series


# Request members DescribeTrainingJob repeats back as they were given.
_ECHOED = (
    "HyperParameters",
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "Environment",
    "VpcConfig",
    "EnableNetworkIsolation",
    "CheckpointConfig",
)


def training_job_describe(job: TrainingJob) -> dict[str, Any]:
    """The DescribeTrainingJob response."""
    spec = job.spec
    response: dict[str, Any] = {
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "ModelArtifacts": {"S3ModelArtifacts": job.model_artifacts},
        "TrainingJobStatus": job.status,
        "SecondaryStatus": job.secondary_status,
        "StoppingCondition": spec.get("StoppingCondition", {}),
        "CreationTime": job.created_at,
        "LastModifiedTime": job.updated_at,
        "SecondaryStatusTransitions": [
            {key: _time(value) if key.endswith("Time") else value for key, value in item.items()}
            for item in job.secondary_status_transitions
        ],
    }
    response.update({field: spec[field] for field in _ECHOED if field in spec})
    # Defaults SageMaker fills in and clients index directly (the SDK's Estimator.attach).
    response["OutputDataConfig"] = {"KmsKeyId": "", **spec.get("OutputDataConfig", {})}
    response["AlgorithmSpecification"] = {
        "MetricDefinitions": _recorded_metric_definitions(job),
        "EnableSageMakerMetricsTimeSeries": False,
        **spec.get("AlgorithmSpecification", {}),
    }
    for flag in (
        "EnableNetworkIsolation",
        "EnableInterContainerTrafficEncryption",
        "EnableManagedSpotTraining",
    ):
        response.setdefault(flag, spec.get(flag, False))
    if job.tuning_job_arn:
        response["TuningJobArn"] = job.tuning_job_arn
    if job.labeling_job_arn:
        response["LabelingJobArn"] = job.labeling_job_arn
    if job.failure_reason:
        response["FailureReason"] = job.failure_reason
    if job.started_at:
        response["TrainingStartTime"] = job.started_at
    if job.ended_at:
        response["TrainingEndTime"] = job.ended_at
        seconds = int((job.ended_at - (job.started_at or job.created_at)).total_seconds())
        response["TrainingTimeInSeconds"] = response["BillableTimeInSeconds"] = max(seconds, 1)
    if job.final_metrics:
        at = job.ended_at or job.updated_at
        response["FinalMetricDataList"] = [
            {"MetricName": name, "Value": value, "Timestamp": at}
            for name, value in sorted(job.final_metrics.items())
        ]
    return response


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def training_job_list_for_labeling_job(*, labeling_job_arn: str) -> QuerySet[TrainingJob]:
    """The training jobs a labeling job's automated labeling created, oldest first."""
    return TrainingJob.objects.filter(labeling_job_arn=labeling_job_arn).order_by("pk")


# What the tuning flow reads of its trials.


def training_job_by_ids(*, job_ids: list[int]) -> QuerySet[TrainingJob]:
    """The training jobs with these ids, read afresh (a tuning flow polls its running trials)."""
    return TrainingJob.objects.filter(pk__in=job_ids)


def training_job_first_failure_reason(*, job_ids: list[int]) -> str | None:
    """The failure reason of the earliest of these jobs that has one."""
    return (
        TrainingJob.objects.filter(pk__in=job_ids)
        .exclude(failure_reason="")
        .order_by("pk")
        .values_list("failure_reason", flat=True)
        .first()
    )


def training_job_name_for_artifacts(*, user, model_data_urls: list[str]) -> str:
    """The newest of the user's training jobs whose ``model.tar.gz`` is one of these ("" when
    none is), so a model's page can link back to the job that trained it."""
    job = (
        TrainingJob.objects.filter(owner=user, model_artifacts__in=model_data_urls)
        .order_by("-pk")
        .first()
    )
    return job.name if job else ""
