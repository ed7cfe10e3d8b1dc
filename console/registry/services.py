"""Writes of registered models (CreateModel, DeleteModel) and of the model registry: model
package groups and their versions, approved or rejected."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from algorithms.registry import UnknownAlgorithm, resolve_image
from console.buckets.selectors import bucket_check_request
from console.core.errors import AlreadyExists, InvalidState, NotFound, ValidationError
from console.core.names import account_id_for, arn
from console.core.services import owned_resource_create
from console.core.shapes import validate_request
from console.core.tags import resource_tags_set, tags_validate
from console.registry.models import Model, ModelPackage, ModelPackageGroup
from console.registry.selectors import (
    model_get,
    model_package_containers,
    model_package_get,
    model_package_group_get,
)
from console.training.selectors import training_job_name_for_artifacts
from infra.storage import BucketNotFound, InvalidURI, get_store, parse_object_uri

ENVIRONMENT_MAX_BYTES = 32 * 1024


def model_create(*, user, spec: dict[str, Any]) -> Model:
    """Register a model: its containers' images must name an algorithm and their artifacts exist.
    A container may instead name a ModelPackageName: an Approved version (or an unversioned
    package), whose containers the model runs."""
    validate_request("CreateModel", spec)
    bucket_check_request(user=user, request=spec)
    name = spec["ModelName"]
    _containers(spec)  # PrimaryContainer or Containers, not both
    spec = _with_package_containers(user, spec)
    for field, container in _containers(spec):
        _check_container(field, container)
    model_arn = arn("model", name, account_id=account_id_for(user.pk))
    return owned_resource_create(
        Model,
        owner=user,
        tags=spec.get("Tags"),
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


def _with_package_containers(user, spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with each container that names a model package replaced by the package's
    containers (each keeping the package's ARN in ``ModelPackageName``)."""
    resolved = dict(spec)
    primary = spec.get("PrimaryContainer")
    if primary and "ModelPackageName" in primary:
        containers = _package_containers(user, "PrimaryContainer", primary)
        if len(containers) == 1:
            resolved["PrimaryContainer"] = containers[0]
        else:
            del resolved["PrimaryContainer"]
            resolved["Containers"] = containers
    if pipeline := spec.get("Containers"):
        resolved["Containers"] = [
            resolved_container
            for index, container in enumerate(pipeline, start=1)
            for resolved_container in (
                _package_containers(user, f"Containers.{index}", container)
                if "ModelPackageName" in container
                else [container]
            )
        ]
    return resolved


def _package_containers(user, field: str, container: dict[str, Any]) -> list[dict[str, Any]]:
    package_name = container["ModelPackageName"]
    field = f"{field}.ModelPackageName"
    try:
        package = model_package_get(user=user, name=package_name)
    except NotFound:
        rule = "Member must name an existing model package"
        raise ValidationError(field, rule, value=package_name) from None
    if package.versioned and package.approval_status != "Approved":
        raise ValidationError(
            field,
            f"Model package {package.arn} is {package.approval_status}: only an Approved "
            "model package version can be deployed",
            value=package_name,
        )
    environment = container.get("Environment", {})
    return [
        {
            **packaged,
            "Environment": {**packaged.get("Environment", {}), **environment},
            "ModelPackageName": package.arn,
        }
        for packaged in model_package_containers(package)
    ]


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


# Model package groups and model packages: the model registry.

APPROVAL_DEFAULT = "PendingManualApproval"
VERSIONED_ONLY_RULE = "Member applies to versioned model packages (in a ModelPackageGroupName) only"


def model_package_group_create(*, user, spec: dict[str, Any]) -> ModelPackageGroup:
    """Create an empty model package group, to which versions are then registered."""
    validate_request("CreateModelPackageGroup", spec)
    name = spec["ModelPackageGroupName"]
    group_arn = arn("model-package-group", name, account_id=account_id_for(user.pk))
    return owned_resource_create(
        ModelPackageGroup,
        owner=user,
        tags=spec.get("Tags"),
        name=name,
        duplicate=AlreadyExists(
            "ModelPackageGroup",
            name,
            arn=group_arn,
            message=f"Model Package Group already exists: {group_arn}",
        ),
        description=spec.get("ModelPackageGroupDescription", ""),
    )


def model_package_group_delete(*, user, name: str) -> None:
    """Delete an empty group; one that still holds versions is refused, as SageMaker does."""
    with transaction.atomic():
        group = model_package_group_get(user=user, name=name, for_update=True)
        held = group.packages.count()
        if held:
            raise InvalidState(
                f"Model Package Group {group.arn} cannot be deleted: it holds {held} model "
                "package version(s); delete them first."
            )
        group.delete()


def model_package_create(*, user, spec: dict[str, Any], source: str = "") -> ModelPackage:
    """Register a model package: version N+1 of ``ModelPackageGroupName``, or an unversioned
    package named ``ModelPackageName``. ``source`` is the ARN of what produced it (a pipeline
    execution, a training or tuning job) when the caller knows it; else it is taken from
    ``MetadataProperties.GeneratedBy``, or the training job whose artifact the package serves."""
    validate_request("CreateModelPackage", spec)
    bucket_check_request(user=user, request=spec)
    tags = tags_validate(spec.get("Tags"))
    group_name, name = spec.get("ModelPackageGroupName"), spec.get("ModelPackageName")
    if group_name and name:
        raise ValidationError(
            "ModelPackageName",
            "Specify ModelPackageGroupName (a versioned package) or ModelPackageName "
            "(an unversioned one), not both",
        )
    if not group_name and not name:
        raise ValidationError(
            "ModelPackageGroupName",
            "Specify ModelPackageGroupName (a versioned package) or ModelPackageName "
            "(an unversioned one)",
        )
    if name and "ModelApprovalStatus" in spec:
        raise ValidationError("ModelApprovalStatus", VERSIONED_ONLY_RULE)
    if "SourceAlgorithmSpecification" in spec:
        raise ValidationError(
            "SourceAlgorithmSpecification",
            "Algorithm resources are not supported by this platform; give InferenceSpecification",
        )
    urls = _check_inference_specification(spec.get("InferenceSpecification"))
    _check_metrics(spec.get("ModelMetrics", {}))
    training_job_name = training_job_name_for_artifacts(user=user, model_data_urls=urls)
    fields = {
        "description": spec.get("ModelPackageDescription", ""),
        "spec": spec,
        "customer_metadata": spec.get("CustomerMetadataProperties", {}),
        "source": source or _source(user, spec, training_job_name),
        "training_job_name": training_job_name,
    }
    if name:
        return _unversioned_package_create(user=user, name=name, fields=fields, tags=tags)
    with transaction.atomic():
        group = model_package_group_get(user=user, name=group_name, for_update=True)
        group.latest_version += 1
        group.save(update_fields=["latest_version", "updated_at"])
        package = ModelPackage.objects.create(
            owner=user,
            name=group.name,
            arn=arn(
                "model-package",
                f"{group.name}/{group.latest_version}",
                account_id=account_id_for(group.owner_id),
            ),
            group=group,
            version=group.latest_version,
            approval_status=spec.get("ModelApprovalStatus", APPROVAL_DEFAULT),
            **fields,
        )
        resource_tags_set(resource_arn=package.arn, tags=tags)
        return package


def model_package_update(*, user, spec: dict[str, Any]) -> ModelPackage:
    """UpdateModelPackage: approve or reject a version (with ApprovalDescription), and change
    its customer metadata, inference specification, source URI, model card or life cycle."""
    validate_request("UpdateModelPackage", spec)
    with transaction.atomic():
        package = model_package_get(user=user, name=spec["ModelPackageArn"], for_update=True)
        if "ModelApprovalStatus" in spec:
            if not package.versioned:
                raise ValidationError("ModelApprovalStatus", VERSIONED_ONLY_RULE)
            package.approval_status = spec["ModelApprovalStatus"]
        if "ApprovalDescription" in spec:
            package.approval_description = spec["ApprovalDescription"]
        metadata = {**package.customer_metadata, **spec.get("CustomerMetadataProperties", {})}
        for key in spec.get("CustomerMetadataPropertiesToRemove", []):
            metadata.pop(key, None)
        package.customer_metadata = metadata
        stored = dict(package.spec)
        if "InferenceSpecification" in spec:
            _check_inference_specification(spec["InferenceSpecification"])
            stored["InferenceSpecification"] = spec["InferenceSpecification"]
        if added := spec.get("AdditionalInferenceSpecificationsToAdd"):
            stored["AdditionalInferenceSpecifications"] = [
                *stored.get("AdditionalInferenceSpecifications", []),
                *added,
            ]
        for field in ("SourceUri", "ModelCard", "ModelLifeCycle"):
            if field in spec:
                stored[field] = spec[field]
        package.spec = stored
        package.last_modified_by = user.get_username()
        package.save()
        return package


def model_package_delete(*, user, name: str) -> None:
    """Delete a model package (by ARN, ``<group>/<version>`` or name); models created from it
    keep their containers."""
    model_package_get(user=user, name=name).delete()


def _unversioned_package_create(
    *, user, name: str, fields: dict[str, Any], tags: list[dict[str, str]]
) -> ModelPackage:
    package_arn = arn("model-package", name, account_id=account_id_for(user.pk))
    duplicate = AlreadyExists("ModelPackage", name, arn=package_arn)
    if ModelPackage.objects.filter(owner=user, name=name, group__isnull=True).exists():
        raise duplicate
    try:
        with transaction.atomic():
            package = ModelPackage.objects.create(owner=user, name=name, arn=package_arn, **fields)
            resource_tags_set(resource_arn=package.arn, tags=tags)
            return package
    except IntegrityError:
        raise duplicate from None


def _check_inference_specification(inference: dict[str, Any] | None) -> list[str]:
    """Each container must be one CreateModel would take; returns their ModelDataUrls."""
    if not inference:
        raise ValidationError("InferenceSpecification", "Member must not be null")
    containers = inference["Containers"]
    if not containers:
        raise ValidationError(
            "InferenceSpecification.Containers",
            "Member must have length greater than or equal to 1",
        )
    for index, container in enumerate(containers, start=1):
        _check_container(f"InferenceSpecification.Containers.{index}", container)
    return [container["ModelDataUrl"] for container in containers]


def _check_metrics(metrics: dict[str, Any]) -> None:
    for kind, reports in metrics.items():
        for report, metrics_source in reports.items():
            if not isinstance(metrics_source, dict) or "S3Uri" not in metrics_source:
                continue
            try:
                parse_object_uri(metrics_source["S3Uri"])
            except InvalidURI as exc:
                field = f"ModelMetrics.{kind}.{report}.S3Uri"
                raise ValidationError(field, str(exc), value=metrics_source["S3Uri"]) from None


def _source(user, spec: dict[str, Any], training_job_name: str) -> str:
    if generated_by := spec.get("MetadataProperties", {}).get("GeneratedBy"):
        return generated_by
    if training_job_name:
        return arn("training-job", training_job_name, account_id=account_id_for(user.pk))
    return ""
