"""Hyperparameter tuning jobs; their trials are TrainingJob rows carrying the tuning job's ARN."""

from django.db import models

from console.core.models import Job


class HyperParameterTuningJob(Job):
    best_training_job_name = models.CharField(max_length=63, blank=True, default="")

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="tuning_job_name_per_owner")
        ]
