"""Pipeline executions run in-process: each step's job trained in this process, against the test
database and the local store."""

from __future__ import annotations

import time

import pytest

from console.pipelines.models import PipelineExecution
from console.pipelines.selectors import pipeline_execution_steps
from console.pipelines.services import (
    pipeline_create,
    pipeline_execution_start,
    pipeline_execution_stop,
)
from console.registry.selectors import model_list
from console.training.selectors import training_job_list
from flows.pipelines import run_pipeline_execution
from flows.pipelines_steps import job_name, retry_delay
from flows.training import run_training_job
from tests.console.pipelines.definitions import ROLE, chain, text

pytestmark = pytest.mark.django_db

IN_PROCESS = {"Training": run_training_job}


def create(user, definition, name="chain"):
    return pipeline_create(
        user=user,
        spec={
            "PipelineName": name,
            "PipelineDefinition": text(definition),
            "ClientRequestToken": f"create-{name}".ljust(32, "0"),
            "RoleArn": ROLE,
        },
    )


def start(user, name="chain", token="run-1", **parameters) -> PipelineExecution:
    return pipeline_execution_start(
        user=user,
        spec={
            "PipelineName": name,
            "ClientRequestToken": token.ljust(32, "0"),
            "PipelineParameters": [{"Name": k, "Value": str(v)} for k, v in parameters.items()],
        },
    )


def steps(execution) -> dict:
    return {step.name: step for step in pipeline_execution_steps(execution)}


def test_a_chain_trains_checks_and_creates_the_model(user, data_bucket):
    create(user, chain(data_bucket))
    execution = start(user, NumRound=3)

    assert (
        run_pipeline_execution(execution.pk, poll_seconds=0.01, run_child=IN_PROCESS) == "Succeeded"
    )

    ran = steps(execution)
    assert set(ran) == {"Train", "Check", "Model"}  # the else branch never ran
    assert all(step.status == "Succeeded" for step in ran.values())
    training = training_job_list(user=user).get()
    assert training.owner == user
    assert training.spec["HyperParameters"]["num_boost_round"] == "3"
    assert training.name.startswith(f"pipelines-{execution.name}-Train-")
    assert training.spec["OutputDataConfig"]["S3OutputPath"] == (
        f"s3://{data_bucket}/pipelines/{execution.name}"
    )
    assert ran["Train"].metadata == {"TrainingJob": {"Arn": training.arn}}
    assert ran["Check"].metadata == {"Condition": {"Outcome": "True"}}
    model = model_list(user=user).get()
    assert ran["Model"].metadata == {"Model": {"Arn": model.arn}}
    assert model.spec["PrimaryContainer"]["ModelDataUrl"] == training.model_artifacts


def test_a_condition_that_fails_runs_the_else_branch_and_fails_the_execution(user, data_bucket):
    create(user, chain(data_bucket, threshold=0.0))  # no log-loss reaches 0
    execution = start(user)

    assert run_pipeline_execution(execution.pk, poll_seconds=0.01, run_child=IN_PROCESS) == "Failed"

    execution.refresh_from_db()
    assert execution.failure_reason == "Log-loss above 0.0"
    ran = steps(execution)
    assert set(ran) == {"Train", "Check", "TooWeak"}
    assert ran["Check"].metadata == {"Condition": {"Outcome": "False"}}
    assert ran["TooWeak"].status == "Failed"
    assert ran["TooWeak"].metadata == {"Fail": {"ErrorMessage": "Log-loss above 0.0"}}
    assert not model_list(user=user).exists()


def test_unchanged_arguments_reuse_the_cached_training_step(user, data_bucket):
    definition = chain(data_bucket, cache=True)
    # The output path must not change between executions for the arguments to be the same.
    definition["Steps"][0]["Arguments"]["OutputDataConfig"]["S3OutputPath"] = (
        f"s3://{data_bucket}/cached"
    )
    create(user, definition)
    first = start(user, token="run-1")
    run_pipeline_execution(first.pk, poll_seconds=0.01, run_child=IN_PROCESS)
    second = start(user, token="run-2")

    assert run_pipeline_execution(second.pk, poll_seconds=0.01, run_child=IN_PROCESS) == "Succeeded"

    assert training_job_list(user=user).count() == 1  # the second execution trained nothing
    cached = steps(second)["Train"]
    assert cached.cache_source_arn == first.arn
    assert cached.metadata == steps(first)["Train"].metadata
    third = start(user, token="run-3", NumRound=4)  # a changed argument trains again
    run_pipeline_execution(third.pk, poll_seconds=0.01, run_child=IN_PROCESS)
    assert training_job_list(user=user).count() == 2
    assert steps(third)["Train"].cache_source_arn == ""


def test_a_step_whose_job_is_refused_fails_naming_the_field(user, data_bucket):
    definition = chain(data_bucket)
    definition["Steps"][0]["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"][
        "S3Uri"
    ] = {"Std:Join": {"On": "", "Values": [f"s3://{data_bucket}/", {"Get": "Parameters.Missing"}]}}
    definition["Parameters"].append(
        {"Name": "Missing", "Type": "String", "DefaultValue": "nothing/"}
    )
    create(user, definition)
    execution = start(user)

    assert run_pipeline_execution(execution.pk, poll_seconds=0.01, run_child=IN_PROCESS) == "Failed"

    train = steps(execution)["Train"]
    assert train.status == "Failed"
    assert train.failure_reason.startswith("ClientError:")
    assert "InputDataConfig" in train.failure_reason
    execution.refresh_from_db()
    assert "Train" in execution.failure_reason
    assert set(steps(execution)) == {"Train"}


def test_a_stopped_execution_runs_no_step(user, data_bucket):
    create(user, chain(data_bucket))
    execution = start(user)
    pipeline_execution_stop(user=user, execution_arn=execution.arn)

    assert (
        run_pipeline_execution(execution.pk, poll_seconds=0.01, run_child=IN_PROCESS) == "Stopped"
    )
    assert not training_job_list(user=user).exists()


def test_generated_job_names_fit_the_kinds_limits():
    name = job_name("abcdefghijkl", "A_very_long_step_name_" * 4)
    assert len(name) <= 63 and name.startswith("pipelines-abcdefghijkl-A-very-long")
    assert len(job_name("abcdefghijkl", "Tune", 32)) <= 32


def test_retry_policies_back_off_and_give_up():
    policies = [
        {"ExceptionType": ["Step.THROTTLING"], "MaxAttempts": 1},
        {
            "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"],
            "IntervalSeconds": 2,
            "BackoffRate": 3.0,
            "MaxAttempts": 2,
        },
    ]
    now = time.monotonic()
    assert retry_delay(policies, "SageMaker.JOB_INTERNAL_ERROR", 1, now) == 2.0
    assert retry_delay(policies, "SageMaker.JOB_INTERNAL_ERROR", 2, now) == 6.0
    assert retry_delay(policies, "SageMaker.JOB_INTERNAL_ERROR", 3, now) is None  # 2 retries done
    assert retry_delay(policies, "SageMaker.RESOURCE_LIMIT", 1, now) is None  # no policy names it
    expiring = [{"ExceptionType": ["SageMaker.RESOURCE_LIMIT"], "ExpireAfterMin": 1}]
    assert retry_delay(expiring, "SageMaker.RESOURCE_LIMIT", 9, now) == 1 * 2.0**8
    assert retry_delay(expiring, "SageMaker.RESOURCE_LIMIT", 2, now - 61) is None
