"""Writes of registered models: CreateModel and DeleteModel."""

from __future__ import annotations

from typing import Any

from algorithms.registry import UnknownAlgorithm, resolve_image
from console.core.errors import AlreadyExists, ValidationError
from console.core.names import account_id_for, arn
from console.core.services import owned_resource_create
from console.core.shapes import validate_request
from console.registry.models import Model
from console.registry.selectors import model_get
from console.training.selectors import training_job_name_for_artifacts
from infra.storage import BucketNotFound, InvalidURI, get_store

ENVIRONMENT_MAX_BYTES = 32 * 1024


def model_create(*, user, spec: dict[str, Any]) -> Model:
    """Register a model: its containers' images must name an algorithm and their artifacts exist."""
    validate_request("CreateModel", spec)
    name = spec["ModelName"]
    for field, container in _containers(spec):
        _check_container(field, container)
    model_arn = arn("model", name, account_id=account_id_for(user.pk))
    return owned_resource_create(
        Model,
        owner=user,
        name=name,
        duplicate=AlreadyExists("Model", name, arn=model_arn),
        spec=spec,
        training_job_name=_training_job_name(user, spec),
    )


def model_delete(*, user, name: str) -> None:
    """Forget the model; its artifacts and any endpoint already hosting it are left alone."""
    model_get(user=user, name=name).delete()


def _containers(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    primary, pipeline = spec.get("PrimaryContainer"), spec.get("Containers")
    if primary and pipeline:
        raise ValidationError("Containers", "Specify PrimaryContainer or Containers, not both")
    if pipeline:
        return [(f"Containers.{index}", c) for index, c in enumerate(pipeline, start=1)]
    if primary:
        return [("PrimaryContainer", primary)]
    raise ValidationError("PrimaryContainer", "Specify PrimaryContainer or Containers")


def _check_container(field: str, container: dict[str, Any]) -> None:
    image = container.get("Image")
    if not image:
        raise ValidationError(f"{field}.Image", "Member must not be null")
    try:
        resolve_image(image)
    except UnknownAlgorithm as exc:
        raise ValidationError(f"{field}.Image", str(exc), value=image) from None
    url = container.get("ModelDataUrl")
    if not url:
        raise ValidationError(f"{field}.ModelDataUrl", "Member must not be null for this image")
    if not url.endswith(".tar.gz"):
        raise ValidationError(f"{field}.ModelDataUrl", "Member must be a single .tar.gz", value=url)
    try:
        found = get_store().exists(url)
    except InvalidURI as exc:
        raise ValidationError(f"{field}.ModelDataUrl", str(exc), value=url) from None
    except BucketNotFound:
        found = False
    if not found:
        rule = "Member must name an existing object"
        raise ValidationError(f"{field}.ModelDataUrl", rule, value=url)
    environment = container.get("Environment", {})
    size = sum(len(key) + len(value) for key, value in environment.items())
    if size > ENVIRONMENT_MAX_BYTES:
        raise ValidationError(
            f"{field}.Environment", f"Member must hold at most {ENVIRONMENT_MAX_BYTES} bytes in all"
        )


def _training_job_name(user, spec: dict[str, Any]) -> str:
    """The training job whose artifact the model serves, so the model page can link to it."""
    urls = [container.get("ModelDataUrl") for _, container in _containers(spec)]
    return training_job_name_for_artifacts(user=user, model_data_urls=urls)
