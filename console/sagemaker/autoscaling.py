"""Application Auto Scaling (``AnyScaleFrontendService.*``), as SageMaker users scale endpoint
variants: the adapter over :mod:`console.endpoints.services.autoscaling`, which the console and
the REST API share. Describe* pages with ``NextToken``, an offset this adapter wrote.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from console.endpoints.autoscaling_selectors import (
    scalable_target_list,
    scaling_activity_list,
    scaling_policy_list,
)
from console.endpoints.services.autoscaling import (
    ConcurrentUpdate,
    scalable_target_deregister,
    scalable_target_register,
    scaling_policy_delete,
    scaling_policy_put,
)
from console.sagemaker.errors import AwsError
from console.sagemaker.listing import decode_token, encode_token, page_response
from console.sagemaker.operations import APPLICATION_AUTOSCALING as SERVICE

MAX_RESULTS = 50  # Describe*'s default and largest page


def _answers_concurrent_updates(handler: Callable[..., dict]) -> Callable[..., dict]:
    """A change while the endpoint deploys is Application Auto Scaling's retryable
    ConcurrentUpdateException."""

    @functools.wraps(handler)
    def call(*, user, params: dict) -> dict:
        try:
            return handler(user=user, params=params)
        except ConcurrentUpdate as exc:
            raise AwsError("ConcurrentUpdateException", exc.message) from None

    return call


def _resource(params: dict) -> dict[str, str]:
    return {
        "namespace": params["ServiceNamespace"],
        "resource_id": params["ResourceId"],
        "dimension": params["ScalableDimension"],
    }


def _page(key: str, items: list[dict[str, Any]], params: dict) -> dict[str, Any]:
    """One page of ``items``, with the SageMaker API's tokens and this service's error codes."""
    size = params.get("MaxResults", MAX_RESULTS)
    if not 1 <= size <= MAX_RESULTS:
        raise AwsError(
            "ValidationException",
            f"1 validation error detected: Value {size} at 'maxResults' failed to satisfy "
            f"constraint: Member must be between 1 and {MAX_RESULTS}",
        )
    try:
        start = decode_token(params.get("NextToken"))
    except AwsError:
        start = -1
    if not 0 <= start <= len(items):
        raise AwsError("InvalidNextTokenException", "The NextToken value is invalid.")
    end = start + size
    return page_response(key, items[start:end], encode_token(end) if end < len(items) else None)


@SERVICE.operation("RegisterScalableTarget")
@_answers_concurrent_updates
def register_scalable_target(*, user, params: dict) -> dict:
    arn = scalable_target_register(
        user=user,
        **_resource(params),
        min_capacity=params.get("MinCapacity"),
        max_capacity=params.get("MaxCapacity"),
        role_arn=params.get("RoleARN"),
        suspended=params.get("SuspendedState"),
    )
    return {"ScalableTargetARN": arn}


@SERVICE.operation("DeregisterScalableTarget")
@_answers_concurrent_updates
def deregister_scalable_target(*, user, params: dict) -> dict:
    scalable_target_deregister(user=user, **_resource(params))
    return {}


@SERVICE.operation("DescribeScalableTargets")
def describe_scalable_targets(*, user, params: dict) -> dict:
    targets = scalable_target_list(
        user=user,
        namespace=params["ServiceNamespace"],
        resource_ids=params.get("ResourceIds"),
        dimension=params.get("ScalableDimension"),
    )
    return _page("ScalableTargets", targets, params)


@SERVICE.operation("PutScalingPolicy")
@_answers_concurrent_updates
def put_scaling_policy(*, user, params: dict) -> dict:
    policy = scaling_policy_put(
        user=user,
        **_resource(params),
        name=params["PolicyName"],
        policy_type=params.get("PolicyType"),
        configuration={
            key: value for key, value in params.items() if key.endswith("Configuration")
        },
    )
    return {"PolicyARN": policy["PolicyARN"], "Alarms": policy.get("Alarms", [])}


@SERVICE.operation("DescribeScalingPolicies")
def describe_scaling_policies(*, user, params: dict) -> dict:
    policies = scaling_policy_list(
        user=user,
        namespace=params["ServiceNamespace"],
        resource_id=params.get("ResourceId"),
        dimension=params.get("ScalableDimension"),
        names=params.get("PolicyNames"),
    )
    return _page("ScalingPolicies", policies, params)


@SERVICE.operation("DeleteScalingPolicy")
@_answers_concurrent_updates
def delete_scaling_policy(*, user, params: dict) -> dict:
    scaling_policy_delete(user=user, **_resource(params), name=params["PolicyName"])
    return {}


@SERVICE.operation("DescribeScalingActivities")
def describe_scaling_activities(*, user, params: dict) -> dict:
    activities = scaling_activity_list(
        user=user,
        namespace=params["ServiceNamespace"],
        resource_id=params.get("ResourceId"),
        dimension=params.get("ScalableDimension"),
    )
    return _page("ScalingActivities", activities, params)
