"""Reads of hyperparameter tuning jobs: one job, its trials, their objective values, its parents."""

from __future__ import annotations

import math

from django.db.models import QuerySet

from console.core.selectors import get_owned, job_by_id, job_stop_requested, visible_to
from console.training.models import TrainingJob, TrainingMetric
from console.tuning.models import HyperParameterTuningJob
from console.tuning.plan import CONFIG


def tuning_job_list(*, user) -> QuerySet[HyperParameterTuningJob]:
    return visible_to(HyperParameterTuningJob.objects.all(), user)


def tuning_job_get(*, user, name: str, for_update: bool = False) -> HyperParameterTuningJob:
    """The caller's job by name (case-insensitive, as SageMaker's tuning-job names are)."""
    return get_owned(
        HyperParameterTuningJob.objects.all(),
        user=user,
        name=name,
        resource="HyperParameterTuningJob",
        arn_type="hyper-parameter-tuning-job",
        for_update=for_update,
        case_insensitive=True,
    )


def tuning_job_by_id(*, job_id: int) -> HyperParameterTuningJob:
    """The job a tuning flow run was started for."""
    return job_by_id(HyperParameterTuningJob, job_id=job_id)


def tuning_job_stop_requested(*, job_id: int) -> bool:
    """True once StopHyperParameterTuningJob has been called: what the flow polls."""
    return job_stop_requested(HyperParameterTuningJob, job_id=job_id)


def tuning_job_trials(
    job: HyperParameterTuningJob, *, status: str | None = None
) -> QuerySet[TrainingJob]:
    """The job's trials (training jobs it launched), oldest first; only those in ``status``
    when it is given."""
    trials = TrainingJob.objects.filter(owner=job.owner, tuning_job_arn=job.arn)
    if status:
        trials = trials.filter(status=status)
    return trials.order_by("created_at", "pk")


def tuning_job_parents(job: HyperParameterTuningJob) -> list[HyperParameterTuningJob]:
    """The warm-start parents (not theirs: warm start is not recursive)."""
    config = job.spec.get("WarmStartConfig")
    if not config:
        return []
    names = [p["HyperParameterTuningJobName"] for p in config["ParentHyperParameterTuningJobs"]]
    parents = []
    for name in names:
        parent = HyperParameterTuningJob.objects.filter(owner=job.owner, name__iexact=name).first()
        if parent is not None:
            parents.append(parent)
    return parents


def tuning_job_objective(job: HyperParameterTuningJob) -> tuple[str, str]:
    """``(Type, MetricName)`` of the job's objective."""
    item = job.spec[CONFIG]["HyperParameterTuningJobObjective"]
    return item["Type"], item["MetricName"]


def tuning_job_trial_objective(job: HyperParameterTuningJob, trial: TrainingJob) -> float | None:
    """The trial's final objective value, once it has ended with one."""
    if trial.status not in ("Completed", "Stopped"):
        return None
    value = trial.final_metrics.get(tuning_job_objective(job)[1])
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def tuning_job_trial_objective_status(job: HyperParameterTuningJob, trial: TrainingJob) -> str:
    """The trial's ObjectiveStatus: Pending while it runs, then Succeeded or Failed."""
    if trial.status in TrainingJob.ACTIVE_STATUSES:
        return "Pending"
    return "Succeeded" if tuning_job_trial_objective(job, trial) is not None else "Failed"


def tuning_job_objective_metrics(job: HyperParameterTuningJob) -> QuerySet:
    """Every recorded value of the objective metric by the job's trials, as ``(trial id, step,
    value)`` rows, by trial and then in the order they were recorded."""
    _, metric = tuning_job_objective(job)
    return (
        TrainingMetric.objects.filter(
            job__tuning_job_arn=job.arn, job__owner=job.owner, name=metric
        )
        .order_by("job_id", "pk")
        .values_list("job_id", "step", "value")
    )
