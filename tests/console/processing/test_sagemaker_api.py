"""Processing jobs from boto3 alone, against the live server: Create, Describe (every member,
in botocore's output shape), List (filters, sort, pages) and Stop, and bad input answered with
ValidationException naming the field."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from console.core.shapes import response_violations
from console.processing.models import ProcessingJob
from flows.processing import run_processing_job
from tests.flows.test_processing import PREPROCESS, put_script, request, s3_input, s3_output
from tests.flows.test_processing import bucket as processing_bucket

pytestmark = pytest.mark.django_db(transaction=True)
bucket = processing_bucket


@pytest.fixture(autouse=True)
def flow_runs(monkeypatch) -> list:
    """The Prefect API is not running: a started flow run is only recorded; the tests run the
    flow's work themselves, as the serve process would."""
    started: list = []

    def start_flow_run(deployment: str, *, parameters: dict):
        started.append((deployment, parameters))

    monkeypatch.setattr("infra.prefect.start_flow_run", start_flow_run)
    return started


def raw_response(sagemaker, operation: str, **params) -> dict:
    """The response as sent (timestamps as epoch seconds), for the shape check."""
    captured = {}

    def keep(http_response, **_):
        captured["body"] = json.loads(http_response.content)

    event = f"after-call.sagemaker.{operation}"
    sagemaker.meta.events.register(event, keep)
    try:
        getattr(sagemaker, _snake(operation))(**params)
    finally:
        sagemaker.meta.events.unregister(event, keep)
    return captured["body"]


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def test_create_run_and_describe_every_member(sagemaker, bucket, flow_runs):
    put_script(bucket, PREPROCESS)
    spec = request(bucket, Environment={"MODE": "fast"})
    arn = sagemaker.create_processing_job(**spec)["ProcessingJobArn"]
    assert arn.endswith(":processing-job/prep-job")
    assert flow_runs == [("processing/sagebrush", {"job_id": ProcessingJob.objects.get().pk})]

    described = sagemaker.describe_processing_job(ProcessingJobName="prep-job")
    assert described["ProcessingJobStatus"] == "InProgress"
    assert described["ProcessingJobArn"] == arn
    # What the request left out, SageMaker fills in; the resources that did not start it: empty.
    code = described["ProcessingInputs"][1]["S3Input"]
    assert (code["S3InputMode"], code["S3CompressionType"]) == ("File", "None")
    assert described["TrainingJobArn"] == described["AutoMLJobArn"] == ""
    assert described["MonitoringScheduleArn"] == described["ExitMessage"] == ""
    assert described["Environment"] == {"MODE": "fast"}
    assert described["AppSpecification"] == spec["AppSpecification"]
    assert "ProcessingStartTime" not in described

    assert run_processing_job(ProcessingJob.objects.get().pk) == "Completed"
    body = raw_response(sagemaker, "DescribeProcessingJob", ProcessingJobName="prep-job")
    # The ARNs of what did not start the job are empty strings, as the issue asks (botocore's
    # model gives them a minimum length of 1, which its parser does not hold responses to).
    unset = {"AutoMLJobArn", "MonitoringScheduleArn", "TrainingJobArn"}
    violations = response_violations("DescribeProcessingJob", body)
    assert {v.path for v in violations} <= unset, violations
    assert all(body[name] == "" for name in unset)
    assert body["ProcessingJobStatus"] == "Completed"
    assert body["CreationTime"] <= body["ProcessingStartTime"] <= body["ProcessingEndTime"]


def test_list_filters_sorts_and_pages(sagemaker, bucket):
    put_script(bucket, PREPROCESS)
    for name in ("prep-b", "prep-a", "other-c"):
        sagemaker.create_processing_job(**request(bucket, name))
    sagemaker.stop_processing_job(ProcessingJobName="prep-a")

    listed = sagemaker.list_processing_jobs(NameContains="prep", SortBy="Name")
    assert [s["ProcessingJobName"] for s in listed["ProcessingJobSummaries"]] == [
        "prep-a",
        "prep-b",
    ]
    stopping = sagemaker.list_processing_jobs(StatusEquals="Stopping")["ProcessingJobSummaries"]
    assert [s["ProcessingJobName"] for s in stopping] == ["prep-a"]
    first = sagemaker.list_processing_jobs(MaxResults=2, SortOrder="Descending")
    assert [s["ProcessingJobName"] for s in first["ProcessingJobSummaries"]] == [
        "other-c",
        "prep-a",
    ]
    rest = sagemaker.list_processing_jobs(MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in rest
    names = sagemaker.get_paginator("list_processing_jobs").paginate(
        PaginationConfig={"PageSize": 1}
    )
    assert sorted(
        s["ProcessingJobName"] for page in names for s in page["ProcessingJobSummaries"]
    ) == [
        "other-c",
        "prep-a",
        "prep-b",
    ]
    body = raw_response(sagemaker, "ListProcessingJobs")
    assert response_violations("ListProcessingJobs", body) == []


def test_stop_a_running_job_and_not_an_ended_one(sagemaker, bucket):
    put_script(bucket, PREPROCESS)
    sagemaker.create_processing_job(**request(bucket))
    sagemaker.stop_processing_job(ProcessingJobName="prep-job")
    assert run_processing_job(ProcessingJob.objects.get().pk) == "Stopped"
    described = sagemaker.describe_processing_job(ProcessingJobName="prep-job")
    assert described["ProcessingJobStatus"] == "Stopped"
    with pytest.raises(ClientError, match="in status Stopped"):
        sagemaker.stop_processing_job(ProcessingJobName="prep-job")


def test_duplicate_and_missing_jobs(sagemaker, bucket):
    put_script(bucket, PREPROCESS)
    sagemaker.create_processing_job(**request(bucket))
    with pytest.raises(ClientError) as duplicate:
        sagemaker.create_processing_job(**request(bucket))
    assert duplicate.value.response["Error"]["Code"] == "ResourceInUse"
    with pytest.raises(ClientError) as missing:
        sagemaker.describe_processing_job(ProcessingJobName="nope")
    assert missing.value.response["Error"]["Code"] in ("ValidationException", "ResourceNotFound")


def _changed(bucket: str, change) -> dict:
    spec = request(bucket)
    change(spec)
    return spec


BAD_REQUESTS = {
    "local path outside /opt/ml/processing": (
        lambda s: s["ProcessingInputs"][0]["S3Input"].update(LocalPath="/home/data"),
        "ProcessingInputs.1.S3Input.LocalPath",
        "under /opt/ml/processing/",
    ),
    "two inputs on one path": (
        lambda s: s["ProcessingInputs"][1]["S3Input"].update(
            LocalPath="/opt/ml/processing/input/raw/"
        ),
        "ProcessingInputs.2.S3Input.LocalPath",
        "every other input's and output's LocalPath",
    ),
    "an output name twice": (
        lambda s: s["ProcessingOutputConfig"]["Outputs"].append(
            s3_output("train", "s3://x/y", "/opt/ml/processing/other")
        ),
        "ProcessingOutputConfig.Outputs.2.OutputName",
        "Output names must be unique",
    ),
    "a code object that does not exist": (
        lambda s: s["ProcessingInputs"][1]["S3Input"].update(S3Uri="s3://nowhere-1/code/x.py"),
        "ProcessingInputs.2.S3Input.S3Uri",
        "",
    ),
    "a dataset definition": (
        lambda s: s["ProcessingInputs"].append(
            {
                "InputName": "athena",
                "DatasetDefinition": {
                    "AthenaDatasetDefinition": {
                        "Catalog": "c",
                        "Database": "d",
                        "QueryString": "select 1",
                        "OutputS3Uri": "s3://x/y",
                        "OutputFormat": "PARQUET",
                    }
                },
            }
        ),
        "ProcessingInputs.3.DatasetDefinition",
        "not supported",
    ),
    "an unknown image": (
        lambda s: s["AppSpecification"].update(ImageUri="my-registry/spark:3"),
        "AppSpecification.ImageUri",
        "known: pytorch, pytorch-inference, pytorch-training, scikit-learn, script, sklearn,",
    ),
    "pipe mode": (
        lambda s: s["ProcessingInputs"][0]["S3Input"].update(S3InputMode="Pipe"),
        "ProcessingInputs.1.S3Input.S3InputMode",
        "Only File mode",
    ),
    "an output bucket that does not exist": (
        lambda s: s["ProcessingOutputConfig"]["Outputs"][0]["S3Output"].update(
            S3Uri="s3://nowhere-2/out"
        ),
        "ProcessingOutputConfig.Outputs.1.S3Output.S3Uri",
        "existing bucket",
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_requests_are_refused_naming_the_field(sagemaker, bucket, case):
    put_script(bucket, PREPROCESS)
    change, field, rule = BAD_REQUESTS[case]
    with pytest.raises(ClientError) as refused:
        sagemaker.create_processing_job(**_changed(bucket, change))
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert f"'{field}'" in error["Message"] and rule in error["Message"]
    assert not ProcessingJob.objects.exists()


def test_a_sharded_input_needs_no_more_than_the_request_shape(sagemaker, bucket):
    put_script(bucket, PREPROCESS)
    spec = request(bucket)
    spec["ProcessingInputs"].append(
        s3_input(
            "more", f"s3://{bucket}/raw/", "/opt/ml/processing/more", S3DataDistributionType="Nope"
        )
    )
    with pytest.raises(ClientError, match="s3DataDistributionType"):
        sagemaker.create_processing_job(**spec)
