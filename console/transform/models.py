"""Batch transform jobs, executed on Dask by their flow run."""

from django.db import models

from console.core.models import Job, JobLogBatch


class TransformJob(Job):
    model_name = models.CharField(max_length=63)
    # The model's containers as they were when the job was created: the job runs those, even if
    # the model is deleted or re-registered meanwhile.
    containers = models.JSONField(default=list)
    # Records and bytes done in total and per object, and the Dask dashboard while it runs.
    progress = models.JSONField(default=dict)
    # The labeling job whose automated labeling created this job, as SageMaker's LabelingJobArn.
    labeling_job_arn = models.CharField(max_length=256, blank=True, default="", db_index=True)

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="transform_job_name_per_owner")
        ]


class TransformLog(JobLogBatch):
    job = models.ForeignKey(TransformJob, on_delete=models.CASCADE, related_name="log_batches")
