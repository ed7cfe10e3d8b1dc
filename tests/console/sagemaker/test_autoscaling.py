"""Application Auto Scaling as SageMaker users call it: boto3's ``application-autoscaling``
client against the live server, over a real Redis. What it registers is the variant's one
autoscaling setting, the one the console and REST show, and the supervisor's own decisions come
back as scaling activities."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from rest_framework.test import APIClient

from console.core.names import account_id_for, arn
from console.endpoints.models import Endpoint, EndpointVariant
from console.sagemaker import views  # noqa: F401  (importing it registers every operation)
from infra.serving import protocol

pytestmark = pytest.mark.django_db(transaction=True)
NS, DIM = "sagemaker", "sagemaker:variant:DesiredInstanceCount"
RESOURCE = "endpoint/ep/variant/main"
PREDEFINED = {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}


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


def test_a_registered_target_is_the_variants_autoscaling(aas, user, serving_redis):
    variant = serving_endpoint(user, instances=1)
    serving_redis.deploy(variant.deployment_id, containers=[], instances=1)

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
    assert serving_redis.spec(variant.deployment_id)["instances"] == 2
    assert serving_redis.spec(variant.deployment_id)["autoscaling"]["max_instances"] == 4
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


def test_the_autoscalers_changes_are_scaling_activities(aas, user, serving_redis):
    from infra.serving.supervisor import Supervisor

    variant = serving_endpoint(user)
    serving_redis.deploy(variant.deployment_id, containers=[], instances=1)
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
        key = protocol.stats_key(variant.deployment_id, minute)
        serving_redis.client.hset(key, "invocations", 250)

    scaled = Supervisor(serving_redis).autoscale(
        variant.deployment_id, serving_redis.spec(variant.deployment_id), now=now
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
    assert serving_redis.spec(variant.deployment_id)["instances"] == 3
    register(aas, MaxCapacity=2)
    assert serving_redis.spec(variant.deployment_id)["instances"] == 2
    latest = aas.describe_scaling_activities(ServiceNamespace=NS)["ScalingActivities"][0]
    assert latest["Cause"] == "maximum capacity was set to 2"
