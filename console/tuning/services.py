"""Every write to a tuning job: create and stop (adapters), and the tuning flow's reports.

Trials are real training jobs, created through ``training_job_create(tuning_job=...)``: they
carry the tuning job's ARN, appear in ListTrainingJobs and run their own training flow.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from console.buckets.selectors import bucket_check_request
from console.core.errors import (
    AlreadyExists,
    InvalidState,
    LimitExceeded,
    NotFound,
    ValidationError,
)
from console.core.names import account_id_for, arn
from console.core.services import job_start_flow, owned_resource_create
from console.core.shapes import validate_request
from console.training.models import TrainingJob
from console.training.services import (
    training_job_create,
    training_job_stop,
    training_job_validate,
)
from console.tuning.models import HyperParameterTuningJob
from console.tuning.plan import CONFIG, DEFINITION, TuningPlan, trial_spec
from console.tuning.selectors import tuning_job_get

DEPLOYMENT = "tuning/sagebrush"
MAX_CONCURRENT_TUNING_JOBS = 100
MAX_PARENT_JOBS = 5
MAX_WARM_START_CHANGES = 10
DUPLICATE_MESSAGE = (
    "Hyperparameter tuning job names must be unique within an AWS account and region, and a "
    "hyperparameter tuning job with this name already exists ({arn})"
)


def tuning_job_create(*, user, spec: dict[str, Any]) -> HyperParameterTuningJob:
    """Validate a CreateHyperParameterTuningJob request, save it InProgress, start its flow."""
    validate_request("CreateHyperParameterTuningJob", spec)
    bucket_check_request(user=user, request=spec)
    plan = TuningPlan.from_request(spec)
    _check_trial(trial_spec(spec, name="trial", hyperparameters=plan.static_hyperparameters))
    if "WarmStartConfig" in spec:
        _check_warm_start(user, spec, plan)
    name = spec["HyperParameterTuningJobName"]
    job_arn = arn("hyper-parameter-tuning-job", name, account_id=account_id_for(user.pk))
    duplicate = AlreadyExists(
        "HyperParameterTuningJob", name, arn=job_arn, message=DUPLICATE_MESSAGE.format(arn=job_arn)
    )
    # Names are case-insensitive (the ARN holds them lower-cased).
    if HyperParameterTuningJob.objects.filter(owner=user, name__iexact=name).exists():
        raise duplicate
    running = HyperParameterTuningJob.objects.filter(
        owner=user, status__in=HyperParameterTuningJob.ACTIVE_STATUSES
    ).count()
    if running >= MAX_CONCURRENT_TUNING_JOBS:
        raise LimitExceeded(
            "The account-level service limit 'Number of concurrent hyperparameter tuning jobs' "
            f"is {MAX_CONCURRENT_TUNING_JOBS} jobs, with {running} running."
        )
    with transaction.atomic():
        job = owned_resource_create(
            HyperParameterTuningJob,
            owner=user,
            tags=spec.get("Tags"),
            name=name,
            duplicate=duplicate,
            status="InProgress",
            spec=spec,
        )
        job_start_flow(job, deployment=DEPLOYMENT)
    return job


def tuning_job_stop(*, user, name: str) -> None:
    """StopHyperParameterTuningJob: InProgress → Stopping; the flow stops every running trial."""
    with transaction.atomic():
        job = tuning_job_get(user=user, name=name, for_update=True)
        if job.status != "InProgress":
            raise InvalidState(
                "The request was rejected because the hyperparameter tuning job is in status "
                f"{job.status}."
            )
        job.status = "Stopping"
        job.save(update_fields=["status", "updated_at"])


# The flow's reports. Each takes the row's id and re-reads it, so a stop request is never lost.


def tuning_job_start(*, job_id: int) -> None:
    HyperParameterTuningJob.objects.filter(pk=job_id, started_at__isnull=True).update(
        started_at=timezone.now(), updated_at=timezone.now()
    )


def tuning_job_launch_trial(
    *, job_id: int, index: int, hyperparameters: dict[str, str]
) -> TrainingJob:
    """Create trial ``index`` (from 1) as a training job named ``<job>-<NNN>-<8 hex>``."""
    job = HyperParameterTuningJob.objects.get(pk=job_id)
    plan = TuningPlan.from_request(job.spec)
    name = f"{job.name}-{index:03d}-{uuid.uuid4().hex[:8]}"
    spec = trial_spec(
        job.spec, name=name, hyperparameters=plan.trial_hyperparameters(hyperparameters)
    )
    return training_job_create(user=job.owner, spec=spec, tuning_job=job)


def tuning_job_stop_trial(*, job_id: int, trial_name: str) -> bool:
    """Stop one running trial (early stopping, a stop request, the runtime limit).

    Returns False when the trial had ended meanwhile."""
    job = HyperParameterTuningJob.objects.get(pk=job_id)
    try:
        training_job_stop(user=job.owner, name=trial_name)
    except (InvalidState, NotFound):
        return False
    return True


def tuning_job_record_progress(
    *,
    job_id: int,
    best_training_job_name: str,
    jobs_not_improving: int,
    convergence_detected_at: datetime | None = None,
) -> None:
    fields: dict[str, Any] = {
        "best_training_job_name": best_training_job_name,
        "jobs_not_improving": jobs_not_improving,
        "updated_at": timezone.now(),
    }
    if convergence_detected_at is not None:
        fields["convergence_detected_at"] = convergence_detected_at
    HyperParameterTuningJob.objects.filter(pk=job_id).update(**fields)


def tuning_job_finish(
    *, job_id: int, status: str, completion_reason: str = "", failure_reason: str = ""
) -> None:
    """End the job: Completed, Stopped (a stop request or MaxRuntimeInSeconds) or Failed."""
    if status not in HyperParameterTuningJob.TERMINAL_STATUSES:
        raise ValueError(f"a tuning job ends Completed, Stopped or Failed, not {status}")
    with transaction.atomic():
        job = HyperParameterTuningJob.objects.select_for_update().get(pk=job_id)
        job.status = status
        job.completion_reason = completion_reason
        job.failure_reason = failure_reason[:1024]
        job.ended_at = timezone.now()
        job.save(
            update_fields=[
                "status",
                "completion_reason",
                "failure_reason",
                "ended_at",
                "updated_at",
            ]
        )


def tuning_job_fail(*, job_id: int, reason: str) -> None:
    """Failed with a ``ClientError: ...`` or ``InternalError: ...`` reason: the flow raised."""
    tuning_job_finish(job_id=job_id, status="Failed", failure_reason=reason)


# Warm start.


def _check_trial(spec: dict[str, Any]) -> None:
    """A trial must pass the training job's checks (channels that match objects, ...); errors
    name the field inside TrainingJobDefinition."""
    try:
        training_job_validate(spec=spec, hyperparameters=False)
    except ValidationError as exc:
        raise ValidationError(f"{DEFINITION}.{exc.field}", exc.rule, value=exc.value) from None


def _check_warm_start(user, spec: dict[str, Any], plan: TuningPlan) -> None:
    """Parents exist, are terminal, share the objective and the hyperparameters' kinds."""
    config = spec["WarmStartConfig"]
    where = "WarmStartConfig.ParentHyperParameterTuningJobs"
    parents = config["ParentHyperParameterTuningJobs"]
    if len(parents) > MAX_PARENT_JOBS:
        raise ValidationError(
            where, f"Member must have length less than or equal to {MAX_PARENT_JOBS}"
        )
    own = _kinds(spec)
    for index, item in enumerate(parents):
        field = f"{where}.{index + 1}.HyperParameterTuningJobName"
        parent_name = item.get("HyperParameterTuningJobName")
        if not parent_name:
            raise ValidationError(field, "Member must not be null")
        try:
            parent = tuning_job_get(user=user, name=parent_name)
        except NotFound:
            raise ValidationError(
                field, "The parent tuning job does not exist", value=parent_name
            ) from None
        if parent.status not in parent.TERMINAL_STATUSES:
            raise ValidationError(
                field,
                f"A parent tuning job must be Completed, Stopped or Failed, not {parent.status}",
                value=parent_name,
            )
        parent_objective = parent.spec[CONFIG].get("HyperParameterTuningJobObjective", {})
        if parent_objective != spec[CONFIG]["HyperParameterTuningJobObjective"]:
            raise ValidationError(
                field,
                "A parent tuning job must have the same objective metric and type",
                value=parent_name,
            )
        parent_kinds = _kinds(parent.spec)
        if set(parent_kinds) != set(own):
            raise ValidationError(
                field,
                "Static and tunable hyperparameters must be the same set as the parent's",
                value=parent_name,
            )
        for name, (kind, _) in own.items():
            parent_kind = parent_kinds[name][0]
            if "Static" not in (kind, parent_kind) and kind != parent_kind:
                raise ValidationError(
                    field,
                    f"Hyperparameter {name} is {kind} here but {parent_kind} in the parent",
                    value=parent_name,
                )
        changes = sum(
            1
            for name, (kind, value) in own.items()
            if kind == "Static"
            and (parent_kinds[name][0] != "Static" or parent_kinds[name][1] != value)
        )
        if changes > MAX_WARM_START_CHANGES:
            raise ValidationError(
                field,
                f"At most {MAX_WARM_START_CHANGES} hyperparameters may change from a parent "
                f"(tunable made static or a static value changed); {changes} did",
                value=parent_name,
            )
        if config["WarmStartType"] == "IdenticalDataAndAlgorithm":
            _check_identical(spec[DEFINITION], parent.spec[DEFINITION], field, parent_name)


def _kinds(spec: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """{hyperparameter: (Static | Integer | Continuous | Categorical, static value)}."""
    kinds = {
        name: ("Static", value)
        for name, value in spec[DEFINITION].get("StaticHyperParameters", {}).items()
    }
    for kind in ("Integer", "Continuous", "Categorical"):
        for item in spec[CONFIG].get("ParameterRanges", {}).get(f"{kind}ParameterRanges", []):
            kinds[item["Name"]] = (kind, "")
    return kinds


def _check_identical(definition: dict, parent: dict, field: str, parent_name: str) -> None:
    for member in ("InputDataConfig",):
        if definition.get(member) != parent.get(member):
            raise ValidationError(
                field,
                f"IdenticalDataAndAlgorithm needs the parent's {member} unchanged",
                value=parent_name,
            )
    image = definition["AlgorithmSpecification"]
    parent_image = parent["AlgorithmSpecification"]
    for member in ("TrainingImage", "AlgorithmName"):
        if image.get(member) != parent_image.get(member):
            raise ValidationError(
                field,
                "IdenticalDataAndAlgorithm needs the parent's training image unchanged",
                value=parent_name,
            )
