"""The console's create-tuning-job form: a CreateHyperParameterTuningJob request built from fields.

The ranges builder (``console.tuning.ranges``) has a row per hyperparameter of the chosen
algorithm; the objective is one of the algorithm's metrics. The request goes to
``tuning_job_create``, the service the SageMaker API uses, and its refusals come back next to
the field they name, in plain words (``GuidedRequestForm``).
"""

from __future__ import annotations

from typing import Any

from django import forms

from console.core.form_errors import plain_rule
from console.training.forms import (
    AlgorithmJobForm,
    definition_parts,
    initial_definition_parts,
    pairs,
)
from console.training.hyperparameter_fields import (
    SchemaRow,
    algorithm_or_none,
    field_name,
    schema_rows,
)
from console.tuning import ranges
from console.tuning.plan import CONFIG, DEFINITION
from console.tuning.selectors import tuning_job_list

STRATEGIES = ["Bayesian", "Random", "Hyperband", "Grid"]
PARENT_STATUSES = ("Completed", "Stopped", "Failed")
SECTIONS = [
    ("Job", ["name", "algorithm"]),
    (
        "Search",
        [
            "objective_type",
            "strategy",
            "max_jobs",
            "max_parallel",
            "max_runtime",
            "early_stopping",
            "random_seed",
        ],
    ),
    ("Stop the search early", ["target_value", "not_improving", "complete_on_convergence"]),
    ("Hyperband", ["hyperband_min_resource", "hyperband_max_resource"]),
    (
        "Training jobs (trials)",
        [
            "static_hyperparameters",
            "train_uri",
            "validation_uri",
            "content_type",
            "output_path",
            "instance_count",
            "trial_max_runtime",
            "metric_definitions",
        ],
    ),
    ("Warm start", ["warm_start_parents", "warm_start_type"]),
]
_C, _D = f"{CONFIG}.", f"{DEFINITION}."
_FIELD_OF = [
    ("HyperParameterTuningJobName", "name"),
    (f"{_C}HyperParameterTuningJobObjective", "objective_metric"),
    (f"{_C}ResourceLimits.MaxNumberOfTrainingJobs", "max_jobs"),
    (f"{_C}ResourceLimits.MaxParallelTrainingJobs", "max_parallel"),
    (f"{_C}ResourceLimits.MaxRuntimeInSeconds", "max_runtime"),
    (f"{_C}Strategy", "strategy"),
    (f"{_C}StrategyConfig", "hyperband_max_resource"),
    (f"{_C}TrainingJobEarlyStoppingType", "early_stopping"),
    (f"{_C}RandomSeed", "random_seed"),
    (f"{_C}TuningJobCompletionCriteria.BestObjectiveNotImproving", "not_improving"),
    (f"{_C}TuningJobCompletionCriteria", "target_value"),
    (f"{_D}StaticHyperParameters", "static_hyperparameters"),
    (f"{_D}AlgorithmSpecification.MetricDefinitions", "metric_definitions"),
    (f"{_D}AlgorithmSpecification", "algorithm"),
    (f"{_D}InputDataConfig.2", "validation_uri"),
    (f"{_D}InputDataConfig", "train_uri"),
    (f"{_D}OutputDataConfig", "output_path"),
    (f"{_D}ResourceConfig", "instance_count"),
    (f"{_D}StoppingCondition", "trial_max_runtime"),
    ("WarmStartConfig.WarmStartType", "warm_start_type"),
    ("WarmStartConfig", "warm_start_parents"),
]


class TuningJobForm(AlgorithmJobForm):
    name = forms.CharField(
        label="Tuning job name",
        max_length=32,
        help_text="at most 32 letters, digits and hyphens; its trials are named <name>-NNN-…",
    )
    static_hyperparameters = forms.CharField(
        label="Other static hyperparameters",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="one name=value per line (a script's own); a line here wins over a row",
    )
    objective_type = forms.ChoiceField(
        label="Objective", choices=[("Maximize", "Maximize"), ("Minimize", "Minimize")]
    )
    strategy = forms.ChoiceField(
        label="Strategy",
        choices=[(s, s) for s in STRATEGIES],
        help_text="Grid tunes categorical rows only and runs every combination; Hyperband "
        "allocates boosting rounds or epochs and needs early stopping Off",
    )
    max_jobs = forms.IntegerField(
        label="Maximum training jobs",
        required=False,
        min_value=1,
        initial=10,
        help_text="leave empty for Grid (every combination)",
    )
    max_parallel = forms.IntegerField(label="Training jobs at a time", min_value=1, initial=2)
    max_runtime = forms.IntegerField(
        label="Maximum runtime of the tuning job (seconds)",
        required=False,
        min_value=1,
        help_text="optional; 120 to 15768000",
    )
    early_stopping = forms.ChoiceField(
        label="Early stopping",
        choices=[("Off", "Off"), ("Auto", "Auto (stop trials worse than the median)")],
    )
    random_seed = forms.IntegerField(label="Random seed", required=False, min_value=0)
    target_value = forms.FloatField(
        label="Stop once the objective reaches",
        required=False,
        help_text="optional TargetObjectiveMetricValue",
    )
    not_improving = forms.IntegerField(
        label="Stop after this many jobs without improvement", required=False, min_value=3
    )
    complete_on_convergence = forms.BooleanField(label="Stop on convergence", required=False)
    hyperband_min_resource = forms.IntegerField(
        label="Hyperband: minimum resource",
        required=False,
        min_value=1,
        help_text="rounds or epochs of the shortest trials (Hyperband only)",
    )
    hyperband_max_resource = forms.IntegerField(
        label="Hyperband: maximum resource",
        required=False,
        min_value=1,
        help_text="empty: the static num_boost_round / num_round / epochs",
    )
    trial_max_runtime = forms.IntegerField(
        label="Max runtime per trial (seconds)", initial=3600, min_value=1
    )
    warm_start_parents = forms.MultipleChoiceField(
        label="Warm start from",
        required=False,
        help_text="up to 5 ended tuning jobs with the same objective",
    )
    warm_start_type = forms.ChoiceField(
        label="Warm start type",
        choices=[
            ("IdenticalDataAndAlgorithm", "IdenticalDataAndAlgorithm (same data and image)"),
            ("TransferLearning", "TransferLearning (data or image may differ)"),
        ],
    )

    FIELD_OF = _FIELD_OF
    # In the page's order, so that the error summary lists errors as the page shows them.
    field_order = [name for _, names in SECTIONS for name in names]
    WORDS = {
        "validation_uri": {"help_text": "validation metrics (the usual objective) need it"},
        "output_path": {"help_text": "each trial's model goes to <path>/<trial>/output/"},
        "instance_count": {"label": "Instances per trial"},
        "metric_definitions": {
            "help_text": "for scripts: one Name=Regex per line; the objective may then be one of "
            "them"
        },
    }

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, user=user, **kwargs)
        values = self.data if self.is_bound else self.initial
        self.fields["warm_start_parents"].choices = [
            (name, name)
            for name in tuning_job_list(user=user)
            .filter(status__in=PARENT_STATUSES)
            .order_by("-created_at")
            .values_list("name", flat=True)[:200]
        ]
        metrics = list(self.algorithm.metrics) if self.algorithm else []
        metrics += list(pairs(values.get("metric_definitions") or ""))
        objective = forms.ChoiceField(
            label="Objective metric",
            choices=[(m, m) for m in dict.fromkeys(metrics)],
            initial=next((m for m in metrics if m.startswith("validation:")), None),
            help_text="one of the algorithm's metrics (validation ones need a validation channel)",
        )
        general = list(self.fields.items())
        builder = ranges.range_fields(self.schema)
        self.fields = dict(general[:2] + builder + [("objective_metric", objective)] + general[2:])
        self._ranges: ranges.Ranges = {}

    @staticmethod
    def schema_of(image: str) -> list[SchemaRow]:
        return schema_rows(algorithm_or_none(image))

    @property
    def range_rows(self) -> list[dict[str, Any]]:
        """The builder's rows: each hyperparameter's schema and its bound fields by part
        (``value_list`` for a categorical row's values: a template reads ``values`` as the
        dict's method)."""
        return [
            {
                "row": row,
                **{
                    "value_list" if part == "values" else part: self[field_name(row.name, part)]
                    for part in ranges.parts(row)
                },
            }
            for row in self.schema
        ]

    @property
    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields outside the ranges builder, in fieldsets (the first holds the algorithm,
        which the builder follows)."""
        return [(legend, [self[name] for name in names]) for legend, names in SECTIONS]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for field, message in ranges.missing_parts(self.schema, data):
            self.add_error(field, message)
        return data

    def to_request(self) -> dict[str, Any]:
        data = self.cleaned_data
        static, self._ranges = ranges.builder_values(self.schema, data)
        static.update(pairs(data["static_hyperparameters"]))
        config: dict[str, Any] = {
            "Strategy": data["strategy"],
            "HyperParameterTuningJobObjective": {
                "Type": data["objective_type"],
                "MetricName": data["objective_metric"],
            },
            "ResourceLimits": _present(
                {
                    "MaxNumberOfTrainingJobs": data["max_jobs"],
                    "MaxParallelTrainingJobs": data["max_parallel"],
                    "MaxRuntimeInSeconds": data["max_runtime"],
                }
            ),
            "ParameterRanges": ranges.wire_ranges(self._ranges),
            "TrainingJobEarlyStoppingType": data["early_stopping"],
        }
        if data["random_seed"] is not None:
            config["RandomSeed"] = data["random_seed"]
        if criteria := _criteria(data):
            config["TuningJobCompletionCriteria"] = criteria
        hyperband = _present(
            {
                "MinResource": data["hyperband_min_resource"],
                "MaxResource": data["hyperband_max_resource"],
            }
        )
        if data["strategy"] == "Hyperband" and hyperband:
            config["StrategyConfig"] = {"HyperbandStrategyConfig": hyperband}
        definition = definition_parts(data)
        definition["StaticHyperParameters"] = static
        definition["StoppingCondition"] = {"MaxRuntimeInSeconds": data["trial_max_runtime"]}
        request = {
            "HyperParameterTuningJobName": data["name"],
            "HyperParameterTuningJobConfig": config,
            "TrainingJobDefinition": definition,
        }
        if data["warm_start_parents"]:
            request["WarmStartConfig"] = {
                "ParentHyperParameterTuningJobs": [
                    {"HyperParameterTuningJobName": name} for name in data["warm_start_parents"]
                ],
                "WarmStartType": data["warm_start_type"],
            }
        return request

    def field_for(self, path: str) -> str | None:
        if field := ranges.range_field_for(path, self._ranges):
            return field
        field = self.typed_hyperparameter_field(
            path,
            prefix=f"{_D}StaticHyperParameters.",
            lines_field="static_hyperparameters",
            part="value",
        )
        return field or super().field_for(path)

    def _plain_error(self, path: str, rule: str) -> None:
        # The service names the tuned hyperparameter whose range it refuses at the rule's start.
        field = ranges.tuned_field(rule.partition(":")[0], self._ranges)
        if path == f"{_C}ParameterRanges" and field:
            self.add_error(field, plain_rule(rule))
            return
        if path.startswith(f"{_C}ParameterRanges") and "Grid strategy" in rule:
            self.add_error("strategy", plain_rule(rule))
            return
        super()._plain_error(path, rule)

    def plain_message(self, path: str, rule: str, field: str | None) -> str:
        # The builder as a whole has no field: say "ranges", not the request's path.
        if field is None and path.startswith(f"{_C}ParameterRanges"):
            return f"Hyperparameter ranges: {plain_rule(rule)}"
        return super().plain_message(path, rule, field)


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _criteria(data: dict[str, Any]) -> dict[str, Any]:
    criteria: dict[str, Any] = {}
    if data["target_value"] is not None:
        criteria["TargetObjectiveMetricValue"] = data["target_value"]
    if data["not_improving"] is not None:
        criteria["BestObjectiveNotImproving"] = {
            "MaxNumberOfTrainingJobsNotImproving": data["not_improving"]
        }
    if data["complete_on_convergence"]:
        criteria["ConvergenceDetected"] = {"CompleteOnConvergence": "Enabled"}
    return criteria


def initial_from_spec(spec: dict[str, Any], *, name: str) -> dict[str, Any]:
    """The form's initial values that recreate CreateHyperParameterTuningJob request ``spec``."""
    config, definition = spec[CONFIG], spec.get(DEFINITION, {})
    limits = config.get("ResourceLimits", {})
    objective = config.get("HyperParameterTuningJobObjective", {})
    criteria = config.get("TuningJobCompletionCriteria", {})
    hyperband = config.get("StrategyConfig", {}).get("HyperbandStrategyConfig", {})
    initial: dict[str, Any] = {
        "name": name,
        **initial_definition_parts(definition),
        "objective_type": objective.get("Type"),
        "objective_metric": objective.get("MetricName"),
        "strategy": config.get("Strategy"),
        "max_jobs": limits.get("MaxNumberOfTrainingJobs"),
        "max_parallel": limits.get("MaxParallelTrainingJobs"),
        "max_runtime": limits.get("MaxRuntimeInSeconds"),
        "early_stopping": config.get("TrainingJobEarlyStoppingType", "Off"),
        "random_seed": config.get("RandomSeed"),
        "target_value": criteria.get("TargetObjectiveMetricValue"),
        "not_improving": criteria.get("BestObjectiveNotImproving", {}).get(
            "MaxNumberOfTrainingJobsNotImproving"
        ),
        "complete_on_convergence": criteria.get("ConvergenceDetected", {}).get(
            "CompleteOnConvergence"
        )
        == "Enabled",
        "hyperband_min_resource": hyperband.get("MinResource"),
        "hyperband_max_resource": hyperband.get("MaxResource"),
        "trial_max_runtime": definition.get("StoppingCondition", {}).get(
            "MaxRuntimeInSeconds", 3600
        ),
    }
    rows, rest = ranges.initial_rows(
        config.get("ParameterRanges", {}),
        definition.get("StaticHyperParameters", {}),
        TuningJobForm.schema_of(initial["algorithm"]),
    )
    initial.update(rows)
    initial["static_hyperparameters"] = "\n".join(f"{k}={v}" for k, v in rest.items())
    return {key: value for key, value in initial.items() if value is not None}


def warm_start_initial(parent: str) -> dict[str, Any]:
    """A clone's extra initial values that warm-start it from the job it copies."""
    return {"warm_start_parents": [parent], "warm_start_type": "IdenticalDataAndAlgorithm"}
