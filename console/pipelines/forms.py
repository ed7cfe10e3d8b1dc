"""The console's pipeline builder form: which stages of the common chain to run and each stage's
few essential fields, turned into a CreatePipeline request by ``console.pipelines.builder``.

The form checks only what the stages need filled in; the definition is checked by CreatePipeline's
own service, and its errors land next to the field that made the part they name.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from algorithms import algorithm_names
from console.core.errors import ValidationError
from console.core.forms import RequestForm
from console.labeling.forms import ALGORITHM_ARN, TASK_TYPE_LABELS
from console.labeling.specs import TASK_TYPES
from console.pipelines import builder
from console.pipelines.builder import (
    CHECK,
    COMPARISONS,
    DEPLOY,
    DEPLOY_CONFIG,
    LABEL,
    REGISTER,
    TRAIN,
    TUNE,
    Chain,
    Deployment,
    Gate,
    Labeling,
    Registration,
    Training,
    Tuning,
)
from console.pipelines.services import pipeline_definition_check
from console.training.forms import CONTENT_TYPES


def _job_fields(prefix: str) -> list[tuple[str, str]]:
    """Where a training job's (or a tuning job's trials') request parts come from."""
    return [
        (f"{prefix}AlgorithmSpecification", "algorithm"),
        (f"{prefix}HyperParameters", "hyperparameters"),
        (f"{prefix}StaticHyperParameters", "hyperparameters"),
        (f"{prefix}InputDataConfig.2", "validation_uri"),
        (f"{prefix}InputDataConfig", "train_uri"),
        (f"{prefix}OutputDataConfig", "output_path"),
        (f"{prefix}ResourceConfig.InstanceType", "instance_type"),
        (f"{prefix}ResourceConfig", "instance_count"),
        (f"{prefix}StoppingCondition", "max_runtime"),
    ]


_TUNING_CONFIG = f"Steps.{TUNE}.Arguments.HyperParameterTuningJobConfig."
# Which form field shows an error about which part of the request (first match wins).
_FIELD_OF = [
    ("PipelineName", "name"),
    ("PipelineDescription", "description"),
    (f"Stages.{DEPLOY}", "deploy"),
    (f"Stages.{CHECK}", "condition"),
    (f"Steps.{LABEL}.Arguments.InputConfig", "label_manifest_uri"),
    (f"Steps.{LABEL}.Arguments.LabelAttributeName", "label_attribute_name"),
    (f"Steps.{LABEL}.Arguments.LabelCategoryConfigS3Uri", "label_categories_uri"),
    (f"Steps.{LABEL}.Arguments.HumanTaskConfig.WorkteamArn", "label_workteam"),
    (f"Steps.{LABEL}.Arguments.HumanTaskConfig.PreHumanTaskLambdaArn", "label_task_type"),
    (f"Steps.{LABEL}.Arguments.OutputConfig", "label_output_path"),
    (f"Steps.{LABEL}", "label"),
    *_job_fields(f"Steps.{TRAIN}.Arguments."),
    *_job_fields(f"Steps.{TUNE}.Arguments.TrainingJobDefinition."),
    (f"{_TUNING_CONFIG}HyperParameterTuningJobObjective", "objective_metric"),
    (f"{_TUNING_CONFIG}ResourceLimits", "max_jobs"),
    (f"{_TUNING_CONFIG}ParameterRanges", "parameter_ranges"),
    (f"Steps.{REGISTER}.Arguments.ModelApprovalStatus", "approval_status"),
    (f"Steps.{REGISTER}", "model_package_group"),
    (f"Steps.{CHECK}", "threshold"),
    (
        f"Steps.{DEPLOY_CONFIG}.Arguments.ProductionVariants.1.InstanceType",
        "endpoint_instance_type",
    ),
    (f"Steps.{DEPLOY_CONFIG}", "endpoint_instance_count"),
    (f"Steps.{DEPLOY}", "endpoint_name"),
    ("PipelineDefinition.Parameters", "threshold"),
]
# The fields each stage needs once it is on.
_REQUIRED = {
    "label": (
        "label_manifest_uri",
        "label_attribute_name",
        "label_categories_uri",
        "label_workteam",
        "label_output_path",
    ),
    "tuning": ("objective_metric", "parameter_ranges"),
    "register": ("model_package_group",),
    "condition": ("threshold",),
    "deploy": ("endpoint_name",),
}


def _choices(values) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


def _text(label: str, **kwargs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=1024, **kwargs)


def _lines(label: str, help_text: str) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": 3})
    return forms.CharField(label=label, required=False, widget=widget, help_text=help_text)


class PipelineBuilderForm(RequestForm):
    name = forms.CharField(label="Pipeline name", max_length=256)
    description = forms.CharField(label="Description", required=False, max_length=3072)
    cache = forms.BooleanField(
        label="Reuse the results of unchanged label, train and tune steps (30 days)",
        required=False,
    )

    label = forms.BooleanField(label="Label the data first", required=False)
    label_manifest_uri = _text("Input manifest S3 URI")
    label_attribute_name = forms.CharField(label="Label attribute name", required=False)
    label_categories_uri = _text("Label category file S3 URI")
    label_task_type = forms.ChoiceField(
        label="Task type",
        choices=[(function, TASK_TYPE_LABELS[kind]) for function, kind in TASK_TYPES.items()],
    )
    label_workteam = forms.ChoiceField(label="Work team", required=False)
    label_output_path = _text("Labeling output S3 path")
    label_feature_attributes = forms.CharField(
        label="Feature attributes",
        required=False,
        initial="source",
        help_text="the manifest attributes training reads, comma-separated; the label comes last",
    )
    label_automated = forms.BooleanField(label="Automated labeling", required=False)

    trainer = forms.ChoiceField(
        label="Train once or tune",
        choices=[("training", "Training job"), ("tuning", "Tuning job (Bayesian)")],
        initial="training",
        widget=forms.RadioSelect,
    )
    algorithm = forms.ChoiceField(label="Algorithm (training image)")
    hyperparameters = _lines("Hyperparameters", "one name=value per line, e.g. num_round=100")
    train_uri = _text("Train channel S3 URI", help_text="not needed after a labeling stage")
    validation_uri = _text("Validation channel S3 URI")
    content_type = forms.ChoiceField(label="Content type", choices=CONTENT_TYPES)
    output_path = forms.CharField(label="S3 output path", max_length=1024)
    instance_type = forms.CharField(label="Instance type", initial="ml.m5.large")
    instance_count = forms.IntegerField(label="Instance count", initial=1)
    max_runtime = forms.IntegerField(label="Max runtime (seconds)", initial=3600)
    objective_metric = forms.CharField(label="Objective metric", required=False)
    objective_type = forms.ChoiceField(choices=_choices(("Minimize", "Maximize")))
    parameter_ranges = _lines(
        "Hyperparameter ranges",
        "one a line: name=min..max [Linear|Logarithmic|ReverseLogarithmic] or name=a|b|c",
    )
    max_jobs = forms.IntegerField(label="Training jobs in all", initial=4)
    max_parallel_jobs = forms.IntegerField(label="Training jobs at once", initial=2)

    register = forms.BooleanField(label="Register the model", required=False)
    model_package_group = forms.CharField(label="Model package group", required=False)
    approval_status = forms.ChoiceField(
        choices=_choices(("PendingManualApproval", "Approved", "Rejected"))
    )

    condition = forms.BooleanField(
        label="Deploy only when a metric passes a threshold", required=False
    )
    condition_metric = forms.CharField(
        label="Metric",
        required=False,
        help_text="a training job's final metric; a tuning job compares its objective",
    )
    comparison = forms.ChoiceField(choices=_choices(COMPARISONS))
    threshold = forms.FloatField(
        label="Threshold", required=False, help_text="the MetricThreshold parameter's default"
    )

    model = forms.BooleanField(label="Create a model", required=False)
    deploy = forms.BooleanField(label="Deploy to an endpoint", required=False)
    endpoint_name = forms.CharField(label="Endpoint name", required=False, max_length=63)
    endpoint_instance_type = forms.CharField(label="Endpoint instance type", initial="ml.m5.large")
    endpoint_instance_count = forms.IntegerField(label="Endpoint instance count", initial=1)

    FIELD_OF = _FIELD_OF

    def __init__(self, *args, workteams: list[tuple[str, str]], **kwargs) -> None:
        """``workteams``: ``(arn, name)`` of the work teams the user may use."""
        super().__init__(*args, **kwargs)
        self.fields["algorithm"].choices = _choices(algorithm_names())
        self.fields["label_workteam"].choices = [("", "—"), *workteams]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        on = {stage: data.get(stage) for stage in ("label", "register", "condition", "deploy")}
        on["tuning"] = data.get("trainer") == "tuning"
        for stage, names in _REQUIRED.items():
            for name in names:
                if on[stage] and name not in self.errors and data.get(name) in (None, ""):
                    self.add_error(name, "This field is required for the stage chosen.")
        if not on["label"] and not data.get("train_uri") and "train_uri" not in self.errors:
            self.add_error("train_uri", "This field is required unless a labeling stage feeds it.")
        if on["condition"] and not on["tuning"] and not data.get("condition_metric"):
            self.add_error("condition_metric", "Name the training metric the condition compares.")
        self._parse("hyperparameters", builder.parse_hyperparameters)
        if on["tuning"]:
            self._parse("parameter_ranges", builder.parse_parameter_ranges)
        return data

    def _parse(self, name: str, parse) -> None:
        if name in self.cleaned_data:
            try:
                self.cleaned_data[name] = parse(self.cleaned_data[name])
            except ValidationError as exc:
                self.add_error(name, exc.rule)

    def chain(self) -> Chain:
        data = self.cleaned_data
        return Chain(
            training=Training(
                image=data["algorithm"],
                output_path=data["output_path"],
                train_uri=data["train_uri"],
                validation_uri=data["validation_uri"],
                hyperparameters=data["hyperparameters"],
                content_type=data["content_type"],
                instance_type=data["instance_type"],
                instance_count=data["instance_count"],
                max_runtime_s=data["max_runtime"],
            ),
            labeling=self._labeling() if data["label"] else None,
            tuning=Tuning(
                objective_metric=data["objective_metric"],
                objective_type=data["objective_type"],
                parameter_ranges=data["parameter_ranges"],
                max_jobs=data["max_jobs"],
                max_parallel_jobs=data["max_parallel_jobs"],
            )
            if data["trainer"] == "tuning"
            else None,
            registration=Registration(data["model_package_group"], data["approval_status"])
            if data["register"]
            else None,
            gate=Gate(data["comparison"], data["threshold"], data["condition_metric"])
            if data["condition"]
            else None,
            model=data["model"],
            deployment=Deployment(
                data["endpoint_name"],
                data["endpoint_instance_type"],
                data["endpoint_instance_count"],
            )
            if data["deploy"]
            else None,
            cache=data["cache"],
        )

    def _labeling(self) -> Labeling:
        data = self.cleaned_data
        features = data["label_feature_attributes"].split(",")
        algorithm = ALGORITHM_ARN.format(task_type=TASK_TYPES[data["label_task_type"]])
        return Labeling(
            manifest_uri=data["label_manifest_uri"],
            label_attribute_name=data["label_attribute_name"],
            categories_uri=data["label_categories_uri"],
            workteam_arn=data["label_workteam"],
            pre_human_task_function=data["label_task_type"],
            output_path=data["label_output_path"],
            feature_attributes=tuple(name.strip() for name in features if name.strip())
            or ("source",),
            automated_algorithm_arn=algorithm if data["label_automated"] else "",
        )

    def checked_definition(self) -> Any | None:
        """The definition this chain writes, checked as CreatePipeline checks it; None, with the
        errors on their fields, when it is refused."""
        try:
            return pipeline_definition_check(builder.chain_definition(self.chain()))
        except ValidationError as exc:
            self._request_error(exc.field, exc.message)
            return None

    def to_request(self) -> dict[str, Any]:
        data = self.cleaned_data
        request = builder.create_pipeline_request(
            self.chain(), name=data["name"], description=data["description"]
        )
        return {**request, "ClientRequestToken": uuid.uuid4().hex}
