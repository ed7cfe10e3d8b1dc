"""SageMaker operations on batch transform jobs."""

from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation
from console.transform.models import TransformJob
from console.transform.selectors import (
    transform_job_describe,
    transform_job_get,
    transform_job_list,
)
from console.transform.services import transform_job_create, transform_job_stop


def transform_job_summary(job: TransformJob) -> dict:
    summary = {
        "TransformJobName": job.name,
        "TransformJobArn": job.arn,
        "CreationTime": job.created_at,
        "LastModifiedTime": job.updated_at,
        "TransformJobStatus": job.status,
    }
    if job.ended_at:
        summary["TransformEndTime"] = job.ended_at
    if job.failure_reason:
        summary["FailureReason"] = job.failure_reason
    return summary


@operation("CreateTransformJob")
def create_transform_job(*, user, params: dict) -> dict:
    return {"TransformJobArn": transform_job_create(user=user, spec=params).arn}


@operation("DescribeTransformJob")
def describe_transform_job(*, user, params: dict) -> dict:
    return transform_job_describe(transform_job_get(user=user, name=params["TransformJobName"]))


@operation("StopTransformJob")
def stop_transform_job(*, user, params: dict) -> dict:
    transform_job_stop(user=user, name=params["TransformJobName"])
    return {}


@operation("ListTransformJobs")
def list_transform_jobs(*, user, params: dict) -> dict:
    items, token = list_page(
        transform_job_list(user=user),
        params,
        summary=transform_job_summary,
        sort_fields={"Name": "name", "CreationTime": "created_at", "Status": "status"},
    )
    return page_response("TransformJobSummaries", items, token)
