"""The step-scaling form of an endpoint variant: its bounds, and one StepScaling policy (the
adjustment type, cooldown, metric aggregation, minimum magnitude and a table of steps).

It goes to ``endpoint_step_scaling_set``, over the services that RegisterScalableTarget and
PutScalingPolicy call, so its refusals are theirs, shown at the field (or the step's row) they
name, in plain words (:mod:`console.endpoints.form_errors`). The table grows a row at a time with
"Add a step", a plain submit button (no script needed).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from console.core.shapes import service_model
from console.endpoints.form_errors import TeachingForm
from console.endpoints.services.configs import MAX_INSTANCES_PER_VARIANT

_SHAPES = service_model("application-autoscaling")
ADJUSTMENT_TYPES = _SHAPES.shape_for("AdjustmentType").enum
AGGREGATIONS = _SHAPES.shape_for("MetricAggregationType").enum
MAX_STEPS = 20
DEFAULT_POLICY = "step-scaling"
_WHERE = "stepScalingPolicyConfiguration"
# A step's fields: <form field part>: <StepAdjustment member>.
STEP_MEMBERS = {
    "lower": "MetricIntervalLowerBound",
    "upper": "MetricIntervalUpperBound",
    "adjustment": "ScalingAdjustment",
}
_STEP_PATH = re.compile(rf"^{_WHERE}\.stepAdjustments(?:\.(\d+))?(?:\.(\w+))?$")


def _instances(label: str, initial: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, min_value=1, max_value=MAX_INSTANCES_PER_VARIANT, initial=initial
    )


class StepScalingForm(TeachingForm):
    """The variant's scalable target bounds and a StepScaling policy; ``rows`` steps shown, a
    row left empty is left out."""

    FIELD_OF = [
        ("minCapacity", "min_instances"),
        ("maxCapacity", "max_instances"),
        (f"{_WHERE}.adjustmentType", "adjustment_type"),
        (f"{_WHERE}.cooldown", "cooldown"),
        (f"{_WHERE}.metricAggregationType", "metric_aggregation_type"),
        (f"{_WHERE}.minAdjustmentMagnitude", "min_adjustment_magnitude"),
    ]

    policy_name = forms.CharField(
        label="Policy name",
        max_length=256,
        initial=DEFAULT_POLICY,
        help_text="a policy of the variant with this name is replaced",
    )
    min_instances = _instances("Minimum instances", 1)
    max_instances = _instances("Maximum instances", 2)
    adjustment_type = forms.ChoiceField(
        label="Adjustment type",
        choices=[(t, t) for t in ADJUSTMENT_TYPES],
        help_text="what a step's adjustment counts: instances to add or remove "
        "(ChangeInCapacity), a percentage of the count (PercentChangeInCapacity), or the "
        "count to set (ExactCapacity)",
    )
    cooldown = forms.IntegerField(
        label="Cooldown (seconds)",
        required=False,
        min_value=0,
        help_text="optional; after a scaling activity, how long before the next may start",
    )
    metric_aggregation_type = forms.ChoiceField(
        label="Metric aggregation",
        required=False,
        choices=[("", "not set (Average)"), *((a, a) for a in AGGREGATIONS)],
        help_text="how the alarm's metric data points are combined",
    )
    min_adjustment_magnitude = forms.IntegerField(
        label="Minimum adjustment (instances)",
        required=False,
        min_value=1,
        help_text="optional, with PercentChangeInCapacity only: the fewest instances a step "
        "adds or removes",
    )

    def __init__(self, *args: Any, rows: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = max(1, min(rows, MAX_STEPS))
        for row in range(1, self.rows + 1):
            self.fields[f"step_{row}_lower"] = forms.FloatField(label="Lower bound", required=False)
            self.fields[f"step_{row}_upper"] = forms.FloatField(label="Upper bound", required=False)
            self.fields[f"step_{row}_adjustment"] = forms.IntegerField(
                label="Adjustment", required=False
            )
        self._sent_rows: list[int] = []  # the rows sent, in request order

    def step_rows(self) -> list[list[forms.BoundField]]:
        """Each step's bound fields (lower, upper, adjustment), for the template's table."""
        return [
            [self[f"step_{row}_{part}"] for part in STEP_MEMBERS] for row in range(1, self.rows + 1)
        ]

    def configuration(self) -> dict[str, Any]:
        """The StepScalingPolicyConfiguration the fields say (empty rows left out)."""
        data = self.cleaned_data
        steps = []
        self._sent_rows = []
        for row in range(1, self.rows + 1):
            values = {
                member: data.get(f"step_{row}_{part}") for part, member in STEP_MEMBERS.items()
            }
            if all(value is None for value in values.values()):
                continue
            self._sent_rows.append(row)
            steps.append({member: v for member, v in values.items() if v is not None})
        optional = {
            "Cooldown": data.get("cooldown"),
            "MetricAggregationType": data.get("metric_aggregation_type") or None,
            "MinAdjustmentMagnitude": data.get("min_adjustment_magnitude"),
        }
        return {
            "AdjustmentType": data["adjustment_type"],
            "StepAdjustments": steps,
            **{member: value for member, value in optional.items() if value is not None},
        }

    def arguments(self) -> dict[str, Any]:
        """``endpoint_step_scaling_set``'s keyword arguments (the endpoint and variant are the
        page's)."""
        return {
            "policy_name": self.cleaned_data["policy_name"],
            "min_instances": self.cleaned_data["min_instances"],
            "max_instances": self.cleaned_data["max_instances"],
            "configuration": self.configuration(),
        }

    def field_for(self, path: str) -> str | None:
        """``…stepAdjustments.<n>`` is the n-th step sent (its bounds; ``.scalingAdjustment`` its
        adjustment); with no step sent, the first row's adjustment."""
        match = _STEP_PATH.match(path)
        if match is None:
            return super().field_for(path)
        index, member = match.groups()
        if index is None:
            return "step_1_adjustment"
        if int(index) > len(self._sent_rows):
            return None
        part = "adjustment" if member == "scalingAdjustment" else "lower"
        return f"step_{self._sent_rows[int(index) - 1]}_{part}"

    def error_summary(self) -> list[dict[str, str]]:
        """As every guided form's, a step's fields named with their row ("Step 2: Lower bound")."""
        summary = super().error_summary()
        for item in summary:
            if match := re.match(r"id_step_(\d+)_", item["id"]):
                item["label"] = f"Step {match.group(1)}: {item['label']}"
        return summary


def step_scaling_initial(target: dict | None, policy: dict | None) -> dict[str, Any]:
    """The form's initial values: the target's bounds (DescribeScalableTargets' shape) and, to
    change it, a step policy's configuration (DescribeScalingPolicies' shape); ``rows``, the
    steps the table shows (two for a new policy)."""
    initial: dict[str, Any] = {"rows": 2}
    if target:
        initial.update(min_instances=target["MinCapacity"], max_instances=target["MaxCapacity"])
    config = (policy or {}).get("StepScalingPolicyConfiguration")
    if not config:
        return initial
    initial.update(
        policy_name=policy["PolicyName"],
        adjustment_type=config["AdjustmentType"],
        cooldown=config.get("Cooldown"),
        metric_aggregation_type=config.get("MetricAggregationType", ""),
        min_adjustment_magnitude=config.get("MinAdjustmentMagnitude"),
    )
    steps = config.get("StepAdjustments", [])
    initial["rows"] = max(len(steps), 1)
    for row, step in enumerate(steps, start=1):
        for part, member in STEP_MEMBERS.items():
            initial[f"step_{row}_{part}"] = step.get(member)
    return initial
