"""The console's endpoint forms: an endpoint config's variants, a new endpoint, an update to
another config, weights and instance counts, and deploying a model or a training job in one step.

The forms only shape input (types, choices); every rule is the services', the same as the APIs',
and a refusal is shown next to its field in plain words (:mod:`console.endpoints.form_errors`).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from console.core.shapes import service_model
from console.endpoints.form_errors import TeachingForm
from console.endpoints.services.configs import MAX_INSTANCES_PER_VARIANT
from console.endpoints.services.one_step import VARIANT_NAME

MAX_VARIANTS = 10  # CreateEndpointConfig's limit
INSTANCE_TYPES = service_model().shape_for("ProductionVariantInstanceType").enum
INSTANCE_TYPE_HELP = "SageMaker's name; here each instance is a serving process on the platform"
DEFAULT_INSTANCE_TYPE = "ml.m5.large"


def _instance_type() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Instance type",
        choices=[(t, t) for t in INSTANCE_TYPES],
        initial=DEFAULT_INSTANCE_TYPE,
        help_text=INSTANCE_TYPE_HELP,
    )


def _instance_count(**kwargs: Any) -> forms.IntegerField:
    kwargs.setdefault("initial", 1)
    return forms.IntegerField(
        label="Instances", min_value=1, max_value=MAX_INSTANCES_PER_VARIANT, **kwargs
    )


def _name(label: str, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=63,
        help_text="Letters, digits and hyphens",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        **kwargs,
    )


class EndpointConfigForm(TeachingForm):
    """CreateEndpointConfig: a name and ``rows`` variants; a row without a model is left out."""

    RESOURCE_FIELD = {"EndpointConfig": "name", "Model": "variant_1_model"}
    VARIANT_FIELDS = {
        "VariantName": "name",
        "ModelName": "model",
        "InstanceType": "instance_type",
        "InitialInstanceCount": "instance_count",
        "InitialVariantWeight": "weight",
    }

    name = _name("Endpoint config name")

    def __init__(self, *args: Any, models: list[str], rows: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = max(1, min(rows, MAX_VARIANTS))
        model_choices = [("", "— choose a model —"), *((m, m) for m in models)]
        for row in range(1, self.rows + 1):
            first = row == 1
            self.fields[f"variant_{row}_name"] = _name(
                "Name",
                initial=VARIANT_NAME if first else f"variant-{row}",
                required=first,
            )
            self.fields[f"variant_{row}_model"] = forms.ChoiceField(
                label="Model", choices=model_choices, required=first
            )
            self.fields[f"variant_{row}_instance_type"] = _instance_type()
            self.fields[f"variant_{row}_instance_type"].help_text = ""  # said once, on top
            self.fields[f"variant_{row}_instance_count"] = _instance_count(required=first)
            self.fields[f"variant_{row}_weight"] = forms.FloatField(
                label="Weight", min_value=0, initial=1.0, required=first
            )
        self._sent_rows: list[int] = []  # the rows sent, in request order

    def error_summary(self) -> list[dict[str, str]]:
        """As every guided form's, a variant's fields named with their row ("Variant 2: Weight")."""
        summary = super().error_summary()
        for item in summary:
            if match := re.match(r"id_variant_(\d+)_", item["id"]):
                item["label"] = f"Variant {match.group(1)}: {item['label']}"
        return summary

    def variant_rows(self) -> list[list[forms.BoundField]]:
        """Each row's bound fields, for the template."""
        names = ("name", "model", "instance_type", "instance_count", "weight")
        return [
            [self[f"variant_{row}_{name}"] for name in names] for row in range(1, self.rows + 1)
        ]

    def to_request(self) -> dict[str, Any]:
        data = self.cleaned_data
        variants = []
        self._sent_rows = []
        for row in range(1, self.rows + 1):
            if not data.get(f"variant_{row}_model"):
                continue
            self._sent_rows.append(row)
            variant: dict[str, Any] = {
                "VariantName": data[f"variant_{row}_name"],
                "ModelName": data[f"variant_{row}_model"],
                "InstanceType": data[f"variant_{row}_instance_type"],
            }
            if data.get(f"variant_{row}_instance_count") is not None:
                variant["InitialInstanceCount"] = data[f"variant_{row}_instance_count"]
            if data.get(f"variant_{row}_weight") is not None:
                variant["InitialVariantWeight"] = data[f"variant_{row}_weight"]
            variants.append(variant)
        return {"EndpointConfigName": data["name"], "ProductionVariants": variants}

    def field_for(self, path: str) -> str | None:
        """``ProductionVariants.<n>.<Member>`` is the n-th row sent, not the n-th shown."""
        if path.startswith("EndpointConfigName"):
            return "name"
        match = re.match(r"ProductionVariants\.(\d+)\.(\w+)", path)
        if not match or match.group(2) not in self.VARIANT_FIELDS:
            return None
        index = int(match.group(1)) - 1
        if index >= len(self._sent_rows):
            return None
        return f"variant_{self._sent_rows[index]}_{self.VARIANT_FIELDS[match.group(2)]}"


class EndpointForm(TeachingForm):
    """CreateEndpoint from an existing config."""

    FIELD_OF = [("EndpointName", "name"), ("EndpointConfigName", "config")]
    RESOURCE_FIELD = {"Endpoint": "name", "EndpointConfig": "config", "Model": "config"}

    name = _name("Endpoint name")
    config = forms.ChoiceField(label="Endpoint config")

    def __init__(self, *args: Any, configs: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["config"].choices = [("", "— choose a config —"), *((c, c) for c in configs)]

    def to_request(self) -> dict[str, Any]:
        return {
            "EndpointName": self.cleaned_data["name"],
            "EndpointConfigName": self.cleaned_data["config"],
        }


class EndpointUpdateForm(TeachingForm):
    """UpdateEndpoint to another config, blue/green."""

    FIELD_OF = [("EndpointConfigName", "config")]
    RESOURCE_FIELD = {"EndpointConfig": "config", "Model": "config"}

    config = forms.ChoiceField(label="New endpoint config")
    retain = forms.BooleanField(
        label="Keep the current weights and instance counts",
        required=False,
        help_text="of the variants whose names the new config keeps (RetainAllVariantProperties)",
    )

    def __init__(self, *args: Any, endpoint_name: str, configs: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.endpoint_name = endpoint_name
        self.fields["config"].choices = [("", "— choose a config —"), *((c, c) for c in configs)]

    def to_request(self) -> dict[str, Any]:
        return {
            "EndpointName": self.endpoint_name,
            "EndpointConfigName": self.cleaned_data["config"],
            "RetainAllVariantProperties": self.cleaned_data["retain"],
        }


class WeightsAndCapacitiesForm(TeachingForm):
    """UpdateEndpointWeightsAndCapacities: a weight and an instance count per serving variant
    (none for a variant whose count autoscaling keeps)."""

    def __init__(self, *args: Any, endpoint_name: str, variants: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.endpoint_name = endpoint_name
        self.variants = variants
        for index, variant in enumerate(variants, start=1):
            self.fields[f"weight_{index}"] = forms.FloatField(
                label=f"Weight of {variant.name}", min_value=0, initial=variant.desired_weight
            )
            if variant.autoscaling:
                continue
            self.fields[f"count_{index}"] = _instance_count(initial=variant.desired_instance_count)
            self.fields[f"count_{index}"].label = f"Instances of {variant.name}"

    def to_request(self) -> dict[str, Any]:
        desired = []
        for index, variant in enumerate(self.variants, start=1):
            item = {
                "VariantName": variant.name,
                "DesiredWeight": self.cleaned_data[f"weight_{index}"],
            }
            if f"count_{index}" in self.cleaned_data:
                item["DesiredInstanceCount"] = self.cleaned_data[f"count_{index}"]
            desired.append(item)
        return {"EndpointName": self.endpoint_name, "DesiredWeightsAndCapacities": desired}

    def field_for(self, path: str) -> str | None:
        match = re.match(r"DesiredWeightsAndCapacities\.(\d+)\.Desired(Weight|InstanceCount)", path)
        if not match:
            return None
        field = f"{'weight' if match.group(2) == 'Weight' else 'count'}_{match.group(1)}"
        return field if field in self.fields else None


class DeployForm(TeachingForm):
    """A model, or a training job's model, on a new endpoint in one step; ``model_name`` is
    asked only when the model is to be created from a training job."""

    FIELD_OF = [
        ("EndpointConfigName", "endpoint_name"),
        ("EndpointName", "endpoint_name"),
        ("ModelName", "model_name"),
        ("ProductionVariants.1.InstanceType", "instance_type"),
        ("ProductionVariants.1.InitialInstanceCount", "instance_count"),
    ]
    RESOURCE_FIELD = {"Endpoint": "endpoint_name", "EndpointConfig": "endpoint_name"}

    endpoint_name = _name("Endpoint name")
    model_name = _name("Model name")
    endpoint_name.help_text = "Letters, digits and hyphens; its endpoint config takes the same name"
    instance_type = _instance_type()
    instance_count = _instance_count()

    def __init__(self, *args: Any, new_model: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if new_model:
            self.RESOURCE_FIELD = {**self.RESOURCE_FIELD, "Model": "model_name"}
            self.fields["model_name"].help_text = "The model registered from the job's artifact"
        else:
            del self.fields["model_name"]

    def arguments(self) -> dict[str, Any]:
        """The deploy service's keyword arguments (the model or job is the page's)."""
        return dict(self.cleaned_data)
