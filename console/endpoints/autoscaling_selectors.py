"""Reads of Application Auto Scaling's view of endpoint variants: the caller's scalable targets,
their policies and the activities the autoscaler recorded (see
:mod:`console.endpoints.services.autoscaling` for what a variant's setting holds)."""

from __future__ import annotations

from console.core.names import account_id_for
from console.endpoints.models import EndpointVariant
from console.endpoints.services.autoscaling import DIMENSION, NAMESPACE, Target, target_arn
from console.endpoints.services.capacity import CONSOLE_POLICY
from infra.serving.state import serving_state

SUSPENDED = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")


def _targets(user, *, namespace: str, resource_ids=None, dimension=None) -> list[Target]:
    """The caller's registered targets, by resource ID (none outside ``sagemaker``)."""
    if namespace != NAMESPACE or dimension not in (None, DIMENSION):
        return []
    rows = (
        EndpointVariant.objects.filter(endpoint__owner=user, autoscaling__isnull=False)
        .exclude(state=EndpointVariant.RETIRING)
        .select_related("endpoint")
        .order_by("endpoint__name", "name", "created_at", "pk")
    )
    found: dict[str, Target] = {}
    for row in rows:
        key = f"endpoint/{row.endpoint.name}/variant/{row.name}"
        if resource_ids and key not in resource_ids:
            continue
        found.setdefault(key, Target(row.endpoint, row.name, [])).rows.append(row)
    return list(found.values())


def scalable_target_list(*, user, namespace: str, resource_ids=None, dimension=None) -> list[dict]:
    """DescribeScalableTargets' ScalableTargets, every field of the shape."""
    account = account_id_for(user.pk)
    return [
        {
            "ServiceNamespace": NAMESPACE,
            "ResourceId": target.resource_id,
            "ScalableDimension": DIMENSION,
            "MinCapacity": target.setting["min_instances"],
            "MaxCapacity": target.setting["max_instances"],
            "RoleARN": target.setting.get("role_arn")
            or f"arn:aws:iam::{account}:role/aws-service-role/sagemaker.application-autoscaling"
            ".amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
            "CreationTime": target.setting.get("created_at", 0.0),
            "SuspendedState": {
                key: bool((target.setting.get("suspended") or {}).get(key, False))
                for key in SUSPENDED
            },
            "ScalableTargetARN": target_arn(user, target.setting),
        }
        for target in _targets(
            user, namespace=namespace, resource_ids=resource_ids, dimension=dimension
        )
    ]


def scaling_policy_list(
    *, user, namespace: str, resource_id=None, dimension=None, names=None
) -> list[dict]:
    """DescribeScalingPolicies' ScalingPolicies, in the order they were put."""
    found = []
    ids = [resource_id] if resource_id else None
    for target in _targets(user, namespace=namespace, resource_ids=ids, dimension=dimension):
        for policy in target.setting.get("policies") or ():
            if names and policy["PolicyName"] not in names:
                continue
            found.append(
                {
                    **policy,
                    "ServiceNamespace": NAMESPACE,
                    "ResourceId": target.resource_id,
                    "ScalableDimension": DIMENSION,
                    "Alarms": policy.get("Alarms", []),
                }
            )
    return found


def scaling_activity_list(*, user, namespace: str, resource_id=None, dimension=None) -> list[dict]:
    """DescribeScalingActivities' ScalingActivities: what the autoscaler changed, newest first."""
    if namespace != NAMESPACE or dimension not in (None, DIMENSION):
        return []
    rows = (
        EndpointVariant.objects.filter(endpoint__owner=user)
        .exclude(state=EndpointVariant.RETIRING)
        .select_related("endpoint")
    )
    state = serving_state()
    found = []
    for row in rows:
        key = f"endpoint/{row.endpoint.name}/variant/{row.name}"
        if resource_id and key != resource_id:
            continue
        for activity in state.activities(row.deployment_id):
            found.append(
                {
                    **activity,
                    "ServiceNamespace": NAMESPACE,
                    "ResourceId": key,
                    "ScalableDimension": DIMENSION,
                }
            )
    return sorted(found, key=lambda a: a["StartTime"], reverse=True)


def endpoint_autoscaling_overview(*, endpoint) -> list[dict]:
    """What the endpoint page shows of each live variant's autoscaling: bounds, policies (name,
    in words, type), the console policy's target and the latest activities."""
    state = serving_state()
    overview = []
    for row in endpoint.variants.exclude(state=EndpointVariant.RETIRING).order_by("created_at"):
        setting = row.autoscaling or {}
        policies = setting.get("policies") or []
        console = next((p for p in policies if p["PolicyName"] == CONSOLE_POLICY), None)
        overview.append(
            {
                "variant": row,
                "setting": row.autoscaling,
                "policies": [
                    (p["PolicyName"], policy_in_words(p), p["PolicyType"]) for p in policies
                ],
                "console_target": (
                    console["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
                    if console
                    else None
                ),
                "activities": state.activities(row.deployment_id)[:10],
            }
        )
    return overview


def policy_in_words(policy: dict) -> str:
    tracking = policy.get("TargetTrackingScalingPolicyConfiguration")
    if tracking:
        predefined = tracking.get("PredefinedMetricSpecification")
        if predefined:
            metric = f"{predefined['PredefinedMetricType']} (invocations per instance per minute)"
        else:
            custom = tracking["CustomizedMetricSpecification"]
            metric = f"{custom['Namespace']} {custom['MetricName']} ({custom['Statistic']})"
        words = (
            f"target tracking: keeps {metric} at {tracking['TargetValue']:g}; scale-out "
            f"cooldown {tracking.get('ScaleOutCooldown', 300)} s, scale-in cooldown "
            f"{tracking.get('ScaleInCooldown', 300)} s"
        )
        return words + (", never scales in" if tracking.get("DisableScaleIn") else "")
    step = policy.get("StepScalingPolicyConfiguration") or {}
    steps = ", ".join(
        f"[{s.get('MetricIntervalLowerBound', '-∞')}, {s.get('MetricIntervalUpperBound', '∞')})"
        f" → {s['ScalingAdjustment']:+d}"
        for s in step.get("StepAdjustments", [])
    )
    return f"step scaling ({step.get('AdjustmentType')}): {steps}; runs when an alarm invokes it"
