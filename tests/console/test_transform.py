"""Batch transform jobs through their service and every adapter: SageMaker API, REST, console.

Creating refuses, with the field and the rule, whatever can be known at create time; nothing is
written for a refused request. (The flow's work is tested in ``tests/flows/test_transform.py``.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from django.utils import timezone
from rest_framework.test import APIClient

from console.core.errors import AlreadyExists, InvalidState, NotFound, ValidationError
from console.core.names import account_id_for, arn
from console.core.shapes import ShapeError, service_model
from console.transform.models import TransformJob
from console.transform.selectors import transform_job_describe
from console.transform.services import (
    transform_job_create,
    transform_job_finish,
    transform_job_report,
    transform_job_stop,
)
from tests.console.core.test_lists import assert_pages_and_sorts, linked_names

pytestmark = pytest.mark.django_db


def request(bucket: str, name: str = "score-1", **changes) -> dict:
    spec = {
        "TransformJobName": name,
        "ModelName": "lgbm",
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/in/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": f"s3://{bucket}/out/", "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    spec.update(changes)
    return spec


# The service


def test_create_saves_the_job_in_progress_with_the_models_containers(user, transform_bucket):
    job = transform_job_create(user=user, spec=request(transform_bucket))
    assert (job.status, job.model_name) == ("InProgress", "lgbm")
    assert job.arn.endswith(":transform-job/score-1")
    [container] = job.containers
    assert container["Image"] == "lightgbm"
    assert container["ModelDataUrl"] == f"s3://{transform_bucket}/models/lgbm/model.tar.gz"


def _with(spec: dict, dotted: str, value) -> dict:
    *parents, last = dotted.split(".")
    node = spec
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return spec


REFUSALS = [
    # (field set, value, field named in the error, words of the rule)
    (
        "TransformInput.DataSource.S3DataSource.S3Uri",
        "s3://{bucket}/nothing/",
        "TransformInput.DataSource.S3DataSource.S3Uri",
        "matches no objects",
    ),
    (
        "TransformInput.DataSource.S3DataSource.S3Uri",
        "s3://no-such-bucket-x/in/",
        "TransformInput.DataSource.S3DataSource.S3Uri",
        "no-such-bucket-x",
    ),
    ("DataProcessing.InputFilter", "$[1:", "DataProcessing.InputFilter", ""),
    ("DataProcessing.OutputFilter", "$..a", "DataProcessing.OutputFilter", ""),
    ("MaxConcurrentTransforms", 20, "MaxConcurrentTransforms", "at most 100"),
    ("MaxPayloadInMB", 101, "MaxPayloadInMB", "between 0 and 100"),
    ("MaxPayloadInMB", 0, "MaxPayloadInMB", "not supported"),
    ("TransformInput.SplitType", "TFRecord", "TransformInput.SplitType", "not supported"),
    (
        "TransformOutput.S3OutputPath",
        "s3://no-such-bucket-y/out/",
        "TransformOutput.S3OutputPath",
        "existing bucket",
    ),
    ("DataProcessing.JoinSource", "Input", "DataProcessing.JoinSource", "Accept"),
    ("TransformResources.InstanceCount", 101, "TransformResources.InstanceCount", "100"),
    ("Environment", {f"K{n}": "v" for n in range(17)}, "Environment", "16"),
    ("ModelClientConfig.InvocationsMaxRetries", 4, "ModelClientConfig.InvocationsMaxRetries", "3"),
]


@pytest.mark.parametrize(("dotted", "value", "field", "words"), REFUSALS)
def test_create_refuses_what_it_can_know_naming_the_field(
    user, transform_bucket, dotted, value, field, words
):
    if isinstance(value, str):
        value = value.format(bucket=transform_bucket)
    spec = _with(request(transform_bucket), dotted, value)
    if dotted == "DataProcessing.JoinSource":
        spec["TransformOutput"]["Accept"] = "application/jsonlines"
    if dotted == "MaxConcurrentTransforms":
        spec["MaxPayloadInMB"] = 6
    with pytest.raises((ValidationError, ShapeError)) as raised:
        transform_job_create(user=user, spec=spec)
    error = raised.value
    fields = [v.path for v in error.violations] if isinstance(error, ShapeError) else [error.field]
    assert field in fields
    assert words in str(error)
    assert not TransformJob.objects.exists()


def test_create_refuses_an_unknown_model_and_a_bad_name(user, transform_bucket):
    with pytest.raises(NotFound, match="nope"):
        transform_job_create(user=user, spec=request(transform_bucket, ModelName="nope"))
    with pytest.raises(ShapeError, match="transformJobName"):
        transform_job_create(user=user, spec=request(transform_bucket, name="bad_name"))
    assert not TransformJob.objects.exists()


def test_a_second_job_of_the_same_name_is_refused(user, transform_bucket):
    job = transform_job_create(user=user, spec=request(transform_bucket))
    with pytest.raises(AlreadyExists, match="must be unique") as raised:
        transform_job_create(user=user, spec=request(transform_bucket))
    assert job.arn in raised.value.message


def test_stop_moves_to_stopping_once_and_refuses_a_finished_job(user, transform_bucket):
    job = transform_job_create(user=user, spec=request(transform_bucket))
    transform_job_stop(user=user, name="score-1")
    transform_job_stop(user=user, name="score-1")  # already stopping: nothing to do
    job.refresh_from_db()
    assert job.status == "Stopping"
    transform_job_finish(job_id=job.pk, status="Completed")
    job.refresh_from_db()
    assert job.status == "Stopped"  # asked to stop: Stopped, whatever the last ranges did
    with pytest.raises(InvalidState, match="in status Stopped"):
        transform_job_stop(user=user, name="score-1")
    with pytest.raises(NotFound):
        transform_job_stop(user=user, name="other")


# DescribeTransformJob's shape


def assert_fits(shape, value, where: str = "") -> None:
    """``value`` holds only ``shape``'s members, every required one, each of its type."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), where
        assert set(value) <= set(shape.members), f"{where}: {set(value) - set(shape.members)}"
        assert set(shape.required_members) <= set(value), where
        for name, item in value.items():
            assert_fits(shape.members[name], item, f"{where}.{name}")
    elif kind == "list":
        for item in value:
            assert_fits(shape.member, item, where)
    elif kind == "map":
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()), where
    elif kind == "timestamp":
        assert isinstance(value, datetime), where
    elif kind == "string":
        assert isinstance(value, str), where
        assert not shape.enum or value in shape.enum, f"{where}: {value!r}"
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), where


def test_describe_is_exactly_the_botocore_shape_with_defaults_filled_in(user, transform_bucket):
    spec = request(transform_bucket, Environment={"MODE": "fast"})
    job = transform_job_create(user=user, spec=spec)
    transform_job_finish(job_id=job.pk, status="Failed", failure_reason="s3://x line 3: bad")
    job.refresh_from_db()

    described = transform_job_describe(job)

    output_shape = service_model().operation_model("DescribeTransformJob").output_shape
    assert_fits(output_shape, described)
    assert described["TransformJobStatus"] == "Failed"
    assert described["FailureReason"] == "s3://x line 3: bad"
    assert described["MaxPayloadInMB"] == 6
    assert described["BatchStrategy"] == "MultiRecord"
    assert described["MaxConcurrentTransforms"] == 1
    assert described["ModelClientConfig"] == {
        "InvocationsTimeoutInSeconds": 600,
        "InvocationsMaxRetries": 3,
    }
    assert described["TransformInput"]["CompressionType"] == "None"
    assert described["TransformOutput"]["AssembleWith"] == "Line"
    assert described["DataProcessing"] == {
        "InputFilter": "$",
        "OutputFilter": "$",
        "JoinSource": "None",
    }
    assert described["Environment"] == {"MODE": "fast"}
    assert "TransformEndTime" in described


# The SageMaker API over boto3 (a live server: the on-commit flow start finds no Prefect here,
# so the job fails at once saying so, which Describe shows).


@pytest.fixture
def boto3_sagemaker(sagemaker):
    yield sagemaker
    sagemaker.close()  # no keep-alive request thread outlives the test


@pytest.mark.django_db(transaction=True)
def test_boto3_create_describe_list_and_stop(boto3_sagemaker, user, transform_bucket):
    sagemaker = boto3_sagemaker
    arn = sagemaker.create_transform_job(**request(transform_bucket))["TransformJobArn"]
    assert arn.endswith(":transform-job/score-1")

    described = sagemaker.describe_transform_job(TransformJobName="score-1")
    assert described["TransformJobArn"] == arn
    assert described["TransformInput"]["SplitType"] == "Line"
    assert isinstance(described["CreationTime"], datetime)
    if described["TransformJobStatus"] == "Failed":
        assert "could not start" in described["FailureReason"]
    [summary] = sagemaker.list_transform_jobs()["TransformJobSummaries"]
    assert summary["TransformJobName"] == "score-1"

    TransformJob.objects.filter(name="score-1").update(status="Completed")
    with pytest.raises(ClientError) as raised:
        sagemaker.stop_transform_job(TransformJobName="score-1")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "in status Completed" in raised.value.response["Error"]["Message"]


@pytest.mark.django_db(transaction=True)
def test_boto3_refusals_are_validation_exceptions_naming_the_field(
    boto3_sagemaker, user, transform_bucket
):
    sagemaker = boto3_sagemaker
    cases = {
        "MaxConcurrentTransforms": request(transform_bucket, MaxConcurrentTransforms=50),
        "matches no objects": _with(
            request(transform_bucket),
            "TransformInput.DataSource.S3DataSource.S3Uri",
            f"s3://{transform_bucket}/empty/",
        ),
        "TFRecord": _with(request(transform_bucket), "TransformInput.SplitType", "TFRecord"),
    }
    for words, spec in cases.items():
        with pytest.raises(ClientError) as raised:
            sagemaker.create_transform_job(**spec)
        assert raised.value.response["Error"]["Code"] == "ValidationException"
        assert words in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as raised:
        sagemaker.create_transform_job(**request(transform_bucket, ModelName="missing"))
    assert "missing" in raised.value.response["Error"]["Message"]
    assert sagemaker.list_transform_jobs()["TransformJobSummaries"] == []


# REST


def rest(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def snake_request(bucket: str, **changes) -> dict:
    return {
        "transform_job_name": "score-rest",
        "model_name": "lgbm",
        "transform_input": {
            "data_source": {
                "s3_data_source": {"s3_data_type": "S3Prefix", "s3_uri": f"s3://{bucket}/in/"}
            },
            "content_type": "text/csv",
            "split_type": "Line",
        },
        "transform_output": {"s3_output_path": f"s3://{bucket}/out/"},
        "transform_resources": {"instance_type": "ml.m5.large", "instance_count": 1},
        **changes,
    }


def test_rest_create_then_detail_with_progress_counters(user, transform_bucket):
    client = rest(user)
    created = client.post("/api/v1/transform-jobs/", snake_request(transform_bucket), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["transform_job_status"] == "InProgress"
    assert body["transform_input"]["data_source"]["s3_data_source"]["s3_uri"].endswith("/in/")
    assert body["progress"]["records"] == 0

    job = TransformJob.objects.get(name="score-rest")
    uri = f"s3://{transform_bucket}/in/a.csv"
    transform_job_report(
        job_id=job.pk,
        progress={
            "objects_total": 3,
            "objects_completed": 1,
            "objects_failed": 0,
            "records": 3,
            "bytes_done": 40,
            "bytes_total": 120,
            "objects": [
                {
                    "uri": uri,
                    "output_uri": "o",
                    "status": "Completed",
                    "records": 3,
                    "bytes_done": 40,
                    "bytes_total": 40,
                },
            ],
        },
    )
    detail = client.get("/api/v1/transform-jobs/score-rest/").json()
    progress = detail["progress"]
    assert (progress["records"], progress["bytes_done"], progress["bytes_total"]) == (3, 40, 120)
    assert progress["percent"] == 33
    assert progress["objects"][0]["uri"] == uri and progress["objects"][0]["percent"] == 100

    listed = client.get("/api/v1/transform-jobs/").json()["results"]
    assert listed[0]["progress"]["records"] == 3

    assert client.post("/api/v1/transform-jobs/score-rest/stop/").status_code == 202
    assert TransformJob.objects.get(name="score-rest").status == "Stopping"


def test_rest_refusals_are_400_with_the_snake_case_field(user, transform_bucket):
    client = rest(user)
    bad = snake_request(transform_bucket, max_concurrent_transforms=30, max_payload_in_mb=6)
    response = client.post("/api/v1/transform-jobs/", bad, format="json")
    assert response.status_code == 400
    assert "at most 100" in response.json()["errors"]["max_concurrent_transforms"][0]
    filtered = snake_request(transform_bucket, data_processing={"input_filter": "$[1"})
    response = client.post("/api/v1/transform-jobs/", filtered, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["data_processing.input_filter"]
    assert not TransformJob.objects.exists()


# Console pages


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


def test_list_and_detail_pages_show_progress_objects_and_the_dashboard(
    browser, user, transform_bucket
):
    job = transform_job_create(user=user, spec=request(transform_bucket))
    from console.transform.services import transform_job_begin

    transform_job_begin(job_id=job.pk, dashboard_url="http://127.0.0.1:8787/status")
    transform_job_report(
        job_id=job.pk,
        progress={
            "objects_total": 2,
            "objects_completed": 1,
            "objects_failed": 0,
            "records": 7,
            "bytes_done": 50,
            "bytes_total": 100,
            "objects": [
                {
                    "uri": "s3://b/in/a.csv",
                    "output_uri": "s3://b/out/a.csv.out",
                    "status": "Completed",
                    "records": 7,
                    "bytes_done": 50,
                    "bytes_total": 50,
                },
                {
                    "uri": "s3://b/in/b.csv",
                    "output_uri": "s3://b/out/b.csv.out",
                    "status": "InProgress",
                    "records": 0,
                    "bytes_done": 0,
                    "bytes_total": 50,
                },
            ],
        },
    )
    listing = browser.get("/transform-jobs/").content.decode()
    assert "score-1" in listing and '<progress max="100" value="50"' in listing

    page = browser.get("/transform-jobs/score-1/").content.decode()
    assert 'href="http://127.0.0.1:8787/status"' in page
    assert "s3://b/in/a.csv" in page and "s3://b/out/a.csv.out" in page
    assert "s3://b/out/b.csv.out" not in page  # not published yet
    assert "Stop</button>" in page

    transform_job_finish(job_id=job.pk, status="Completed")
    page = browser.get("/transform-jobs/score-1/").content.decode()
    assert "8787" not in page and "Stop</button>" not in page  # no dashboard once it ended


def test_the_list_shows_every_job_a_page_at_a_time_with_its_model_and_duration(browser, user):
    started = timezone.now() - timedelta(minutes=5)
    TransformJob.objects.bulk_create(
        TransformJob(
            owner=user,
            name=f"row-{index:03d}",
            arn=arn("transform-job", f"row-{index:03d}", account_id=account_id_for(user.pk)),
            status="Completed",
            model_name="churn" if index % 2 else "atlas",
            started_at=started,
            ended_at=started + timedelta(minutes=1, seconds=15),
        )
        for index in range(201)
    )
    assert_pages_and_sorts(browser, "/transform-jobs/", 201)

    by_model = browser.get("/transform-jobs/", {"sort": "-model_name"}).content.decode()
    assert linked_names(by_model, "/transform-jobs/")[:3] == ["row-199", "row-197", "row-195"]
    assert '<td><a href="/models/churn/">churn</a></td>' in by_model
    assert ">Duration</th>" in by_model and "<td>1 min 15 s</td>" in by_model


def test_create_form_validates_like_the_api_and_starts_the_job(browser, user, transform_bucket):
    form = {
        "name": "from-console",
        "model_name": "lgbm",
        "s3_data_type": "S3Prefix",
        "input_uri": f"s3://{transform_bucket}/in/",
        "content_type": "text/csv",
        "compression_type": "None",
        "split_type": "Line",
        "batch_strategy": "MultiRecord",
        "max_payload_mb": "6",
        "max_concurrent_transforms": "1",
        "output_path": f"s3://{transform_bucket}/out/",
        "accept": "",
        "assemble_with": "Line",
        "input_filter": "$[1:",
        "join_source": "None",
        "output_filter": "$",
        "instance_type": "ml.m5.large",
        "instance_count": "2",
        "invocations_timeout": "600",
        "invocations_max_retries": "3",
    }
    refused = browser.post("/transform-jobs/new", form)
    assert refused.status_code == 200
    assert "input_filter" in refused.context["form"].errors
    assert not TransformJob.objects.exists()

    form["input_filter"] = "$"
    created = browser.post("/transform-jobs/new", form)
    assert created.status_code == 302 and created["Location"] == "/transform-jobs/from-console/"
    job = TransformJob.objects.get(name="from-console")
    assert job.spec["TransformResources"]["InstanceCount"] == 2
