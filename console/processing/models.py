"""Processing jobs: one row per CreateProcessingJob, updated by its flow run."""

from django.db import models

from console.core.models import Job, JobLogBatch


class ProcessingJob(Job):
    # The first KiB of what the script wrote to /opt/ml/output/message (each instance's, joined).
    exit_message = models.CharField(max_length=1024, blank=True, default="")
    # The resource that started the job, where one did (empty for a job created directly).
    training_job_arn = models.CharField(max_length=256, blank=True, default="")
    automl_job_arn = models.CharField(max_length=256, blank=True, default="")
    monitoring_schedule_arn = models.CharField(max_length=256, blank=True, default="")
    # [{"OutputName", "S3Uri", "Objects"}]: what was uploaded of each output, for the console.
    uploaded = models.JSONField(default=list)

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="processing_job_name_per_owner")
        ]


class ProcessingLog(JobLogBatch):
    job = models.ForeignKey(ProcessingJob, on_delete=models.CASCADE, related_name="log_batches")
