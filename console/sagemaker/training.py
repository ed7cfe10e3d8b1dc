"""SageMaker operations on training jobs."""

from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation
from console.training.models import TrainingJob
from console.training.selectors import training_job_describe, training_job_get, training_job_list
from console.training.services import training_job_create, training_job_stop


def training_job_summary(job: TrainingJob) -> dict:
    summary = {
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "CreationTime": job.created_at,
        "LastModifiedTime": job.updated_at,
        "TrainingJobStatus": job.status,
        "SecondaryStatus": job.secondary_status,
    }
    if job.ended_at:
        summary["TrainingEndTime"] = job.ended_at
    return summary


@operation("CreateTrainingJob")
def create_training_job(*, user, params: dict) -> dict:
    return {"TrainingJobArn": training_job_create(user=user, spec=params).arn}


@operation("DescribeTrainingJob")
def describe_training_job(*, user, params: dict) -> dict:
    return training_job_describe(training_job_get(user=user, name=params["TrainingJobName"]))


@operation("StopTrainingJob")
def stop_training_job(*, user, params: dict) -> dict:
    training_job_stop(user=user, name=params["TrainingJobName"])
    return {}


@operation("ListTrainingJobs")
def list_training_jobs(*, user, params: dict) -> dict:
    items, token = list_page(
        training_job_list(user=user),
        params,
        summary=training_job_summary,
        sort_fields={"Name": "name", "CreationTime": "created_at", "Status": "status"},
    )
    return page_response("TrainingJobSummaries", items, token)
