"""Training jobs: one row per CreateTrainingJob, updated by its flow run."""

from django.db import models

from console.core.models import Job


class TrainingJob(Job):
    secondary_status = models.CharField(max_length=32, default="Starting")
    # [{"Status", "StartTime", "EndTime", "StatusMessage"}], as DescribeTrainingJob returns them.
    secondary_status_transitions = models.JSONField(default=list)
    tuning_job_arn = models.CharField(max_length=256, blank=True, default="")
    model_artifacts = models.CharField(max_length=1024, blank=True, default="")
    final_metrics = models.JSONField(default=dict)  # {metric name: final value}

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="training_job_name_per_owner")
        ]
