"""Training jobs: one row per CreateTrainingJob, updated by its flow run."""

from django.db import models

from console.core.models import Job, JobLogBatch


class TrainingJob(Job):
    secondary_status = models.CharField(max_length=32, default="Starting")
    # [{"Status", "StartTime", "EndTime", "StatusMessage"}], as DescribeTrainingJob returns them.
    secondary_status_transitions = models.JSONField(default=list)
    tuning_job_arn = models.CharField(max_length=256, blank=True, default="")
    # The labeling job whose automated labeling created this job, as SageMaker's LabelingJobArn.
    labeling_job_arn = models.CharField(max_length=256, blank=True, default="", db_index=True)
    model_artifacts = models.CharField(max_length=1024, blank=True, default="")
    final_metrics = models.JSONField(default=dict)  # {metric name: final value}

    END_WITHOUT_FLOW = "console.training.services.training_job_end_without_flow"

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="training_job_name_per_owner")
        ]


class TrainingMetric(models.Model):
    """One value of one metric, recorded while the job runs (per iteration or epoch)."""

    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=255)
    step = models.PositiveIntegerField(null=True, blank=True)  # iteration or epoch, from 1
    value = models.FloatField()
    timestamp = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["job", "name", "step"])]

    def __str__(self) -> str:
        return f"{self.name}[{self.step}] = {self.value}"


class TrainingLog(JobLogBatch):
    job = models.ForeignKey(TrainingJob, on_delete=models.CASCADE, related_name="log_batches")
