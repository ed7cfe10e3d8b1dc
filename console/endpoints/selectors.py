"""Reads of endpoint configs and endpoints: lists, Describe responses, routes, health, metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from console.core.selectors import get_owned, visible_to
from console.endpoints.models import Endpoint, EndpointConfig, EndpointVariant
from infra.serving.instance_log import instance_log_lines, instance_logs
from infra.serving.routing import Route
from infra.serving.state import InstanceHealth, MinuteStats, serving_state


def endpoint_config_list(*, user) -> QuerySet[EndpointConfig]:
    return visible_to(EndpointConfig.objects.all(), user)


def endpoint_config_get(*, user, name: str) -> EndpointConfig:
    return get_owned(
        EndpointConfig.objects.all(),
        user=user,
        name=name,
        resource="EndpointConfig",
        arn_type="endpoint-config",
    )


def endpoint_config_describe(config: EndpointConfig) -> dict[str, Any]:
    spec = config.spec
    variants = [
        {"InitialVariantWeight": 1.0, "InstanceType": "ml.m5.large", **variant}
        for variant in spec["ProductionVariants"]
    ]
    response = {
        "EndpointConfigName": config.name,
        "EndpointConfigArn": config.arn,
        "ProductionVariants": variants,
        "CreationTime": config.created_at,
    }
    for field in ("DataCaptureConfig", "KmsKeyId", "AsyncInferenceConfig"):
        if field in spec:
            response[field] = spec[field]
    return response


def endpoint_list(*, user) -> QuerySet[Endpoint]:
    return visible_to(Endpoint.objects.select_related("config"), user)


def endpoint_get(*, user, name: str, for_update: bool = False) -> Endpoint:
    return get_owned(
        Endpoint.objects.select_related("config"),
        user=user,
        name=name,
        resource="Endpoint",
        arn_type="endpoint",
        for_update=for_update,
    )


def endpoint_by_id(*, endpoint_id: int) -> Endpoint | None:
    """The endpoint whose deployment a flow runs; None once it is deleted."""
    return Endpoint.objects.filter(pk=endpoint_id).first()


def endpoint_serving_variants(endpoint: Endpoint) -> list[EndpointVariant]:
    return list(endpoint.variants.filter(state=EndpointVariant.ACTIVE))


def endpoint_deployment_ids(*, endpoint_id: int, state: str) -> list[str]:
    """The deployment ids of the endpoint's variants in ``state`` (an EndpointVariant state)."""
    variants = EndpointVariant.objects.filter(endpoint_id=endpoint_id, state=state)
    return list(variants.values_list("deployment_id", flat=True))


def endpoint_routes(*, user, name: str) -> tuple[Endpoint | None, list[Route]]:
    """The endpoint (None when unknown) and its serving variants' routes, by current weight.

    Whether its status lets it answer is the invoke service's call, not this read's.
    """
    endpoint = endpoint_list(user=user).filter(name=name).first()
    if endpoint is None:
        return None, []
    return endpoint, [
        Route(variant.name, variant.deployment_id, variant.current_weight)
        for variant in endpoint_serving_variants(endpoint)
    ]


def endpoint_variant_spec(*, deployment_id: str) -> dict | None:
    """What the serving state holds for a deployed variant; None when it is not deployed."""
    return serving_state().spec(deployment_id)


def endpoint_variant_instances(*, deployment_id: str) -> list[InstanceHealth]:
    """The deployed variant's instances, as they last reported."""
    return serving_state().instances(deployment_id)


def endpoint_variant_backlog(*, deployment_id: str) -> int:
    """Requests queued or in hand for the deployed variant."""
    return serving_state().backlog(deployment_id)


@dataclass(frozen=True)
class VariantView:
    """A variant as the endpoint page shows it: the row and what its instances report."""

    variant: EndpointVariant
    instances: list[InstanceHealth]
    desired_instances: int
    backlog: int

    @property
    def in_service(self) -> int:
        return sum(1 for i in self.instances if i.state == "InService")


def endpoint_variant_views(endpoint: Endpoint) -> list[VariantView]:
    state = serving_state()
    views = []
    for variant in endpoint.variants.all():
        spec = state.spec(variant.deployment_id) or {}
        views.append(
            VariantView(
                variant=variant,
                instances=state.instances(variant.deployment_id),
                desired_instances=int(spec.get("instances", variant.desired_instance_count)),
                backlog=state.backlog(variant.deployment_id),
            )
        )
    return views


def endpoint_metrics(endpoint: Endpoint, *, minutes: int = 60) -> dict[str, list[MinuteStats]]:
    """Per serving variant name: invocations, errors and mean latency, minute by minute."""
    state = serving_state()
    metrics: dict[str, list[MinuteStats]] = {}
    for variant in endpoint.variants.exclude(state=EndpointVariant.CREATING):
        rows = state.stats(variant.deployment_id, minutes=minutes)
        previous = metrics.get(variant.name)
        if previous is None:
            metrics[variant.name] = rows
        else:  # the same name across a blue/green update: add the minutes up
            metrics[variant.name] = [_add(a, b) for a, b in zip(previous, rows, strict=True)]
    return metrics


def _add(a: MinuteStats, b: MinuteStats) -> MinuteStats:
    count = a.invocations + b.invocations
    latency = (a.latency_ms * a.invocations + b.latency_ms * b.invocations) / count if count else 0
    return MinuteStats(a.minute, count, a.errors + b.errors, latency, a.batches + b.batches)


def endpoint_describe(endpoint: Endpoint) -> dict[str, Any]:
    """The DescribeEndpoint response, with instance counts as the instances report them."""
    views = endpoint_variant_views(endpoint)
    response: dict[str, Any] = {
        "EndpointName": endpoint.name,
        "EndpointArn": endpoint.arn,
        "EndpointConfigName": endpoint.config_name,
        "EndpointStatus": endpoint.status,
        "CreationTime": endpoint.created_at,
        "LastModifiedTime": endpoint.updated_at,
    }
    serving = [v for v in views if v.variant.state == EndpointVariant.ACTIVE]
    if serving:
        response["ProductionVariants"] = [_variant_summary(v) for v in serving]
    creating = [v for v in views if v.variant.state == EndpointVariant.CREATING]
    if creating and endpoint.status == "Updating":
        response["PendingDeploymentSummary"] = {
            "EndpointConfigName": endpoint.pending_config_name or endpoint.config_name,
            "ProductionVariants": [
                {**_variant_summary(v), "VariantStatus": [_status("Creating", endpoint)]}
                for v in creating
            ],
            "StartTime": endpoint.deployment_started_at,
        }
    if endpoint.failure_reason:
        response["FailureReason"] = endpoint.failure_reason
    return response


def _variant_summary(view: VariantView) -> dict[str, Any]:
    variant = view.variant
    images = [container["Image"] for container in variant.containers]
    return {
        "VariantName": variant.name,
        "DeployedImages": [
            {"SpecifiedImage": image, "ResolvedImage": image, "ResolutionTime": variant.created_at}
            for image in images
        ],
        "CurrentWeight": variant.current_weight,
        "DesiredWeight": variant.desired_weight,
        "CurrentInstanceCount": view.in_service,
        "DesiredInstanceCount": view.desired_instances,
    }


def _status(status: str, endpoint: Endpoint) -> dict[str, Any]:
    return {"Status": status, "StartTime": endpoint.deployment_started_at}


@dataclass(frozen=True)
class InstanceLog:
    """One instance's log, of a variant the endpoint has: what each instance logged is kept for
    a while after it stops (``infra.serving.instance_log``)."""

    variant: EndpointVariant
    instance: str
    first_ms: int  # epoch ms of its first line

    def lines(self) -> list[tuple[int, str]]:
        """(epoch ms, line), in order."""
        return instance_log_lines(serving_state().client, self.variant.deployment_id, self.instance)


def endpoint_instance_logs(endpoint: Endpoint) -> list[InstanceLog]:
    client = serving_state().client
    return [
        InstanceLog(variant, name, first)
        for variant in endpoint.variants.all()
        for name, first in instance_logs(client, variant.deployment_id).items()
    ]
