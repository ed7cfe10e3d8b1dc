"""REST views shared by every resource: list (filtered), create, detail, delete and stop by name.

Creating takes the SageMaker request of the resource's Create operation with snake_case names
and calls the same service as the SageMaker API; detail answers the Describe response, snake_cased.
Subclasses name their functions as class attributes (read through ``type(self)``, so that a
plain function is not bound as a method): ``selector``, ``describe``, ``create_service``,
``delete_service``, ``stop_service``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response
from rest_framework.views import APIView

from console.core.shapes import from_snake, to_snake

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


class Described:
    """The Describe response of one row, snake_cased, when the resource has one."""

    describe = None  # (row) -> the Describe<Resource> response
    describe_operation = ""  # e.g. "DescribeTrainingJob"

    def described(self, row) -> dict:
        return to_snake(self.describe_operation, type(self).describe(row))


class ResourceListView(Described, generics.ListAPIView):
    """``GET /api/v1/<resources>/?status=...&name_contains=...``; ``POST`` creates one."""

    selector = None  # a function (*, user) -> QuerySet
    create_service = None  # (*, user, spec) -> row
    create_operation = ""  # e.g. "CreateTrainingJob": POST takes its request, snake_cased

    def get_queryset(self):
        queryset = type(self).selector(user=self.request.user)
        status = self.request.query_params.get("status")
        if status and any(field.name == "status" for field in queryset.model._meta.fields):
            queryset = queryset.filter(status=status)
        if name := self.request.query_params.get("name_contains"):
            queryset = queryset.filter(name__icontains=name)
        return queryset.order_by("-created_at", "-pk")

    def post(self, request):
        if type(self).create_service is None:
            raise MethodNotAllowed("POST")
        spec = from_snake(self.create_operation, request.data)
        row = type(self).create_service(user=request.user, spec=spec)
        return Response(self.described(row), status=status.HTTP_201_CREATED)


class ResourceDetailView(Described, generics.RetrieveAPIView):
    """``GET /api/v1/<resources>/<name>/``; ``DELETE`` where the resource can be deleted."""

    selector = None
    delete_service = None  # (*, user, name) -> None
    lookup_field = "name"

    def get_queryset(self):
        return type(self).selector(user=self.request.user)

    def retrieve(self, request, *args, **kwargs):
        if type(self).describe is None:
            return super().retrieve(request, *args, **kwargs)
        return Response(self.described(self.get_object()))

    def delete(self, request, name: str):
        if type(self).delete_service is None:
            raise MethodNotAllowed("DELETE")
        type(self).delete_service(user=request.user, name=name)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ResourceStopView(APIView):
    """``POST /api/v1/<resources>/<name>/stop/``."""

    stop_service = None  # (*, user, name) -> None

    @extend_schema(request=None, responses={202: None}, description="Stop the job by name.")
    def post(self, request, name: str):
        type(self).stop_service(user=request.user, name=name)
        return Response(status=status.HTTP_202_ACCEPTED)
