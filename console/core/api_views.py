"""REST views shared by every resource: list (filtered), create, detail, delete and stop by name.

Creating takes the SageMaker request of the resource's Create operation with snake_case names
and calls the same service as the SageMaker API; detail answers the Describe response, snake_cased.
Subclasses name their functions as class attributes (read through ``type(self)``, so that a
plain function is not bound as a method): ``selector``, ``describe``, ``create_service``,
``delete_service``, ``stop_service``. From them each view also offers only the methods it
implements and documents its answers (``console.core.api_schema``): no per-view annotation.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from console.core.api import StrictJSONParser
from console.core.api_schema import (
    LIST_FILTERS,
    ShapesSchema,
    describe_schema,
    request_schema,
    responses,
)
from console.core.casing import from_snake, to_snake

# What every job's REST representation starts with.
JOB_FIELDS = [
    "name",
    "arn",
    "status",
    "failure_reason",
    "flow_run_id",
    "created_at",
    "updated_at",
    "started_at",
    "ended_at",
]


def offering(view: type[APIView], **methods: bool) -> None:
    """Leave out of ``view`` the methods it does not implement: they answer 405 and the OpenAPI
    document does not advertise them."""
    view.http_method_names = [name for name in view.http_method_names if methods.get(name, True)]


def request_object(request) -> dict:
    """The request's JSON body, which must be an object."""
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError("Request body must be a JSON object.")
    return request.data


class Described:
    """The Describe response of one row, snake_cased, when the resource has one."""

    describe = None  # (row) -> the Describe<Resource> response
    describe_operation = ""  # e.g. "DescribeTrainingJob"
    described_extra: dict = {}  # JSON Schema of the members ``described`` adds to Describe's

    def described(self, row) -> dict:
        return to_snake(self.describe_operation, type(self).describe(row))

    @classmethod
    def detail_schema(cls):
        """What one resource reads as: its Describe shape, else its serializer."""
        if cls.describe is None:
            return cls.serializer_class
        return describe_schema(cls.describe_operation, **cls.described_extra)


class ResourceListView(Described, generics.ListAPIView):
    """``GET /api/v1/<resources>/?status=...&name_contains=...``; ``POST`` creates one."""

    selector = None  # a function (*, user) -> QuerySet
    create_service = None  # (*, user, spec) -> row; without one, no POST
    create_operation = ""  # e.g. "CreateTrainingJob": POST takes its request, snake_cased
    parser_classes = [StrictJSONParser]
    schema = ShapesSchema()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.selector is None:
            return  # an abstract base
        offering(cls, post=cls.create_service is not None)
        documented = {
            "get": extend_schema(
                parameters=LIST_FILTERS,
                responses=responses({200: cls.serializer_class(many=True)}, 400),
            )
        }
        if cls.create_service is not None:
            documented["post"] = extend_schema(
                request=request_schema(cls.create_operation),
                responses=responses({201: cls.detail_schema()}, 400, 404, 409, 415),
            )
        extend_schema_view(**documented)(cls)

    def get_queryset(self):
        queryset = type(self).selector(user=self.request.user)
        status = self.request.query_params.get("status")
        if status and any(field.name == "status" for field in queryset.model._meta.fields):
            queryset = queryset.filter(status=status)
        if name := self.request.query_params.get("name_contains"):
            queryset = queryset.filter(name__icontains=name)
        return queryset.order_by("-created_at", "-pk")

    def post(self, request):
        spec = from_snake(self.create_operation, request.data)
        row = type(self).create_service(user=request.user, spec=spec)
        return Response(self.described(row), status=status.HTTP_201_CREATED)


class ResourceDetailView(Described, generics.RetrieveAPIView):
    """``GET /api/v1/<resources>/<name>/``; ``DELETE`` where the resource can be deleted."""

    selector = None
    delete_service = None  # (*, user, name) -> None; without one, no DELETE
    lookup_field = "name"

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.selector is None:
            return
        offering(cls, delete=cls.delete_service is not None)
        documented = {"get": extend_schema(responses=responses({200: cls.detail_schema()}, 404))}
        if cls.delete_service is not None:
            documented["delete"] = extend_schema(responses=responses({204: None}, 404, 409))
        extend_schema_view(**documented)(cls)

    def get_queryset(self):
        return type(self).selector(user=self.request.user)

    def retrieve(self, request, *args, **kwargs):
        if type(self).describe is None:
            return super().retrieve(request, *args, **kwargs)
        return Response(self.described(self.get_object()))

    def delete(self, request, name: str):
        type(self).delete_service(user=request.user, name=name)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResourceStopView(APIView):
    """``POST /api/v1/<resources>/<name>/stop/``."""

    stop_service = None  # (*, user, name) -> None

    @extend_schema(
        request=None,
        responses=responses({202: None}, 404, 409),
        description="Stop the job by name.",
    )
    def post(self, request, name: str):
        type(self).stop_service(user=request.user, name=name)
        return Response(status=status.HTTP_202_ACCEPTED)
