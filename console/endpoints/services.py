"""Every write to endpoint configs and endpoints, and the deploy flow's reports.

Create and update deploy new :class:`EndpointVariant` rows and start the ``endpoint-deploy``
flow, which brings their instances up, then calls :func:`endpoint_activate` to move traffic and
retires the rows they replace. Weights and capacities change the serving rows in place.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from console.core.errors import AlreadyExists, InvalidState, NotFound, ValidationError
from console.core.names import account_id_for, arn
from console.core.services import flow_run_start_on_commit
from console.core.shapes import validate_request
from console.endpoints.models import Endpoint, EndpointConfig, EndpointVariant
from console.endpoints.selectors import endpoint_config_get, endpoint_get
from console.registry.selectors import model_containers, model_get
from infra.serving.state import serving_state

log = logging.getLogger(__name__)
DEPLOYMENT = "endpoint-deploy/sagebrush"
MAX_INSTANCES_PER_VARIANT = 10  # processes on one machine; raise with more hosts


# ---- endpoint configs ----------------------------------------------------------------------


def endpoint_config_create(*, user, spec: dict[str, Any]) -> EndpointConfig:
    """CreateEndpointConfig: 1-10 variants, each naming an existing model, weights not all 0."""
    validate_request("CreateEndpointConfig", spec)
    name = spec["EndpointConfigName"]
    variants = spec["ProductionVariants"]
    seen: set[str] = set()
    for index, variant in enumerate(variants, start=1):
        field = f"ProductionVariants.{index}"
        if variant["VariantName"] in seen:
            raise ValidationError(
                f"{field}.VariantName", "Member must be unique within the endpoint config"
            )
        seen.add(variant["VariantName"])
        if "ServerlessConfig" in variant or "InitialInstanceCount" not in variant:
            raise ValidationError(
                f"{field}.InitialInstanceCount",
                "Member must be given: this platform hosts variants on instances only",
            )
        if variant["InitialInstanceCount"] > MAX_INSTANCES_PER_VARIANT:
            raise ValidationError(
                f"{field}.InitialInstanceCount",
                f"Member must be less than or equal to {MAX_INSTANCES_PER_VARIANT}",
                value=variant["InitialInstanceCount"],
            )
        if not variant.get("ModelName"):
            raise ValidationError(f"{field}.ModelName", "Member must not be null")
        model_get(user=user, name=variant["ModelName"])
    if sum(float(v.get("InitialVariantWeight", 1.0)) for v in variants) <= 0:
        raise ValidationError(
            "ProductionVariants.InitialVariantWeight", "The sum of variant weights must be positive"
        )
    if "DataCaptureConfig" in spec:
        raise ValidationError(
            "DataCaptureConfig", "Data capture for endpoints is not supported yet"
        )
    config_arn = arn("endpoint-config", name, account_id=account_id_for(user.pk))
    if EndpointConfig.objects.filter(owner=user, name=name).exists():
        raise AlreadyExists("EndpointConfig", name, arn=config_arn)
    try:
        with transaction.atomic():
            return EndpointConfig.objects.create(owner=user, name=name, arn=config_arn, spec=spec)
    except IntegrityError:
        raise AlreadyExists("EndpointConfig", name, arn=config_arn) from None


def endpoint_config_delete(*, user, name: str) -> None:
    """Forget the config; endpoints already serving it keep serving."""
    endpoint_config_get(user=user, name=name).delete()


# ---- endpoints -----------------------------------------------------------------------------


def endpoint_create(*, user, spec: dict[str, Any]) -> Endpoint:
    """CreateEndpoint: saved ``Creating``; the deploy flow brings it ``InService`` or ``Failed``."""
    validate_request("CreateEndpoint", spec)
    name = spec["EndpointName"]
    config = endpoint_config_get(user=user, name=spec["EndpointConfigName"])
    endpoint_arn = arn("endpoint", name, account_id=account_id_for(user.pk))
    if Endpoint.objects.filter(owner=user, name=name).exists():
        raise AlreadyExists("Endpoint", name, arn=endpoint_arn)
    variants = _planned_variants(user, config)
    try:
        with transaction.atomic():
            endpoint = Endpoint.objects.create(
                owner=user,
                name=name,
                arn=endpoint_arn,
                status="Creating",
                config=config,
                config_name=config.name,
                deployment_started_at=timezone.now(),
            )
            _add_variants(endpoint, variants)
            _start_deployment(endpoint)
    except IntegrityError:
        raise AlreadyExists("Endpoint", name, arn=endpoint_arn) from None
    return endpoint


def endpoint_update(*, user, spec: dict[str, Any]) -> Endpoint:
    """UpdateEndpoint to another config, blue/green: the serving variants answer until the new
    ones are in service, then traffic moves and the old instances stop."""
    validate_request("UpdateEndpoint", spec)
    config = endpoint_config_get(user=user, name=spec["EndpointConfigName"])
    variants = _planned_variants(user, config)
    with transaction.atomic():
        endpoint = endpoint_get(user=user, name=spec["EndpointName"], for_update=True)
        _require_in_service(endpoint, "update")
        serving = {v.name: v for v in endpoint.variants.filter(state=EndpointVariant.ACTIVE)}
        for variant in variants:
            previous = serving.get(variant["name"])
            if previous is None:
                continue
            # Autoscaling belongs to the variant's name and outlives the deployment.
            variant["autoscaling"] = previous.autoscaling
            if spec.get("RetainAllVariantProperties"):
                variant["desired_weight"] = previous.desired_weight
                variant["desired_instance_count"] = previous.desired_instance_count
        endpoint.status = "Updating"
        endpoint.failure_reason = ""
        endpoint.pending_config_name = config.name
        endpoint.deployment_started_at = timezone.now()
        endpoint.save()
        _add_variants(endpoint, variants)
        _start_deployment(endpoint)
    return endpoint


def endpoint_update_weights_and_capacities(*, user, spec: dict[str, Any]) -> Endpoint:
    """UpdateEndpointWeightsAndCapacities on the serving variants, by name."""
    validate_request("UpdateEndpointWeightsAndCapacities", spec)
    with transaction.atomic():
        endpoint = endpoint_get(user=user, name=spec["EndpointName"], for_update=True)
        _require_in_service(endpoint, "update")
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
        _start_deployment(endpoint)
    return endpoint


def endpoint_delete(*, user, name: str) -> None:
    """DeleteEndpoint, allowed in any status: its instances stop and the endpoint is gone."""
    with transaction.atomic():
        endpoint = endpoint_get(user=user, name=name, for_update=True)
        endpoint.status = "Deleting"
        endpoint.save(update_fields=["status", "updated_at"])
        deployments = list(endpoint.variants.values_list("deployment_id", flat=True))
        endpoint.delete()
    state = serving_state()
    for deployment_id in deployments:
        state.retire(deployment_id)


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
    state = serving_state()
    for variant in variants:
        if variant.state == EndpointVariant.ACTIVE:
            state.update(
                variant.deployment_id,
                autoscaling=policy,
                instances=variant.desired_instance_count,
            )
    return variants[-1]


# ---- the deploy flow's reports -------------------------------------------------------------


def endpoint_activate(*, endpoint_id: int) -> bool:
    """The new variants are in service: they take the traffic, the ones they replace retire.

    The status stays as it is (see :func:`endpoint_in_service`). Returns whether the endpoint was
    already answering, in which case web processes may route by their old routes a moment more.
    """
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        creating = list(endpoint.variants.filter(state=EndpointVariant.CREATING))
        if creating:
            endpoint.variants.filter(state=EndpointVariant.ACTIVE).update(
                state=EndpointVariant.RETIRING, current_weight=0
            )
        for variant in endpoint.variants.exclude(state=EndpointVariant.RETIRING):
            variant.state = EndpointVariant.ACTIVE
            variant.current_weight = variant.desired_weight
            variant.save(update_fields=["state", "current_weight"])
        if endpoint.pending_config_name:
            endpoint.config = EndpointConfig.objects.filter(
                owner=endpoint.owner, name=endpoint.pending_config_name
            ).first()
            endpoint.config_name = endpoint.pending_config_name
            endpoint.pending_config_name = ""
        endpoint.save()
        return endpoint.status != "Creating"


def endpoint_in_service(*, endpoint_id: int) -> None:
    """Every web process now routes by the active variants: say so (the waiters return)."""
    Endpoint.objects.filter(pk=endpoint_id).update(status="InService")


def endpoint_deployment_failed(*, endpoint_id: int, reason: str) -> list[str]:
    """The new variants could not come up: a new endpoint fails; an updated one keeps serving
    its previous variants, saying why the update was rolled back. Returns the deployments to
    retire."""
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().filter(pk=endpoint_id).first()
        if endpoint is None:
            return []
        creating = endpoint.variants.filter(state=EndpointVariant.CREATING)
        deployments = list(creating.values_list("deployment_id", flat=True))
        if endpoint.status == "Creating":
            endpoint.status = "Failed"
            endpoint.failure_reason = reason[:1024]
        else:
            creating.delete()
            # Capacities asked for and not reached go back to what is running.
            state = serving_state()
            for variant in endpoint.variants.filter(state=EndpointVariant.ACTIVE):
                variant.desired_weight = variant.current_weight
                variant.save(update_fields=["desired_weight"])
                spec = state.spec(variant.deployment_id)
                if spec is not None and not spec.get("autoscaling"):
                    variant.desired_instance_count = max(1, state.in_service(variant.deployment_id))
                    variant.save(update_fields=["desired_instance_count"])
                    state.update(variant.deployment_id, instances=variant.desired_instance_count)
            endpoint.status = "InService"
            endpoint.failure_reason = f"The update was rolled back: {reason}"[:1024]
            endpoint.pending_config_name = ""
        endpoint.save()
    return deployments


def endpoint_variants_retired(*, endpoint_id: int) -> list[str]:
    """Forget the retired variants (their instances are stopping); their deployment ids."""
    retired = EndpointVariant.objects.filter(endpoint_id=endpoint_id, state="Retiring")
    deployments = list(retired.values_list("deployment_id", flat=True))
    retired.delete()
    return deployments


# ---- helpers -------------------------------------------------------------------------------


def _require_in_service(endpoint: Endpoint, action: str) -> None:
    if endpoint.status != "InService":
        raise InvalidState(
            f'Cannot {action} endpoint "{endpoint.arn}" while it is {endpoint.status}: '
            "it must be InService."
        )


def _planned_variants(user, config: EndpointConfig) -> list[dict[str, Any]]:
    """The variant rows a config asks for, with each model's containers as they are now."""
    planned = []
    for variant in config.spec["ProductionVariants"]:
        model = model_get(user=user, name=variant["ModelName"])
        planned.append(
            {
                "name": variant["VariantName"],
                "model_name": model.name,
                "containers": model_containers(model),
                "instance_type": variant.get("InstanceType", "ml.m5.large"),
                "desired_weight": float(variant.get("InitialVariantWeight", 1.0)),
                "desired_instance_count": int(variant["InitialInstanceCount"]),
                "autoscaling": None,
            }
        )
    return planned


def _add_variants(endpoint: Endpoint, variants: list[dict[str, Any]]) -> None:
    for variant in variants:
        EndpointVariant.objects.create(
            endpoint=endpoint,
            deployment_id=f"{endpoint.pk}-{variant['name'].lower()}-{uuid.uuid4().hex[:8]}",
            state=EndpointVariant.CREATING,
            current_weight=0.0,
            **variant,
        )


def _start_deployment(endpoint: Endpoint) -> None:
    """Once committed, start the deploy flow run; if it cannot start, say so on the endpoint."""

    flow_run_start_on_commit(
        endpoint,
        deployment=DEPLOYMENT,
        parameters={"endpoint_id": endpoint.pk},
        on_failure=lambda reason: endpoint_deployment_failed(
            endpoint_id=endpoint.pk, reason=reason
        ),
    )
