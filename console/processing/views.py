"""Console pages for processing jobs: list, detail with its live log and outputs, create form."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render

from console.core.views import get_or_404, request_form_page, stop_view
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
LOG_TAIL_CHARACTERS = 200_000


@login_required
def processing_jobs(request):
    jobs = processing_job_list(user=request.user).order_by("-created_at", "-pk")
    status, name = request.GET.get("status", ""), request.GET.get("name", "")
    if status:
        jobs = jobs.filter(status=status)
    if name:
        jobs = jobs.filter(name__icontains=name)
    return render(
        request,
        "processing/job_list.html",
        {"jobs": jobs[:200], "statuses": STATUSES, "status": status, "name": name},
    )


@login_required
def processing_job_detail(request, name: str):
    job = get_or_404(processing_job_get, user=request.user, name=name)
    log = processing_job_log(job)
    return render(
        request,
        "processing/job_detail.html",
        {
            "job": job,
            "described": processing_job_describe(job),
            "uploaded": {item["OutputName"]: item["Objects"] for item in job.uploaded},
            "log": log[-LOG_TAIL_CHARACTERS:],
            "log_truncated": len(log) > LOG_TAIL_CHARACTERS,
            "log_length": len(log),
            "flow_run_url": flow_run_url(job.flow_run_id) if job.flow_run_id else None,
            "active": job.status in job.ACTIVE_STATUSES,
        },
    )


@login_required
def processing_job_log_view(request, name: str):
    """The job's status and log from ``offset`` on: what the detail page polls while it runs."""
    job = get_or_404(processing_job_get, user=request.user, name=name)
    log = processing_job_log(job)
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    return JsonResponse(
        {
            "status": job.status,
            "failure_reason": job.failure_reason,
            "text": log[offset:],
            "offset": len(log),
        }
    )


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
