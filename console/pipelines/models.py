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
    schedule = models.ForeignKey(
        "PipelineSchedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
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


class PipelineSchedule(models.Model):
    """A schedule that starts executions of a pipeline: a cron expression or an interval, in a
    time zone, between an optional start and end, with its own parameter values. Kept here and
    applied to Prefect as a schedule of the ``pipeline-schedule/sagebrush`` deployment (this row
    is the source of truth: the serve process applies every row again when it starts)."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=63)
    cron = models.CharField(max_length=256, blank=True, default="")
    interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    parameters = models.JSONField(default=list)  # PipelineParameters, as StartPipelineExecution
    enabled = models.BooleanField(default=True)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    missed_runs = models.JSONField(default=list)  # ISO times a run was due while the stack was down
    applied = models.BooleanField(default=False)  # whether Prefect holds it now
    apply_error = models.CharField(max_length=1024, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="pipeline_schedule_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def slug(self) -> str:
        return f"pipeline-schedule-{self.pk}"
