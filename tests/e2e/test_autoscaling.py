"""Application Auto Scaling on the running stack, from boto3 alone: a variant registered as a
scalable target with a target-tracking policy scales out under an invoke loop and back in once
the load stops, each change a scaling activity (the issue's "Done means")."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from algorithms.artifacts import pack_model
from tests.infra.serving.conftest import csv_row, train_lightgbm
from tests.stack import STACK_START_S

pytestmark = pytest.mark.e2e
ROLE = "arn:aws:iam::000000000000:role/sagebrush"
NS, DIM = "sagemaker", "sagemaker:variant:DesiredInstanceCount"


def variant_counts(sm, name: str) -> tuple[int, int]:
    [variant] = sm.describe_endpoint(EndpointName=name)["ProductionVariants"]
    return variant["CurrentInstanceCount"], variant["DesiredInstanceCount"]


def wait_for(what: str, check, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


@pytest.mark.timeout(STACK_START_S + 600)
def test_a_variant_scales_out_under_load_and_back_in(stack, tmp_path):
    sm, runtime = stack.sagemaker, stack.runtime
    aas = stack.client("application-autoscaling")
    model_dir, rows = train_lightgbm(tmp_path, rounds=5)
    bucket = f"autoscaling-{uuid.uuid4().hex[:8]}"
    stack.store.create_bucket(bucket)
    uri = f"s3://{bucket}/model.tar.gz"
    stack.store.write_bytes(uri, pack_model(model_dir, tmp_path / "model.tar.gz").read_bytes())
    sm.create_model(
        ModelName="as-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": "lightgbm", "ModelDataUrl": uri},
    )
    sm.create_endpoint_config(
        EndpointConfigName="as-config",
        ProductionVariants=[
            {"VariantName": "main", "ModelName": "as-model", "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large"},
        ],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="as", EndpointConfigName="as-config")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="as", WaiterConfig={"Delay": 1, "MaxAttempts": 240}
    )
    resource = {
        "ServiceNamespace": NS,
        "ResourceId": "endpoint/as/variant/main",
        "ScalableDimension": DIM,
    }
    aas.register_scalable_target(**resource, MinCapacity=1, MaxCapacity=2)
    # 30 invocations per instance per minute; out at once, in after ten quiet seconds.
    aas.put_scaling_policy(
        PolicyName="per-instance",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 30.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleOutCooldown": 0,
            "ScaleInCooldown": 10,
        },
        **resource,
    )
    status, detail = stack.rest("GET", "/api/v1/endpoints/as/")
    assert status == 200
    [policy] = detail["variants"][0]["autoscaling"]["policies"]
    assert policy["PolicyName"] == "per-instance"  # the console and REST show the same policy

    stop = threading.Event()
    answered = []

    def invoke_loop() -> None:
        while not stop.is_set():
            response = runtime.invoke_endpoint(
                EndpointName="as", Body=csv_row(rows[0]), ContentType="text/csv"
            )
            answered.append(response["Body"].read())
            time.sleep(0.25)

    load = threading.Thread(target=invoke_loop, daemon=True)
    load.start()
    try:
        started = time.monotonic()
        wait_for("two instances in service", lambda: variant_counts(sm, "as") == (2, 2), timeout=90)
        scaled_out_after = time.monotonic() - started
    finally:
        stop.set()
        load.join(timeout=30)
    assert answered
    stopped = time.monotonic()
    wait_for("back to one instance", lambda: variant_counts(sm, "as") == (1, 1), timeout=150)
    scaled_in_after = time.monotonic() - stopped
    print(f"scaled out {scaled_out_after:.0f} s into the load, in {scaled_in_after:.0f} s after it")

    activities = aas.describe_scaling_activities(**resource)["ScalingActivities"]
    assert [a["Description"] for a in activities] == [
        "Setting desired instance count to 1.",
        "Setting desired instance count to 2.",
    ]
    assert "AlarmLow" in activities[0]["Cause"] and "AlarmHigh" in activities[1]["Cause"]
    assert all(a["StatusCode"] == "Successful" for a in activities)

    aas.deregister_scalable_target(**resource)
    sm.delete_endpoint(EndpointName="as")
    sm.get_waiter("endpoint_deleted").wait(EndpointName="as", WaiterConfig={"Delay": 1})
