"""Console pages for endpoints: the list, and each endpoint with its variants, their instances'
health, invocation and latency charts, autoscaling, and a form to send a test request; the
update to another config (blue/green), weights and instance counts, delete.

Creating one (from a config, a model, a training or tuning job) is :mod:`deploy_views`'s."""

from __future__ import annotations

from dataclasses import dataclass

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from console.core.charts import line_chart
from console.core.errors import NotFound, ServiceError
from console.core.live import live_render
from console.core.views import ResourceListPage, get_or_404
from console.endpoints.autoscaling_selectors import (
    endpoint_autoscaling_overview,
    scalable_target_list,
    scaling_policy_list,
)
from console.endpoints.config_views import form_rows, newest_names
from console.endpoints.forms import EndpointUpdateForm, WeightsAndCapacitiesForm
from console.endpoints.invoke import (
    Invoked,
    ModelFailed,
    NotInService,
    Outcome,
    TimedOut,
    UnknownVariant,
    endpoint_invoke,
)
from console.endpoints.models import Endpoint
from console.endpoints.scaling_forms import MAX_STEPS, StepScalingForm, step_scaling_initial
from console.endpoints.selectors import (
    endpoint_config_list,
    endpoint_describe,
    endpoint_get,
    endpoint_list,
    endpoint_metrics,
    endpoint_serving_variants,
    endpoint_variant_views,
)
from console.endpoints.services.autoscaling import DIMENSION, NAMESPACE
from console.endpoints.services.capacity import (
    endpoint_autoscaling_clear,
    endpoint_autoscaling_set,
    endpoint_step_scaling_set,
    endpoint_update_weights_and_capacities,
)
from console.endpoints.services.endpoints import endpoint_delete, endpoint_update

STATUSES = ["Creating", "InService", "Updating", "Deleting", "Failed", "OutOfService"]
CONTENT_TYPES = ["text/csv", "application/jsonlines", "application/json"]

endpoints = ResourceListPage.as_view(
    title="Endpoints",
    selector=endpoint_list,
    columns=[
        ("Name", "name"),
        ("Status", "status"),
        ("Config", "config_name"),
        ("Created", "created_at"),
    ],
    statuses=STATUSES,
    sagemaker_operation="CreateEndpoint",
    detail_url_name="endpoint",
    create_url_name="endpoint-new",
)


class TestRequestForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Request body")
    content_type = forms.ChoiceField(choices=[(t, t) for t in CONTENT_TYPES], initial="text/csv")
    accept = forms.ChoiceField(
        choices=[("", "as the request"), *((t, t) for t in CONTENT_TYPES)], required=False
    )
    target_variant = forms.CharField(required=False, label="Target variant (optional)")


class AutoscalingForm(forms.Form):
    variant_name = forms.CharField(widget=forms.HiddenInput)
    min_instances = forms.IntegerField(min_value=1, initial=1)
    max_instances = forms.IntegerField(min_value=1, initial=2)
    target_invocations_per_instance = forms.FloatField(
        min_value=0.001, initial=1000, label="Target invocations per instance per minute"
    )


@dataclass(frozen=True)
class TestResult:
    """What the test form shows of an invoke outcome: the answer, or the error and a status."""

    body: bytes = b""
    content_type: str = ""
    variant_name: str = ""
    error: str = ""
    status: int = 200
    elapsed_ms: float = 0.0


def _test_result(outcome: Outcome) -> TestResult:
    match outcome:
        case Invoked():
            return TestResult(
                body=outcome.body,
                content_type=outcome.content_type,
                variant_name=outcome.variant_name,
                elapsed_ms=outcome.elapsed_ms,
            )
        case ModelFailed():
            return TestResult(
                error=outcome.message,
                status=outcome.status,
                variant_name=outcome.variant_name,
                elapsed_ms=outcome.elapsed_ms,
            )
        case TimedOut():
            return TestResult(
                error=outcome.message,
                status=504,
                variant_name=outcome.variant_name,
                elapsed_ms=outcome.elapsed_ms,
            )
        case NotInService():
            return TestResult(error=outcome.reason, status=409)
        case UnknownVariant():
            names = ", ".join(outcome.variant_names)
            return TestResult(
                error=f"No variant {outcome.target!r} serves traffic (its variants: {names}).",
                status=400,
            )
    raise TypeError(f"not an invoke outcome: {outcome!r}")


def _endpoint_or_404(request, name: str):
    try:
        return endpoint_get(user=request.user, name=name)
    except NotFound:
        raise Http404(f"No endpoint {name!r}") from None


@login_required
def endpoint_detail(request, name: str):
    """The endpoint's page (POST: send the test request); ``?fragment=status`` is its state,
    variants, health and charts alone, which the page polls: the test request is never replaced."""
    endpoint = _endpoint_or_404(request, name)
    form = TestRequestForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        outcome = async_to_sync(endpoint_invoke)(
            user=request.user,
            endpoint_name=endpoint.name,
            body=data["body"].encode(),
            content_type=data["content_type"],
            accept=data["accept"],
            target_variant=data["target_variant"] or None,
        )
        result = _test_result(outcome)
    metrics = endpoint_metrics(endpoint)
    invocations = {
        name: [(i - len(rows) + 1, row.invocations) for i, row in enumerate(rows)]
        for name, rows in metrics.items()
    }
    latency = {
        name: [(i - len(rows) + 1, row.latency_ms) for i, row in enumerate(rows) if row.invocations]
        for name, rows in metrics.items()
    }
    return live_render(
        request,
        "endpoints/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "described": endpoint_describe(endpoint),
            "variants": endpoint_variant_views(endpoint),
            "invocations_chart": line_chart(
                invocations, x_label="minutes ago", title="invocations per minute"
            ),
            "latency_chart": line_chart(latency, x_label="minutes ago", title="mean latency (ms)"),
            "form": form,
            "result": result,
            "result_text": result.body.decode("utf-8", "replace") if result else "",
            "autoscaling_form": AutoscalingForm(),
            "autoscaling": endpoint_autoscaling_overview(endpoint=endpoint),
            "live": endpoint.status in Endpoint.ACTIVE_STATUSES,
        },
        fragments={"status": "endpoints/_live_status.html"},
    )


@login_required
@require_POST
def endpoint_autoscaling(request, name: str):
    form = AutoscalingForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Autoscaling not set: {form.errors.as_text()}")
        return redirect("endpoint", name=name)
    data = form.cleaned_data
    try:
        if request.POST.get("clear"):
            endpoint_autoscaling_clear(
                user=request.user, name=name, variant_name=data["variant_name"]
            )
            messages.success(request, f"Autoscaling of {data['variant_name']} removed.")
        else:
            endpoint_autoscaling_set(user=request.user, name=name, **data)
            messages.success(request, f"Autoscaling of {data['variant_name']} set.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("endpoint", name=name)


@login_required
def endpoint_step_scaling_view(request, name: str, variant: str):
    """A step-scaling policy of a serving variant, with its bounds; ``?policy=<name>`` fills
    the form in from one of its step policies, to change it."""
    endpoint = get_or_404(endpoint_get, user=request.user, name=name)
    if variant not in {v.name for v in endpoint_serving_variants(endpoint)}:
        raise Http404(f"Endpoint {name} serves no variant named {variant}.")
    resource = {"user": request.user, "namespace": NAMESPACE, "dimension": DIMENSION}
    resource_id = f"endpoint/{name}/variant/{variant}"
    [target] = scalable_target_list(**resource, resource_ids=[resource_id]) or [None]
    policies = []
    if changed := request.GET.get("policy"):
        policies = scaling_policy_list(**resource, resource_id=resource_id, names=[changed])
    initial = step_scaling_initial(target, policies[0] if policies else None)
    rows = form_rows(request, add="add_step", most=MAX_STEPS, default=initial["rows"])
    adding = "add_step" in request.POST
    if adding:  # keep what was typed, without judging a form the user has not sent yet
        form = StepScalingForm(initial=request.POST.dict(), rows=rows)
    else:
        form = StepScalingForm(request.POST or None, initial=initial, rows=rows)
    if request.method == "POST" and not adding and form.is_valid():
        put = form.attempt(
            lambda: endpoint_step_scaling_set(
                user=request.user, name=name, variant_name=variant, **form.arguments()
            )
        )
        if put is not None:
            messages.success(
                request, f"Step scaling policy {put['PolicyName']} of {variant} saved."
            )
            return redirect("endpoint", name=name)
    return render(
        request,
        "endpoints/step_scaling.html",
        {
            "form": form,
            "endpoint": endpoint,
            "variant": variant,
            "target": target,
            "rows": rows,
            "can_add": rows < MAX_STEPS,
        },
    )


@login_required
@require_POST
def endpoint_delete_view(request, name: str):
    try:
        endpoint_delete(user=request.user, name=name)
        messages.success(request, f"Endpoint {name} deleted.")
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("endpoint", name=name)
    return redirect("endpoints")


@login_required
def endpoint_update_view(request, name: str):
    """UpdateEndpoint to another config: new variants come up beside the serving ones."""
    endpoint = get_or_404(endpoint_get, user=request.user, name=name)
    configs = newest_names(
        endpoint_config_list(user=request.user).exclude(name=endpoint.config_name)
    )
    form = EndpointUpdateForm(request.POST or None, endpoint_name=endpoint.name, configs=configs)
    sent = request.method == "POST" and form.is_valid()
    if sent and form.submit(endpoint_update, user=request.user) is not None:
        messages.success(
            request,
            f"Endpoint {name} is updating to {form.cleaned_data['config']}: the serving "
            "variants answer until the new ones are in service.",
        )
        return redirect("endpoint", name=name)
    return render(
        request,
        "endpoints/endpoint_change.html",
        {
            "form": form,
            "endpoint": endpoint,
            "title": f"Update {name} to another config",
            "submit": "Update",
        },
    )


@login_required
def endpoint_weights_view(request, name: str):
    """UpdateEndpointWeightsAndCapacities of the serving variants, in place."""
    endpoint = get_or_404(endpoint_get, user=request.user, name=name)
    form = WeightsAndCapacitiesForm(
        request.POST or None,
        endpoint_name=endpoint.name,
        variants=endpoint_serving_variants(endpoint),
    )
    sent = request.method == "POST" and form.is_valid()
    if sent and form.submit(endpoint_update_weights_and_capacities, user=request.user) is not None:
        messages.success(request, f"Endpoint {name} is updating its weights and instances.")
        return redirect("endpoint", name=name)
    return render(
        request,
        "endpoints/endpoint_change.html",
        {
            "form": form,
            "endpoint": endpoint,
            "title": f"Weights and instances of {name}",
            "submit": "Update",
            "autoscaled": [v.name for v in form.variants if v.autoscaling],
        },
    )
