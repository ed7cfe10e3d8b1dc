"""The console's create-training-job form: a CreateTrainingJob request built from fields.

The chosen algorithm's hyperparameters are fields of their own, with the default, range and help
of the algorithm's schema (``hyperparameter_fields``). The form checks only what HTML can; the
rest is the service's validation, the same as the APIs', and its errors land next to the field
they name, in plain words, summarised at the top (``GuidedRequestForm``). ``AlgorithmJobForm`` is
what the tuning form shares with it.
"""

from __future__ import annotations

from typing import Any

from django import forms

from algorithms import algorithm_names
from algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC
from console.core.form_errors import GuidedRequestForm, plain_rule
from console.training.hyperparameter_fields import (
    PREFIX,
    algorithm_or_none,
    field_name,
    schema_rows,
    value_field,
)

CONTENT_TYPES = [
    ("text/csv", "text/csv (label in column 0, no header)"),
    ("application/jsonlines", 'application/jsonlines ({"features": [...], "label": y})'),
    ("text/libsvm", "text/libsvm (tree algorithms)"),
]
ROLE_ARN = "arn:aws:iam::000000000000:role/sagebrush"
DEFAULT_ALGORITHM = "xgboost"

# Which form field shows an error about which part of the request (longest prefix first).
_FIELD_OF = [
    ("TrainingJobName", "name"),
    ("AlgorithmSpecification.MetricDefinitions", "metric_definitions"),
    ("AlgorithmSpecification", "algorithm"),
    ("HyperParameters", "hyperparameters"),
    ("InputDataConfig.2", "validation_uri"),
    ("InputDataConfig", "train_uri"),
    ("OutputDataConfig", "output_path"),
    ("ResourceConfig", "instance_count"),
    ("StoppingCondition", "max_runtime"),
]


class AlgorithmJobForm(GuidedRequestForm):
    """What the forms of jobs that run an algorithm share (training jobs, a tuning job's
    trials): the algorithm, whose schema (``self.schema``) gives the hyperparameter fields, and
    the fields of :func:`definition_parts`. A subclass adds its own fields, orders them all
    (``field_order``) and may say a shared field in its own words (``WORDS``)."""

    algorithm = forms.ChoiceField(label="Algorithm (training image)")
    train_uri = forms.CharField(label="Train channel S3 URI", help_text="s3://bucket/prefix/")
    validation_uri = forms.CharField(
        label="Validation channel S3 URI",
        required=False,
        help_text="optional; validation metrics and early stopping need it",
    )
    content_type = forms.ChoiceField(label="Content type", choices=CONTENT_TYPES)
    output_path = forms.CharField(
        label="S3 output path",
        help_text="s3://bucket/prefix; the model goes to <path>/<job>/output/model.tar.gz",
    )
    instance_count = forms.IntegerField(label="Instance count", initial=1, min_value=1)
    metric_definitions = forms.CharField(
        label="Metric definitions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="for scripts: one Name=Regex per line; group 1 of the regex is the value",
    )

    WORDS: dict[str, dict[str, str]] = {}  # field: {"label" or "help_text": this form's words}

    def __init__(self, *args, user=None, **kwargs) -> None:
        # ``user``: whose jobs a form may offer (the tuning form's warm-start parents).
        super().__init__(*args, **kwargs)
        for name, words in self.WORDS.items():
            for attribute, text in words.items():
                setattr(self.fields[name], attribute, text)
        self.fields["algorithm"].choices = [(name, name) for name in algorithm_names()]
        self.fields["algorithm"].initial = DEFAULT_ALGORITHM
        self.algorithm = algorithm_or_none(self._chosen_algorithm())
        self.schema = schema_rows(self.algorithm)

    def _chosen_algorithm(self) -> str:
        return (self.data if self.is_bound else self.initial).get("algorithm") or DEFAULT_ALGORITHM

    def typed_hyperparameter_field(
        self, path: str, *, prefix: str, lines_field: str, part: str = ""
    ) -> str | None:
        """The schema field of the hyperparameter that ``path`` (``<prefix><name>``) names,
        unless the free ``name=value`` lines of ``lines_field`` set it (they win)."""
        if not path.startswith(prefix):
            return None
        name = path.removeprefix(prefix)
        typed = pairs(self.cleaned_data.get(lines_field, ""))
        field = field_name(name, part)
        return field if name not in typed and field in self.fields else None


class TrainingJobForm(AlgorithmJobForm):
    name = forms.CharField(
        label="Job name",
        max_length=63,
        help_text="letters, digits and hyphens; unique among your training jobs",
    )
    hyperparameters = forms.CharField(
        label="Other hyperparameters",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="one name=value per line, e.g. a script's own; a line here wins over a field",
    )
    max_runtime = forms.IntegerField(label="Max runtime (seconds)", initial=3600, min_value=1)

    FIELD_OF = _FIELD_OF
    field_order = ["name", "algorithm", "hyperparameters", "train_uri", "validation_uri"]
    field_order += ["content_type", "output_path", "instance_count", "max_runtime"]  # then the rest

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The algorithm's fields go right after its choice.
        general = list(self.fields.items())
        hyperparameter_fields = [(field_name(row.name), value_field(row)) for row in self.schema]
        self.fields = dict(general[:2] + hyperparameter_fields + general[2:])

    @property
    def hyperparameter_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(PREFIX)]

    @property
    def general_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith(PREFIX)]

    def to_request(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "TrainingJobName": data["name"],
            **definition_parts(data),
            "HyperParameters": self.hyperparameter_values(),
            "StoppingCondition": {"MaxRuntimeInSeconds": data["max_runtime"]},
        }

    def hyperparameter_values(self) -> dict[str, str]:
        """The fields that were filled in, then the free lines (which win)."""
        data = self.cleaned_data
        values = {
            row.name: str(data[field_name(row.name)]).strip()
            for row in self.schema
            if str(data.get(field_name(row.name)) or "").strip()
        }
        return {**values, **pairs(data.get("hyperparameters", ""))}

    def field_for(self, path: str) -> str | None:
        field = self.typed_hyperparameter_field(
            path, prefix="HyperParameters.", lines_field="hyperparameters"
        )
        return field or super().field_for(path)

    def plain_message(self, path: str, rule: str, field: str | None) -> str:
        # In the free lines, a hyperparameter's error says which line it is about.
        if path.startswith("HyperParameters.") and field == "hyperparameters":
            return f"{path.removeprefix('HyperParameters.')}: {plain_rule(rule)}"
        return super().plain_message(path, rule, field)


def definition_parts(data: dict[str, Any]) -> dict[str, Any]:
    """What a training job and a tuning job's trials share, from the forms' cleaned values:
    the image and metric definitions, role, channels, output path and instances."""
    channels = [_channel("train", data["train_uri"], data["content_type"])]
    if data["validation_uri"]:
        channels.append(_channel("validation", data["validation_uri"], data["content_type"]))
    specification: dict[str, Any] = {
        "TrainingImage": data["algorithm"],
        "TrainingInputMode": "File",
    }
    if definitions := pairs(data["metric_definitions"]):
        specification["MetricDefinitions"] = [
            {"Name": name, "Regex": regex} for name, regex in definitions.items()
        ]
    return {
        "RoleArn": ROLE_ARN,
        "AlgorithmSpecification": specification,
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": data["output_path"].strip()},
        "ResourceConfig": {
            "InstanceType": "ml.m5.large",
            "InstanceCount": data["instance_count"],
            "VolumeSizeInGB": 1,
        },
    }


def initial_from_spec(spec: dict[str, Any], *, name: str) -> dict[str, Any]:
    """The form's initial values that recreate CreateTrainingJob request ``spec`` (a clone)."""
    specification = spec.get("AlgorithmSpecification", {})
    image = specification.get("TrainingImage") or specification.get("AlgorithmName", "")
    declared = {row.name for row in schema_rows(algorithm_or_none(image))}
    given = {
        key: value
        for key, value in spec.get("HyperParameters", {}).items()
        if key != TUNING_OBJECTIVE_METRIC
    }
    initial: dict[str, Any] = {
        "name": name,
        "hyperparameters": "\n".join(f"{k}={v}" for k, v in given.items() if k not in declared),
        **initial_definition_parts(spec),
        "max_runtime": spec.get("StoppingCondition", {}).get("MaxRuntimeInSeconds", 3600),
    }
    initial.update({field_name(k): v for k, v in given.items() if k in declared})
    return initial


def initial_definition_parts(definition: dict[str, Any]) -> dict[str, Any]:
    """The initial values of :func:`definition_parts`' fields that recreate ``definition``."""
    specification = definition.get("AlgorithmSpecification", {})
    channels = {c["ChannelName"]: c for c in definition.get("InputDataConfig", [])}
    train = channels.get("train", {})
    return {
        "algorithm": specification.get("TrainingImage") or specification.get("AlgorithmName", ""),
        "train_uri": _uri(train),
        "validation_uri": _uri(channels.get("validation", {})),
        "content_type": train.get("ContentType", "text/csv"),
        "output_path": definition.get("OutputDataConfig", {}).get("S3OutputPath", ""),
        "instance_count": definition.get("ResourceConfig", {}).get("InstanceCount", 1),
        "metric_definitions": "\n".join(
            f"{d['Name']}={d['Regex']}" for d in specification.get("MetricDefinitions", [])
        ),
    }


def clone_name(name: str, *, limit: int = 63) -> str:
    """A new job's name for a copy of ``name`` (the user may change it)."""
    return f"{name[: limit - 5]}-copy"


def _uri(channel: dict[str, Any]) -> str:
    return channel.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri", "")


def _channel(name: str, uri: str, content_type: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "ContentType": content_type,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri.strip()}},
    }


def pairs(text: str) -> dict[str, str]:
    """``name=value`` lines as a dict (blank lines skipped)."""
    found = {}
    for line in text.splitlines():
        if line.strip():
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found
