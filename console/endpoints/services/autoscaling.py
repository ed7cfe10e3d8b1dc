"""Application Auto Scaling of endpoint variants: scalable targets, scaling policies and the
activities of the autoscaler, over the one autoscaling setting each variant row keeps.

A variant's ``autoscaling`` is ``{"min_instances", "max_instances", "created_at", "id",
"role_arn", "suspended": SuspendedState, "policies": [ScalingPolicy, ...]}`` (policies in
Application Auto Scaling's shape), or None when no target is registered. The serving
supervisor applies it (:mod:`infra.serving.autoscaling`) and records each change it makes as a
scaling activity. The console, the REST API and the ``application-autoscaling`` API all read and
write it here. A resource is ``endpoint/<endpoint>/variant/<variant>``, always the caller's own.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from console.core.errors import InvalidState, LimitExceeded, NotFound, ValidationError
from console.core.names import account_id_for
from console.endpoints.models import Endpoint, EndpointVariant
from console.endpoints.selectors import endpoint_get, endpoint_variant_spec
from console.endpoints.services.autoscaling_policies import policy_checked
from console.endpoints.services.configs import MAX_INSTANCES_PER_VARIANT
from console.endpoints.services.serving import serving_variant_activity, serving_variant_update

NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
MAX_POLICIES = 50  # scaling policies per scalable target, as Application Auto Scaling allows
RESOURCE_ID = re.compile(r"^endpoint/([^/]+)/variant/([^/]+)$")


class TargetNotFound(NotFound):
    """No scalable target (or policy) of that name: Application Auto Scaling's own message."""

    def __init__(self, resource_id: str, dimension: str, policy: str | None = None) -> None:
        super().__init__("ScalableTarget", resource_id)
        what = "scaling policy found" if policy else "scalable target registered"
        self.message = (
            f"No {what} for service namespace: {NAMESPACE}, resource ID: {resource_id}, "
            f"scalable dimension: {dimension}" + (f", policy name: {policy}" if policy else "")
        )


class ConcurrentUpdate(InvalidState):
    """The endpoint is being deployed: its variants change under the request (try again)."""


@dataclass(frozen=True)
class Target:
    """The caller's variant a resource ID names: its live rows (one, two during an update)."""

    endpoint: Endpoint
    variant_name: str
    rows: list[EndpointVariant]

    @property
    def resource_id(self) -> str:
        return f"endpoint/{self.endpoint.name}/variant/{self.variant_name}"

    @property
    def setting(self) -> dict | None:
        return self.rows[-1].autoscaling


def _resource(*, namespace: str, resource_id: str, dimension: str) -> tuple[str, str]:
    if namespace != NAMESPACE:
        raise ValidationError(
            "serviceNamespace",
            f"This platform scales the {NAMESPACE} namespace only",
            value=namespace,
        )
    if dimension != DIMENSION:
        raise ValidationError(
            "scalableDimension",
            f"Unsupported scalable dimension: endpoint variants scale by {DIMENSION} "
            "(inference components are not served here)",
            value=dimension,
        )
    match = RESOURCE_ID.match(resource_id)
    if match is None:
        raise ValidationError(
            "resourceId",
            "Member must be endpoint/<endpoint-name>/variant/<variant-name>",
            value=resource_id,
        )
    return match.group(1), match.group(2)


def _target(user, *, namespace: str, resource_id: str, dimension: str, lock: bool) -> Target:
    name, variant_name = _resource(
        namespace=namespace, resource_id=resource_id, dimension=dimension
    )
    endpoint = endpoint_get(user=user, name=name, for_update=lock)
    if lock and endpoint.status in Endpoint.ACTIVE_STATUSES:
        raise ConcurrentUpdate(
            f"The endpoint {name} is {endpoint.status}: its scaling can change once it is "
            "InService."
        )
    rows = endpoint.variants.filter(name=variant_name).exclude(state=EndpointVariant.RETIRING)
    if lock:
        rows = rows.select_for_update()
    rows = list(rows)
    if not rows:
        raise ValidationError(
            "resourceId",
            f"The endpoint {name} has no variant named {variant_name}",
            value=resource_id,
        )
    return Target(endpoint, variant_name, rows)


def _registered(target: Target, dimension: str) -> dict:
    if target.setting is None:
        raise TargetNotFound(target.resource_id, dimension)
    return target.setting


def _save(target: Target, setting: dict | None, *, record: bool = False) -> None:
    """Write ``setting`` on the variant's rows; the count moves into new bounds at once.

    A serving variant's count is the one the autoscaler last set (the serving state's), not the
    row's: a new policy or bound starts from what is running."""
    for row in target.rows:
        spec = endpoint_variant_spec(deployment_id=row.deployment_id)
        serving = row.state == EndpointVariant.ACTIVE and spec is not None
        before = int(spec["instances"]) if serving else row.desired_instance_count
        after = before
        if setting is not None:
            after = min(setting["max_instances"], max(setting["min_instances"], before))
        row.autoscaling = setting
        row.desired_instance_count = after
        row.save(update_fields=["autoscaling", "desired_instance_count"])
        if not serving:
            continue
        changes = {"autoscaling": setting} | ({"instances": after} if after != before else {})
        serving_variant_update(deployment_id=row.deployment_id, changes=changes)
        if record and after != before:
            bound = "minimum" if after > before else "maximum"
            why = f"{bound} capacity was set to {after}"
            _record_on_commit(row.deployment_id, before, after, why)


def _record_on_commit(deployment_id: str, before: int, after: int, why: str) -> None:
    now = time.time()
    activity = {
        "ActivityId": str(uuid.uuid4()),
        "Description": f"Setting desired instance count to {after}.",
        "Cause": why,
        "StartTime": now,
        "EndTime": now,
        "StatusCode": "Successful",
        "StatusMessage": f"Successfully set desired instance count to {after}. "
        "Change successfully fulfilled by sagemaker.",
        "Details": f"Instances: {before} -> {after}",
    }
    serving_variant_activity(deployment_id=deployment_id, activity=activity)


def target_arn(user, setting: dict) -> str:
    return (
        f"arn:aws:application-autoscaling:{settings.SAGEMAKER_REGION}:{account_id_for(user.pk)}:"
        f"scalable-target/{setting.get('id') or 'console'}"
    )


# ---- scalable targets ---------------------------------------------------------------------


def scalable_target_register(
    *,
    user,
    namespace: str,
    resource_id: str,
    dimension: str,
    min_capacity: int | None = None,
    max_capacity: int | None = None,
    role_arn: str | None = None,
    suspended: dict[str, bool] | None = None,
) -> str:
    """RegisterScalableTarget: a new target, or new bounds for a registered one; its ARN."""
    with transaction.atomic():
        target = _target(
            user, namespace=namespace, resource_id=resource_id, dimension=dimension, lock=True
        )
        setting = dict(target.setting or {})
        if not setting and (min_capacity is None or max_capacity is None):
            raise ValidationError(
                "minCapacity",
                "MinCapacity and MaxCapacity are required to register a new scalable target",
            )
        low = setting.get("min_instances") if min_capacity is None else min_capacity
        high = setting.get("max_instances") if max_capacity is None else max_capacity
        _check_bounds(low, high)
        setting.update(min_instances=low, max_instances=high)
        setting.setdefault("id", uuid.uuid4().hex)
        setting.setdefault("created_at", time.time())
        setting.setdefault("policies", [])
        if role_arn:
            setting["role_arn"] = role_arn
        setting["suspended"] = {**setting.get("suspended", {}), **(suspended or {})}
        _save(target, setting, record=True)
        return target_arn(user, setting)


def _check_bounds(low: int, high: int) -> None:
    if low < 1:
        raise ValidationError(
            "minCapacity",
            "Member must be at least 1 for sagemaker:variant:DesiredInstanceCount: SageMaker "
            "scales to zero only endpoints that host inference components",
            value=low,
        )
    if high > MAX_INSTANCES_PER_VARIANT:
        raise ValidationError(
            "maxCapacity", f"Member must be at most {MAX_INSTANCES_PER_VARIANT}", value=high
        )
    if low > high:
        raise ValidationError(
            "minCapacity", f"Member must not be greater than MaxCapacity ({high})", value=low
        )


def scalable_target_deregister(*, user, namespace: str, resource_id: str, dimension: str) -> None:
    """DeregisterScalableTarget: the target and its policies go; the count stays where it is."""
    with transaction.atomic():
        target = _target(
            user, namespace=namespace, resource_id=resource_id, dimension=dimension, lock=True
        )
        _registered(target, dimension)
        _save(target, None)


# ---- scaling policies ---------------------------------------------------------------------


def scaling_policy_put(
    *,
    user,
    namespace: str,
    resource_id: str,
    dimension: str,
    name: str,
    policy_type: str | None,
    configuration: dict[str, Any],
) -> dict:
    """PutScalingPolicy: create or replace the target's policy ``name``; the policy as kept.

    ``configuration`` holds the request's ``TargetTrackingScalingPolicyConfiguration``,
    ``StepScalingPolicyConfiguration`` or ``PredictiveScalingPolicyConfiguration`` if given.
    """
    with transaction.atomic():
        target = _target(
            user, namespace=namespace, resource_id=resource_id, dimension=dimension, lock=True
        )
        setting = dict(_registered(target, dimension))
        kept = policy_checked(
            endpoint_name=target.endpoint.name,
            variant_name=target.variant_name,
            policy_type=policy_type,
            configuration=configuration,
        )
        policies = [p for p in setting["policies"] if p["PolicyName"] != name]
        previous = next((p for p in setting["policies"] if p["PolicyName"] == name), None)
        if previous is None and len(policies) >= MAX_POLICIES:
            raise LimitExceeded(f"A scalable target may have at most {MAX_POLICIES} policies.")
        account = account_id_for(user.pk)
        policy_id = previous["PolicyARN"].split(":")[6] if previous else str(uuid.uuid4())
        policy = {
            "PolicyARN": (
                f"arn:aws:autoscaling:{settings.SAGEMAKER_REGION}:{account}:scalingPolicy:"
                f"{policy_id}:resource/{NAMESPACE}/{target.resource_id}:policyName/{name}"
            ),
            "PolicyName": name,
            "PolicyType": kept.pop("PolicyType"),
            **kept,
            "CreationTime": previous["CreationTime"] if previous else time.time(),
        }
        if policy["PolicyType"] == "TargetTrackingScaling":
            policy["Alarms"] = [
                {
                    "AlarmName": alarm,
                    "AlarmARN": f"arn:aws:cloudwatch:{settings.SAGEMAKER_REGION}:{account}:"
                    f"alarm:{alarm}",
                }
                for alarm in (
                    f"TargetTracking-{target.resource_id}-Alarm{level}-{policy_id}"
                    for level in ("High", "Low")
                )
            ]
        setting["policies"] = [*policies, policy]
        _save(target, setting)
        return policy


def scaling_policy_delete(
    *, user, namespace: str, resource_id: str, dimension: str, name: str
) -> None:
    with transaction.atomic():
        target = _target(
            user, namespace=namespace, resource_id=resource_id, dimension=dimension, lock=True
        )
        setting = dict(_registered(target, dimension))
        policies = [p for p in setting["policies"] if p["PolicyName"] != name]
        if len(policies) == len(setting["policies"]):
            raise TargetNotFound(target.resource_id, dimension, policy=name)
        setting["policies"] = policies
        _save(target, setting)
