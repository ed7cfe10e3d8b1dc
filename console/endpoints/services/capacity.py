"""Weights, instance counts and autoscaling of an endpoint's serving variants."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from console.core.errors import NotFound, ValidationError
from console.core.shapes import validate_request
from console.endpoints.models import Endpoint, EndpointVariant
from console.endpoints.selectors import endpoint_get
from console.endpoints.services.configs import MAX_INSTANCES_PER_VARIANT
from console.endpoints.services.deployment import (
    endpoint_deployment_start,
    endpoint_require_in_service,
)
from console.endpoints.services.serving import serving_variant_update


def endpoint_update_weights_and_capacities(*, user, spec: dict[str, Any]) -> Endpoint:
    """UpdateEndpointWeightsAndCapacities on the serving variants, by name."""
    validate_request("UpdateEndpointWeightsAndCapacities", spec)
    with transaction.atomic():
        endpoint = endpoint_get(user=user, name=spec["EndpointName"], for_update=True)
        endpoint_require_in_service(endpoint, "update")
        serving = {v.name: v for v in endpoint.variants.filter(state=EndpointVariant.ACTIVE)}
        weights = {name: v.desired_weight for name, v in serving.items()}
        for index, desired in enumerate(spec["DesiredWeightsAndCapacities"], start=1):
            variant = serving.get(desired["VariantName"])
            if variant is None:
                raise ValidationError(
                    f"DesiredWeightsAndCapacities.{index}.VariantName",
                    f"Member must name a variant of endpoint {endpoint.name} "
                    f"({', '.join(sorted(serving))})",
                    value=desired["VariantName"],
                )
            if "DesiredWeight" in desired:
                weights[variant.name] = float(desired["DesiredWeight"])
            count = desired.get("DesiredInstanceCount")
            if count is not None and not 1 <= count <= MAX_INSTANCES_PER_VARIANT:
                raise ValidationError(
                    f"DesiredWeightsAndCapacities.{index}.DesiredInstanceCount",
                    f"Member must be between 1 and {MAX_INSTANCES_PER_VARIANT}",
                    value=count,
                )
        if sum(weights.values()) <= 0:
            raise ValidationError(
                "DesiredWeightsAndCapacities.DesiredWeight",
                "The sum of variant weights must be positive",
            )
        for desired in spec["DesiredWeightsAndCapacities"]:
            variant = serving[desired["VariantName"]]
            variant.desired_weight = weights[variant.name]
            if desired.get("DesiredInstanceCount") is not None:
                variant.desired_instance_count = desired["DesiredInstanceCount"]
            variant.save(update_fields=["desired_weight", "desired_instance_count"])
        endpoint.status = "Updating"
        endpoint.failure_reason = ""
        endpoint.deployment_started_at = timezone.now()
        endpoint.save()
        endpoint_deployment_start(endpoint=endpoint)
    return endpoint


def endpoint_autoscaling_set(
    *,
    user,
    name: str,
    variant_name: str,
    min_instances: int,
    max_instances: int,
    target_invocations_per_instance: float,
) -> EndpointVariant:
    """Track ``target_invocations_per_instance`` (per minute) between the bounds given."""
    if not 1 <= min_instances <= max_instances:
        raise ValidationError("min_instances", "Must be at least 1 and at most max_instances")
    if max_instances > MAX_INSTANCES_PER_VARIANT:
        raise ValidationError(
            "max_instances", f"Must be less than or equal to {MAX_INSTANCES_PER_VARIANT}"
        )
    if not target_invocations_per_instance > 0:
        raise ValidationError("target_invocations_per_instance", "Must be greater than 0")
    policy = {
        "min_instances": min_instances,
        "max_instances": max_instances,
        "target_invocations_per_instance": float(target_invocations_per_instance),
    }
    return _set_autoscaling(user=user, name=name, variant_name=variant_name, policy=policy)


def endpoint_autoscaling_clear(*, user, name: str, variant_name: str) -> EndpointVariant:
    return _set_autoscaling(user=user, name=name, variant_name=variant_name, policy=None)


def _set_autoscaling(*, user, name: str, variant_name: str, policy: dict | None):
    with transaction.atomic():
        endpoint = endpoint_get(user=user, name=name, for_update=True)
        variants = list(endpoint.variants.filter(name=variant_name).exclude(state="Retiring"))
        if not variants:
            raise NotFound("Variant", variant_name)
        for variant in variants:
            variant.autoscaling = policy
            if policy is not None:
                variant.desired_instance_count = min(
                    policy["max_instances"],
                    max(policy["min_instances"], variant.desired_instance_count),
                )
            variant.save(update_fields=["autoscaling", "desired_instance_count"])
            if variant.state == EndpointVariant.ACTIVE:
                serving_variant_update(
                    deployment_id=variant.deployment_id,
                    changes={
                        "autoscaling": policy,
                        "instances": variant.desired_instance_count,
                    },
                )
    return variants[-1]
