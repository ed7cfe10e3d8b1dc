"""Reads of registered models."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from console.core.selectors import get_owned, visible_to
from console.registry.models import Model


def model_list(*, user) -> QuerySet[Model]:
    return visible_to(Model.objects.all(), user)


def model_get(*, user, name: str) -> Model:
    return get_owned(Model.objects.all(), user=user, name=name, resource="Model", arn_type="model")


def model_containers(model: Model) -> list[dict[str, Any]]:
    """The model's containers in the order requests pass through them: the PrimaryContainer
    alone, or the ``Containers`` of a serial inference pipeline."""
    containers = model.spec.get("Containers") or [model.spec["PrimaryContainer"]]
    return [
        {
            "Image": container["Image"],
            "ModelDataUrl": container.get("ModelDataUrl", ""),
            "Environment": container.get("Environment", {}),
        }
        for container in containers
    ]


def model_describe(model: Model) -> dict[str, Any]:
    """The DescribeModel response."""
    spec = model.spec
    response: dict[str, Any] = {
        "ModelName": model.name,
        "ModelArn": model.arn,
        "CreationTime": model.created_at,
        "EnableNetworkIsolation": spec.get("EnableNetworkIsolation", False),
    }
    for field in ("PrimaryContainer", "Containers", "InferenceExecutionConfig", "ExecutionRoleArn"):
        if field in spec:
            response[field] = spec[field]
    return response
