"""The console's create form: CreateTransformJob's fields, checked by the same service as the APIs.

The form only shapes input (types, choices); every rule is the service's, so a request that the
SageMaker or REST API refuses is refused here with the same reason, shown next to its field.
"""

from __future__ import annotations

from typing import Any

from django import forms

from batch import spec as batch_spec
from console.core.forms import RequestForm

# Which form field shows an error about which part of the request (longest prefix first).
_FIELD_OF = [
    ("TransformJobName", "name"),
    ("ModelName", "model_name"),
    (f"{batch_spec.S3_SOURCE}.S3DataType", "s3_data_type"),
    ("TransformInput.DataSource", "input_uri"),
    ("TransformInput.ContentType", "content_type"),
    ("TransformInput.CompressionType", "compression_type"),
    ("TransformInput.SplitType", "split_type"),
    ("BatchStrategy", "batch_strategy"),
    ("MaxPayloadInMB", "max_payload_mb"),
    ("MaxConcurrentTransforms", "max_concurrent_transforms"),
    ("TransformOutput.S3OutputPath", "output_path"),
    ("TransformOutput.Accept", "accept"),
    ("TransformOutput.AssembleWith", "assemble_with"),
    ("DataProcessing.InputFilter", "input_filter"),
    ("DataProcessing.JoinSource", "join_source"),
    ("DataProcessing.OutputFilter", "output_filter"),
    ("TransformResources.InstanceType", "instance_type"),
    ("TransformResources.InstanceCount", "instance_count"),
    ("ModelClientConfig.InvocationsTimeoutInSeconds", "invocations_timeout"),
    ("ModelClientConfig.InvocationsMaxRetries", "invocations_max_retries"),
]
CONTENT_TYPES = ["text/csv", "application/jsonlines", "application/json"]


def _choices(values) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class TransformJobForm(RequestForm):
    name = forms.CharField(label="Job name", max_length=63)
    model_name = forms.ChoiceField(label="Model")
    s3_data_type = forms.ChoiceField(
        label="Input type", choices=_choices(batch_spec.S3_DATA_TYPES), initial="S3Prefix"
    )
    input_uri = forms.CharField(label="Input S3 URI", max_length=1024)
    content_type = forms.ChoiceField(choices=_choices(CONTENT_TYPES), initial="text/csv")
    compression_type = forms.ChoiceField(
        choices=_choices(batch_spec.COMPRESSION_TYPES), initial="None"
    )
    split_type = forms.ChoiceField(choices=_choices(batch_spec.SPLIT_TYPES), initial="Line")
    batch_strategy = forms.ChoiceField(
        choices=_choices(batch_spec.BATCH_STRATEGIES), initial="MultiRecord"
    )
    max_payload_mb = forms.IntegerField(
        label="Max payload (MB)", initial=batch_spec.DEFAULT_MAX_PAYLOAD_MB
    )
    max_concurrent_transforms = forms.IntegerField(initial=1)
    output_path = forms.CharField(label="Output S3 path", max_length=1024)
    accept = forms.ChoiceField(
        choices=[("", "same as content type"), *_choices(CONTENT_TYPES)], required=False
    )
    assemble_with = forms.ChoiceField(choices=_choices(batch_spec.ASSEMBLE_WITH), initial="Line")
    input_filter = forms.CharField(initial="$", max_length=63)
    join_source = forms.ChoiceField(choices=_choices(batch_spec.JOIN_SOURCES), initial="None")
    output_filter = forms.CharField(initial="$", max_length=63)
    instance_type = forms.CharField(initial="ml.m5.large")
    instance_count = forms.IntegerField(label="Instances (Dask workers)", initial=1)
    invocations_timeout = forms.IntegerField(
        label="Invocation timeout (s)", initial=batch_spec.DEFAULT_INVOCATIONS_TIMEOUT_S
    )
    invocations_max_retries = forms.IntegerField(
        label="Retries per mini-batch", initial=batch_spec.DEFAULT_INVOCATIONS_MAX_RETRIES
    )

    FIELD_OF = _FIELD_OF

    def __init__(self, *args, model_names: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model_name"].choices = _choices(model_names)

    def to_request(self) -> dict[str, Any]:
        """The CreateTransformJob request these (cleaned) values make."""
        data = self.cleaned_data
        transform_output = {
            "S3OutputPath": data["output_path"],
            "AssembleWith": data["assemble_with"],
        }
        if data["accept"]:
            transform_output["Accept"] = data["accept"]
        return {
            "TransformJobName": data["name"],
            "ModelName": data["model_name"],
            "MaxConcurrentTransforms": data["max_concurrent_transforms"],
            "MaxPayloadInMB": data["max_payload_mb"],
            "BatchStrategy": data["batch_strategy"],
            "ModelClientConfig": {
                "InvocationsTimeoutInSeconds": data["invocations_timeout"],
                "InvocationsMaxRetries": data["invocations_max_retries"],
            },
            "TransformInput": {
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": data["s3_data_type"],
                        "S3Uri": data["input_uri"],
                    }
                },
                "ContentType": data["content_type"],
                "CompressionType": data["compression_type"],
                "SplitType": data["split_type"],
            },
            "TransformOutput": transform_output,
            "TransformResources": {
                "InstanceType": data["instance_type"],
                "InstanceCount": data["instance_count"],
            },
            "DataProcessing": {
                "InputFilter": data["input_filter"],
                "JoinSource": data["join_source"],
                "OutputFilter": data["output_filter"],
            },
        }
