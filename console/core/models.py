"""The base of every SageMaker resource row: a name unique per owner, an ARN, timestamps."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OwnedResource(models.Model):
    """A named resource that belongs to one user. Staff see everyone's."""

    name = models.CharField(max_length=63)
    arn = models.CharField(max_length=256, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


class Job(OwnedResource):
    """A long-running resource executed by a Prefect flow run."""

    status = models.CharField(max_length=32, db_index=True)
    failure_reason = models.CharField(max_length=1024, blank=True, default="")
    spec = models.JSONField(default=dict)  # the request as the SageMaker API shapes it
    flow_run_id = models.UUIDField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    # Subclasses name their running and terminal statuses (SageMaker's enums differ per noun).
    ACTIVE_STATUSES: tuple[str, ...] = ("InProgress", "Stopping")
    TERMINAL_STATUSES: tuple[str, ...] = ("Completed", "Failed", "Stopped")
    # The service that ends a job of this kind without its flow run (the run could not start, or
    # the platform stopped under it), called as ``(job=, status=, reason=)``: a kind that records
    # more than ``console.core.services.job_end_without_flow`` does names its own.
    END_WITHOUT_FLOW = "console.core.services.job_end_without_flow"

    class Meta(OwnedResource.Meta):
        abstract = True


class JobLogBatch(models.Model):
    """A batch of a job's log lines, in order; the console joins them into the job's log. Each
    kind of job declares ``job``, its own foreign key with the related name ``log_batches``."""

    text = models.TextField()  # newline-terminated lines
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"log of {self.job_id} at {self.created_at}"


class ResourceTag(models.Model):
    """One tag of one resource, keyed by the resource's ARN: every kind of resource keeps its
    tags here (``console.core.tags``), so AddTags/ListTags/DeleteTags work on any ARN."""

    resource_arn = models.CharField(max_length=256, db_index=True)
    key = models.CharField(max_length=128)
    value = models.CharField(max_length=256, blank=True, default="")

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["resource_arn", "key"], name="tag_key_per_resource")
        ]

    def __str__(self) -> str:
        return f"{self.resource_arn} {self.key}={self.value}"
