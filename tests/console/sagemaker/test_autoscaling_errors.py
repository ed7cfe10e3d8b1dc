"""Application Auto Scaling's refusals, as boto3 receives them: bad targets and policies named by
field and rule, unknown ones ObjectNotFoundException, another user's endpoints out of reach, a
deploying endpoint ConcurrentUpdateException, and no generated request answered with a 5xx."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.shapes import service_model
from console.endpoints.models import Endpoint
from console.sagemaker.operations import APPLICATION_AUTOSCALING as SERVICE
from tests.console.sagemaker.conftest import post, sign
from tests.console.sagemaker.test_autoscaling import (
    DIM,
    NS,
    PREDEFINED,
    RESOURCE,
    error_of,
    put,
    register,
    serving_endpoint,
    tracking,
)
from tests.console.sagemaker.test_fuzz import EXAMPLES, FUZZ, value_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_user_sees_and_scales_only_their_own_endpoints(aas, user, other_user):
    serving_endpoint(other_user, "theirs")
    serving_endpoint(user)
    register(aas, MinCapacity=1, MaxCapacity=2)

    error = error_of(register, aas, "endpoint/theirs/variant/main", MinCapacity=1, MaxCapacity=2)

    assert error["Code"] == "ValidationException" and "theirs" in error["Message"]
    [target] = aas.describe_scalable_targets(ServiceNamespace=NS)["ScalableTargets"]
    assert target["ResourceId"] == RESOURCE


@pytest.mark.parametrize(
    ("call", "code", "words"),
    [
        (dict(MinCapacity=0, MaxCapacity=2), "ValidationException", "inference components"),
        (dict(MinCapacity=3, MaxCapacity=2), "ValidationException", "MaxCapacity"),
        (dict(MinCapacity=1, MaxCapacity=50), "ValidationException", "at most 10"),
        (dict(MinCapacity=1), "ValidationException", "MaxCapacity are required"),
        (dict(ResourceId="endpoint/ep", MinCapacity=1, MaxCapacity=2), "ValidationException",
         "endpoint/<endpoint-name>/variant/<variant-name>"),
        (dict(ResourceId="endpoint/ep/variant/blue", MinCapacity=1, MaxCapacity=2),
         "ValidationException", "no variant named blue"),
        (dict(ResourceId="endpoint/nope/variant/main", MinCapacity=1, MaxCapacity=2),
         "ValidationException", "nope"),
        (dict(ScalableDimension="sagemaker:inference-component:DesiredCopyCount",
              MinCapacity=0, MaxCapacity=2), "ValidationException", "scalable dimension"),
        (dict(ServiceNamespace="ecs", MinCapacity=1, MaxCapacity=2), "ValidationException",
         "namespace"),
    ],
)  # fmt: skip
def test_bad_targets_are_refused_naming_the_rule(aas, user, call, code, words):
    serving_endpoint(user)
    params = {"ServiceNamespace": NS, "ResourceId": RESOURCE, "ScalableDimension": DIM, **call}

    error = error_of(aas.register_scalable_target, **params)

    assert error["Code"] == code and words in error["Message"], error
    assert aas.describe_scalable_targets(ServiceNamespace=NS)["ScalableTargets"] == []


CUSTOM_OK = {
    "MetricName": "Invocations",
    "Namespace": "AWS/SageMaker",
    "Dimensions": [
        {"Name": "EndpointName", "Value": "ep"},
        {"Name": "VariantName", "Value": "main"},
    ],
    "Statistic": "Sum",
}


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        (dict(), "policyType"),
        (dict(PolicyType="PredictiveScaling"), "TargetTrackingScaling or StepScaling"),
        (dict(PolicyType="TargetTrackingScaling"), "required"),
        (dict(PolicyType="TargetTrackingScaling",
              TargetTrackingScalingPolicyConfiguration={"TargetValue": 5.0}), "Exactly one"),
        (dict(PolicyType="TargetTrackingScaling",
              TargetTrackingScalingPolicyConfiguration={"TargetValue": 0.0,
              "PredefinedMetricSpecification": PREDEFINED}), "greater than 0"),
        (dict(PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 5.0, "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}),
         "SageMakerVariantInvocationsPerInstance"),
        (dict(PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 5.0, "CustomizedMetricSpecification": {
                **CUSTOM_OK, "MetricName": "CPUUtilization"}}), "ModelLatency"),
        (dict(PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 5.0, "CustomizedMetricSpecification": {
                **CUSTOM_OK, "Dimensions": [{"Name": "EndpointName", "Value": "other"}]}}),
         "VariantName=main"),
        (dict(PolicyType="StepScaling", StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity", "StepAdjustments": []}), "at least one step"),
        (dict(PolicyType="StepScaling", StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
                {"MetricIntervalUpperBound": 5.0, "ScalingAdjustment": -1},
                {"MetricIntervalLowerBound": 3.0, "ScalingAdjustment": 1}]}), "overlap"),
        (dict(PolicyType="StepScaling", StepScalingPolicyConfiguration={
            "AdjustmentType": "Sideways", "StepAdjustments": [{"ScalingAdjustment": 1}]}),
         "adjustmentType"),
    ],
)  # fmt: skip
def test_bad_policies_are_refused_naming_the_rule(aas, user, policy, words):
    serving_endpoint(user)
    register(aas, MinCapacity=1, MaxCapacity=2)

    error = error_of(put, aas, "p", **policy)

    assert error["Code"] == "ValidationException" and words in error["Message"], error
    assert aas.describe_scaling_policies(ServiceNamespace=NS)["ScalingPolicies"] == []


def test_unknown_targets_and_policies_are_object_not_found(aas, user):
    serving_endpoint(user)
    params = {"ServiceNamespace": NS, "ResourceId": RESOURCE, "ScalableDimension": DIM}

    unregistered = error_of(aas.deregister_scalable_target, **params)
    no_target = error_of(
        aas.put_scaling_policy,
        PolicyName="p",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=tracking(5.0),
        **params,
    )
    register(aas, MinCapacity=1, MaxCapacity=2)
    no_policy = error_of(aas.delete_scaling_policy, PolicyName="p", **params)
    bad_token = error_of(aas.describe_scalable_targets, ServiceNamespace=NS, NextToken="x")
    unknown = error_of(
        aas.describe_scheduled_actions, ServiceNamespace=NS
    )  # an operation not served

    for error in (unregistered, no_target):
        assert error["Code"] == "ObjectNotFoundException"
        assert error["Message"] == (
            f"No scalable target registered for service namespace: sagemaker, resource ID: "
            f"{RESOURCE}, scalable dimension: {DIM}"
        )
    assert (
        no_policy["Code"] == "ObjectNotFoundException" and "policy name: p" in no_policy["Message"]
    )
    assert bad_token["Code"] == "InvalidNextTokenException"
    assert unknown["Code"] == "UnknownOperationException"


def test_a_deploying_endpoint_answers_concurrent_update(aas, user):
    variant = serving_endpoint(user)
    register(aas, MinCapacity=1, MaxCapacity=2)
    Endpoint.objects.filter(pk=variant.endpoint_id).update(status="Updating")

    error = error_of(register, aas, MinCapacity=1, MaxCapacity=3)

    assert error["Code"] == "ConcurrentUpdateException" and "InService" in error["Message"]
    [target] = aas.describe_scalable_targets(ServiceNamespace=NS)["ScalableTargets"]
    assert target["MaxCapacity"] == 2


@pytest.mark.parametrize("operation", sorted(SERVICE.operations))
def test_no_generated_request_gets_a_5xx(client, access_key, user, serving_redis, operation):
    """Requests drawn from botocore's input shapes (the SageMaker fuzzer's generator), some
    naming a real variant: every answer is Application Auto Scaling's JSON, never a 5xx."""
    serving_endpoint(user)
    shape = service_model("application-autoscaling").operation_model(operation).input_shape
    real = {"ServiceNamespace": NS, "ResourceId": RESOURCE, "ScalableDimension": DIM}

    @settings(FUZZ, max_examples=max(3, EXAMPLES // 10))
    @given(document=value_for(shape), aimed=st.booleans())
    def check(document, aimed):
        if aimed and isinstance(document, dict):
            document.update({k: v for k, v in real.items() if k in shape.members})
        body = json.dumps(document).encode()
        headers = sign(
            access_key,
            body,
            target=f"AnyScaleFrontendService.{operation}",
            service="application-autoscaling",
        )
        response = post(client, headers, body)
        assert response.status_code < 500, response.content[:500]
        answer = json.loads(response.content)
        if response.status_code >= 400:
            assert answer["__type"] and answer["message"], answer

    check()
