"""Console pages for batch transform jobs: list, detail with progress, create form, stop."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required

from console.core.live import live_render
from console.core.views import (
    ResourceListPage,
    get_or_404,
    link_column,
    progress_cell,
    request_form_page,
    stop_view,
)
from console.registry.selectors import model_list
from console.transform.forms import TransformJobForm
from console.transform.selectors import (
    transform_job_describe,
    transform_job_get,
    transform_job_list,
    transform_job_progress,
)
from console.transform.services import transform_job_create, transform_job_stop
from infra.prefect import flow_run_url

STATUSES = ["InProgress", "Completed", "Failed", "Stopping", "Stopped"]


def _progress(job) -> str:
    percent = transform_job_progress(job)["percent"]
    return progress_cell(percent, f"{percent} %", title=f"{percent} % of the input read")


def _records(job) -> int:
    return transform_job_progress(job)["records"]


def _objects(job) -> str:
    progress = transform_job_progress(job)
    done = f"{progress.get('objects_completed', 0)} / {progress.get('objects_total', '?')}"
    failed = progress.get("objects_failed")
    return f"{done} ({failed} failed)" if failed else done


transform_jobs = ResourceListPage.as_view(
    title="Batch transform jobs",
    selector=transform_job_list,
    columns=[
        ("Name", "name"),
        ("Status", "status"),
        ("Model", link_column("model_name", "model")),
        ("Progress", _progress),
        ("Records", _records),
        ("Objects", _objects),
        ("Created", "created_at"),
    ],
    statuses=STATUSES,
    sagemaker_operation="CreateTransformJob",
    detail_url_name="transform-job",
    create_url_name="transform-job-new",
)


@login_required
def transform_job_detail(request, name: str):
    """The job's page; ``?fragment=status`` is its state and progress alone, which the page polls
    while the job runs."""
    job = get_or_404(transform_job_get, user=request.user, name=name)
    return live_render(
        request,
        "transform/job_detail.html",
        {
            "job": job,
            "described": transform_job_describe(job),
            "progress": transform_job_progress(job),
            "flow_run_url": flow_run_url(job.flow_run_id) if job.flow_run_id else None,
            "live": job.status in job.ACTIVE_STATUSES,
        },
        fragments={"status": "transform/_live_status.html"},
    )


@login_required
def transform_job_new(request):
    model_names = list(
        model_list(user=request.user).order_by("name").values_list("name", flat=True)
    )
    return request_form_page(
        request,
        TransformJobForm(request.POST or None, model_names=model_names),
        transform_job_create,
        title="Create transform job",
        list_url_name="transform-jobs",
        list_label="Batch transform jobs",
        detail_url_name="transform-job",
        done="Transform job {name} started.",
    )


transform_job_stop_view = stop_view(
    transform_job_stop, detail_url_name="transform-job", message="Stopping transform job {name}."
)
