"""Reads of registered models and of the model registry: package groups and their versions."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet

from console.core.errors import NotFound
from console.core.names import account_id_for, arn
from console.core.selectors import get_owned, visible_to
from console.registry.models import Model, ModelPackage, ModelPackageGroup


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


# Model package groups and model packages.

VERSIONED_PACKAGE = re.compile(
    r"^(?P<group>[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})/(?P<version>[0-9]{1,9})$"
)


def model_package_group_list(*, user) -> QuerySet[ModelPackageGroup]:
    return visible_to(ModelPackageGroup.objects.all(), user)


def model_package_group_get(*, user, name: str, for_update: bool = False) -> ModelPackageGroup:
    """The caller's group by name or ARN."""
    groups = model_package_group_list(user=user)
    group_name = name
    if name.startswith("arn:"):
        groups = groups.filter(arn__iexact=name)
        group_name = name.rpartition("/")[2]
    else:
        groups = groups.filter(name=name)
    group = (groups.select_for_update() if for_update else groups).first()
    if group is None:
        raise NotFound(
            "ModelPackageGroup",
            group_name,
            arn=name if name.startswith("arn:") else _arn_for(user, "model-package-group", name),
        )
    return group


def model_package_list(*, user) -> QuerySet[ModelPackage]:
    return visible_to(ModelPackage.objects.select_related("group"), user)


def model_package_get(*, user, name: str, for_update: bool = False) -> ModelPackage:
    """The caller's model package by ARN, ``<group>/<version>``, or an unversioned
    package's name."""
    packages = model_package_list(user=user)
    if name.startswith("arn:"):
        packages = packages.filter(arn__iexact=name)
        missing_arn = name
    elif match := VERSIONED_PACKAGE.match(name):
        packages = packages.filter(group__name=match["group"], version=int(match["version"]))
        missing_arn = _arn_for(user, "model-package", name)
    else:
        packages = packages.filter(name=name, group__isnull=True)
        missing_arn = _arn_for(user, "model-package", name)
    package = (packages.select_for_update(of=("self",)) if for_update else packages).first()
    if package is None:
        raise NotFound("ModelPackage", name, arn=missing_arn)
    return package


def model_package_versions(group: ModelPackageGroup) -> QuerySet[ModelPackage]:
    """The group's versions, newest first."""
    return group.packages.order_by("-version")


def _arn_for(user, resource_type: str, name: str) -> str:
    return arn(resource_type, name, account_id=account_id_for(user.pk))


def model_package_group_describe(group: ModelPackageGroup) -> dict[str, Any]:
    """The DescribeModelPackageGroup response."""
    return {
        "ModelPackageGroupName": group.name,
        "ModelPackageGroupArn": group.arn,
        "ModelPackageGroupDescription": group.description,
        "CreationTime": group.created_at,
        "CreatedBy": _user_context(group.owner),
        "ModelPackageGroupStatus": "Completed",
    }


def model_package_group_summary(group: ModelPackageGroup) -> dict[str, Any]:
    """The group as ListModelPackageGroups lists it."""
    return {
        "ModelPackageGroupName": group.name,
        "ModelPackageGroupArn": group.arn,
        "ModelPackageGroupDescription": group.description,
        "CreationTime": group.created_at,
        "ModelPackageGroupStatus": "Completed",
    }


def model_package_summary(package: ModelPackage) -> dict[str, Any]:
    """The package as ListModelPackages lists it."""
    summary: dict[str, Any] = {
        "ModelPackageName": package.name,
        "ModelPackageArn": package.arn,
        "ModelPackageDescription": package.description,
        "CreationTime": package.created_at,
        "ModelPackageStatus": "Completed",
    }
    if package.versioned:
        summary["ModelPackageGroupName"] = package.group.name
        summary["ModelPackageVersion"] = package.version
        summary["ModelApprovalStatus"] = package.approval_status
    return summary


# The CreateModelPackage members that DescribeModelPackage returns as they were given.
DESCRIBED_AS_GIVEN = (
    "InferenceSpecification",
    "SourceAlgorithmSpecification",
    "ValidationSpecification",
    "MetadataProperties",
    "ModelMetrics",
    "Domain",
    "Task",
    "SamplePayloadUrl",
    "DriftCheckBaselines",
    "AdditionalInferenceSpecifications",
    "SourceUri",
    "SecurityConfig",
    "ModelCard",
    "ModelLifeCycle",
)


def model_package_describe(package: ModelPackage) -> dict[str, Any]:
    """The DescribeModelPackage response."""
    spec = package.spec
    response: dict[str, Any] = {
        "ModelPackageName": package.name,
        "ModelPackageArn": package.arn,
        "ModelPackageDescription": package.description,
        "CreationTime": package.created_at,
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
        "CertifyForMarketplace": spec.get("CertifyForMarketplace", False),
        "CreatedBy": _user_context(package.owner),
        "LastModifiedTime": package.updated_at,
        "ModelPackageRegistrationType": spec.get("ModelPackageRegistrationType", "Registered"),
        "SkipModelValidation": spec.get("SkipModelValidation", "None"),
    }
    if package.versioned:
        response["ModelPackageGroupName"] = package.group.name
        response["ModelPackageVersion"] = package.version
        response["ModelApprovalStatus"] = package.approval_status
        response["ApprovalDescription"] = package.approval_description
    if package.last_modified_by:
        response["LastModifiedBy"] = {"UserProfileName": package.last_modified_by}
    for field in DESCRIBED_AS_GIVEN:
        if field in spec:
            response[field] = spec[field]
    response["CustomerMetadataProperties"] = package.customer_metadata
    return response


def model_package_containers(package: ModelPackage) -> list[dict[str, Any]]:
    """The package's inference containers, as CreateModel takes them."""
    return [
        {
            key: container[key]
            for key in ("Image", "ModelDataUrl", "Environment")
            if key in container
        }
        for container in package.spec.get("InferenceSpecification", {}).get("Containers", [])
    ]


def model_package_metric_sources(package: ModelPackage) -> list[dict[str, str]]:
    """Every metrics report the package was registered with: ``{"kind", "report", "S3Uri",
    "ContentType"}``, e.g. kind ``ModelQuality`` and report ``Statistics``."""
    sources = []
    for kind, reports in package.spec.get("ModelMetrics", {}).items():
        for report, source in reports.items():
            if isinstance(source, dict) and "S3Uri" in source:
                sources.append(
                    {
                        "kind": kind,
                        "report": report,
                        "S3Uri": source["S3Uri"],
                        "ContentType": source.get("ContentType", ""),
                    }
                )
    return sources


def _user_context(user) -> dict[str, str]:
    return {"UserProfileName": user.get_username()}
