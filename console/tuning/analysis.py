"""What a tuning job's trials tell: the surrogate fitted to them, the console's trial table and
best-so-far curve, and the learning curves that early stopping compares."""

from __future__ import annotations

import dataclasses
from typing import Any

from algorithms.tuning import SearchSpace, Tuner, TuningError
from algorithms.tuning.early_stopping import Curve, trials_to_stop_early
from algorithms.tuning.space import CategoricalParameter
from console.core.errors import ValidationError
from console.training.models import TrainingJob
from console.tuning.models import HyperParameterTuningJob
from console.tuning.plan import CONFIG
from console.tuning.selectors import (
    tuning_job_objective,
    tuning_job_objective_metrics,
    tuning_job_trial_objective,
    tuning_job_trial_objective_status,
    tuning_job_trials,
)


def tuning_job_surrogate(job: HyperParameterTuningJob, *, parameter: str | None) -> dict[str, Any]:
    """The surrogate's mean and ±1 std along ``parameter`` (default: the first tunable one),
    fitted to the completed trials; ``slice`` is null until enough trials have completed."""
    config = job.spec[CONFIG]
    kind, metric = tuning_job_objective(job)
    tuner = Tuner(config["ParameterRanges"], strategy=config["Strategy"], objective_type=kind)
    names = list(tuner.space.names)
    parameter = parameter or names[0]
    if parameter not in names:
        raise ValidationError(
            "parameter", f"Member must be one of {', '.join(names)}", value=parameter
        )
    for trial in tuning_job_trials(job):
        value = tuning_job_trial_objective(job, trial)
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
        "objective": {"type": kind, "metric_name": metric},
        "slice": None if found is None else dataclasses.asdict(found),
    }


def tuning_job_trial_table(job: HyperParameterTuningJob) -> dict[str, Any]:
    """What the console's table and charts show: the parameters (resolved scales), one row per
    trial, and the objective values in the order trials ended with the best so far."""
    config = job.spec[CONFIG]
    kind, metric = tuning_job_objective(job)
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
                "objective_status": tuning_job_trial_objective_status(job, trial),
                "value": tuning_job_trial_objective(job, trial),
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


def tuning_job_learning_curves(job: HyperParameterTuningJob) -> dict[TrainingJob, Curve]:
    """Each trial's objective values by epoch, oldest trial first (empty while it has none): a
    value's epoch is its step (a built-in's iteration) or, for log-parsed values without one, its
    place in order."""
    by_trial: dict[int, dict[int, float]] = {}
    for trial_id, step, value in tuning_job_objective_metrics(job):
        curve = by_trial.setdefault(trial_id, {})
        curve[step if step is not None else len(curve) + 1] = value
    return {trial: by_trial.get(trial.pk, {}) for trial in tuning_job_trials(job)}


def tuning_job_trials_to_stop_early(job: HyperParameterTuningJob) -> list[TrainingJob]:
    """The running trials that the median rule (``TrainingJobEarlyStoppingType=Auto``) stops now,
    by their learning curves."""
    curves = tuning_job_learning_curves(job)
    running = [trial for trial in curves if trial.status == "InProgress"]
    kind, _ = tuning_job_objective(job)
    return trials_to_stop_early(curves, running=running, objective_type=kind)
