"""Labeling jobs: items from an input manifest, labeled by people and by active learning."""

from django.db import models

from console.core.models import Job


class LabelingJob(Job):
    label_counters = models.JSONField(default=dict)

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="labeling_job_name_per_owner")
        ]
