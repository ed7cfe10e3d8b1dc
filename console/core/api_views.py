"""Read-only REST views shared by every resource: list (filtered) and detail by name."""

from __future__ import annotations

from rest_framework import generics

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


class ResourceListView(generics.ListAPIView):
    """``GET /api/v1/<resources>/?status=...&name_contains=...``; subclasses set ``selector``."""

    selector = None  # a function (*, user) -> QuerySet

    def get_queryset(self):
        queryset = type(self).selector(user=self.request.user)
        status = self.request.query_params.get("status")
        if status and any(field.name == "status" for field in queryset.model._meta.fields):
            queryset = queryset.filter(status=status)
        if name := self.request.query_params.get("name_contains"):
            queryset = queryset.filter(name__icontains=name)
        return queryset.order_by("-created_at", "-pk")


class ResourceDetailView(generics.RetrieveAPIView):
    """``GET /api/v1/<resources>/<name>/``."""

    selector = None
    lookup_field = "name"

    def get_queryset(self):
        return type(self).selector(user=self.request.user)
