"""Registered models: containers (image + artifact) that endpoints and transform jobs run."""

from django.db import models

from console.core.models import OwnedResource


class Model(OwnedResource):
    spec = models.JSONField(
        default=dict
    )  # PrimaryContainer / Containers / ... as CreateModel takes
    training_job_name = models.CharField(max_length=63, blank=True, default="")

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="model_name_per_owner")
        ]
