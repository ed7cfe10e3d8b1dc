"""The console's create-training-job form: a few fields turned into a CreateTrainingJob request.

The form checks only what HTML can (required fields); everything else is the service's
validation, the same as the APIs', and its errors land next to the field they name.
"""

from __future__ import annotations

from typing import Any

from django import forms

from algorithms import algorithm_names
from console.core.forms import RequestForm

CONTENT_TYPES = [
    ("text/csv", "text/csv (label in column 0, no header)"),
    ("application/jsonlines", 'application/jsonlines ({"features": [...], "label": y})'),
    ("text/libsvm", "text/libsvm (tree algorithms)"),
]
ROLE_ARN = "arn:aws:iam::000000000000:role/sagebrush"

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


class TrainingJobForm(RequestForm):
    name = forms.CharField(label="Job name", max_length=63)
    algorithm = forms.ChoiceField(label="Algorithm (training image)")
    hyperparameters = forms.CharField(
        label="Hyperparameters",
        required=False,
        widget=forms.Textarea,
        help_text="One name=value per line, e.g. num_round=100",
    )
    train_uri = forms.CharField(label="Train channel S3 URI", help_text="s3://bucket/prefix/")
    validation_uri = forms.CharField(label="Validation channel S3 URI", required=False)
    content_type = forms.ChoiceField(label="Content type", choices=CONTENT_TYPES)
    output_path = forms.CharField(label="S3 output path", help_text="s3://bucket/prefix")
    instance_count = forms.IntegerField(label="Instance count", initial=1, min_value=1)
    max_runtime = forms.IntegerField(label="Max runtime (seconds)", initial=3600, min_value=1)
    metric_definitions = forms.CharField(
        label="Metric definitions",
        required=False,
        widget=forms.Textarea,
        help_text="One Name=Regex per line; group 1 of the regex is the value",
    )

    FIELD_OF = _FIELD_OF

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["algorithm"].choices = [(name, name) for name in algorithm_names()]

    def to_request(self) -> dict[str, Any]:
        data = self.cleaned_data
        channels = [_channel("train", data["train_uri"], data["content_type"])]
        if data["validation_uri"]:
            channels.append(_channel("validation", data["validation_uri"], data["content_type"]))
        specification: dict[str, Any] = {
            "TrainingImage": data["algorithm"],
            "TrainingInputMode": "File",
        }
        if definitions := _pairs(data["metric_definitions"]):
            specification["MetricDefinitions"] = [
                {"Name": name, "Regex": regex} for name, regex in definitions.items()
            ]
        return {
            "TrainingJobName": data["name"],
            "RoleArn": ROLE_ARN,
            "AlgorithmSpecification": specification,
            "HyperParameters": _pairs(data["hyperparameters"]),
            "InputDataConfig": channels,
            "OutputDataConfig": {"S3OutputPath": data["output_path"]},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": data["instance_count"],
                "VolumeSizeInGB": 1,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": data["max_runtime"]},
        }


def _channel(name: str, uri: str, content_type: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "ContentType": content_type,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri.strip()}},
    }


def _pairs(text: str) -> dict[str, str]:
    pairs = {}
    for line in text.splitlines():
        if line.strip():
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs
