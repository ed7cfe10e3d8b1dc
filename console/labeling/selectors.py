"""Reads of labeling jobs, their items and work teams: for the APIs, the console and the flow."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from console.core.errors import NotFound
from console.core.names import account_id_for, arn
from console.core.selectors import get_owned, job_by_id, job_stop_requested, visible_to
from console.core.tags import resource_tags_shape
from console.labeling.models import HumanAnswer, LabelingItem, LabelingJob, Workteam

COUNTER_NAMES = (
    "TotalLabeled",
    "HumanLabeled",
    "MachineLabeled",
    "FailedNonRetryableError",
    "Unlabeled",
)


# Work teams


def workteam_list(*, user) -> QuerySet[Workteam]:
    return visible_to(Workteam.objects.all(), user)


def workteam_get(*, user, name: str, for_update: bool = False) -> Workteam:
    return get_owned(
        Workteam.objects.all(),
        user=user,
        name=name,
        resource="Workteam",
        arn_type="workteam/private-crowd",
        for_update=for_update,
    )


def workteam_by_arn(*, user, workteam_arn: str) -> Workteam | None:
    """The work team ``workteam_arn`` names, if the user may use it (theirs; staff: any)."""
    return workteam_list(user=user).filter(arn=workteam_arn.lower()).first()


def workteam_members(workteam: Workteam) -> QuerySet:
    """The platform users in the groups the team's member definitions name."""
    return get_user_model().objects.filter(groups__name__in=workteam.group_names).distinct()


def workteam_has_member(workteam: Workteam | None, user) -> bool:
    if workteam is None:
        return False
    return user.groups.filter(name__in=workteam.group_names).exists()


def workteam_describe(workteam: Workteam) -> dict[str, Any]:
    """The ``Workteam`` structure of DescribeWorkteam and ListWorkteams."""
    return {
        "WorkteamName": workteam.name,
        "MemberDefinitions": workteam.member_definitions,
        "WorkteamArn": workteam.arn,
        "WorkforceArn": arn("workforce", "default", account_id=workteam.arn.split(":")[4]),
        "Description": workteam.description,
        "CreateDate": workteam.created_at,
        "LastUpdatedDate": workteam.updated_at,
        **workteam.spec,
    }


# Labeling jobs


def labeling_job_list(*, user) -> QuerySet[LabelingJob]:
    return visible_to(LabelingJob.objects.all(), user)


def labeling_job_get(*, user, name: str, for_update: bool = False) -> LabelingJob:
    return get_owned(
        LabelingJob.objects.all(),
        user=user,
        name=name,
        resource="LabelingJob",
        arn_type="labeling-job",
        for_update=for_update,
    )


def labeling_job_by_id(*, job_id: int) -> LabelingJob:
    """The job a labeling flow run was started for."""
    return job_by_id(LabelingJob, job_id=job_id)


def labeling_job_stop_requested(*, job_id: int) -> bool:
    """True once StopLabelingJob has been called: what the flow polls."""
    return job_stop_requested(LabelingJob, job_id=job_id)


def labeling_jobs_for_worker(*, user) -> QuerySet[LabelingJob]:
    """The jobs whose work team the user is in, whoever owns them."""
    groups = list(user.groups.values_list("name", flat=True))
    jobs = LabelingJob.objects.select_related("workteam").filter(workteam__isnull=False)
    return jobs.filter(
        pk__in=[job.pk for job in jobs if set(job.workteam.group_names) & set(groups)]
    )


def labeling_object_shown_to_worker(*, user, uri: str) -> bool:
    """Whether ``uri`` is an item of a job the user labels for (an image the work queue shows
    them), wherever its bucket is."""
    return LabelingItem.objects.filter(
        job__in=labeling_jobs_for_worker(user=user), source_ref=uri
    ).exists()


def labeling_job_for_worker(*, user, name: str) -> LabelingJob:
    """The job ``name`` as a worker (or its owner) reaches it: the user's own job of that name,
    else the newest of that name whose work team they are in."""
    own = labeling_job_list(user=user).filter(name=name).first()
    if own is not None:
        return own
    job = labeling_jobs_for_worker(user=user).filter(name=name).order_by("-created_at").first()
    if job is None:
        raise NotFound(
            "LabelingJob", name, arn=arn("labeling-job", name, account_id=account_id_for(user.pk))
        )
    return job


def labeling_jobs_pending_for_worker(*, user) -> list[LabelingJob]:
    """The running jobs of the user's teams that still hold items the user has not answered."""
    pending = []
    for job in labeling_jobs_for_worker(user=user).filter(status="InProgress"):
        waiting = job.items.filter(sent_to_humans=True, state=LabelingItem.UNLABELED)
        if waiting.exclude(answers__worker=user).exists():
            pending.append(job)
    return pending


def labeling_worker_progress(*, user, job: LabelingJob) -> dict[str, int]:
    """The user's own work on the job, beside the job's human queue."""
    queued = job.items.filter(sent_to_humans=True)
    return {
        "answered": HumanAnswer.objects.filter(item__job=job, worker=user).count(),
        "queued": queued.count(),
        "waiting": queued.filter(state=LabelingItem.UNLABELED)
        .exclude(answers__worker=user)
        .count(),
    }


def labeling_job_counters(job: LabelingJob) -> dict[str, int]:
    """LabelCounters, counted from the items: they always add up to the items' number."""
    counts = dict(job.items.values_list("state").annotate(n=Count("pk")))
    human = counts.get(LabelingItem.HUMAN, 0)
    machine = counts.get(LabelingItem.MACHINE, 0)
    return {
        "TotalLabeled": human + machine,
        "HumanLabeled": human,
        "MachineLabeled": machine,
        "FailedNonRetryableError": counts.get(LabelingItem.FAILED, 0),
        "Unlabeled": counts.get(LabelingItem.UNLABELED, 0),
    }


def labeling_job_stopping_condition(job: LabelingJob) -> str | None:
    """Which of the job's StoppingConditions holds now, if one does."""
    conditions = job.spec.get("StoppingConditions", {})
    counters = {**dict.fromkeys(COUNTER_NAMES, 0), **job.label_counters}
    max_human = conditions.get("MaxHumanLabeledObjectCount")
    if max_human is not None and counters["HumanLabeled"] >= max_human:
        return "MaxHumanLabeledObjectCount"
    max_percent = conditions.get("MaxPercentageOfInputDatasetLabeled")
    total = sum(counters[name] for name in COUNTER_NAMES[1:])
    if max_percent is not None and total and counters["TotalLabeled"] * 100 >= max_percent * total:
        return "MaxPercentageOfInputDatasetLabeled"
    return None


def labeling_job_all_labeled(job: LabelingJob) -> bool:
    return not job.items.filter(state=LabelingItem.UNLABELED).exists()


# Items


def labeling_items(*, job_id: int, state: str | None = None) -> QuerySet[LabelingItem]:
    items = LabelingItem.objects.filter(job_id=job_id)
    return items if state is None else items.filter(state=state)


def labeling_items_human_labeled(*, job_id: int) -> QuerySet[LabelingItem]:
    """The items people labeled: what automated labeling trains and calibrates on."""
    return labeling_items(job_id=job_id, state=LabelingItem.HUMAN)


def labeling_items_tied(*, job_id: int) -> QuerySet[LabelingItem]:
    """Items whose workers disagreed with no majority: for the owner to review."""
    return labeling_items(job_id=job_id).filter(tie=True)


def labeling_items_disputed(*, job_id: int) -> QuerySet[LabelingItem]:
    """Human-labeled items whose workers did not all agree."""
    return labeling_items_human_labeled(job_id=job_id).filter(Q(confidence__lt=1.0) | Q(tie=True))


# Request members DescribeLabelingJob repeats back as given (the optional ones, when given).
_ECHOED = (
    "LabelAttributeName",
    "LabelCategoryConfigS3Uri",
    "StoppingConditions",
    "LabelingJobAlgorithmsConfig",
)


def labeling_job_describe(job: LabelingJob) -> dict[str, Any]:
    """The DescribeLabelingJob response."""
    request = job.spec
    response: dict[str, Any] = {
        "LabelingJobStatus": job.status,
        "LabelCounters": {**dict.fromkeys(COUNTER_NAMES, 0), **job.label_counters},
        "CreationTime": job.created_at,
        "LastModifiedTime": job.updated_at,
        "JobReferenceCode": job.job_reference_code or job.arn,
        "LabelingJobName": job.name,
        "LabelingJobArn": job.arn,
        "InputConfig": request["InputConfig"],
        "OutputConfig": request["OutputConfig"],
        "RoleArn": request["RoleArn"],
        "HumanTaskConfig": request["HumanTaskConfig"],
    }
    response.update({field: request[field] for field in _ECHOED if field in request})
    response["Tags"] = resource_tags_shape(job.arn)  # as they are now (AddTags, DeleteTags)
    if job.failure_reason:
        response["FailureReason"] = job.failure_reason
    if job.output:
        response["LabelingJobOutput"] = job.output
    return response


def labeling_job_rounds(job: LabelingJob) -> list[dict[str, Any]]:
    """The job's rounds of active learning, for the console and the REST API."""
    return [
        {
            "number": r.number,
            "threshold": r.threshold,
            "estimated_accuracy": r.estimated_accuracy,
            "machine_labeled": r.machine_labeled,
            "human_labeled": r.human_labeled,
            "model_arn": r.model_arn,
            "training_job_name": r.training_job_name,
            "transform_job_name": r.transform_job_name,
            "recorded_at": r.recorded_at,
        }
        for r in job.rounds.all()
    ]


def labeling_task_held(*, user, job: LabelingJob, index: int) -> LabelingItem | None:
    """Item ``index`` of the job if the worker holds it now (handed to them, not answered, skipped
    or expired): the console shows it again right after an undo."""
    return (
        job.items.filter(
            index=index,
            state=LabelingItem.UNLABELED,
            tasks__worker=user,
            tasks__skipped=False,
            tasks__expires_at__gt=timezone.now(),
        )
        .exclude(answers__worker=user)
        .first()
    )
