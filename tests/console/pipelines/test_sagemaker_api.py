"""Every pipeline operation through boto3 against the live server."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from django.db import transaction

from console.pipelines.services import pipeline_execution_start
from flows.pipelines import run_pipeline_execution
from flows.training import run_training_job
from tests.console.pipelines.definitions import ROLE, chain, text

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "0" * 32


def create(sagemaker, bucket, name="chain", **changes):
    request = {
        "PipelineName": name,
        "PipelineDefinition": text(chain(bucket)),
        "RoleArn": ROLE,
        "ClientRequestToken": TOKEN,
        **changes,
    }
    return sagemaker.create_pipeline(**request)


def test_create_describe_list_update_and_delete(sagemaker, data_bucket):
    created = create(
        sagemaker,
        data_bucket,
        PipelineDisplayName="Nightly",
        PipelineDescription="train and check",
        ParallelismConfiguration={"MaxParallelExecutionSteps": 2},
    )
    assert created["PipelineArn"].endswith(":pipeline/chain")

    described = sagemaker.describe_pipeline(PipelineName="chain")
    assert described["PipelineArn"] == created["PipelineArn"]
    assert described["PipelineDisplayName"] == "Nightly"
    assert described["PipelineDescription"] == "train and check"
    assert described["PipelineStatus"] == "Active"
    assert described["RoleArn"] == ROLE
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}
    assert json.loads(described["PipelineDefinition"]) == chain(data_bucket)

    listed = sagemaker.list_pipelines(PipelineNamePrefix="ch")["PipelineSummaries"]
    assert [p["PipelineName"] for p in listed] == ["chain"]
    assert listed[0]["PipelineDisplayName"] == "Nightly"

    changed = chain(data_bucket, threshold=0.25)
    updated = sagemaker.update_pipeline(
        PipelineName="chain", PipelineDefinition=text(changed), PipelineDescription="v2"
    )
    assert updated["PipelineArn"] == created["PipelineArn"]
    described = sagemaker.describe_pipeline(PipelineName="chain")
    assert json.loads(described["PipelineDefinition"]) == changed
    assert described["PipelineDescription"] == "v2"

    assert (
        sagemaker.delete_pipeline(PipelineName="chain", ClientRequestToken=TOKEN)["PipelineArn"]
        == created["PipelineArn"]
    )
    with pytest.raises(ClientError) as missing:
        sagemaker.describe_pipeline(PipelineName="chain")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"


def test_a_bad_definition_is_refused_naming_the_step_and_field(sagemaker, data_bucket):
    definition = chain(data_bucket)
    definition["Steps"][1]["Arguments"]["Conditions"][0]["LeftValue"] = {
        "Get": "Steps.Tune.BestTrainingJob.TrainingJobName"
    }
    with pytest.raises(ClientError) as refused:
        create(sagemaker, data_bucket, PipelineDefinition=json.dumps(definition))
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "Steps.Check.Arguments.Conditions[0].LeftValue" in error["Message"]
    assert not sagemaker.list_pipelines()["PipelineSummaries"]


def test_a_taken_name_is_refused_as_the_sdk_expects(sagemaker, data_bucket):
    create(sagemaker, data_bucket)
    with pytest.raises(ClientError) as taken:
        create(sagemaker, data_bucket, ClientRequestToken="1" * 32)
    assert taken.value.response["Error"]["Code"] == "ValidationException"
    assert "already exists" in taken.value.response["Error"]["Message"]


def test_an_execution_whose_flow_cannot_start_fails_saying_why(sagemaker, data_bucket):
    create(sagemaker, data_bucket)
    started = sagemaker.start_pipeline_execution(
        PipelineName="chain",
        PipelineExecutionDisplayName="first",
        PipelineParameters=[{"Name": "NumRound", "Value": "3"}],
    )
    arn = started["PipelineExecutionArn"]
    assert ":pipeline/chain/execution/" in arn

    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"].startswith("The platform could not start its flow run")
    assert described["PipelineExecutionDisplayName"] == "first"
    listed = sagemaker.list_pipeline_executions(PipelineName="chain")["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in listed] == [arn]
    definition = sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)
    assert json.loads(definition["PipelineDefinition"]) == chain(data_bucket)
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    assert {p["Name"]: p["Value"] for p in parameters["PipelineParameters"]} == {
        "NumRound": "3",
        "Threshold": "1.0",
    }
    with pytest.raises(ClientError) as ended:
        sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=TOKEN)
    assert ended.value.response["Error"]["Code"] == "ValidationException"


def test_bad_parameters_are_refused(sagemaker, data_bucket):
    create(sagemaker, data_bucket)
    for parameters, words in (
        ([{"Name": "NumRound", "Value": "many"}], "Integer"),
        ([{"Name": "Rounds", "Value": "3"}], "parameter of the pipeline"),
    ):
        with pytest.raises(ClientError) as refused:
            sagemaker.start_pipeline_execution(PipelineName="chain", PipelineParameters=parameters)
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert words in refused.value.response["Error"]["Message"]


def test_steps_of_an_execution_list_with_their_jobs(sagemaker, data_bucket, user):
    create(sagemaker, data_bucket)
    with transaction.atomic():  # run before the flow run would be started on commit
        execution = pipeline_execution_start(
            user=user, spec={"PipelineName": "chain", "ClientRequestToken": "2" * 32}
        )
        run_pipeline_execution(
            execution.pk, poll_seconds=0.01, run_child={"Training": run_training_job}
        )

    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution.arn)[
        "PipelineExecutionSteps"
    ]
    assert [s["StepName"] for s in steps] == ["Model", "Check", "Train"]  # newest first
    by_name = {s["StepName"]: s for s in steps}
    assert all(s["StepStatus"] == "Succeeded" for s in steps)
    [job] = sagemaker.list_training_jobs()["TrainingJobSummaries"]
    assert by_name["Train"]["Metadata"]["TrainingJob"]["Arn"] == job["TrainingJobArn"]
    assert job["TrainingJobStatus"] == "Completed"
    assert by_name["Check"]["Metadata"]["Condition"]["Outcome"] == "True"
    [model] = sagemaker.list_models()["Models"]
    assert by_name["Model"]["Metadata"]["Model"]["Arn"] == model["ModelArn"]
    assert by_name["Train"]["StartTime"] <= by_name["Train"]["EndTime"]
    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=execution.arn)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    ascending = sagemaker.list_pipeline_execution_steps(
        PipelineExecutionArn=execution.arn, SortOrder="Ascending", MaxResults=1
    )
    assert [s["StepName"] for s in ascending["PipelineExecutionSteps"]] == ["Train"]
    assert "NextToken" in ascending
