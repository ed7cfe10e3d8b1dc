"""Console pages for endpoint configs: the list, a config with its variants and the endpoints
serving it, the create form (variants with model, instance type, count and weight), delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from console.core import errors
from console.core.views import ResourceListPage, get_or_404
from console.endpoints.forms import MAX_VARIANTS, EndpointConfigForm
from console.endpoints.selectors import (
    endpoint_config_describe,
    endpoint_config_get,
    endpoint_config_list,
    endpoint_list,
)
from console.endpoints.services.configs import endpoint_config_create, endpoint_config_delete
from console.registry.selectors import model_list

CHOICES_SHOWN = 500  # newest first, in a form's drop-down

endpoint_configs = ResourceListPage.as_view(
    title="Endpoint configs",
    selector=endpoint_config_list,
    columns=[("Name", "name"), ("Created", "created_at")],
    sagemaker_operation="CreateEndpointConfig",
    detail_url_name="endpoint-config",
    create_url_name="endpoint-config-new",
)


def newest_names(queryset) -> list[str]:
    return list(
        queryset.order_by("-created_at", "-pk").values_list("name", flat=True)[:CHOICES_SHOWN]
    )


@login_required
def endpoint_config(request, name: str):
    config = get_or_404(endpoint_config_get, user=request.user, name=name)
    return render(
        request,
        "endpoints/config_detail.html",
        {
            "config": config,
            "described": endpoint_config_describe(config),
            "endpoints": endpoint_list(user=request.user).filter(config_name=config.name),
        },
    )


def form_rows(request, *, add: str, most: int, default: int = 1) -> int:
    """How many rows a form's table shows (its ``rows`` field): one more each time the button
    named ``add`` ("Add a variant", "Add a step") is pressed, ``most`` at the most."""
    source = request.POST if request.method == "POST" else request.GET
    try:
        rows = int(source.get("rows", default))
    except ValueError:
        rows = default
    return min(rows + (1 if add in request.POST else 0), most)


@login_required
def endpoint_config_new(request):
    rows = form_rows(request, add="add_variant", most=MAX_VARIANTS)
    models = newest_names(model_list(user=request.user))
    adding = "add_variant" in request.POST
    if adding:  # keep what was typed, without judging a form the user has not sent yet
        form = EndpointConfigForm(initial=request.POST.dict(), models=models, rows=rows)
    else:
        initial = {"variant_1_model": request.GET.get("model", "")}
        form = EndpointConfigForm(request.POST or None, initial=initial, models=models, rows=rows)
    if request.method == "POST" and not adding and form.is_valid():
        config = form.submit(endpoint_config_create, user=request.user)
        if config is not None:
            messages.success(request, f"Endpoint config {config.name} created.")
            return redirect("endpoint-config", name=config.name)
    return render(
        request,
        "endpoints/config_form.html",
        {"form": form, "rows": rows, "can_add": rows < MAX_VARIANTS, "has_models": bool(models)},
    )


@login_required
@require_POST
def endpoint_config_delete_view(request, name: str):
    try:
        endpoint_config_delete(user=request.user, name=name)
    except errors.NotFound as exc:
        messages.error(request, exc.message)
        return redirect("endpoint-configs")
    messages.success(request, f"Endpoint config {name} deleted; endpoints serving it keep serving.")
    return redirect("endpoint-configs")
