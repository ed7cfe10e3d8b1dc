"""Pipelines from boto3 alone, against the running platform: one Prefect flow run per execution,
a task per step, independent steps at once, every step's job an ordinary job."""

from __future__ import annotations

import json
import time

import pytest

from tests.stack import STACK_START_S, channels, training_bucket

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/sagebrush"
METRIC = "validation:binary_logloss"


@pytest.fixture(scope="module")
def data(stack) -> str:
    return training_bucket(stack, "pipe", train=600, validation=200, seed=5)


def training(bucket: str, rounds: int) -> dict:
    return {
        "AlgorithmSpecification": {"TrainingImage": "lightgbm", "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {"num_boost_round": str(rounds), "objective": "binary"},
        "InputDataConfig": channels(bucket),
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/pipeline-models"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def definition(bucket: str) -> dict:
    """Two trainings at once → keep the better if its log-loss is low enough → a model."""
    better = {"Get": f"Steps.Small.FinalMetricDataList['{METRIC}'].Value"}
    return {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "MaxLogLoss", "Type": "Float", "DefaultValue": 1.0}],
        "Steps": [
            {"Name": "Small", "Type": "Training", "Arguments": training(bucket, 5)},
            {"Name": "Large", "Type": "Training", "Arguments": training(bucket, 20)},
            {
                "Name": "Check",
                "Type": "Condition",
                "DependsOn": ["Large"],
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "LessThanOrEqualTo",
                            "LeftValue": better,
                            "RightValue": {"Get": "Parameters.MaxLogLoss"},
                        }
                    ],
                    "IfSteps": [
                        {
                            "Name": "Model",
                            "Type": "Model",
                            "Arguments": {
                                "ExecutionRoleArn": ROLE,
                                "PrimaryContainer": {
                                    "Image": "lightgbm",
                                    "ModelDataUrl": {
                                        "Get": "Steps.Small.ModelArtifacts.S3ModelArtifacts"
                                    },
                                },
                            },
                        }
                    ],
                    "ElseSteps": [
                        {"Name": "TooWeak", "Type": "Fail", "Arguments": {"ErrorMessage": "weak"}}
                    ],
                },
            },
        ],
    }


def summary_of(sm, operation: str, arn: str) -> dict:
    """The summary of ``arn`` from every page of a List operation: the session's stack holds
    other tests' resources (past the first page), and an ARN spells the name in lower case, so
    it cannot be described by the name in it."""
    for page in sm.get_paginator(operation).paginate():
        for summary in next(value for value in page.values() if isinstance(value, list)):
            if arn in summary.values():
                return summary
    raise AssertionError(f"{operation} does not list {arn}")


def wait(sm, arn: str, *, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if described["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            return described
        assert time.monotonic() < deadline, described
        time.sleep(1)


@pytest.mark.timeout(STACK_START_S + 300)
def test_a_chain_runs_as_one_flow_with_parallel_steps_and_both_branches(stack, data):
    sm = stack.sagemaker
    sm.create_pipeline(
        PipelineName="e2e-chain",
        PipelineDefinition=json.dumps(definition(data)),
        RoleArn=ROLE,
        ClientRequestToken="e" * 32,
    )
    arn = sm.start_pipeline_execution(PipelineName="e2e-chain")["PipelineExecutionArn"]
    described = wait(sm, arn)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")

    steps = {
        s["StepName"]: s
        for s in sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"
        ]
    }
    assert set(steps) == {"Small", "Large", "Check", "Model"}
    assert steps["Small"]["StartTime"] < steps["Large"]["EndTime"]  # at once
    assert steps["Large"]["StartTime"] < steps["Small"]["EndTime"]
    for name in ("Small", "Large"):
        job = summary_of(sm, "list_training_jobs", steps[name]["Metadata"]["TrainingJob"]["Arn"])
        assert job["TrainingJobStatus"] == "Completed"
    assert summary_of(sm, "list_models", steps["Model"]["Metadata"]["Model"]["Arn"])

    weak = sm.start_pipeline_execution(
        PipelineName="e2e-chain", PipelineParameters=[{"Name": "MaxLogLoss", "Value": "0"}]
    )["PipelineExecutionArn"]
    described = wait(sm, weak)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "weak"
    listed = sm.list_pipeline_executions(PipelineName="e2e-chain")["PipelineExecutionSummaries"]
    assert {e["PipelineExecutionArn"] for e in listed} == {arn, weak}


@pytest.mark.timeout(STACK_START_S + 200)
def test_stopping_an_execution_stops_its_running_job(stack, data):
    sm = stack.sagemaker
    slow = {
        "Version": "2020-12-01",
        "Steps": [{"Name": "Slow", "Type": "Training", "Arguments": training(data, 100000)}],
    }
    sm.create_pipeline(
        PipelineName="e2e-stop",
        PipelineDefinition=json.dumps(slow),
        RoleArn=ROLE,
        ClientRequestToken="s" * 32,
    )
    arn = sm.start_pipeline_execution(PipelineName="e2e-stop")["PipelineExecutionArn"]
    deadline = time.monotonic() + 60
    while True:
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        if steps and "TrainingJob" in steps[0].get("Metadata", {}):
            break
        assert time.monotonic() < deadline
        time.sleep(0.5)
    sm.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken="t" * 32)
    described = wait(sm, arn, timeout=120)
    assert described["PipelineExecutionStatus"] == "Stopped"
    job = summary_of(sm, "list_training_jobs", steps[0]["Metadata"]["TrainingJob"]["Arn"])
    assert job["TrainingJobStatus"] == "Stopped"
    [step] = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert step["StepStatus"] == "Stopped"


# Up to two minutes to the first due time on a loaded machine, then the run (``wait``: 240 s).
@pytest.mark.timeout(STACK_START_S + 540)
def test_a_schedule_every_minute_starts_executions_on_its_own(stack, data):
    sm = stack.sagemaker
    quick = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "Rounds", "Type": "String", "DefaultValue": "2"}],
        "Steps": [{"Name": "Train", "Type": "Training", "Arguments": training(data, 2)}],
    }
    sm.create_pipeline(
        PipelineName="e2e-scheduled",
        PipelineDefinition=json.dumps(quick),
        RoleArn=ROLE,
        ClientRequestToken="m" * 32,
    )
    code, body = stack.rest(
        "POST",
        "/api/v1/pipelines/e2e-scheduled/schedules/",
        {"schedule_name": "minutely", "interval_seconds": 60},
    )
    assert code == 201, body
    code, body = stack.rest("GET", "/api/v1/pipelines/e2e-scheduled/schedules/minutely/")
    assert body["applied"] is True, body
    deadline = time.monotonic() + 240
    while True:
        listed = sm.list_pipeline_executions(PipelineName="e2e-scheduled")[
            "PipelineExecutionSummaries"
        ]
        if listed:
            break
        assert time.monotonic() < deadline, "no scheduled execution started"
        time.sleep(2)
    described = wait(sm, listed[0]["PipelineExecutionArn"])
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    assert described["PipelineExecutionDisplayName"].startswith("minutely-")
