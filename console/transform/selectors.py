"""Reads of batch transform jobs: lists, one job, its Describe response and its progress."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from batch.spec import TransformSpec
from console.core.selectors import get_owned, job_by_id, job_stop_requested, visible_to
from console.transform.models import TransformJob


def transform_job_list(*, user) -> QuerySet[TransformJob]:
    return visible_to(TransformJob.objects.all(), user)


def transform_job_get(*, user, name: str, for_update: bool = False) -> TransformJob:
    return get_owned(
        TransformJob.objects.all(),
        user=user,
        name=name,
        resource="TransformJob",
        arn_type="transform-job",
        for_update=for_update,
    )


def transform_job_list_for_labeling_job(*, labeling_job_arn: str) -> QuerySet[TransformJob]:
    """The transform jobs a labeling job's automated labeling created, oldest first."""
    return TransformJob.objects.filter(labeling_job_arn=labeling_job_arn).order_by("pk")


def transform_job_by_id(*, job_id: int) -> TransformJob:
    """The job a transform flow run was started for."""
    return job_by_id(TransformJob, job_id=job_id)


def transform_job_stop_requested(*, job_id: int) -> bool:
    """True once StopTransformJob has been called: what the flow polls while it runs."""
    return job_stop_requested(TransformJob, job_id=job_id)


# Request members DescribeTransformJob repeats back as given (the optional ones, when given).
_ECHOED = ("Environment", "DataCaptureConfig", "ExperimentConfig")


def transform_job_describe(job: TransformJob) -> dict[str, Any]:
    """The DescribeTransformJob response, with the defaults the job runs with filled in."""
    request = job.spec
    effective = TransformSpec.from_request(request)
    transform_input = {
        **request["TransformInput"],
        "ContentType": effective.content_type,
        "CompressionType": effective.compression,
        "SplitType": effective.split_type,
    }
    transform_output = {**request["TransformOutput"], "AssembleWith": effective.assemble_with}
    processing = effective.data_processing
    response: dict[str, Any] = {
        "TransformJobName": job.name,
        "TransformJobArn": job.arn,
        "TransformJobStatus": job.status,
        "ModelName": job.model_name,
        "MaxConcurrentTransforms": effective.max_concurrent_transforms,
        "ModelClientConfig": {
            "InvocationsTimeoutInSeconds": effective.invocations_timeout_s,
            "InvocationsMaxRetries": effective.invocations_max_retries,
        },
        "MaxPayloadInMB": effective.max_payload_mb,
        "BatchStrategy": effective.batch_strategy,
        "TransformInput": transform_input,
        "TransformOutput": transform_output,
        "TransformResources": request["TransformResources"],
        "DataProcessing": {
            "InputFilter": processing.input_filter,
            "OutputFilter": processing.output_filter,
            "JoinSource": processing.join_source,
        },
        "CreationTime": job.created_at,
    }
    response.update({field: request[field] for field in _ECHOED if field in request})
    if job.labeling_job_arn:
        response["LabelingJobArn"] = job.labeling_job_arn
    if job.failure_reason:
        response["FailureReason"] = job.failure_reason
    if job.started_at:
        response["TransformStartTime"] = job.started_at
    if job.ended_at:
        response["TransformEndTime"] = job.ended_at
    return response


def transform_job_progress(job: TransformJob) -> dict[str, Any]:
    """The job's counters for the REST API and the console, with percentages of the input read.

    ``objects`` holds each input object's status, records and bytes; ``dashboard_url`` is the
    Dask dashboard of the job's cluster, present only while the job runs.
    """
    progress = dict(job.progress)
    progress.setdefault("records", 0)
    progress.setdefault("bytes_done", 0)
    progress.setdefault("bytes_total", 0)
    progress.setdefault("objects", [])
    progress["percent"] = _percent(progress["bytes_done"], progress["bytes_total"])
    progress["objects"] = [
        {
            **item,
            "percent": 100
            if item["status"] == "Completed"
            else _percent(item["bytes_done"], item["bytes_total"]),
        }
        for item in progress["objects"]
    ]
    if job.status not in job.ACTIVE_STATUSES:
        progress.pop("dashboard_url", None)
    return progress


def _percent(done: int, total: int) -> int:
    return 0 if total == 0 else min(100, done * 100 // total)
