"""Weights, instance counts and autoscaling of an endpoint's serving variants."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from console.core.errors import NotFound, ValidationError
from console.core.shapes import validate_request
from console.endpoints.models import Endpoint, EndpointVariant
from console.endpoints.selectors import endpoint_get
from console.endpoints.services.autoscaling import (
    DIMENSION,
    NAMESPACE,
    scalable_target_deregister,
    scalable_target_register,
    scaling_policy_put,
)
from console.endpoints.services.configs import MAX_INSTANCES_PER_VARIANT
from console.endpoints.services.deployment import (
    endpoint_deployment_start,
    endpoint_require_in_service,
)

CONSOLE_POLICY = "invocations-per-instance"  # the policy the console's form and REST route set


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
    """Track ``target_invocations_per_instance`` (per minute) between the bounds given: the
    variant's scalable target and its console policy (:data:`CONSOLE_POLICY`), as
    Application Auto Scaling would register them."""
    if not 1 <= min_instances <= max_instances:
        raise ValidationError("min_instances", "Must be at least 1 and at most max_instances")
    if max_instances > MAX_INSTANCES_PER_VARIANT:
        raise ValidationError(
            "max_instances", f"Must be less than or equal to {MAX_INSTANCES_PER_VARIANT}"
        )
    if not target_invocations_per_instance > 0:
        raise ValidationError("target_invocations_per_instance", "Must be greater than 0")
    resource = _resource(name, variant_name)
    with transaction.atomic():
        scalable_target_register(
            user=user, **resource, min_capacity=min_instances, max_capacity=max_instances
        )
        scaling_policy_put(
            user=user,
            **resource,
            name=CONSOLE_POLICY,
            policy_type="TargetTrackingScaling",
            configuration={
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": float(target_invocations_per_instance),
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                    },
                    # Out at once, in after a quiet minute: the console's autoscaling as it was.
                    "ScaleOutCooldown": 0,
                    "ScaleInCooldown": 60,
                }
            },
        )
    return _variant(user, name, variant_name)


def endpoint_step_scaling_set(
    *,
    user,
    name: str,
    variant_name: str,
    min_instances: int,
    max_instances: int,
    policy_name: str,
    configuration: dict[str, Any],
) -> dict:
    """Step scaling of the variant between the bounds given: its scalable target, and the
    ``StepScaling`` policy ``policy_name`` put with ``configuration`` (a
    StepScalingPolicyConfiguration), as RegisterScalableTarget and PutScalingPolicy keep them.
    Its other policies stay. The policy as kept."""
    resource = _resource(name, variant_name)
    with transaction.atomic():
        scalable_target_register(
            user=user, **resource, min_capacity=min_instances, max_capacity=max_instances
        )
        return scaling_policy_put(
            user=user,
            **resource,
            name=policy_name,
            policy_type="StepScaling",
            configuration={"StepScalingPolicyConfiguration": configuration},
        )


def endpoint_autoscaling_clear(*, user, name: str, variant_name: str) -> EndpointVariant:
    """No autoscaling for the variant: its target and every policy go (none is fine)."""
    variant = _variant(user, name, variant_name)
    if variant.autoscaling is not None:
        scalable_target_deregister(user=user, **_resource(name, variant_name))
    return _variant(user, name, variant_name)


def _resource(name: str, variant_name: str) -> dict[str, str]:
    return {
        "namespace": NAMESPACE,
        "resource_id": f"endpoint/{name}/variant/{variant_name}",
        "dimension": DIMENSION,
    }


def _variant(user, name: str, variant_name: str) -> EndpointVariant:
    endpoint = endpoint_get(user=user, name=name)
    variant = endpoint.variants.filter(name=variant_name).exclude(state="Retiring").last()
    if variant is None:
        raise NotFound("Variant", variant_name)
    return variant
