"""SageMaker operations on processing jobs."""

from console.processing.selectors import (
    processing_job_describe,
    processing_job_get,
    processing_job_list,
    processing_job_summary,
)
from console.processing.services import processing_job_create, processing_job_stop
from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation


@operation("CreateProcessingJob")
def create_processing_job(*, user, params: dict) -> dict:
    return {"ProcessingJobArn": processing_job_create(user=user, spec=params).arn}


@operation("DescribeProcessingJob")
def describe_processing_job(*, user, params: dict) -> dict:
    return processing_job_describe(processing_job_get(user=user, name=params["ProcessingJobName"]))


@operation("StopProcessingJob")
def stop_processing_job(*, user, params: dict) -> dict:
    processing_job_stop(user=user, name=params["ProcessingJobName"])
    return {}


@operation("ListProcessingJobs")
def list_processing_jobs(*, user, params: dict) -> dict:
    items, token = list_page(
        processing_job_list(user=user),
        params,
        summary=processing_job_summary,
        sort_fields={"Name": "name", "CreationTime": "created_at", "Status": "status"},
    )
    return page_response("ProcessingJobSummaries", items, token)
