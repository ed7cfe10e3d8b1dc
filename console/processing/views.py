"""Console pages for processing jobs: list, detail (its status, outputs and log refreshed in
place while it runs), the log's download, create form."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from console.core.live import live_render, log_context, log_download
from console.core.views import ResourceListPage, get_or_404, request_form_page, stop_view
from console.processing.forms import ProcessingJobForm
from console.processing.selectors import (
    processing_job_describe,
    processing_job_get,
    processing_job_list,
    processing_job_log,
)
from console.processing.services import processing_job_create, processing_job_stop
from infra.prefect import flow_run_url

STATUSES = ["InProgress", "Completed", "Failed", "Stopping", "Stopped"]


def _image(job) -> SafeString | str:
    image = (job.spec.get("AppSpecification") or {}).get("ImageUri", "")
    return format_html("<code>{}</code>", image) if image else ""


def _instances(job) -> int | None:
    cluster = (job.spec.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    return cluster.get("InstanceCount")


processing_jobs = ResourceListPage.as_view(
    title="Processing jobs",
    selector=processing_job_list,
    columns=[
        ("Name", "name"),
        ("Status", "status"),
        ("Image", _image),
        ("Instances", _instances),
        ("Created", "created_at"),
        ("Ended", "ended_at"),
    ],
    statuses=STATUSES,
    sagemaker_operation="CreateProcessingJob",
    detail_url_name="processing-job",
    create_url_name="processing-job-new",
)


@login_required
def processing_job_detail(request, name: str):
    """The job's page; ``?fragment=status``, ``outputs`` or ``log`` is that part alone, which the
    page polls while the job runs."""
    job = get_or_404(processing_job_get, user=request.user, name=name)
    context = {
        "job": job,
        "described": processing_job_describe(job),
        "uploaded": {item["OutputName"]: item["Objects"] for item in job.uploaded},
        "flow_run_url": flow_run_url(job.flow_run_id) if job.flow_run_id else None,
        "live": job.status in job.ACTIVE_STATUSES,
    }
    if request.GET.get("fragment") in (None, "log"):
        url = reverse("processing-job-log", kwargs={"name": job.name})
        context.update(log_context(processing_job_log(job), download_url=url))
    return live_render(
        request,
        "processing/job_detail.html",
        context,
        fragments={
            "status": "processing/_live_status.html",
            "outputs": "processing/_live_outputs.html",
            "log": "live/_log.html",
        },
    )


@login_required
def processing_job_log_download(request, name: str):
    """The job's whole log, as a text file."""
    job = get_or_404(processing_job_get, user=request.user, name=name)
    return log_download(processing_job_log(job), filename=f"{job.name}.log")


@login_required
def processing_job_new(request):
    return request_form_page(
        request,
        ProcessingJobForm(request.POST or None),
        processing_job_create,
        title="Create processing job",
        list_url_name="processing-jobs",
        list_label="Processing jobs",
        detail_url_name="processing-job",
        done="Processing job {name} started.",
    )


processing_job_stop_view = stop_view(
    processing_job_stop, detail_url_name="processing-job", message="Stopping processing job {name}."
)
