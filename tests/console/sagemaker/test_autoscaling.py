"""Application Auto Scaling as SageMaker users call it: boto3's ``application-autoscaling``
client against the live server, over a real Redis. What it registers is the variant's one
autoscaling setting, the one the console and REST show, and the supervisor's own decisions come
back as scaling activities."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from console.core.names import account_id_for, arn
from console.core.shapes import service_model
from console.endpoints.models import Endpoint, EndpointVariant
from console.sagemaker import views  # noqa: F401  (importing it registers every operation)
from console.sagemaker.operations import APPLICATION_AUTOSCALING as SERVICE
from infra.serving import protocol
from tests.console.sagemaker.conftest import post, sign
from tests.console.sagemaker.test_fuzz import EXAMPLES, FUZZ, value_for
from tests.infra.serving.conftest import redis_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)
NS, DIM = "sagemaker", "sagemaker:variant:DesiredInstanceCount"
RESOURCE = "endpoint/ep/variant/main"
PREDEFINED = {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}


@pytest.fixture
def state(redis_url, monkeypatch):  # noqa: F811
    import redis

    from infra.config import settings
    from infra.serving.state import serving_state

    redis.Redis.from_url(redis_url).flushall()
    monkeypatch.setenv("REDIS_URL", redis_url)
    settings.cache_clear()
    yield serving_state()
    settings.cache_clear()


@pytest.fixture
def aas(live_server, access_key, state):
    return boto3.client(
        "application-autoscaling",
        endpoint_url=live_server.url,
        region_name="us-east-1",
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key=access_key.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def serving_endpoint(owner, name: str = "ep", *, instances: int = 1) -> EndpointVariant:
    endpoint = Endpoint.objects.create(
        owner=owner,
        name=name,
        arn=arn("endpoint", name, account_id=account_id_for(owner.pk)),
        status="InService",
        config_name="config",
    )
    return EndpointVariant.objects.create(
        endpoint=endpoint,
        name="main",
        deployment_id=f"{owner.pk}-{name}-main",
        model_name="small",
        state=EndpointVariant.ACTIVE,
        desired_instance_count=instances,
    )


def register(aas, resource: str = RESOURCE, **bounds):
    return aas.register_scalable_target(
        ServiceNamespace=NS, ResourceId=resource, ScalableDimension=DIM, **bounds
    )


def tracking(target: float, **fields) -> dict:
    return {"TargetValue": target, "PredefinedMetricSpecification": PREDEFINED, **fields}


def put(aas, name: str, **policy):
    return aas.put_scaling_policy(
        PolicyName=name, ServiceNamespace=NS, ResourceId=RESOURCE, ScalableDimension=DIM, **policy
    )


def error_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"]


def test_a_registered_target_is_the_variants_autoscaling(aas, user, state):
    variant = serving_endpoint(user, instances=1)
    state.deploy(variant.deployment_id, containers=[], instances=1)

    answer = register(aas, MinCapacity=2, MaxCapacity=4)

    assert answer["ScalableTargetARN"].startswith("arn:aws:application-autoscaling:us-east-1:")
    [target] = aas.describe_scalable_targets(ServiceNamespace=NS)["ScalableTargets"]
    assert target["ResourceId"] == RESOURCE and target["ScalableDimension"] == DIM
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 4)
    assert target["ScalableTargetARN"] == answer["ScalableTargetARN"]
    assert target["SuspendedState"] == {
        "DynamicScalingInSuspended": False,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": False,
    }
    assert target["RoleARN"] and target["CreationTime"]
    # The count moved into the bounds at once, in the database and for the supervisor.
    variant.refresh_from_db()
    assert variant.desired_instance_count == 2
    assert state.spec(variant.deployment_id)["instances"] == 2
    assert state.spec(variant.deployment_id)["autoscaling"]["max_instances"] == 4
    [activity] = aas.describe_scaling_activities(ServiceNamespace=NS)["ScalingActivities"]
    assert activity["Description"] == "Setting desired instance count to 2."
    assert activity["Cause"] == "minimum capacity was set to 2"
    assert activity["StatusCode"] == "Successful" and activity["ResourceId"] == RESOURCE

    # Registering again changes only what is given.
    register(aas, MaxCapacity=6)
    [target] = aas.describe_scalable_targets(ServiceNamespace=NS, ResourceIds=[RESOURCE])[
        "ScalableTargets"
    ]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    assert aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"] == []

    aas.deregister_scalable_target(ServiceNamespace=NS, ResourceId=RESOURCE, ScalableDimension=DIM)
    assert aas.describe_scalable_targets(ServiceNamespace=NS)["ScalableTargets"] == []
    variant.refresh_from_db()
    assert variant.autoscaling is None and variant.desired_instance_count == 2


def test_policies_are_the_ones_rest_and_the_console_show(aas, user, client):
    serving_endpoint(user)
    register(aas, MinCapacity=1, MaxCapacity=3)

    tracked = put(
        aas,
        "per-instance",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=tracking(
            70.0, ScaleInCooldown=10, ScaleOutCooldown=5
        ),
    )
    custom = {
        "MetricName": "ModelLatency",
        "Namespace": "AWS/SageMaker",
        "Dimensions": [
            {"Name": "EndpointName", "Value": "ep"},
            {"Name": "VariantName", "Value": "main"},
        ],
        "Statistic": "Average",
        "Unit": "Microseconds",
    }
    put(
        aas,
        "latency",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50_000.0,
            "CustomizedMetricSpecification": custom,
        },
    )
    steps = {
        "AdjustmentType": "ChangeInCapacity",
        "StepAdjustments": [
            {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 10.0,
             "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 10.0, "ScalingAdjustment": 2},
        ],
        "Cooldown": 30,
        "MetricAggregationType": "Average",
    }  # fmt: skip
    put(aas, "steps", PolicyType="StepScaling", StepScalingPolicyConfiguration=steps)

    assert tracked["PolicyARN"].endswith(f"resource/sagemaker/{RESOURCE}:policyName/per-instance")
    assert [a["AlarmName"].split("-Alarm")[1].split("-")[0] for a in tracked["Alarms"]] == [
        "High",
        "Low",
    ]
    policies = aas.describe_scaling_policies(ServiceNamespace=NS, ResourceId=RESOURCE)[
        "ScalingPolicies"
    ]
    assert [p["PolicyName"] for p in policies] == ["per-instance", "latency", "steps"]
    first = policies[0]
    assert first["PolicyARN"] == tracked["PolicyARN"] and first["Alarms"] == tracked["Alarms"]
    assert first["TargetTrackingScalingPolicyConfiguration"]["ScaleInCooldown"] == 10
    assert (
        policies[1]["TargetTrackingScalingPolicyConfiguration"]["CustomizedMetricSpecification"]
        == custom
    )
    assert policies[2]["StepScalingPolicyConfiguration"] == steps
    for policy in policies:
        shape = {
            "ServiceNamespace",
            "ResourceId",
            "ScalableDimension",
            "PolicyType",
            "CreationTime",
        }
        assert shape <= set(policy)
    paged = aas.describe_scaling_policies(ServiceNamespace=NS, MaxResults=2)
    rest = aas.describe_scaling_policies(ServiceNamespace=NS, NextToken=paged["NextToken"])
    assert [p["PolicyName"] for p in paged["ScalingPolicies"] + rest["ScalingPolicies"]] == [
        "per-instance", "latency", "steps"
    ]  # fmt: skip
    only = aas.describe_scaling_policies(ServiceNamespace=NS, PolicyNames=["latency"])
    assert [p["PolicyName"] for p in only["ScalingPolicies"]] == ["latency"]

    # Putting a policy again replaces it under the same ARN.
    again = put(
        aas,
        "per-instance",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=tracking(90.0),
    )
    assert again["PolicyARN"] == tracked["PolicyARN"]

    # The REST API and the console show the same target and policies.
    api = APIClient()
    api.force_authenticate(user)
    [variant] = api.get("/api/v1/endpoints/ep/").json()["variants"]
    assert [p["PolicyName"] for p in variant["autoscaling"]["policies"]] == [
        "latency", "steps", "per-instance"
    ]  # fmt: skip
    client.force_login(user)
    html = client.get("/endpoints/ep/").content.decode()
    assert "keeps SageMakerVariantInvocationsPerInstance" in html and " at 90;" in html
    assert "AWS/SageMaker ModelLatency (Average) at 50000" in html and "step scaling" in html

    aas.delete_scaling_policy(
        PolicyName="latency", ServiceNamespace=NS, ResourceId=RESOURCE, ScalableDimension=DIM
    )
    names = [
        p["PolicyName"]
        for p in aas.describe_scaling_policies(ServiceNamespace=NS)["ScalingPolicies"]
    ]
    assert names == ["steps", "per-instance"]


def test_the_console_setting_is_a_target_and_policy_boto3_reads(aas, user):
    serving_endpoint(user)
    api = APIClient()
    api.force_authenticate(user)

    answered = api.put(
        "/api/v1/endpoints/ep/variants/main/autoscaling/",
        {"min_instances": 1, "max_instances": 3, "target_invocations_per_instance": 600},
        format="json",
    )

    assert answered.status_code == 200, answered.json()
    [target] = aas.describe_scalable_targets(ServiceNamespace=NS)["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    [policy] = aas.describe_scaling_policies(ServiceNamespace=NS)["ScalingPolicies"]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 600 and config["PredefinedMetricSpecification"] == PREDEFINED
    assert api.delete("/api/v1/endpoints/ep/variants/main/autoscaling/").status_code == 204
    assert aas.describe_scalable_targets(ServiceNamespace=NS)["ScalableTargets"] == []


def test_the_autoscalers_changes_are_scaling_activities(aas, user, state):
    from infra.serving.supervisor import Supervisor

    variant = serving_endpoint(user)
    state.deploy(variant.deployment_id, containers=[], instances=1)
    register(aas, MinCapacity=1, MaxCapacity=3)
    put(
        aas,
        "per-instance",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=tracking(100.0, ScaleOutCooldown=0),
    )
    # 250 invocations in the last minute, as instances count them: three instances' worth.
    now = time.time()
    for minute in (int(now // 60) - 1, int(now // 60)):
        state.client.hset(protocol.stats_key(variant.deployment_id, minute), "invocations", 250)

    scaled = Supervisor(state).autoscale(
        variant.deployment_id, state.spec(variant.deployment_id), now=now
    )

    assert scaled["instances"] == 3
    [activity] = aas.describe_scaling_activities(
        ServiceNamespace=NS, ResourceId=RESOURCE, ScalableDimension=DIM
    )["ScalingActivities"]
    assert activity["Description"] == "Setting desired instance count to 3."
    assert "AlarmHigh" in activity["Cause"] and activity["Cause"].endswith("policy per-instance")
    assert activity["StatusCode"] == "Successful" and activity["EndTime"] >= activity["StartTime"]

    # What runs is the count a change starts from: a new policy keeps the 3, lower bounds cut it.
    put(
        aas,
        "another",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=tracking(500.0),
    )
    assert state.spec(variant.deployment_id)["instances"] == 3
    register(aas, MaxCapacity=2)
    assert state.spec(variant.deployment_id)["instances"] == 2
    latest = aas.describe_scaling_activities(ServiceNamespace=NS)["ScalingActivities"][0]
    assert latest["Cause"] == "maximum capacity was set to 2"


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
def test_no_generated_request_gets_a_5xx(client, access_key, user, state, operation):
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
