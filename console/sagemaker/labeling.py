"""SageMaker operations on labeling jobs and work teams."""

from console.core.errors import NotFound
from console.labeling.models import LabelingJob
from console.labeling.selectors import (
    COUNTER_NAMES,
    labeling_job_describe,
    labeling_job_get,
    labeling_job_list,
    workteam_describe,
    workteam_get,
    workteam_list,
)
from console.labeling.services import (
    labeling_job_create,
    labeling_job_stop,
    workteam_create,
    workteam_delete,
    workteam_update,
)
from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation

NO_LABELS = dict.fromkeys(COUNTER_NAMES, 0)


def labeling_job_summary(job: LabelingJob) -> dict:
    task = job.spec.get("HumanTaskConfig", {})
    summary = {
        "LabelingJobName": job.name,
        "LabelingJobArn": job.arn,
        "CreationTime": job.created_at,
        "LastModifiedTime": job.updated_at,
        "LabelingJobStatus": job.status,
        "LabelCounters": {**NO_LABELS, **job.label_counters},
        "WorkteamArn": task.get("WorkteamArn", ""),
    }
    if "PreHumanTaskLambdaArn" in task:
        summary["PreHumanTaskLambdaArn"] = task["PreHumanTaskLambdaArn"]
    if job.failure_reason:
        summary["FailureReason"] = job.failure_reason
    if job.output:
        summary["LabelingJobOutput"] = job.output
    if "InputConfig" in job.spec:
        summary["InputConfig"] = job.spec["InputConfig"]
    return summary


@operation("CreateLabelingJob")
def create_labeling_job(*, user, params: dict) -> dict:
    return {"LabelingJobArn": labeling_job_create(user=user, spec=params).arn}


@operation("DescribeLabelingJob")
def describe_labeling_job(*, user, params: dict) -> dict:
    return labeling_job_describe(labeling_job_get(user=user, name=params["LabelingJobName"]))


@operation("StopLabelingJob")
def stop_labeling_job(*, user, params: dict) -> dict:
    labeling_job_stop(user=user, name=params["LabelingJobName"])
    return {}


@operation("ListLabelingJobs")
def list_labeling_jobs(*, user, params: dict) -> dict:
    items, token = list_page(
        labeling_job_list(user=user),
        params,
        summary=labeling_job_summary,
        sort_fields={"Name": "name", "CreationTime": "created_at", "Status": "status"},
    )
    return page_response("LabelingJobSummaryList", items, token)


def _for_workteam_summary(job: LabelingJob) -> dict:
    counters = {**NO_LABELS, **job.label_counters}
    return {
        "LabelingJobName": job.name,
        "JobReferenceCode": job.job_reference_code or job.arn,
        "WorkRequesterAccountId": job.arn.split(":")[4],
        "CreationTime": job.created_at,
        "LabelCounters": {
            "HumanLabeled": counters["HumanLabeled"],
            "PendingHuman": job.items.filter(sent_to_humans=True, state="unlabeled").count(),
            "Total": sum(counters[name] for name in COUNTER_NAMES[1:]),
        },
        "NumberOfHumanWorkersPerDataObject": job.spec["HumanTaskConfig"][
            "NumberOfHumanWorkersPerDataObject"
        ],
    }


@operation("ListLabelingJobsForWorkteam")
def list_labeling_jobs_for_workteam(*, user, params: dict) -> dict:
    team = workteam_list(user=user).filter(arn=params["WorkteamArn"].lower()).first()
    if team is None:
        name = params["WorkteamArn"].rsplit("/", 1)[-1]
        raise NotFound("Workteam", name, arn=params["WorkteamArn"])
    jobs = team.labeling_jobs.all()
    if code := params.get("JobReferenceCodeContains"):
        jobs = jobs.filter(job_reference_code__icontains=code)
    items, token = list_page(
        jobs,
        params,
        summary=_for_workteam_summary,
        sort_fields={"CreationTime": "created_at"},
    )
    return page_response("LabelingJobSummaryList", items, token)


@operation("CreateWorkteam")
def create_workteam(*, user, params: dict) -> dict:
    return {"WorkteamArn": workteam_create(user=user, spec=params).arn}


@operation("DescribeWorkteam")
def describe_workteam(*, user, params: dict) -> dict:
    return {"Workteam": workteam_describe(workteam_get(user=user, name=params["WorkteamName"]))}


@operation("UpdateWorkteam")
def update_workteam(*, user, params: dict) -> dict:
    return {"Workteam": workteam_describe(workteam_update(user=user, spec=params))}


@operation("DeleteWorkteam")
def delete_workteam(*, user, params: dict) -> dict:
    workteam_delete(user=user, name=params["WorkteamName"])
    return {"Success": True}


@operation("ListWorkteams")
def list_workteams(*, user, params: dict) -> dict:
    teams, token = list_page(
        workteam_list(user=user),
        params,
        summary=workteam_describe,
        sort_fields={"Name": "name", "CreateDate": "created_at"},
        default_sort="CreateDate",
        status_field=None,
    )
    return page_response("Workteams", teams, token)
