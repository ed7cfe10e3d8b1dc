"""Console pages for batch transform jobs: list, detail with progress, create form, stop."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from console.core.live import live_render
from console.core.views import get_or_404, request_form_page, stop_view
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


@login_required
def transform_jobs(request):
    jobs = transform_job_list(user=request.user).order_by("-created_at", "-pk")
    status, name = request.GET.get("status", ""), request.GET.get("name", "")
    if status:
        jobs = jobs.filter(status=status)
    if name:
        jobs = jobs.filter(name__icontains=name)
    rows = [(job, transform_job_progress(job)) for job in jobs[:200]]
    return render(
        request,
        "transform/job_list.html",
        {"rows": rows, "statuses": STATUSES, "status": status, "name": name},
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
