"""Batch transform jobs, executed on Dask by their flow run."""

from django.db import models

from console.core.models import Job


class TransformJob(Job):
    model_name = models.CharField(max_length=63)
    progress = models.JSONField(default=dict)  # records/bytes done per object and in total

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="transform_job_name_per_owner")
        ]
