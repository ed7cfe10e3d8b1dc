"""Hyperparameter tuning jobs; their trials are TrainingJob rows carrying the tuning job's ARN."""

from django.db import models

from console.core.models import Job


class HyperParameterTuningJob(Job):
    # Kept current by the flow, so that lists need not read every trial.
    best_training_job_name = models.CharField(max_length=63, blank=True, default="")
    # Which TuningJobCompletionCriteria ended the job early ("" when none did).
    completion_reason = models.CharField(max_length=64, blank=True, default="")
    # TuningJobCompletionDetails, as DescribeHyperParameterTuningJob returns them.
    jobs_not_improving = models.PositiveIntegerField(default=0)
    convergence_detected_at = models.DateTimeField(null=True, blank=True)

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="tuning_job_name_per_owner")
        ]
