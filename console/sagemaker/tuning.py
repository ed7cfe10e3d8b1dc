"""SageMaker operations on hyperparameter tuning jobs."""

from console.sagemaker.listing import decode_token, encode_token, list_page, page_response
from console.sagemaker.operations import operation
from console.tuning.describe import (
    tuning_job_describe,
    tuning_job_summary,
    tuning_job_trial_summaries,
)
from console.tuning.selectors import tuning_job_get, tuning_job_list
from console.tuning.services import tuning_job_create, tuning_job_stop


@operation("CreateHyperParameterTuningJob")
def create_tuning_job(*, user, params: dict) -> dict:
    return {"HyperParameterTuningJobArn": tuning_job_create(user=user, spec=params).arn}


@operation("DescribeHyperParameterTuningJob")
def describe_tuning_job(*, user, params: dict) -> dict:
    return tuning_job_describe(
        tuning_job_get(user=user, name=params["HyperParameterTuningJobName"])
    )


@operation("StopHyperParameterTuningJob")
def stop_tuning_job(*, user, params: dict) -> dict:
    tuning_job_stop(user=user, name=params["HyperParameterTuningJobName"])
    return {}


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
    job = tuning_job_get(user=user, name=params["HyperParameterTuningJobName"])
    summaries = tuning_job_trial_summaries(
        job,
        status=params.get("StatusEquals"),
        sort_by=params.get("SortBy", "Name"),
        descending=params.get("SortOrder", "Ascending") == "Descending",
    )
    offset = decode_token(params.get("NextToken"))
    limit = params.get("MaxResults", 10)
    token = encode_token(offset + limit) if len(summaries) > offset + limit else None
    return page_response("TrainingJobSummaries", summaries[offset : offset + limit], token)
