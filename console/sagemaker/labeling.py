"""SageMaker operations on labeling jobs."""

from console.labeling.models import LabelingJob
from console.labeling.selectors import labeling_job_list
from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation

NO_LABELS = {
    "TotalLabeled": 0,
    "HumanLabeled": 0,
    "MachineLabeled": 0,
    "FailedNonRetryableError": 0,
    "Unlabeled": 0,
}


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
    if job.failure_reason:
        summary["FailureReason"] = job.failure_reason
    return summary


@operation("ListLabelingJobs")
def list_labeling_jobs(*, user, params: dict) -> dict:
    items, token = list_page(
        labeling_job_list(user=user),
        params,
        summary=labeling_job_summary,
        sort_fields={"Name": "name", "CreationTime": "created_at", "Status": "status"},
    )
    return page_response("LabelingJobSummaryList", items, token)
