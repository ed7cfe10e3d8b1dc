"""Labeling jobs and their work teams: items from an input manifest, labeled by the people of a
work team (each answer kept) and by active learning (each round recorded)."""

from django.conf import settings
from django.db import models

from console.core.models import Job, OwnedResource


class Workteam(OwnedResource):
    """A SageMaker work team. Its ``MemberDefinitions`` name platform groups
    (``OidcMemberDefinition.Groups``, ``CognitoMemberDefinition.UserGroup``); its members are the
    platform users in those groups."""

    description = models.CharField(max_length=200)
    member_definitions = models.JSONField(default=list)  # as the request gave them
    group_names = models.JSONField(default=list)  # the platform groups they name
    spec = models.JSONField(default=dict)  # NotificationConfiguration, WorkerAccessConfiguration

    class Meta(OwnedResource.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="workteam_name_per_owner")
        ]


class LabelingJob(Job):
    ACTIVE_STATUSES = ("Initializing", "InProgress", "Stopping")

    workteam = models.ForeignKey(
        Workteam, null=True, blank=True, on_delete=models.SET_NULL, related_name="labeling_jobs"
    )
    label_attribute_name = models.CharField(max_length=127, default="")
    # "text-classification", "image-classification" or "tabular-classification"
    task_type = models.CharField(max_length=32, default="")
    categories = models.JSONField(default=list)  # the label names; an answer is an index here
    job_reference_code = models.CharField(max_length=64, default="")
    # TotalLabeled, HumanLabeled, MachineLabeled, FailedNonRetryableError, Unlabeled
    label_counters = models.JSONField(default=dict)
    output = models.JSONField(default=dict)  # LabelingJobOutput once the job has ended

    class Meta(Job.Meta):
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="labeling_job_name_per_owner")
        ]


class LabelingItem(models.Model):
    """One line of the input manifest."""

    UNLABELED, HUMAN, MACHINE, FAILED = "unlabeled", "human", "machine", "failed"
    STATES = [(s, s) for s in (UNLABELED, HUMAN, MACHINE, FAILED)]

    job = models.ForeignKey(LabelingJob, on_delete=models.CASCADE, related_name="items")
    index = models.PositiveIntegerField()  # the line's place in the manifest, from 0
    line = models.JSONField()  # the manifest line's object, passed through to the output
    source = models.TextField(blank=True, default="")
    source_ref = models.CharField(max_length=1024, blank=True, default="")
    state = models.CharField(max_length=16, choices=STATES, default=UNLABELED, db_index=True)
    sent_to_humans = models.BooleanField(default=False)  # in the work team's queue
    label = models.PositiveIntegerField(null=True, blank=True)  # index into job.categories
    confidence = models.FloatField(null=True, blank=True)
    human_annotated = models.BooleanField(default=False)
    tie = models.BooleanField(default=False)  # the workers' vote was tied
    labeled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="labeling_item_index_per_job")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.index}"


class HumanAnswer(models.Model):
    """One worker's label for one item: kept when the job stops; an undo deletes it."""

    item = models.ForeignKey(LabelingItem, on_delete=models.CASCADE, related_name="answers")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    label = models.PositiveIntegerField()  # index into job.categories
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["answered_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "worker"], name="one_answer_per_worker")
        ]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.worker_id}={self.label}"


class LabelingTask(models.Model):
    """An item handed to a worker: held for them until ``expires_at`` (TaskTimeLimitInSeconds),
    or passed over for good when they skip it."""

    item = models.ForeignKey(LabelingItem, on_delete=models.CASCADE, related_name="tasks")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    skipped = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "worker"], name="one_task_per_worker")
        ]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.worker_id}"


class LabelingRound(models.Model):
    """One round of active learning, as the automated-labeling flow reports it."""

    job = models.ForeignKey(LabelingJob, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    threshold = models.FloatField(null=True, blank=True)
    estimated_accuracy = models.FloatField(null=True, blank=True)
    machine_labeled = models.PositiveIntegerField(default=0)  # in this round
    human_labeled = models.PositiveIntegerField(default=0)  # in the job, as the round ended
    model_arn = models.CharField(max_length=256, blank=True, default="")
    # The round's training and transform jobs (LabelingJobArn names this job on each).
    training_job_name = models.CharField(max_length=63, blank=True, default="")
    transform_job_name = models.CharField(max_length=63, blank=True, default="")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="labeling_round_per_job")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:round {self.number}"
