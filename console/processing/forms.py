"""The console's create form: the usual shape of a processing job (a script, one input, one
output), as CreateProcessingJob's request, checked by the same service as the APIs."""

from __future__ import annotations

import posixpath
import shlex
from typing import Any

from django import forms

from console.core.forms import RequestForm

CODE_PATH = "/opt/ml/processing/input/code"
_FIELD_OF = [
    ("ProcessingJobName", "name"),
    ("AppSpecification.ImageUri", "image"),
    ("AppSpecification.ContainerArguments", "arguments"),
    ("AppSpecification", "code_uri"),
    ("ProcessingInputs.1", "code_uri"),
    ("ProcessingInputs.2.S3Input.LocalPath", "input_path"),
    ("ProcessingInputs.2", "input_uri"),
    ("ProcessingOutputConfig.Outputs.1.S3Output.LocalPath", "output_path"),
    ("ProcessingOutputConfig", "output_uri"),
    ("ProcessingResources.ClusterConfig.InstanceType", "instance_type"),
    ("ProcessingResources.ClusterConfig.InstanceCount", "instance_count"),
    ("StoppingCondition", "max_runtime"),
]


class ProcessingJobForm(RequestForm):
    name = forms.CharField(label="Job name", max_length=63)
    image = forms.CharField(
        label="Image",
        initial="sagemaker-scikit-learn:1.2-1-cpu-py3",
        help_text="a framework image: scikit-learn, xgboost, pytorch (or SageMaker's URI of one)",
    )
    code_uri = forms.CharField(
        label="Script S3 URI", max_length=1024, help_text="a .py object, run with python3"
    )
    arguments = forms.CharField(label="Arguments", required=False, max_length=1024)
    input_uri = forms.CharField(label="Input S3 URI", max_length=1024, required=False)
    input_path = forms.CharField(label="Input path", initial="/opt/ml/processing/input")
    output_uri = forms.CharField(label="Output S3 URI", max_length=1024)
    output_path = forms.CharField(label="Output path", initial="/opt/ml/processing/output")
    instance_type = forms.CharField(initial="ml.m5.large")
    instance_count = forms.IntegerField(label="Instances", initial=1)
    max_runtime = forms.IntegerField(label="Max runtime (s)", initial=3600)

    FIELD_OF = _FIELD_OF

    def to_request(self) -> dict[str, Any]:
        """The CreateProcessingJob request these (cleaned) values make: what
        ``ScriptProcessor.run(code=...)`` would send."""
        data = self.cleaned_data
        script = posixpath.basename(data["code_uri"])
        inputs = [_input("code", data["code_uri"], CODE_PATH)]
        if data["input_uri"]:
            inputs.append(_input("input-1", data["input_uri"], data["input_path"]))
        application: dict[str, Any] = {
            "ImageUri": data["image"],
            "ContainerEntrypoint": ["python3", f"{CODE_PATH}/{script}"],
        }
        if arguments := shlex.split(data["arguments"] or ""):
            application["ContainerArguments"] = arguments
        return {
            "ProcessingJobName": data["name"],
            "RoleArn": "arn:aws:iam::000000000000:role/sagebrush-console",
            "AppSpecification": application,
            "ProcessingInputs": inputs,
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "output-1",
                        "S3Output": {
                            "S3Uri": data["output_uri"],
                            "LocalPath": data["output_path"],
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": data["instance_count"],
                    "InstanceType": data["instance_type"],
                    "VolumeSizeInGB": 30,
                }
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": data["max_runtime"]},
        }


def _input(name: str, uri: str, local_path: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }
