"""Console pages for tuning jobs: the list, the create form (ranges builder, clone, warm start),
and a job's page with its trials and charts.

The job page shows the trials table (sortable), the best-so-far curve (drawn on the server), a
parallel-coordinates plot with a toggle per hyperparameter, and the surrogate's mean ± std along a
chosen hyperparameter, fetched from ``surrogate.json`` as the user picks one (drawn in the browser
by ``tuning/tuning.js``, plain SVG, nothing fetched from elsewhere).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from console.core import errors
from console.core.api import validation_error_body
from console.core.charts import line_chart
from console.core.live import live_render
from console.core.views import ResourceListPage
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


@login_required
def tuning_job_new(request):
    """The create form; ``?clone=<job>`` fills it in from that job, and with ``&warm_start=1``
    also names the job as the new one's warm-start parent."""
    initial = {}
    source = request.GET.get("clone")
    if source:
        parent = _job_or_404(request, source)
        initial = initial_from_spec(parent.spec, name=clone_name(parent.name, limit=32))
        if request.GET.get("warm_start"):
            initial.update(warm_start_initial(parent.name))
    elif algorithm := request.GET.get("algorithm"):
        initial = {"algorithm": algorithm}
    form = TuningJobForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        created = form.submit(tuning_job_create, user=request.user)
        if created is not None:
            messages.success(request, f"Tuning job {created.name} created.")
            return redirect("tuning-job", name=created.name)
    return render(
        request,
        "tuning/job_form.html",
        {"form": form, "title": "Create hyperparameter tuning job", "clone": source},
    )


@login_required
def tuning_job_ranges(request):
    """The ranges builder and objective of ``?algorithm=``, swapped in as one is picked."""
    form = TuningJobForm(initial={"algorithm": request.GET.get("algorithm", "")}, user=request.user)
    return render(request, "tuning/_ranges.html", {"form": form})


@login_required
def tuning_job_surrogate_json(request, name: str):
    job = _job_or_404(request, name)
    try:
        return JsonResponse(tuning_job_surrogate(job, parameter=request.GET.get("parameter")))
    except errors.ValidationError as exc:
        return JsonResponse(validation_error_body(exc), status=400)


@login_required
@require_POST
def tuning_job_stop_view(request, name: str):
    try:
        tuning_job_stop(user=request.user, name=name)
        messages.success(request, f"Stopping {name} and its running training jobs.")
    except (errors.InvalidState, errors.NotFound) as exc:
        messages.error(request, exc.message)
    return redirect("tuning-job", name=name)
