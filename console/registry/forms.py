"""The console's create-model form: one container, or a serial pipeline of several."""

from __future__ import annotations

from typing import Any

from django import forms

from console.core.forms import RequestForm

ROLE_ARN = "arn:aws:iam::000000000000:role/sagebrush"


class ModelForm(RequestForm):
    FIELD_OF = [
        ("ModelName", "name"),
        ("PrimaryContainer", "containers"),
        ("Containers", "containers"),
    ]

    name = forms.CharField(label="Model name", max_length=63)
    containers = forms.CharField(
        label="Containers",
        widget=forms.Textarea,
        help_text=(
            "One 'image model-data-url' per line; several lines make a serial inference "
            "pipeline, run in order"
        ),
    )
    environment = forms.CharField(
        label="Environment", required=False, widget=forms.Textarea, help_text="NAME=value per line"
    )

    def to_request(self) -> dict[str, Any]:
        environment = {}
        for line in self.cleaned_data["environment"].splitlines():
            if line.strip():
                key, _, value = line.partition("=")
                environment[key.strip()] = value.strip()
        containers = []
        for line in self.cleaned_data["containers"].splitlines():
            image, _, url = line.strip().partition(" ")
            if image:
                containers.append(
                    {"Image": image, "ModelDataUrl": url.strip(), "Environment": environment}
                )
        request: dict[str, Any] = {
            "ModelName": self.cleaned_data["name"],
            "ExecutionRoleArn": ROLE_ARN,
        }
        if len(containers) == 1:
            request["PrimaryContainer"] = containers[0]
        else:
            request["Containers"] = containers
        return request
