"""Console pages for training jobs: list (pick jobs to compare), detail (timeline, overlaid
metric curves, logs), create (with each algorithm's hyperparameters, or a clone), compare, stop."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from console.core import errors
from console.core.live import live_render, log_context, log_download
from console.core.views import ResourceListPage, get_or_404, stop_view
from console.training.compare import training_job_charts, training_job_comparison
from console.training.create_pages import AlgorithmJobCreatePages
from console.training.forms import TrainingJobForm, clone_name, initial_from_spec
from console.training.selectors import (
    training_job_describe,
    training_job_get,
    training_job_list,
    training_job_log,
)
from console.training.services import training_job_create, training_job_stop


class TrainingJobListPage(ResourceListPage):
    """The list, with a checkbox per row to compare the chosen jobs."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "compare_url": reverse("training-compare")}


training_jobs = TrainingJobListPage.as_view(
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
    """The job's page; ``?fragment=status`` or ``?fragment=log`` is that part alone, which the
    page polls while the job runs."""
    job = get_or_404(training_job_get, user=request.user, name=name)
    described = training_job_describe(job)
    specification = described["AlgorithmSpecification"]
    fragment = request.GET.get("fragment")
    context = {
        "job": job,
        "described": described,
        "algorithm": specification.get("TrainingImage") or specification.get("AlgorithmName"),
        "live": job.status in job.ACTIVE_STATUSES,
        # A trial's tuning job, by the name its ARN ends in (names match case-insensitively).
        "tuning_job_name": job.tuning_job_arn.rpartition("/")[2],
    }
    if fragment != "log":
        context["charts"] = training_job_charts(job)
    if fragment != "status":
        url = reverse("training-job-log", kwargs={"name": job.name})
        context.update(log_context(training_job_log(job), download_url=url))
    return live_render(
        request,
        "training/training_job.html",
        context,
        fragments={"status": "training/_live_status.html", "log": "live/_log.html"},
    )


@login_required
def training_job_log_download(request, name: str):
    """The job's whole log, as a text file."""
    job = get_or_404(training_job_get, user=request.user, name=name)
    return log_download(training_job_log(job), filename=f"{job.name}.log")


def _clone_initial(request, source: str) -> dict:
    job = get_or_404(training_job_get, user=request.user, name=source)
    return initial_from_spec(job.spec, name=clone_name(job.name))


_create_pages = AlgorithmJobCreatePages(
    form=TrainingJobForm,
    create=training_job_create,
    clone_initial=_clone_initial,
    template="training/job_form.html",
    fields_template="training/_hyperparameter_fields.html",
    title="Create training job",
    created="Training job {name} created.",
    detail_url_name="training-job",
)
# The create form (``?clone=<job>`` fills it in from that job, ``?algorithm=`` picks one), and
# the hyperparameter fields of ``?algorithm=``, which the form swaps in as one is picked.
training_job_new = _create_pages.create_view()
training_job_hyperparameters = _create_pages.fields_view()


@login_required
def training_job_compare(request):
    """``?name=a&name=b…``: the jobs side by side."""
    names = request.GET.getlist("name")
    try:
        comparison = training_job_comparison(user=request.user, names=names)
    except errors.ValidationError as exc:
        comparison = {"error": exc.rule}
    except errors.NotFound as exc:
        comparison = {"error": exc.message}
    return render(request, "training/compare.html", {"names": names, **comparison})


training_job_stop_view = stop_view(
    training_job_stop,
    detail_url_name="training-job",
    message="Stopping {name}; the model saved so far will be kept.",
)
