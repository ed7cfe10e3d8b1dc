"""Pipelines (a definition of steps), their executions and each execution's steps."""

from django.db import models

from console.core.models import Job, OwnedResource


class Pipeline(OwnedResource):
    name = models.CharField(max_length=256)
    definition = models.JSONField(default=dict)  # the definition document, parsed
    status = models.CharField(max_length=16, default="Active")
    display_name = models.CharField(max_length=256, blank=True, default="")
    description = models.CharField(max_length=3072, blank=True, default="")
    role_arn = models.CharField(max_length=2048, blank=True, default="")
    parallelism = models.JSONField(default=dict)  # ParallelismConfiguration
    tags = models.JSONField(default=list)
    client_request_token = models.CharField(max_length=36, blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="pipeline_name_per_owner")
        ]


class PipelineExecution(Job):
    """One run of a pipeline; ``name`` is its execution id, ``spec`` the StartPipelineExecution
    request, ``definition`` the pipeline's definition as it was when the run started."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="executions")
    display_name = models.CharField(max_length=82, blank=True, default="")
    description = models.CharField(max_length=3072, blank=True, default="")
    definition = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict)  # every parameter's value, defaults filled in
    client_request_token = models.CharField(max_length=36, blank=True, default="")
    ACTIVE_STATUSES = ("Executing", "Stopping")
    TERMINAL_STATUSES = ("Succeeded", "Failed", "Stopped")
    END_WITHOUT_FLOW = "console.pipelines.services.pipeline_execution_end_without_flow"


class PipelineExecutionStep(models.Model):
    """One step of an execution as ListPipelineExecutionSteps shows it, with what later steps
    read from it (``properties``: its job's Describe* response) and its cache key."""

    execution = models.ForeignKey(PipelineExecution, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=256)
    type = models.CharField(max_length=32)
    display_name = models.CharField(max_length=256, blank=True, default="")
    description = models.CharField(max_length=3072, blank=True, default="")
    status = models.CharField(max_length=16, default="Starting")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=3072, blank=True, default="")
    metadata = models.JSONField(default=dict)
    properties = models.JSONField(default=dict)
    arguments = models.JSONField(default=dict)  # resolved, as the job was created with
    arguments_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    cache_source_arn = models.CharField(max_length=256, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    job_arn = models.CharField(max_length=256, blank=True, default="")

    ACTIVE_STATUSES = ("Starting", "Executing", "Stopping")

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["execution", "name"], name="pipeline_step_per_execution"
            )
        ]

    def __str__(self) -> str:
        return self.name
