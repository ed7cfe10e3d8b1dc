"""Console pages for tuning jobs: the list, the create form (ranges builder, clone, warm start),
and a job's page with its trials and charts.

The job page shows the trials table (sortable), the best-so-far curve (drawn on the server), a
parallel-coordinates plot with a toggle per hyperparameter, and the surrogate's mean ± std along a
chosen hyperparameter, fetched from ``surrogate.json`` as the user picks one (drawn in the browser
by ``tuning/tuning.js``, plain SVG, nothing fetched from elsewhere).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse

from console.core import errors
from console.core.api import validation_error_body
from console.core.charts import line_chart
from console.core.live import live_render
from console.core.views import ResourceListPage, stop_view
from console.training.create_pages import AlgorithmJobCreatePages
from console.training.forms import clone_name
from console.tuning.analysis import tuning_job_surrogate, tuning_job_trial_table
from console.tuning.describe import tuning_job_describe
from console.tuning.forms import TuningJobForm, initial_from_spec, warm_start_initial
from console.tuning.selectors import tuning_job_get, tuning_job_list
from console.tuning.services import tuning_job_create, tuning_job_stop
from infra.prefect import flow_run_url

tuning_jobs = ResourceListPage.as_view(
    title="Hyperparameter tuning jobs",
    selector=tuning_job_list,
    columns=[
        ("Name", "name"),
        ("Status", "status"),
        ("Best training job", "best_training_job_name"),
        ("Created", "created_at"),
    ],
    statuses=["InProgress", "Completed", "Failed", "Stopping", "Stopped"],
    sagemaker_operation="CreateHyperParameterTuningJob",
    detail_url_name="tuning-job",
    create_url_name="tuning-job-new",
)


def _job_or_404(request, name: str):
    try:
        return tuning_job_get(user=request.user, name=name)
    except errors.NotFound:
        raise Http404(f"No hyperparameter tuning job {name!r}") from None


@login_required
def tuning_job(request, name: str):
    """The job's page; ``?fragment=status`` (state, counters, best) and ``?fragment=trials``
    (best-so-far curve, trials and the data the plots draw from) are those parts alone, which the
    page polls while the job runs."""
    job = _job_or_404(request, name)
    described = tuning_job_describe(job)
    table = tuning_job_trial_table(job)
    best_so_far = line_chart(
        {
            "trial": [(row["index"], row["value"]) for row in table["ended"]],
            "best so far": [(row["index"], row["best"]) for row in table["ended"]],
        },
        x_label="trials, in the order they ended",
        title=table["metric_name"],
    )
    return live_render(
        request,
        "tuning/job_detail.html",
        {
            "job": job,
            "described": described,
            "config": described["HyperParameterTuningJobConfig"],
            "table": table,
            "best_so_far": best_so_far,
            "flow_run_url": flow_run_url(job.flow_run_id) if job.flow_run_id else None,
            "live": job.status in job.ACTIVE_STATUSES,
        },
        fragments={"status": "tuning/_live_status.html", "trials": "tuning/_live_trials.html"},
    )


def _clone_initial(request, source: str) -> dict:
    """A copy of job ``source``; with ``&warm_start=1`` warm-started from it too."""
    parent = _job_or_404(request, source)
    initial = initial_from_spec(parent.spec, name=clone_name(parent.name, limit=32))
    if request.GET.get("warm_start"):
        initial.update(warm_start_initial(parent.name))
    return initial


_create_pages = AlgorithmJobCreatePages(
    form=TuningJobForm,
    create=tuning_job_create,
    clone_initial=_clone_initial,
    template="tuning/job_form.html",
    fields_template="tuning/_ranges.html",
    title="Create hyperparameter tuning job",
    created="Tuning job {name} created.",
    detail_url_name="tuning-job",
)
# The create form (``?clone=<job>``, ``?algorithm=``), and the ranges builder and objective of
# ``?algorithm=``, which the form swaps in as one is picked.
tuning_job_new = _create_pages.create_view()
tuning_job_ranges = _create_pages.fields_view()


@login_required
def tuning_job_surrogate_json(request, name: str):
    job = _job_or_404(request, name)
    try:
        return JsonResponse(tuning_job_surrogate(job, parameter=request.GET.get("parameter")))
    except errors.ValidationError as exc:
        return JsonResponse(validation_error_body(exc), status=400)


tuning_job_stop_view = stop_view(
    tuning_job_stop,
    detail_url_name="tuning-job",
    message="Stopping {name} and its running training jobs.",
)
