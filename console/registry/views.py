"""Console pages for models (list, detail linking the training job, create, delete) and the
model registry (groups, their versions with approval and metrics, a version's page)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from console.core import errors
from console.core.shapes import ShapeError
from console.core.views import ResourceListPage, get_or_404, request_form_page
from console.registry.forms import ModelForm
from console.registry.models import ModelPackage
from console.registry.reports import model_package_lineage, model_package_metrics
from console.registry.selectors import (
    model_containers,
    model_describe,
    model_get,
    model_list,
    model_package_containers,
    model_package_describe,
    model_package_get,
    model_package_group_get,
    model_package_group_list,
    model_package_versions,
)
from console.registry.services import (
    model_create,
    model_delete,
    model_package_delete,
    model_package_group_delete,
    model_package_update,
)
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


# The model registry: groups, their versions, and a version's page with approval.

VERSIONS_SHOWN = 100  # on a group's page, newest first

model_package_groups = ResourceListPage.as_view(
    title="Model registry",
    selector=model_package_group_list,
    columns=[("Group", "name"), ("Description", "description"), ("Created", "created_at")],
    sagemaker_operation="CreateModelPackageGroup",
    detail_url_name="model-package-group",
)


@login_required
def model_package_group(request, name: str):
    group = get_or_404(model_package_group_get, user=request.user, name=name)
    versions = [
        {"package": package, "metrics": model_package_metrics(package)}
        for package in model_package_versions(group)[:VERSIONS_SHOWN]
    ]
    return render(
        request,
        "registry/model_package_group.html",
        {"group": group, "versions": versions, "statuses": ModelPackage.APPROVAL_STATUSES},
    )


@login_required
def model_package(request, name: str, version: int):
    package = get_or_404(model_package_get, user=request.user, name=f"{name}/{version}")
    lineage = [
        {**entry, "url": _page_url(entry["page"], entry["name"])}
        for entry in model_package_lineage(package, user=request.user)
    ]
    return render(
        request,
        "registry/model_package.html",
        {
            "package": package,
            "described": model_package_describe(package),
            "containers": model_package_containers(package),
            "metrics": model_package_metrics(package),
            "lineage": lineage,
        },
    )


@login_required
@require_POST
def model_package_approval(request, name: str, version: int):
    """Approve or reject a version: the form's ``status`` and ``description``."""
    try:
        package = model_package_get(user=request.user, name=f"{name}/{version}")
        package = model_package_update(
            user=request.user,
            spec={
                "ModelPackageArn": package.arn,
                "ModelApprovalStatus": request.POST.get("status", ""),
                "ApprovalDescription": request.POST.get("description", ""),
            },
        )
    except (errors.NotFound, errors.ValidationError) as exc:
        messages.error(request, exc.message)
    except ShapeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Version {version} of {name} is {package.approval_status}.")
    return redirect("model-package", name=name, version=version)


@login_required
@require_POST
def model_package_delete_view(request, name: str, version: int):
    try:
        model_package_delete(user=request.user, name=f"{name}/{version}")
    except errors.NotFound as exc:
        messages.error(request, exc.message)
        return redirect("model-package-groups")
    messages.success(request, f"Version {version} of {name} deleted; its artifacts were kept.")
    return redirect("model-package-group", name=name)


@login_required
@require_POST
def model_package_group_delete_view(request, name: str):
    try:
        model_package_group_delete(user=request.user, name=name)
    except errors.InvalidState as exc:
        messages.error(request, exc.message)
        return redirect("model-package-group", name=name)
    except errors.NotFound as exc:
        messages.error(request, exc.message)
        return redirect("model-package-groups")
    messages.success(request, f"Model package group {name} deleted.")
    return redirect("model-package-groups")


def _page_url(page: str, name: str) -> str:
    """The console page of a lineage entry, or "" where the console has none."""
    if not page:
        return ""
    try:
        return reverse(page, args=[name])
    except NoReverseMatch:
        return ""
