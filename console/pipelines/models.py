"""Pipelines (a definition of steps) and their executions."""

from django.db import models

from console.core.models import Job, OwnedResource


class Pipeline(OwnedResource):
    name = models.CharField(max_length=256)
    definition = models.JSONField(default=dict)
    status = models.CharField(max_length=16, default="Active")

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="pipeline_name_per_owner")
        ]


class PipelineExecution(Job):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="executions")
    ACTIVE_STATUSES = ("Executing", "Stopping")
