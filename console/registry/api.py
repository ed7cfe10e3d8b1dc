"""REST adapter for models (`/api/v1/models/`) and the model registry
(`/api/v1/model-package-groups/`, `/api/v1/model-packages/`).

Creating takes the SageMaker request (CreateModelPackageGroup, CreateModelPackage) with
snake_case names; a group or package reads as its Describe response, snake_cased.
"""

from functools import partial

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from console.core.api import StrictJSONParser
from console.core.api_schema import LIST_FILTERS, describe_schema, request_schema, responses
from console.core.api_views import (
    Described,
    ResourceDetailView,
    ResourceListView,
    request_object,
)
from console.core.casing import from_snake
from console.registry.models import Model, ModelPackage, ModelPackageGroup
from console.registry.selectors import (
    model_describe,
    model_list,
    model_package_describe,
    model_package_get,
    model_package_group_describe,
    model_package_group_list,
    model_package_list,
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


class ModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Model
        fields = ["name", "arn", "spec", "training_job_name", "created_at", "updated_at"]


class ModelListView(ResourceListView):
    serializer_class = ModelSerializer
    selector = model_list
    create_service = model_create
    create_operation = "CreateModel"
    describe = model_describe
    describe_operation = "DescribeModel"


class ModelDetailView(ResourceDetailView):
    serializer_class = ModelSerializer
    selector = model_list
    describe = model_describe
    describe_operation = "DescribeModel"
    delete_service = model_delete


# The model registry: `/api/v1/model-package-groups/` and `/api/v1/model-packages/`.


class ModelPackageGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelPackageGroup
        fields = ["name", "arn", "description", "created_at", "updated_at"]


class ModelPackageGroupListView(ResourceListView):
    serializer_class = ModelPackageGroupSerializer
    selector = model_package_group_list
    create_service = model_package_group_create
    create_operation = "CreateModelPackageGroup"
    describe = model_package_group_describe
    describe_operation = "DescribeModelPackageGroup"


class ModelPackageGroupDetailView(ResourceDetailView):
    serializer_class = ModelPackageGroupSerializer
    selector = model_package_group_list
    describe = model_package_group_describe
    describe_operation = "DescribeModelPackageGroup"
    delete_service = model_package_group_delete


class ModelPackageSerializer(serializers.ModelSerializer):
    group = serializers.CharField(source="group.name", default=None, allow_null=True)

    class Meta:
        model = ModelPackage
        fields = [
            "name",
            "arn",
            "group",
            "version",
            "approval_status",
            "description",
            "source",
            "created_at",
            "updated_at",
        ]


PACKAGE_FILTERS = [
    OpenApiParameter("group", str, description="Only the versions of this model package group."),
    OpenApiParameter(
        "approval_status",
        str,
        enum=list(ModelPackage.APPROVAL_STATUSES),
        description="Only versions with this approval status.",
    ),
]


class ModelPackageListView(ResourceListView):
    """``GET /api/v1/model-packages/?group=&approval_status=`` (newest first); ``POST``
    registers one, as CreateModelPackage."""

    serializer_class = ModelPackageSerializer
    selector = model_package_list
    create_service = model_package_create
    create_operation = "CreateModelPackage"
    describe = model_package_describe
    describe_operation = "DescribeModelPackage"

    def get_queryset(self):
        packages = super().get_queryset()
        if group := self.request.query_params.get("group"):
            packages = packages.filter(group__name=group)
        if approval := self.request.query_params.get("approval_status"):
            packages = packages.filter(approval_status=approval)
        return packages


extend_schema_view(
    get=extend_schema(
        parameters=[*LIST_FILTERS, *PACKAGE_FILTERS],
        responses=responses({200: ModelPackageSerializer(many=True)}, 400),
    )
)(ModelPackageListView)


def _package_name(group: str | None, version: int | None, name: str | None) -> str:
    """``<group>/<version>`` for a version, else an unversioned package's name."""
    return f"{group}/{version}" if group else name


class _ModelPackageDetail(Described, APIView):
    describe = model_package_describe
    describe_operation = "DescribeModelPackage"

    def get(self, request, group=None, version=None, name=None):
        package = model_package_get(user=request.user, name=_package_name(group, version, name))
        return Response(self.described(package))

    def delete(self, request, group=None, version=None, name=None):
        model_package_delete(user=request.user, name=_package_name(group, version, name))
        return Response(status=status.HTTP_204_NO_CONTENT)


class _ModelPackageUpdate(Described, APIView):
    parser_classes = [StrictJSONParser]
    describe = model_package_describe
    describe_operation = "DescribeModelPackage"

    def post(self, request, group=None, version=None, name=None):
        package = model_package_get(user=request.user, name=_package_name(group, version, name))
        body = {**request_object(request), "model_package_arn": package.arn}
        updated = model_package_update(
            user=request.user, spec=from_snake("UpdateModelPackage", body)
        )
        return Response(self.described(updated))


def _documented_detail(view: type, operation: str):
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"{operation}_retrieve",
            responses=responses({200: describe_schema("DescribeModelPackage")}, 404),
        ),
        delete=extend_schema(
            operation_id=f"{operation}_destroy", responses=responses({204: None}, 404, 409)
        ),
    )(view)


def _documented_update(view: type, operation: str):
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"{operation}_update",
            request=request_schema("UpdateModelPackage", leave_out=("model_package_arn",)),
            responses=responses({200: describe_schema("DescribeModelPackage")}, 400, 404, 409, 415),
        )
    )(view)


@partial(_documented_detail, operation="v1_model_package_version")
class ModelPackageVersionView(_ModelPackageDetail):
    """``GET`` / ``DELETE`` ``/api/v1/model-packages/<group>/<version>/``: a version."""


@partial(_documented_update, operation="v1_model_package_version")
class ModelPackageVersionUpdateView(_ModelPackageUpdate):
    """``POST /api/v1/model-packages/<group>/<version>/update/`` with UpdateModelPackage's other
    members: approve or reject the version (``model_approval_status``,
    ``approval_description``), change its metadata."""


@partial(_documented_detail, operation="v1_unversioned_model_package")
class UnversionedModelPackageView(_ModelPackageDetail):
    """``GET`` / ``DELETE`` ``/api/v1/model-packages/<name>/``: an unversioned package."""


@partial(_documented_update, operation="v1_unversioned_model_package")
class UnversionedModelPackageUpdateView(_ModelPackageUpdate):
    """``POST /api/v1/model-packages/<name>/update/`` with UpdateModelPackage's other members."""
