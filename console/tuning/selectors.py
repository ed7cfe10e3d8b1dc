"""Reads of hyperparameter tuning jobs: one job, its trials, its Describe response, its charts."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from django.db.models import QuerySet

from console.core.errors import ValidationError
from console.core.selectors import get_owned, visible_to
from console.training.models import TrainingJob, TrainingMetric
from console.tuning.models import HyperParameterTuningJob

CONFIG = "HyperParameterTuningJobConfig"
PENDING = ("InProgress", "Stopping")


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


def tuning_job_trials(job: HyperParameterTuningJob) -> QuerySet[TrainingJob]:
    """The job's trials (training jobs it launched), oldest first."""
    return TrainingJob.objects.filter(owner=job.owner, tuning_job_arn=job.arn).order_by(
        "created_at", "pk"
    )


def objective(job: HyperParameterTuningJob) -> tuple[str, str]:
    """``(Type, MetricName)`` of the job's objective."""
    item = job.spec[CONFIG]["HyperParameterTuningJobObjective"]
    return item["Type"], item["MetricName"]


def tunable_names(job: HyperParameterTuningJob) -> list[str]:
    ranges = job.spec[CONFIG].get("ParameterRanges", {})
    return [
        item["Name"]
        for kind in (
            "IntegerParameterRanges",
            "ContinuousParameterRanges",
            "CategoricalParameterRanges",
        )
        for item in ranges.get(kind, [])
    ]


def trial_objective(job: HyperParameterTuningJob, trial: TrainingJob) -> float | None:
    """The trial's final objective value, once it has ended with one."""
    if trial.status not in ("Completed", "Stopped"):
        return None
    value = trial.final_metrics.get(objective(job)[1])
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def objective_status(job: HyperParameterTuningJob, trial: TrainingJob) -> str:
    if trial.status in PENDING:
        return "Pending"
    return "Succeeded" if trial_objective(job, trial) is not None else "Failed"


def trial_summary(job: HyperParameterTuningJob, trial: TrainingJob) -> dict[str, Any]:
    """A HyperParameterTrainingJobSummary (also the shape of BestTrainingJob)."""
    names = set(tunable_names(job)) | _resource_names(job)
    hyperparameters = trial.spec.get("HyperParameters", {})
    summary: dict[str, Any] = {
        "TrainingJobName": trial.name,
        "TrainingJobArn": trial.arn,
        "TuningJobName": job.name,
        "CreationTime": trial.created_at,
        "TrainingJobStatus": trial.status,
        "TunedHyperParameters": {k: v for k, v in hyperparameters.items() if k in names},
        "ObjectiveStatus": objective_status(job, trial),
    }
    if trial.started_at:
        summary["TrainingStartTime"] = trial.started_at
    if trial.ended_at:
        summary["TrainingEndTime"] = trial.ended_at
    if trial.failure_reason:
        summary["FailureReason"] = trial.failure_reason
    value = trial_objective(job, trial)
    if value is not None:
        kind, metric = objective(job)
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": kind,
            "MetricName": metric,
            "Value": value,
        }
    return summary


def best_trial(job: HyperParameterTuningJob, trials: list[TrainingJob]) -> TrainingJob | None:
    """The trial with the best objective value (the earliest among equals)."""
    kind, _ = objective(job)
    sign = -1.0 if kind == "Maximize" else 1.0
    scored = [
        (sign * v, i, t) for i, t in enumerate(trials) if (v := trial_objective(job, t)) is not None
    ]
    return min(scored, key=lambda item: item[:2])[2] if scored else None


def status_counters(trials: list[TrainingJob]) -> dict[str, int]:
    """TrainingJobStatusCounters: a failed trial is the user's error (NonRetryableError)."""
    statuses = [t.status for t in trials]
    return {
        "Completed": statuses.count("Completed"),
        "InProgress": sum(s in PENDING for s in statuses),
        "RetryableError": 0,
        "NonRetryableError": statuses.count("Failed"),
        "Stopped": statuses.count("Stopped"),
    }


def objective_counters(job: HyperParameterTuningJob, trials: list[TrainingJob]) -> dict[str, int]:
    statuses = [objective_status(job, t) for t in trials]
    return {key: statuses.count(key) for key in ("Succeeded", "Pending", "Failed")}


def tuning_job_describe(job: HyperParameterTuningJob) -> dict[str, Any]:
    """The DescribeHyperParameterTuningJob response."""
    spec = job.spec
    trials = list(tuning_job_trials(job))
    response: dict[str, Any] = {
        "HyperParameterTuningJobName": job.name,
        "HyperParameterTuningJobArn": job.arn,
        "HyperParameterTuningJobConfig": _effective_config(spec[CONFIG]),
        "TrainingJobDefinition": spec["TrainingJobDefinition"],
        "HyperParameterTuningJobStatus": job.status,
        "CreationTime": job.created_at,
        "LastModifiedTime": job.updated_at,
        "TrainingJobStatusCounters": status_counters(trials),
        "ObjectiveStatusCounters": objective_counters(job, trials),
        "TuningJobCompletionDetails": {
            "NumberOfTrainingJobsObjectiveNotImproving": job.jobs_not_improving
        },
    }
    if job.convergence_detected_at:
        response["TuningJobCompletionDetails"]["ConvergenceDetectedTime"] = (
            job.convergence_detected_at
        )
    best = best_trial(job, trials)
    if best is not None:
        response["BestTrainingJob"] = trial_summary(job, best)
    if "WarmStartConfig" in spec:
        response["WarmStartConfig"] = spec["WarmStartConfig"]
        if spec["WarmStartConfig"]["WarmStartType"] == "IdenticalDataAndAlgorithm":
            overall = _overall_best(job, best)
            if overall is not None:
                response["OverallBestTrainingJob"] = overall
    if job.ended_at:
        response["HyperParameterTuningEndTime"] = job.ended_at
    if job.failure_reason:
        response["FailureReason"] = job.failure_reason
    if job.started_at:
        until = job.ended_at or job.updated_at
        runtime = max(int((until - job.started_at).total_seconds()), 0)
        response["ConsumedResources"] = {"RuntimeInSeconds": runtime}
    return response


def _effective_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as the job runs it: a Grid job's inferred job count filled in."""
    limits = config["ResourceLimits"]
    if config["Strategy"] != "Grid" or "MaxNumberOfTrainingJobs" in limits:
        return config
    from algorithms.tuning import SearchSpace

    size = SearchSpace.from_parameter_ranges(config["ParameterRanges"], strategy="Grid").size
    return {**config, "ResourceLimits": {**limits, "MaxNumberOfTrainingJobs": size}}


def tuning_job_summary(job: HyperParameterTuningJob) -> dict[str, Any]:
    """A HyperParameterTuningJobSummary (ListHyperParameterTuningJobs)."""
    trials = list(tuning_job_trials(job))
    config = job.spec.get(CONFIG, {})
    limits = config.get("ResourceLimits", {})
    summary: dict[str, Any] = {
        "HyperParameterTuningJobName": job.name,
        "HyperParameterTuningJobArn": job.arn,
        "HyperParameterTuningJobStatus": job.status,
        "Strategy": config.get("Strategy", "Bayesian"),
        "CreationTime": job.created_at,
        "LastModifiedTime": job.updated_at,
        "TrainingJobStatusCounters": status_counters(trials),
        "ObjectiveStatusCounters": objective_counters(job, trials),
        "ResourceLimits": limits,
    }
    if job.ended_at:
        summary["HyperParameterTuningEndTime"] = job.ended_at
    return summary


def parent_jobs(job: HyperParameterTuningJob) -> list[HyperParameterTuningJob]:
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


def _overall_best(job: HyperParameterTuningJob, own_best: TrainingJob | None) -> dict | None:
    kind, _ = objective(job)
    sign = -1.0 if kind == "Maximize" else 1.0
    candidates = [(job, own_best)] if own_best is not None else []
    for parent in parent_jobs(job):
        best = best_trial(parent, list(tuning_job_trials(parent)))
        if best is not None:
            candidates.append((parent, best))
    if not candidates:
        return None
    owner, trial = min(candidates, key=lambda item: sign * trial_objective(*item))
    return trial_summary(owner, trial)


def learning_curves(job: HyperParameterTuningJob) -> dict[int, dict[int, float]]:
    """Each trial's objective values by epoch, what early stopping compares: a value's epoch is
    its step (a built-in's iteration) or, for log-parsed values without one, its place in order."""
    _, metric = objective(job)
    curves: dict[int, dict[int, float]] = {}
    rows = (
        TrainingMetric.objects.filter(
            job__tuning_job_arn=job.arn, job__owner=job.owner, name=metric
        )
        .order_by("job_id", "pk")
        .values_list("job_id", "step", "value")
    )
    for trial_id, step, value in rows:
        curve = curves.setdefault(trial_id, {})
        curve[step if step is not None else len(curve) + 1] = value
    return curves


def _resource_names(job: HyperParameterTuningJob) -> set[str]:
    if job.spec[CONFIG].get("Strategy") != "Hyperband":
        return set()
    from console.tuning.plan import BUILTIN_RESOURCE_KEYS, RESOURCE_KEYS

    static = job.spec["TrainingJobDefinition"].get("StaticHyperParameters", {})
    return {k for k in (*RESOURCE_KEYS, *BUILTIN_RESOURCE_KEYS) if k in static} or set(
        BUILTIN_RESOURCE_KEYS
    )


TRIAL_SORT_KEYS = {
    "Name": lambda s: s["TrainingJobName"],
    "CreationTime": lambda s: s["CreationTime"],
    "Status": lambda s: s["TrainingJobStatus"],
    "FinalObjectiveMetricValue": lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"][
        "Value"
    ],
}


def tuning_job_trial_summaries(
    job: HyperParameterTuningJob,
    *,
    status: str | None = None,
    sort_by: str = "Name",
    descending: bool = False,
) -> list[dict[str, Any]]:
    """The trials' summaries, filtered and sorted as ListTrainingJobsForHyperParameterTuningJob
    does: sorting by the objective leaves out trials without a value."""
    trials = tuning_job_trials(job)
    if status:
        trials = trials.filter(status=status)
    summaries = [trial_summary(job, trial) for trial in trials]
    if sort_by == "FinalObjectiveMetricValue":
        summaries = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
    return sorted(summaries, key=TRIAL_SORT_KEYS[sort_by], reverse=descending)


def tuning_job_surrogate(job: HyperParameterTuningJob, *, parameter: str | None) -> dict[str, Any]:
    """The surrogate's mean and ±1 std along ``parameter`` (default: the first tunable one),
    fitted to the completed trials; ``slice`` is null until enough trials have completed."""
    from algorithms.tuning import Tuner, TuningError

    config = job.spec[CONFIG]
    kind, _ = objective(job)
    tuner = Tuner(config["ParameterRanges"], strategy=config["Strategy"], objective_type=kind)
    names = list(tuner.space.names)
    parameter = parameter or names[0]
    if parameter not in names:
        raise ValidationError(
            "parameter", f"Member must be one of {', '.join(names)}", value=parameter
        )
    for trial in tuning_job_trials(job):
        value = trial_objective(job, trial)
        if value is None:
            continue
        hyperparameters = trial.spec.get("HyperParameters", {})
        try:
            tuner.observe({name: hyperparameters[name] for name in names}, value)
        except (TuningError, KeyError):
            continue  # Hyperband runs a configuration at several resources: keep the first
    found = tuner.surrogate_slice(parameter)
    return {
        "parameter": parameter,
        "parameters": names,
        "objective": {"type": kind, "metric_name": objective(job)[1]},
        "slice": None if found is None else dataclasses.asdict(found),
    }


def trials_to_stop_early(job: HyperParameterTuningJob) -> list[TrainingJob]:
    """Running trials that the median rule stops now (``TrainingJobEarlyStoppingType=Auto``):
    each is compared with the trials launched before it, at its own latest epoch."""
    from algorithms.tuning import median_rule_should_stop

    kind, _ = objective(job)
    curves = learning_curves(job)
    trials = list(tuning_job_trials(job))
    chosen = []
    for position, trial in enumerate(trials):
        if trial.status != "InProgress" or trial.pk not in curves:
            continue
        earlier = [curves.get(t.pk, {}) for t in trials[:position]]
        if median_rule_should_stop(curves[trial.pk], earlier, objective_type=kind):
            chosen.append(trial)
    return chosen


def tuning_job_trial_table(job: HyperParameterTuningJob) -> dict[str, Any]:
    """What the console's table and charts show: the parameters (resolved scales), one row per
    trial, and the objective values in the order trials ended with the best so far."""
    from algorithms.tuning import SearchSpace
    from algorithms.tuning.space import CategoricalParameter

    config = job.spec[CONFIG]
    kind, metric = objective(job)
    space = SearchSpace.from_parameter_ranges(
        config["ParameterRanges"], strategy=config["Strategy"]
    )
    parameters = [
        {"name": p.name, "kind": "Categorical", "scale": "Categorical", "values": list(p.values)}
        if isinstance(p, CategoricalParameter)
        else {
            "name": p.name,
            "kind": "Integer" if p.is_integer else "Continuous",
            "scale": p.scaling,
            "min": p.low,
            "max": p.high,
        }
        for p in space.parameters
    ]
    rows = []
    for index, trial in enumerate(tuning_job_trials(job), start=1):
        hyperparameters = trial.spec.get("HyperParameters", {})
        rows.append(
            {
                "index": index,
                "name": trial.name,
                "status": trial.status,
                "objective_status": objective_status(job, trial),
                "value": trial_objective(job, trial),
                "hyperparameters": {n: hyperparameters.get(n) for n in space.names},
                "created_at": trial.created_at,
                "ended_at": trial.ended_at,
                "failure_reason": trial.failure_reason,
            }
        )
    pick = max if kind == "Maximize" else min
    ended, best = [], None
    for position, row in enumerate(
        sorted((r for r in rows if r["value"] is not None), key=lambda r: r["ended_at"]), start=1
    ):
        best = row["value"] if best is None else pick(best, row["value"])
        ended.append({"index": position, "name": row["name"], "value": row["value"], "best": best})
    return {
        "metric_name": metric,
        "objective_type": kind,
        "parameters": parameters,
        "rows": rows,
        "ended": ended,
    }
