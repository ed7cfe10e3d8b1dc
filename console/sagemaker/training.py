"""SageMaker operations on training jobs."""

from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation
from console.training.models import TrainingJob
from console.training.selectors import training_job_list


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


@operation("ListTrainingJobs")
def list_training_jobs(*, user, params: dict) -> dict:
    items, token = list_page(
        training_job_list(user=user),
        params,
        summary=training_job_summary,
        sort_fields={"Name": "name", "CreationTime": "created_at", "Status": "status"},
    )
    return page_response("TrainingJobSummaries", items, token)
