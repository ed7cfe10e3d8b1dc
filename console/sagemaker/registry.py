"""SageMaker operations on models and on the model registry (model package groups, packages)."""

from contextlib import contextmanager

from console.core.errors import AlreadyExists, InvalidState, NotFound
from console.registry.selectors import (
    model_describe,
    model_get,
    model_list,
    model_package_describe,
    model_package_get,
    model_package_group_describe,
    model_package_group_get,
    model_package_group_list,
    model_package_group_summary,
    model_package_list,
    model_package_summary,
)
from console.registry.services import (
    model_create,
    model_delete,
    model_package_create,
    model_package_delete,
    model_package_group_create,
    model_package_group_delete,
    model_package_update,
)
from console.sagemaker.errors import AwsError, validation
from console.sagemaker.listing import list_page, page_response
from console.sagemaker.operations import operation


@operation("CreateModel")
def create_model(*, user, params: dict) -> dict:
    return {"ModelArn": model_create(user=user, spec=params).arn}


@operation("DescribeModel")
def describe_model(*, user, params: dict) -> dict:
    return model_describe(model_get(user=user, name=params["ModelName"]))


@operation("DeleteModel")
def delete_model(*, user, params: dict) -> dict:
    model_delete(user=user, name=params["ModelName"])
    return {}


@operation("ListModels")
def list_models(*, user, params: dict) -> dict:
    items, token = list_page(
        model_list(user=user),
        params,
        summary=lambda model: {
            "ModelName": model.name,
            "ModelArn": model.arn,
            "CreationTime": model.created_at,
        },
        sort_fields={"Name": "name", "CreationTime": "created_at"},
        status_field=None,
    )
    return page_response("Models", items, token)


# The model registry. SageMaker answers these nouns' unknown or duplicate names with a
# ValidationException of its own wording, and a group that still holds versions with a conflict.


@contextmanager
def _registry_errors():
    try:
        yield
    except NotFound as exc:
        if exc.resource not in ("ModelPackageGroup", "ModelPackage"):
            raise
        raise validation(f"{exc.resource} {exc.arn} does not exist.") from None
    except AlreadyExists as exc:
        raise validation(exc.message) from None
    except InvalidState as exc:
        raise AwsError("ConflictException", exc.message) from None


@operation("CreateModelPackageGroup")
def create_model_package_group(*, user, params: dict) -> dict:
    with _registry_errors():
        group = model_package_group_create(user=user, spec=params)
    return {"ModelPackageGroupArn": group.arn}


@operation("DescribeModelPackageGroup")
def describe_model_package_group(*, user, params: dict) -> dict:
    with _registry_errors():
        group = model_package_group_get(user=user, name=params["ModelPackageGroupName"])
    return model_package_group_describe(group)


@operation("DeleteModelPackageGroup")
def delete_model_package_group(*, user, params: dict) -> dict:
    with _registry_errors():
        model_package_group_delete(user=user, name=params["ModelPackageGroupName"])
    return {}


@operation("ListModelPackageGroups")
def list_model_package_groups(*, user, params: dict) -> dict:
    items, token = list_page(
        model_package_group_list(user=user),
        params,
        summary=model_package_group_summary,
        sort_fields={"Name": "name", "CreationTime": "created_at"},
        status_field=None,
    )
    return page_response("ModelPackageGroupSummaryList", items, token)


@operation("CreateModelPackage")
def create_model_package(*, user, params: dict) -> dict:
    with _registry_errors():
        package = model_package_create(user=user, spec=params)
    return {"ModelPackageArn": package.arn}


@operation("DescribeModelPackage")
def describe_model_package(*, user, params: dict) -> dict:
    with _registry_errors():
        package = model_package_get(user=user, name=params["ModelPackageName"])
    return model_package_describe(package)


@operation("UpdateModelPackage")
def update_model_package(*, user, params: dict) -> dict:
    with _registry_errors():
        package = model_package_update(user=user, spec=params)
    return {"ModelPackageArn": package.arn}


@operation("DeleteModelPackage")
def delete_model_package(*, user, params: dict) -> dict:
    with _registry_errors():
        model_package_delete(user=user, name=params["ModelPackageName"])
    return {}


@operation("ListModelPackages")
def list_model_packages(*, user, params: dict) -> dict:
    packages = model_package_list(user=user)
    if group_name := params.get("ModelPackageGroupName"):
        with _registry_errors():
            group = model_package_group_get(user=user, name=group_name)
        packages = packages.filter(group=group)
    # SageMaker lists unversioned packages unless asked otherwise; a group's are its versions.
    package_type = params.get("ModelPackageType", "Versioned" if group_name else "Unversioned")
    if package_type != "Both":
        packages = packages.filter(group__isnull=package_type == "Unversioned")
    if status := params.get("ModelApprovalStatus"):
        packages = packages.filter(approval_status=status)
    items, token = list_page(
        packages,
        params,
        summary=model_package_summary,
        sort_fields={"Name": "name", "CreationTime": "created_at"},
        status_field=None,
    )
    return page_response("ModelPackageSummaryList", items, token)
