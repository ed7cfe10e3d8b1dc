"""Console pages for training jobs: list, detail (timeline, metrics, logs), create, stop."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from console.core.charts import line_chart
from console.core.views import ResourceListPage, get_or_404, request_form_page, stop_view
from console.training.forms import TrainingJobForm
from console.training.selectors import (
    training_job_describe,
    training_job_get,
    training_job_list,
    training_job_log,
    training_job_metric_series,
)
from console.training.services import training_job_create, training_job_stop

LOG_TAIL_CHARACTERS = 200_000

training_jobs = ResourceListPage.as_view(
    title="Training jobs",
    selector=training_job_list,
    columns=[
        ("Name", "name"),
        ("Status", "status"),
        ("Secondary status", "secondary_status"),
        ("Created", "created_at"),
    ],
    statuses=["InProgress", "Completed", "Failed", "Stopping", "Stopped"],
    sagemaker_operation="CreateTrainingJob",
    detail_url_name="training-job",
    create_url_name="training-job-new",
)


@login_required
def training_job(request, name: str):
    job = get_or_404(training_job_get, user=request.user, name=name)
    series = training_job_metric_series(job)
    charts = [
        (metric, line_chart({metric: _points(values)}, x_label="iteration", title=metric))
        for metric, values in sorted(series.items())
    ]
    log = training_job_log(job)
    described = training_job_describe(job)
    specification = described["AlgorithmSpecification"]
    return render(
        request,
        "training/training_job.html",
        {
            "job": job,
            "described": described,
            "algorithm": specification.get("TrainingImage") or specification.get("AlgorithmName"),
            "charts": charts,
            "log": log[-LOG_TAIL_CHARACTERS:],
            "log_truncated": len(log) > LOG_TAIL_CHARACTERS,
            "active": job.status in job.ACTIVE_STATUSES,
        },
    )


@login_required
def training_job_new(request):
    return request_form_page(
        request,
        TrainingJobForm(request.POST or None),
        training_job_create,
        title="Create training job",
        list_url_name="training-jobs",
        list_label="Training jobs",
        detail_url_name="training-job",
        done="Training job {name} created.",
    )


training_job_stop_view = stop_view(
    training_job_stop,
    detail_url_name="training-job",
    message="Stopping {name}; the model saved so far will be kept.",
)


def _points(values: list[dict]) -> list[tuple[float, float]]:
    """Per-step values by step; values without a step (from log regexes) in arrival order."""
    return [
        (value["step"] if value["step"] is not None else index, value["value"])
        for index, value in enumerate(values, start=1)
    ]
