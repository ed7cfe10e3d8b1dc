"""Real-time endpoints from boto3 alone, on the running stack (the issue's "Done means").

Models come from finished training jobs; an endpoint config with two weighted variants; the
``endpoint_in_service`` waiter; predictions, the variant header and the traffic split; an update
to a new model while a client calls in a loop; a worker process killed while it serves.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

import numpy as np
import pytest

from tests.stack import STACK_START_S, WAIT, channels, training_bucket

pytestmark = pytest.mark.e2e
ROLE = "arn:aws:iam::000000000000:role/sagebrush"


@pytest.fixture(scope="module")
def models(stack):
    """Two LightGBM models registered from two finished training jobs (different rounds)."""
    sm = stack.sagemaker
    bucket = training_bucket(stack, "endpoints", train=800, validation=300, seed=1)
    names = {"first": "4", "second": "40"}
    for name, rounds in names.items():
        sm.create_training_job(
            TrainingJobName=f"ep-{name}",
            RoleArn=ROLE,
            AlgorithmSpecification={"TrainingImage": "lightgbm", "TrainingInputMode": "File"},
            HyperParameters={"num_boost_round": rounds, "objective": "binary"},
            InputDataConfig=channels(bucket),
            OutputDataConfig={"S3OutputPath": f"s3://{bucket}/models"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            StoppingCondition={"MaxRuntimeInSeconds": 600},
        )
    for name in names:
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName=f"ep-{name}", WaiterConfig=WAIT
        )
        job = sm.describe_training_job(TrainingJobName=f"ep-{name}")
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        sm.create_model(
            ModelName=f"ep-{name}",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={
                "Image": "lightgbm",
                "ModelDataUrl": job["ModelArtifacts"]["S3ModelArtifacts"],
            },
        )
    return [f"ep-{name}" for name in names]


def record(seed: int = 5) -> bytes:
    rng = np.random.default_rng(seed)
    return ",".join(repr(float(v)) for v in rng.normal(size=5)).encode()


# Its waits, each bounded: two training jobs (``models``) and two endpoint updates at about four
# minutes each, the deletion and the lost instance's return at about a minute each.
@pytest.mark.timeout(STACK_START_S + 1200)
def test_endpoint_from_boto3_alone(stack, models):
    sm, runtime = stack.sagemaker, stack.runtime
    first, second = models
    sm.create_endpoint_config(
        EndpointConfigName="ep-two",
        ProductionVariants=[
            {"VariantName": "blue", "ModelName": first, "InitialInstanceCount": 2,
             "InstanceType": "ml.m5.large", "InitialVariantWeight": 3.0},
            {"VariantName": "green", "ModelName": first, "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0},
        ],
    )  # fmt: skip
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="ep-two")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="ep", WaiterConfig={"Delay": 1, "MaxAttempts": 240}
    )
    described = sm.describe_endpoint(EndpointName="ep")
    counts = {v["VariantName"]: v["CurrentInstanceCount"] for v in described["ProductionVariants"]}
    assert counts == {"blue": 2, "green": 1}

    answer = runtime.invoke_endpoint(
        EndpointName="ep", Body=record(), ContentType="text/csv", Accept="text/csv"
    )
    score = float(answer["Body"].read())
    assert 0.0 <= score <= 1.0
    assert answer["InvokedProductionVariant"] in ("blue", "green")

    served = Counter(
        runtime.invoke_endpoint(EndpointName="ep", Body=record(), ContentType="text/csv")[
            "InvokedProductionVariant"
        ]
        for _ in range(1000)
    )
    assert 700 <= served["blue"] <= 800, served  # 3:1, within a few standard deviations

    # An update to the second model while a client calls in a loop: no call fails.
    sm.create_endpoint_config(
        EndpointConfigName="ep-new",
        ProductionVariants=[{"VariantName": "blue", "ModelName": second,
                             "InitialInstanceCount": 2, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    errors, answers, stop = [], Counter(), threading.Event()

    def call_in_a_loop():
        client = stack.runtime
        while not stop.is_set():
            try:
                body = client.invoke_endpoint(
                    EndpointName="ep", Body=record(), ContentType="text/csv"
                )["Body"].read()
                answers[body] += 1
            except Exception as exc:  # every failure is what this test looks for
                errors.append(exc)

    caller = threading.Thread(target=call_in_a_loop)
    caller.start()
    try:
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="ep-new")
        assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "Updating"
        sm.get_waiter("endpoint_in_service").wait(
            EndpointName="ep", WaiterConfig={"Delay": 1, "MaxAttempts": 240}
        )
        # Keep calling until the new model has answered a while.
        new_answer = runtime.invoke_endpoint(
            EndpointName="ep", Body=record(), ContentType="text/csv"
        )["Body"].read()
        while answers[new_answer] < 20 and not errors:
            threading.Event().wait(0.05)
    finally:
        stop.set()
        caller.join()
    assert errors == []
    assert len(answers) == 2 and sum(answers.values()) > 50  # the old model's, then the new's
    described = sm.describe_endpoint(EndpointName="ep")
    assert described["EndpointConfigName"] == "ep-new"
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["blue"]

    # Kill one instance process: the endpoint keeps answering, and gets its instance back.
    status, detail = stack.rest("GET", "/api/v1/endpoints/ep/")
    assert status == 200, detail
    [variant] = [v for v in detail["variants"] if v["state"] == "Active"]
    victim = variant["instances"][0]["pid"]
    os.kill(victim, signal.SIGKILL)
    for _ in range(200):
        runtime.invoke_endpoint(EndpointName="ep", Body=record(), ContentType="text/csv")
    for _ in range(120):
        variants = sm.describe_endpoint(EndpointName="ep")["ProductionVariants"]
        if variants[0]["CurrentInstanceCount"] == 2:
            break
        threading.Event().wait(0.5)
    assert variants[0]["CurrentInstanceCount"] == 2

    sm.delete_endpoint(EndpointName="ep")
    sm.get_waiter("endpoint_deleted").wait(EndpointName="ep", WaiterConfig={"Delay": 1})
