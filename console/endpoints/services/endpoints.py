"""Endpoints: create, update to another config (blue/green) and delete.

Create and update add new :class:`EndpointVariant` rows and start the ``endpoint-deploy`` flow
(:mod:`console.endpoints.services.deployment`), which brings their instances up, moves traffic
to them and retires the rows they replace.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from console.core.errors import AlreadyExists
from console.core.names import account_id_for, arn
from console.core.shapes import validate_request
from console.core.tags import resource_tags_set, tags_validate
from console.endpoints.models import Endpoint, EndpointConfig, EndpointVariant
from console.endpoints.selectors import endpoint_config_get, endpoint_get
from console.endpoints.services.deployment import (
    endpoint_deployment_start,
    endpoint_require_in_service,
)
from console.endpoints.services.serving import serving_variants_retire
from console.registry.selectors import model_containers, model_get


def endpoint_create(*, user, spec: dict[str, Any]) -> Endpoint:
    """CreateEndpoint: saved ``Creating``; the deploy flow brings it ``InService`` or ``Failed``."""
    validate_request("CreateEndpoint", spec)
    tags = tags_validate(spec.get("Tags"))
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
            resource_tags_set(resource_arn=endpoint.arn, tags=tags)
            endpoint_deployment_start(endpoint=endpoint)
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
        endpoint_require_in_service(endpoint, "update")
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
        endpoint_deployment_start(endpoint=endpoint)
    return endpoint


def endpoint_delete(*, user, name: str) -> None:
    """DeleteEndpoint, allowed in any status: its instances stop and the endpoint is gone."""
    with transaction.atomic():
        endpoint = endpoint_get(user=user, name=name, for_update=True)
        endpoint.status = "Deleting"
        endpoint.save(update_fields=["status", "updated_at"])
        deployments = list(endpoint.variants.values_list("deployment_id", flat=True))
        endpoint.delete()
        serving_variants_retire(deployment_ids=deployments)


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
