"""The SageMaker Python SDK's ``sagemaker.workflow`` classes against the platform: a definition
built with Pipeline, parameters, a TrainingStep of a built-in image, a ConditionStep and a
FailStep is created with ``pipeline.upsert`` and runs here."""

from __future__ import annotations

import boto3
import pytest
from django.db import transaction
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join
from sagemaker.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.steps import TrainingStep

from console.pipelines.selectors import pipeline_execution_steps
from console.pipelines.services import pipeline_execution_start
from flows.pipelines import run_pipeline_execution
from flows.training import run_training_job
from tests.console.pipelines.definitions import METRIC, ROLE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def session(sagemaker, data_bucket) -> PipelineSession:
    yield PipelineSession(
        boto_session=boto3.Session(region_name="us-east-1"),
        sagemaker_client=sagemaker,
        default_bucket=data_bucket,
    )
    sagemaker.close()


def sdk_pipeline(session: PipelineSession, bucket: str) -> Pipeline:
    rounds = ParameterInteger(name="Rounds", default_value=4)
    objective = ParameterString(name="Objective", default_value="binary")
    threshold = ParameterFloat(name="MaxLogLoss", default_value=1.0)
    estimator = Estimator(
        image_uri="lightgbm",
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        volume_size=1,
        max_run=600,
        output_path=f"s3://{bucket}/sdk-output",
        hyperparameters={"num_boost_round": rounds, "objective": objective},
        sagemaker_session=session,
    )
    train = TrainingStep(
        name="Train",
        step_args=estimator.fit(
            inputs={
                "train": TrainingInput(f"s3://{bucket}/train/", content_type="text/csv"),
                "validation": TrainingInput(f"s3://{bucket}/validation/", content_type="text/csv"),
            }
        ),
    )
    logloss = train.properties.FinalMetricDataList[METRIC].Value
    check = ConditionStep(
        name="Check",
        conditions=[ConditionLessThanOrEqualTo(left=logloss, right=threshold)],
        if_steps=[],
        else_steps=[
            FailStep(
                name="TooWeak",
                error_message=Join(on=" ", values=["Log-loss above", threshold]),
            )
        ],
    )
    return Pipeline(
        name="sdk-chain",
        parameters=[rounds, objective, threshold],
        steps=[train, check],
        sagemaker_session=session,
    )


def run(user, token: str, parameters: list[dict] | None = None):
    with transaction.atomic():  # run before the flow run would be started on commit
        execution = pipeline_execution_start(
            user=user,
            spec={
                "PipelineName": "sdk-chain",
                "ClientRequestToken": token * 32,
                "PipelineParameters": parameters or [],
            },
        )
        status = run_pipeline_execution(
            execution.pk, poll_seconds=0.01, run_child={"Training": run_training_job}
        )
    return execution, status


def test_an_sdk_definition_is_created_and_runs_both_branches(session, sagemaker, data_bucket, user):
    pipeline = sdk_pipeline(session, data_bucket)
    created = pipeline.upsert(role_arn=ROLE)
    assert created["PipelineArn"].endswith(":pipeline/sdk-chain")
    assert pipeline.upsert(role_arn=ROLE)["PipelineArn"] == created["PipelineArn"]  # updates

    execution, status = run(user, "a", [{"Name": "Rounds", "Value": "3"}])
    assert status == "Succeeded"
    steps = {s.name: s for s in pipeline_execution_steps(execution)}
    assert set(steps) == {"Train", "Check"}
    [job] = sagemaker.list_training_jobs()["TrainingJobSummaries"]
    assert steps["Train"].metadata["TrainingJob"]["Arn"] == job["TrainingJobArn"]
    described = sagemaker.describe_training_job(TrainingJobName=job["TrainingJobName"])
    assert described["HyperParameters"]["num_boost_round"] == "3"

    failed, status = run(user, "b", [{"Name": "MaxLogLoss", "Value": "0.0"}])
    assert status == "Failed"
    answer = sagemaker.describe_pipeline_execution(PipelineExecutionArn=failed.arn)
    assert answer["FailureReason"] == "Log-loss above 0.0"
    listed = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=failed.arn)
    fail_step = next(s for s in listed["PipelineExecutionSteps"] if s["StepName"] == "TooWeak")
    assert fail_step["Metadata"]["Fail"]["ErrorMessage"] == "Log-loss above 0.0"
