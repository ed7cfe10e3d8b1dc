"""Endpoint configs (variants of models) and endpoints (hosted on Celery worker instances).

An endpoint's variants are rows of :class:`EndpointVariant`, one per deployment of a config's
``ProductionVariant``: an update deploys new rows beside the serving ones (``Creating``), moves
traffic to them (``Active``) and retires the old (``Retiring``, then deleted). Each row's
``deployment_id`` names its queue and instances in :mod:`infra.serving`.
"""

from django.db import models

from console.core.models import OwnedResource


class EndpointConfig(OwnedResource):
    spec = models.JSONField(default=dict)  # the CreateEndpointConfig request

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="endpoint_config_name_per_owner")
        ]


class Endpoint(OwnedResource):
    ACTIVE_STATUSES = ("Creating", "Updating")

    status = models.CharField(max_length=32, default="Creating", db_index=True)
    failure_reason = models.CharField(max_length=1024, blank=True, default="")
    # The config it serves; kept by name too, since a config may be deleted while in use.
    config = models.ForeignKey(
        EndpointConfig, null=True, on_delete=models.SET_NULL, related_name="endpoints"
    )
    config_name = models.CharField(max_length=63, default="")
    pending_config_name = models.CharField(max_length=63, blank=True, default="")
    flow_run_id = models.UUIDField(null=True, blank=True)
    deployment_started_at = models.DateTimeField(null=True, blank=True)

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="endpoint_name_per_owner")
        ]


class EndpointVariant(models.Model):
    CREATING, ACTIVE, RETIRING = "Creating", "Active", "Retiring"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=63)
    deployment_id = models.CharField(max_length=100, unique=True)
    model_name = models.CharField(max_length=63)
    containers = models.JSONField(default=list)  # the model's containers when deployed
    instance_type = models.CharField(max_length=64, default="ml.m5.large")
    current_weight = models.FloatField(default=1.0)
    desired_weight = models.FloatField(default=1.0)
    desired_instance_count = models.PositiveIntegerField(default=1)
    # The variant's scalable target and scaling policies, or None
    # (see console.endpoints.services.autoscaling).
    autoscaling = models.JSONField(null=True, blank=True)
    state = models.CharField(max_length=16, default=CREATING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.endpoint.name}/{self.name}"
