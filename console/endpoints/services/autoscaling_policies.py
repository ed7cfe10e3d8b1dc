"""The rules a scaling policy of an endpoint variant must satisfy, beyond botocore's shapes:
which metrics the autoscaler can track for a variant and what makes a set of steps whole."""

from __future__ import annotations

import itertools
import math
from typing import Any

from console.core.errors import ValidationError
from infra.serving.autoscaling import CUSTOM_METRICS, PREDEFINED_METRICS

TARGET_TRACKING = "TargetTrackingScalingPolicyConfiguration"
STEP = "StepScalingPolicyConfiguration"
PREDICTIVE = "PredictiveScalingPolicyConfiguration"
CONFIGURATIONS = {"TargetTrackingScaling": TARGET_TRACKING, "StepScaling": STEP}
NAMESPACE = "AWS/SageMaker"


def policy_checked(
    *, endpoint_name: str, variant_name: str, policy_type: str | None, configuration: dict
) -> dict[str, Any]:
    """``{"PolicyType": ..., <its configuration>: ...}`` as it is kept, or a ValidationError."""
    if policy_type is None:
        raise ValidationError("policyType", "Member is required to create a scaling policy")
    if policy_type not in CONFIGURATIONS:
        raise ValidationError(
            "policyType",
            "SageMaker endpoint variants take TargetTrackingScaling or StepScaling policies",
            value=policy_type,
        )
    key = CONFIGURATIONS[policy_type]
    config = configuration.get(key)
    if config is None:
        raise ValidationError(
            key[:1].lower() + key[1:], f"Member is required for a {policy_type} policy"
        )
    for other in {TARGET_TRACKING, STEP, PREDICTIVE} - {key}:
        if configuration.get(other) is not None:
            raise ValidationError(
                other[:1].lower() + other[1:],
                f"Member must not be given for a {policy_type} policy",
            )
    if policy_type == "TargetTrackingScaling":
        _check_target_tracking(config, endpoint_name, variant_name)
    else:
        _check_steps(config)
    return {"PolicyType": policy_type, key: config}


def _check_target_tracking(config: dict, endpoint_name: str, variant_name: str) -> None:
    where = "targetTrackingScalingPolicyConfiguration"
    predefined = config.get("PredefinedMetricSpecification")
    customized = config.get("CustomizedMetricSpecification")
    if (predefined is None) == (customized is None):
        raise ValidationError(
            where,
            "Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification "
            "must be given",
        )
    if not config["TargetValue"] > 0:
        raise ValidationError(
            f"{where}.targetValue", "Member must be greater than 0", value=config["TargetValue"]
        )
    for member in ("ScaleOutCooldown", "ScaleInCooldown"):
        _check_cooldown(config, member, where)
    if predefined is not None:
        kind = predefined["PredefinedMetricType"]
        if kind not in PREDEFINED_METRICS:
            raise ValidationError(
                f"{where}.predefinedMetricSpecification.predefinedMetricType",
                f"Member must be one of {', '.join(PREDEFINED_METRICS)} for an endpoint variant",
                value=kind,
            )
        return
    _check_custom_metric(customized, endpoint_name, variant_name)


def _check_cooldown(config: dict, member: str, where: str) -> None:
    if config.get(member) is not None and config[member] < 0:
        raise ValidationError(
            f"{where}.{member[:1].lower()}{member[1:]}",
            "Member must be greater than or equal to 0 (seconds)",
            value=config[member],
        )


def _check_custom_metric(metric: dict, endpoint_name: str, variant_name: str) -> None:
    where = "targetTrackingScalingPolicyConfiguration.customizedMetricSpecification"
    if metric.get("Metrics"):
        raise ValidationError(
            f"{where}.metrics",
            "Metric math is not supported: name one metric with MetricName and Namespace",
        )
    for member in ("MetricName", "Namespace", "Statistic"):
        if not metric.get(member):
            raise ValidationError(f"{where}.{member[:1].lower()}{member[1:]}", "Member is required")
    if metric["Namespace"] != NAMESPACE or metric["MetricName"] not in CUSTOM_METRICS:
        raise ValidationError(
            f"{where}.metricName",
            f"The autoscaler tracks these {NAMESPACE} metrics of a variant: "
            f"{', '.join(CUSTOM_METRICS)}",
            value=f"{metric['Namespace']}/{metric['MetricName']}",
        )
    dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions") or ()}
    wanted = {"EndpointName": endpoint_name, "VariantName": variant_name}
    if dimensions != wanted:
        raise ValidationError(
            f"{where}.dimensions",
            f"Member must be EndpointName={endpoint_name} and VariantName={variant_name}, "
            "the variant the policy scales",
        )


def _check_steps(config: dict) -> None:
    where = "stepScalingPolicyConfiguration"
    if not config.get("AdjustmentType"):
        raise ValidationError(f"{where}.adjustmentType", "Member is required")
    _check_cooldown(config, "Cooldown", where)
    magnitude = config.get("MinAdjustmentMagnitude")
    if magnitude is not None and config["AdjustmentType"] != "PercentChangeInCapacity":
        raise ValidationError(
            f"{where}.minAdjustmentMagnitude",
            "Member may be given only with AdjustmentType PercentChangeInCapacity",
            value=magnitude,
        )
    steps = config.get("StepAdjustments") or []
    if not steps:
        raise ValidationError(f"{where}.stepAdjustments", "Member must have at least one step")
    spans = []
    for index, step in enumerate(steps, start=1):
        if step.get("ScalingAdjustment") is None:
            raise ValidationError(
                f"{where}.stepAdjustments.{index}.scalingAdjustment", "Member must not be null"
            )
        low = step.get("MetricIntervalLowerBound")
        high = step.get("MetricIntervalUpperBound")
        if low is not None and high is not None and not low < high:
            raise ValidationError(
                f"{where}.stepAdjustments.{index}",
                "MetricIntervalLowerBound must be less than MetricIntervalUpperBound",
            )
        spans.append((-math.inf if low is None else low, math.inf if high is None else high, index))
    spans.sort()
    # Named at the step (in request order) that does not start where the one below it ends.
    for (_, high, _), (low, _, index) in itertools.pairwise(spans):
        if low != high:
            raise ValidationError(
                f"{where}.stepAdjustments.{index}",
                "Step adjustment intervals must neither overlap nor leave a gap",
            )
