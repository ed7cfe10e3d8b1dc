"""SageMaker operations on hyperparameter tuning jobs."""

from console.core.errors import NotFound
from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation
from console.training.selectors import training_job_list
from console.tuning.models import HyperParameterTuningJob
from console.tuning.selectors import tuning_job_get, tuning_job_list

NO_COUNTS = {
    "Completed": 0,
    "InProgress": 0,
    "RetryableError": 0,
    "NonRetryableError": 0,
    "Stopped": 0,
}


def tuning_job_summary(job: HyperParameterTuningJob) -> dict:
    config = job.spec.get("HyperParameterTuningJobConfig", {})
    summary = {
        "HyperParameterTuningJobName": job.name,
        "HyperParameterTuningJobArn": job.arn,
        "HyperParameterTuningJobStatus": job.status,
        "Strategy": config.get("Strategy", "Bayesian"),
        "CreationTime": job.created_at,
        "LastModifiedTime": job.updated_at,
        "TrainingJobStatusCounters": NO_COUNTS,
        "ObjectiveStatusCounters": {"Succeeded": 0, "Pending": 0, "Failed": 0},
    }
    if job.ended_at:
        summary["HyperParameterTuningEndTime"] = job.ended_at
    return summary


@operation("ListHyperParameterTuningJobs")
def list_tuning_jobs(*, user, params: dict) -> dict:
    items, token = list_page(
        tuning_job_list(user=user),
        params,
        summary=tuning_job_summary,
        sort_fields={"Name": "name", "CreationTime": "created_at", "Status": "status"},
        default_sort="Name",
    )
    return page_response("HyperParameterTuningJobSummaries", items, token)


@operation("ListTrainingJobsForHyperParameterTuningJob")
def list_training_jobs_for_tuning_job(*, user, params: dict) -> dict:
    name = params["HyperParameterTuningJobName"]
    tuning_job = tuning_job_get(user=user, name=name)
    if tuning_job is None:
        raise NotFound("Amazon SageMaker can't find a tuning job", name)
    trials = training_job_list(user=user).filter(tuning_job_arn=tuning_job.arn)
    items, token = list_page(
        trials,
        params,
        summary=lambda job: {
            "TrainingJobName": job.name,
            "TrainingJobArn": job.arn,
            "TuningJobName": tuning_job.name,
            "CreationTime": job.created_at,
            "TrainingJobStatus": job.status,
            "TunedHyperParameters": job.spec.get("HyperParameters", {}),
        },
        sort_fields={"Name": "name", "CreationTime": "created_at", "Status": "status"},
        default_sort="Name",
    )
    return page_response("TrainingJobSummaries", items, token)
