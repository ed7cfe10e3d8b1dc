"""Endpoint configs: CreateEndpointConfig's checks and rows, and deleting them."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from console.buckets.selectors import bucket_check_request
from console.core.errors import AlreadyExists, ValidationError
from console.core.names import account_id_for, arn
from console.core.shapes import validate_request
from console.core.tags import resource_tags_set, tags_validate
from console.endpoints.models import EndpointConfig
from console.endpoints.selectors import endpoint_config_get
from console.registry.selectors import model_get

MAX_INSTANCES_PER_VARIANT = 10  # processes on one machine; raise with more hosts


def endpoint_config_create(*, user, spec: dict[str, Any]) -> EndpointConfig:
    """CreateEndpointConfig: 1-10 variants, each naming an existing model, weights not all 0."""
    validate_request("CreateEndpointConfig", spec)
    bucket_check_request(user=user, request=spec)
    tags = tags_validate(spec.get("Tags"))
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
            config = EndpointConfig.objects.create(owner=user, name=name, arn=config_arn, spec=spec)
            resource_tags_set(resource_arn=config.arn, tags=tags)
            return config
    except IntegrityError:
        raise AlreadyExists("EndpointConfig", name, arn=config_arn) from None


def endpoint_config_delete(*, user, name: str) -> None:
    """Forget the config; endpoints already serving it keep serving."""
    endpoint_config_get(user=user, name=name).delete()
