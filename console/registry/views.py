"""Console pages for models: list, detail (linking the training job), create, delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from console.core import errors
from console.core.views import ResourceListPage, get_or_404, request_form_page
from console.registry.forms import ModelForm
from console.registry.selectors import model_containers, model_describe, model_get, model_list
from console.registry.services import model_create, model_delete
from console.training.selectors import training_job_get

models = ResourceListPage.as_view(
    title="Models",
    selector=model_list,
    columns=[("Name", "name"), ("Training job", "training_job_name"), ("Created", "created_at")],
    sagemaker_operation="CreateModel",
    detail_url_name="model",
    create_url_name="model-new",
)


@login_required
def model(request, name: str):
    registered = get_or_404(model_get, user=request.user, name=name)
    return render(
        request,
        "registry/model.html",
        {
            "model": registered,
            "described": model_describe(registered),
            "containers": model_containers(registered),
        },
    )


@login_required
def model_new(request):
    initial = {}
    if job_name := request.GET.get("training_job"):
        job = get_or_404(training_job_get, user=request.user, name=job_name)
        image = job.spec["AlgorithmSpecification"].get("TrainingImage", "")
        initial = {"name": f"{job.name}-model"[:63], "containers": f"{image} {job.model_artifacts}"}
    return request_form_page(
        request,
        ModelForm(request.POST or None, initial=initial),
        model_create,
        title="Create model",
        list_url_name="models",
        list_label="Models",
        detail_url_name="model",
        done="Model {name} created.",
    )


@login_required
@require_POST
def model_delete_view(request, name: str):
    try:
        model_delete(user=request.user, name=name)
    except errors.NotFound as exc:
        messages.error(request, exc.message)
        return redirect("models")
    messages.success(request, f"Model {name} deleted; its artifacts were kept.")
    return redirect("models")
