"""A CreateHyperParameterTuningJob request read into what the service checks and the flow runs.

``TuningPlan.from_request`` applies every rule that needs no database: the strategy's rules
(Grid only categorical with the job count inferred, Hyperband with early stopping Off and its
resource), the ranges and their scaling (through ``algorithms.tuning``), the objective, static
hyperparameters against the algorithm, completion criteria and limits. The flow builds its
:class:`~algorithms.tuning.Tuner` from the same plan, so a job runs exactly what was checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from algorithms import HyperparameterError, UnknownAlgorithm, parse_hyperparameters, resolve_image
from algorithms.base import Algorithm
from algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC
from algorithms.metrics import MetricDefinitionError, parse_metric_definitions
from algorithms.tuning import (
    CompletionCriteria,
    SearchSpace,
    Tuner,
    TuningValidationError,
    hyperband_brackets,
)
from algorithms.tuning.space import CategoricalParameter
from console.core.errors import LimitExceeded, ValidationError

CONFIG = "HyperParameterTuningJobConfig"
DEFINITION = "TrainingJobDefinition"
MAX_PARALLEL_TRAINING_JOBS = 100
MAX_TRAINING_JOBS = 750
MAX_TRAINING_JOBS_RANDOM = 10_000
MAX_HYPERPARAMETERS = 100
# Hyperband's resource: the static hyperparameter SageMaker infers MaxResource from, then the
# built-ins' own names for a number of epochs or boosting rounds.
RESOURCE_KEYS = ("epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs")
BUILTIN_RESOURCE_KEYS = ("epochs", "num_round", "num_boost_round")
DEFAULT_RESOURCE_CONFIG = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}


@dataclass(frozen=True)
class HyperbandPlan:
    min_resource: int
    max_resource: int
    resource_name: str


@dataclass(frozen=True)
class TuningPlan:
    strategy: str
    objective_type: str
    metric_name: str
    parameter_ranges: dict[str, Any]
    static_hyperparameters: dict[str, str]
    max_parallel: int
    max_jobs: int
    max_runtime_seconds: int | None
    early_stopping: bool
    seed: int | None
    criteria: CompletionCriteria
    hyperband: HyperbandPlan | None = None
    tunable_names: tuple[str, ...] = field(default=())

    @classmethod
    def from_request(cls, spec: dict[str, Any]) -> TuningPlan:
        """Check a (shape-valid) request; raise :class:`ValidationError` naming field and rule."""
        config = spec[CONFIG]
        if "TrainingJobDefinitions" in spec:
            raise ValidationError(
                "TrainingJobDefinitions",
                "Only a single TrainingJobDefinition is supported by this platform",
            )
        if DEFINITION not in spec:
            raise ValidationError(DEFINITION, "Member must not be null")
        if "Autotune" in spec or config.get("ParameterRanges", {}).get("AutoParameters"):
            raise ValidationError(
                "Autotune", "Autotune and AutoParameters are not supported; give explicit ranges"
            )
        definition = spec[DEFINITION]
        strategy = config["Strategy"]
        objective = config.get("HyperParameterTuningJobObjective")
        if objective is None:
            raise ValidationError(
                f"{CONFIG}.HyperParameterTuningJobObjective", "Member must not be null"
            )
        ranges = config.get("ParameterRanges")
        if not ranges:
            raise ValidationError(f"{CONFIG}.ParameterRanges", "Member must not be null")
        limits = config["ResourceLimits"]
        max_parallel = limits["MaxParallelTrainingJobs"]
        max_jobs = limits.get("MaxNumberOfTrainingJobs")
        if max_jobs is None and strategy != "Grid":
            raise ValidationError(
                f"{CONFIG}.ResourceLimits.MaxNumberOfTrainingJobs",
                f"Member must not be null for the {strategy} strategy",
            )
        early_stopping = config.get("TrainingJobEarlyStoppingType", "Off") == "Auto"
        if strategy == "Hyperband" and early_stopping:
            raise ValidationError(
                f"{CONFIG}.TrainingJobEarlyStoppingType",
                "Must be Off for the Hyperband strategy, which stops trials itself",
            )
        if "StrategyConfig" in config and strategy != "Hyperband":
            raise ValidationError(
                f"{CONFIG}.StrategyConfig", "HyperbandStrategyConfig is for the Hyperband strategy"
            )
        seed = config.get("RandomSeed")
        tuner = _tuner(ranges, strategy, objective["Type"], seed, max_jobs)
        if strategy == "Grid":
            max_jobs = tuner.grid_size
        _check_limits(strategy, max_parallel, max_jobs)
        try:
            criteria = CompletionCriteria.from_wire(config.get("TuningJobCompletionCriteria"))
        except TuningValidationError as exc:
            raise ValidationError(f"{CONFIG}.{exc.field}", exc.rule) from None
        static = dict(definition.get("StaticHyperParameters", {}))
        algorithm = _check_definition(definition, objective["MetricName"], static, tuner.space)
        hyperband = (
            _hyperband(config.get("StrategyConfig", {}), static, algorithm)
            if strategy == "Hyperband"
            else None
        )
        return cls(
            strategy=strategy,
            objective_type=objective["Type"],
            metric_name=objective["MetricName"],
            parameter_ranges=ranges,
            static_hyperparameters=static,
            max_parallel=max_parallel,
            max_jobs=max_jobs,
            max_runtime_seconds=limits.get("MaxRuntimeInSeconds"),
            early_stopping=early_stopping,
            seed=seed,
            criteria=criteria,
            hyperband=hyperband,
            tunable_names=tuner.space.names,
        )

    def tuner(self) -> Tuner:
        """A fresh tuner for this plan. The flow counts the job budget itself (warm-start
        observations must not use it up), so the tuner has none."""
        return _tuner(self.parameter_ranges, self.strategy, self.objective_type, self.seed, None)

    def trial_hyperparameters(self, tuned: dict[str, str]) -> dict[str, str]:
        """What a trial's training job gets: static values, the tuned ones and the objective."""
        return {
            **self.static_hyperparameters,
            **tuned,
            TUNING_OBJECTIVE_METRIC: self.metric_name,
        }

    def tuned_of(self, hyperparameters: dict[str, str]) -> dict[str, str]:
        """The tunable part of a trial's hyperparameters (TunedHyperParameters)."""
        names = (*self.tunable_names, *((self.hyperband.resource_name,) if self.hyperband else ()))
        return {name: hyperparameters[name] for name in names if name in hyperparameters}


def trial_spec(spec: dict[str, Any], *, name: str, hyperparameters: dict[str, str]) -> dict:
    """The CreateTrainingJob request of one trial of the tuning job ``spec``."""
    definition = spec[DEFINITION]
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": definition["RoleArn"],
        "AlgorithmSpecification": dict(definition["AlgorithmSpecification"]),
        "HyperParameters": hyperparameters,
        "OutputDataConfig": definition["OutputDataConfig"],
        "ResourceConfig": _resource_config(definition),
        "StoppingCondition": definition["StoppingCondition"],
    }
    for optional in (
        "InputDataConfig",
        "VpcConfig",
        "EnableNetworkIsolation",
        "EnableInterContainerTrafficEncryption",
        "EnableManagedSpotTraining",
        "CheckpointConfig",
        "RetryStrategy",
        "Environment",
    ):
        if optional in definition:
            request[optional] = definition[optional]
    return request


def _resource_config(definition: dict[str, Any]) -> dict[str, Any]:
    if "ResourceConfig" in definition:
        return definition["ResourceConfig"]
    tuning = definition.get("HyperParameterTuningResourceConfig", {})
    keys = ("InstanceType", "InstanceCount", "VolumeSizeInGB")
    return {**DEFAULT_RESOURCE_CONFIG, **{k: tuning[k] for k in keys if k in tuning}}


def _tuner(ranges, strategy: str, objective_type: str, seed, max_jobs) -> Tuner:
    try:
        return Tuner(
            ranges,
            strategy=strategy,
            objective_type=objective_type,
            seed=seed,
            max_number_of_training_jobs=max_jobs,
        )
    except TuningValidationError as exc:
        raise ValidationError(_config_path(exc.field), exc.rule) from None


def _config_path(field_path: str) -> str:
    return field_path if field_path.startswith(CONFIG) else f"{CONFIG}.{field_path}"


def _check_limits(strategy: str, max_parallel: int, max_jobs: int) -> None:
    if max_parallel > MAX_PARALLEL_TRAINING_JOBS:
        raise LimitExceeded(
            f"The account-level service limit 'Number of parallel training jobs per tuning job' "
            f"is {MAX_PARALLEL_TRAINING_JOBS}; MaxParallelTrainingJobs was {max_parallel}."
        )
    limit = MAX_TRAINING_JOBS_RANDOM if strategy == "Random" else MAX_TRAINING_JOBS
    if max_jobs > limit:
        raise LimitExceeded(
            f"The account-level service limit 'Number of training jobs per tuning job' is "
            f"{limit} for the {strategy} strategy; MaxNumberOfTrainingJobs was {max_jobs}."
        )


def _check_definition(
    definition: dict[str, Any], metric_name: str, static: dict[str, str], space: SearchSpace
) -> type[Algorithm]:
    """The algorithm exists, the objective is one of its metrics, and every hyperparameter the
    trials can receive (static, each range's extremes, each categorical value) is valid."""
    specification = definition["AlgorithmSpecification"]
    image, algorithm_name = specification.get("TrainingImage"), specification.get("AlgorithmName")
    where = f"{DEFINITION}.AlgorithmSpecification"
    if bool(image) == bool(algorithm_name):
        raise ValidationError(
            f"{where}.TrainingImage", "Specify exactly one of TrainingImage or AlgorithmName"
        )
    try:
        algorithm = resolve_image(image or algorithm_name)
    except UnknownAlgorithm as exc:
        member = "TrainingImage" if image else "AlgorithmName"
        raise ValidationError(f"{where}.{member}", str(exc)) from None
    try:
        definitions = parse_metric_definitions(specification.get("MetricDefinitions"))
    except MetricDefinitionError as exc:
        raise ValidationError(f"{where}.MetricDefinitions", str(exc)) from None
    metrics = [d.name for d in definitions] or list(algorithm.metrics)
    if metric_name not in metrics:
        raise ValidationError(
            f"{CONFIG}.HyperParameterTuningJobObjective.MetricName",
            f"The objective metric must be one of the training job's metrics: {', '.join(metrics)}",
            value=metric_name,
        )
    overlap = sorted(set(static) & set(space.names))
    if overlap:
        raise ValidationError(
            f"{DEFINITION}.StaticHyperParameters.{overlap[0]}",
            "A hyperparameter cannot be both static and tunable",
        )
    if len(static) + len(space.names) + 1 > MAX_HYPERPARAMETERS:
        raise ValidationError(
            f"{DEFINITION}.StaticHyperParameters",
            f"Static and tunable hyperparameters, with {TUNING_OBJECTIVE_METRIC}, "
            f"must number at most {MAX_HYPERPARAMETERS}",
        )
    middle = space.decode([0.5] * space.dim)
    for values in _extremes(space, middle):
        try:
            parse_hyperparameters(
                algorithm, {**static, **values, TUNING_OBJECTIVE_METRIC: metric_name}
            )
        except HyperparameterError as exc:
            section = "ParameterRanges" if exc.name in space.names else "StaticHyperParameters"
            path = (
                f"{CONFIG}.ParameterRanges"
                if section == "ParameterRanges"
                else f"{DEFINITION}.StaticHyperParameters.{exc.name}"
            )
            raise ValidationError(path, f"{exc.name}: {exc.rule}") from None
    return algorithm


def _extremes(space: SearchSpace, middle: dict[str, str]):
    """The middle configuration, then each parameter at each end (or value) with the rest kept."""
    yield middle
    for parameter in space.parameters:
        if isinstance(parameter, CategoricalParameter):
            values = parameter.values
        else:
            values = (parameter.canonical(str(v)) for v in (parameter.low, parameter.high))
        for value in values:
            yield {**middle, parameter.name: value}


def _hyperband(
    strategy_config: dict[str, Any], static: dict[str, str], algorithm: type[Algorithm]
) -> HyperbandPlan:
    where = f"{CONFIG}.StrategyConfig.HyperbandStrategyConfig"
    config = strategy_config.get("HyperbandStrategyConfig", {})
    declared = {h.name for h in algorithm.hyperparameters}
    resource_name = next((k for k in RESOURCE_KEYS if k in static), None) or next(
        (k for k in BUILTIN_RESOURCE_KEYS if k in declared), None
    )
    if resource_name is None:
        raise ValidationError(
            where,
            "Hyperband needs an epochs-like hyperparameter to allocate: give one of "
            f"{', '.join(RESOURCE_KEYS)} in StaticHyperParameters",
        )
    max_resource = config.get("MaxResource")
    if max_resource is None:
        if resource_name not in static:
            raise ValidationError(
                f"{where}.MaxResource",
                f"Member must not be null unless StaticHyperParameters gives {resource_name}",
            )
        try:
            max_resource = int(static[resource_name])
        except ValueError:
            raise ValidationError(
                f"{DEFINITION}.StaticHyperParameters.{resource_name}", "Must be an integer"
            ) from None
    min_resource = config.get("MinResource", 1)
    try:
        hyperband_brackets(min_resource=min_resource, max_resource=max_resource)
    except TuningValidationError as exc:
        raise ValidationError(_config_path(exc.field), exc.rule) from None
    return HyperbandPlan(min_resource, max_resource, resource_name)
