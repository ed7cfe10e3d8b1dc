"""The SageMaker shapes of a tuning job and its trials, shared by every adapter: the
DescribeHyperParameterTuningJob response (also what the REST API and the console show), the
HyperParameterTuningJobSummary and the HyperParameterTrainingJobSummary."""

from __future__ import annotations

from typing import Any

from algorithms.tuning import SearchSpace
from console.training.models import TrainingJob
from console.tuning.models import HyperParameterTuningJob
from console.tuning.plan import BUILTIN_RESOURCE_KEYS, CONFIG, RESOURCE_KEYS
from console.tuning.selectors import (
    tuning_job_objective,
    tuning_job_parents,
    tuning_job_trial_objective,
    tuning_job_trial_objective_status,
    tuning_job_trials,
)

TRIAL_SORT_KEYS = {
    "Name": lambda s: s["TrainingJobName"],
    "CreationTime": lambda s: s["CreationTime"],
    "Status": lambda s: s["TrainingJobStatus"],
    "FinalObjectiveMetricValue": lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"][
        "Value"
    ],
}


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
        "TrainingJobStatusCounters": _status_counters(trials),
        "ObjectiveStatusCounters": _objective_counters(job, trials),
        "TuningJobCompletionDetails": {
            "NumberOfTrainingJobsObjectiveNotImproving": job.jobs_not_improving
        },
    }
    if job.convergence_detected_at:
        response["TuningJobCompletionDetails"]["ConvergenceDetectedTime"] = (
            job.convergence_detected_at
        )
    best = _best_trial(job, trials)
    if best is not None:
        response["BestTrainingJob"] = tuning_job_trial_summary(job, best)
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
        "TrainingJobStatusCounters": _status_counters(trials),
        "ObjectiveStatusCounters": _objective_counters(job, trials),
        "ResourceLimits": limits,
    }
    if job.ended_at:
        summary["HyperParameterTuningEndTime"] = job.ended_at
    return summary


def tuning_job_trial_summary(job: HyperParameterTuningJob, trial: TrainingJob) -> dict[str, Any]:
    """A HyperParameterTrainingJobSummary (also the shape of BestTrainingJob)."""
    names = set(_tunable_names(job)) | _resource_names(job)
    hyperparameters = trial.spec.get("HyperParameters", {})
    summary: dict[str, Any] = {
        "TrainingJobName": trial.name,
        "TrainingJobArn": trial.arn,
        "TuningJobName": job.name,
        "CreationTime": trial.created_at,
        "TrainingJobStatus": trial.status,
        "TunedHyperParameters": {k: v for k, v in hyperparameters.items() if k in names},
        "ObjectiveStatus": tuning_job_trial_objective_status(job, trial),
    }
    if trial.started_at:
        summary["TrainingStartTime"] = trial.started_at
    if trial.ended_at:
        summary["TrainingEndTime"] = trial.ended_at
    if trial.failure_reason:
        summary["FailureReason"] = trial.failure_reason
    value = tuning_job_trial_objective(job, trial)
    if value is not None:
        kind, metric = tuning_job_objective(job)
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": kind,
            "MetricName": metric,
            "Value": value,
        }
    return summary


def tuning_job_trial_summaries(
    job: HyperParameterTuningJob,
    *,
    status: str | None = None,
    sort_by: str = "Name",
    descending: bool = False,
) -> list[dict[str, Any]]:
    """The trials' summaries, filtered and sorted as ListTrainingJobsForHyperParameterTuningJob
    does: sorting by the objective leaves out trials without a value."""
    summaries = [
        tuning_job_trial_summary(job, trial) for trial in tuning_job_trials(job, status=status)
    ]
    if sort_by == "FinalObjectiveMetricValue":
        summaries = [s for s in summaries if "FinalHyperParameterTuningJobObjectiveMetric" in s]
    return sorted(summaries, key=TRIAL_SORT_KEYS[sort_by], reverse=descending)


def _status_counters(trials: list[TrainingJob]) -> dict[str, int]:
    """TrainingJobStatusCounters: a failed trial is the user's error (NonRetryableError)."""
    statuses = [t.status for t in trials]
    return {
        "Completed": statuses.count("Completed"),
        "InProgress": sum(s in TrainingJob.ACTIVE_STATUSES for s in statuses),
        "RetryableError": 0,
        "NonRetryableError": statuses.count("Failed"),
        "Stopped": statuses.count("Stopped"),
    }


def _objective_counters(job: HyperParameterTuningJob, trials: list[TrainingJob]) -> dict[str, int]:
    statuses = [tuning_job_trial_objective_status(job, t) for t in trials]
    return {key: statuses.count(key) for key in ("Succeeded", "Pending", "Failed")}


def _best_trial(job: HyperParameterTuningJob, trials: list[TrainingJob]) -> TrainingJob | None:
    """The trial with the best objective value (the earliest among equals)."""
    kind, _ = tuning_job_objective(job)
    sign = -1.0 if kind == "Maximize" else 1.0
    scored = [
        (sign * v, i, t)
        for i, t in enumerate(trials)
        if (v := tuning_job_trial_objective(job, t)) is not None
    ]
    return min(scored, key=lambda item: item[:2])[2] if scored else None


def _overall_best(job: HyperParameterTuningJob, own_best: TrainingJob | None) -> dict | None:
    """OverallBestTrainingJob: the best of this job's and its warm-start parents' trials."""
    kind, _ = tuning_job_objective(job)
    sign = -1.0 if kind == "Maximize" else 1.0
    candidates = [(job, own_best)] if own_best is not None else []
    for parent in tuning_job_parents(job):
        best = _best_trial(parent, list(tuning_job_trials(parent)))
        if best is not None:
            candidates.append((parent, best))
    if not candidates:
        return None
    owner, trial = min(candidates, key=lambda item: sign * tuning_job_trial_objective(*item))
    return tuning_job_trial_summary(owner, trial)


def _effective_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as the job runs it: a Grid job's inferred job count filled in."""
    limits = config["ResourceLimits"]
    if config["Strategy"] != "Grid" or "MaxNumberOfTrainingJobs" in limits:
        return config
    size = SearchSpace.from_parameter_ranges(config["ParameterRanges"], strategy="Grid").size
    return {**config, "ResourceLimits": {**limits, "MaxNumberOfTrainingJobs": size}}


def _tunable_names(job: HyperParameterTuningJob) -> list[str]:
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


def _resource_names(job: HyperParameterTuningJob) -> set[str]:
    """Hyperband's resource hyperparameter, which a trial's TunedHyperParameters also show."""
    if job.spec[CONFIG].get("Strategy") != "Hyperband":
        return set()
    static = job.spec["TrainingJobDefinition"].get("StaticHyperParameters", {})
    return {k for k in (*RESOURCE_KEYS, *BUILTIN_RESOURCE_KEYS) if k in static} or set(
        BUILTIN_RESOURCE_KEYS
    )
