"""Endpoint configs (variants of models) and endpoints (hosted on Celery workers)."""

from django.db import models

from console.core.models import OwnedResource


class EndpointConfig(OwnedResource):
    spec = models.JSONField(default=dict)  # ProductionVariants, DataCaptureConfig, ...

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="endpoint_config_name_per_owner")
        ]


class Endpoint(OwnedResource):
    status = models.CharField(max_length=32, default="Creating", db_index=True)
    failure_reason = models.CharField(max_length=1024, blank=True, default="")
    config = models.ForeignKey(EndpointConfig, on_delete=models.PROTECT, related_name="endpoints")

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="endpoint_name_per_owner")
        ]
