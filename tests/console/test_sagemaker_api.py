"""The SageMaker-compatible API as boto3 sees it: signatures, errors, and the List operations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import requests
from botocore.exceptions import ClientError

from console.accounts.services import access_key_revoke
from console.core.names import account_id_for, arn
from console.training.models import TrainingJob
from tests.console.conftest import sagemaker_client

pytestmark = pytest.mark.django_db(transaction=True)

EMPTY_LISTS = {
    "list_training_jobs": "TrainingJobSummaries",
    "list_hyper_parameter_tuning_jobs": "HyperParameterTuningJobSummaries",
    "list_models": "Models",
    "list_endpoint_configs": "EndpointConfigs",
    "list_endpoints": "Endpoints",
    "list_transform_jobs": "TransformJobSummaries",
    "list_labeling_jobs": "LabelingJobSummaryList",
    "list_pipelines": "PipelineSummaries",
}


@pytest.mark.parametrize(("method", "key"), EMPTY_LISTS.items())
def test_every_list_operation_starts_empty(sagemaker, method, key):
    response = getattr(sagemaker, method)()
    assert response[key] == []
    assert "NextToken" not in response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["RequestId"]


def _job(owner, name: str, status: str = "InProgress") -> TrainingJob:
    return TrainingJob.objects.create(
        owner=owner,
        name=name,
        arn=arn("training-job", name, account_id=account_id_for(owner.pk)),
        status=status,
    )


def test_list_training_jobs_pages_filters_and_hides_other_users_jobs(sagemaker, user, other_user):
    for index in range(5):
        _job(user, f"job-{index}", status="Completed" if index % 2 else "InProgress")
    _job(other_user, "someone-elses")

    first = sagemaker.list_training_jobs(MaxResults=2, SortBy="Name", SortOrder="Ascending")
    assert [s["TrainingJobName"] for s in first["TrainingJobSummaries"]] == ["job-0", "job-1"]
    second = sagemaker.list_training_jobs(
        MaxResults=2, SortBy="Name", SortOrder="Ascending", NextToken=first["NextToken"]
    )
    assert [s["TrainingJobName"] for s in second["TrainingJobSummaries"]] == ["job-2", "job-3"]

    paginator = sagemaker.get_paginator("list_training_jobs")
    names = [
        s["TrainingJobName"] for page in paginator.paginate() for s in page["TrainingJobSummaries"]
    ]
    assert sorted(names) == [f"job-{i}" for i in range(5)]

    completed = sagemaker.list_training_jobs(StatusEquals="Completed")["TrainingJobSummaries"]
    assert {s["TrainingJobName"] for s in completed} == {"job-1", "job-3"}
    summary = completed[0]
    assert summary["TrainingJobArn"].startswith("arn:aws:sagemaker:us-east-1:")
    assert isinstance(summary["CreationTime"], datetime)
    assert summary["SecondaryStatus"] == "Starting"


def test_wrong_secret_is_refused_with_an_aws_error(live_server, access_key):
    client = sagemaker_client(live_server.url, access_key.access_key_id, "not-the-secret")
    with pytest.raises(ClientError) as raised:
        client.list_training_jobs()
    error = raised.value.response
    assert error["Error"]["Code"] == "InvalidSignatureException"
    assert 400 <= error["ResponseMetadata"]["HTTPStatusCode"] < 500


def test_unknown_and_revoked_keys_are_refused(live_server, access_key, user):
    unknown = sagemaker_client(live_server.url, "SBAKNOSUCHKEY0000000", "whatever")
    with pytest.raises(ClientError) as raised:
        unknown.list_models()
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"

    access_key_revoke(user=user, access_key_id=access_key.access_key_id)
    revoked = sagemaker_client(
        live_server.url, access_key.access_key_id, access_key.secret_access_key
    )
    with pytest.raises(ClientError) as raised:
        revoked.list_models()
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"


def _signed_post(url: str, key, *, target: str, body: bytes, when: datetime):
    """Sign a request ourselves (as botocore does) at a chosen time."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"},
    )
    auth = SigV4Auth(
        Credentials(key.access_key_id, key.secret_access_key), "sagemaker", "us-east-1"
    )
    # A client whose clock reads ``when``.
    with mock.patch("botocore.auth.get_current_datetime", lambda: when.replace(tzinfo=None)):
        auth.add_auth(request)
    return requests.post(url + "/", data=body, headers=dict(request.headers), timeout=10)


def test_clock_skew_over_fifteen_minutes_is_refused(live_server, access_key):
    now = datetime.now(UTC)
    fine = _signed_post(
        live_server.url,
        access_key,
        target="SageMaker.ListModels",
        body=b"{}",
        when=now - timedelta(minutes=10),
    )
    assert fine.status_code == 200, fine.text
    late = _signed_post(
        live_server.url,
        access_key,
        target="SageMaker.ListModels",
        body=b"{}",
        when=now - timedelta(minutes=16),
    )
    assert late.status_code == 400
    assert late.json()["__type"] == "InvalidSignatureException"
    assert "Signature expired" in late.json()["message"]


def test_tampered_body_fails_the_signature(live_server, access_key):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url=live_server.url + "/",
        data=b"{}",
        headers={
            "X-Amz-Target": "SageMaker.ListModels",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    SigV4Auth(
        Credentials(access_key.access_key_id, access_key.secret_access_key),
        "sagemaker",
        "us-east-1",
    ).add_auth(request)
    response = requests.post(
        live_server.url + "/", data=b'{"MaxResults": 5}', headers=dict(request.headers), timeout=10
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "InvalidSignatureException"


def test_server_validates_what_boto3_does_not(live_server, access_key):
    client = sagemaker_client(
        live_server.url,
        access_key.access_key_id,
        access_key.secret_access_key,
        parameter_validation=False,
    )
    with pytest.raises(ClientError) as raised:
        client.list_training_jobs(MaxResults=1000, StatusEquals="Bogus")
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("2 validation errors detected:")
    assert (
        "'maxResults' failed to satisfy constraint: Member must have value less than or "
        "equal to 100" in error["Message"]
    )
    assert "Value 'Bogus' at 'statusEquals'" in error["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_unknown_fields_malformed_json_and_unknown_operations(live_server, access_key):
    now = datetime.now(UTC)
    extra = _signed_post(
        live_server.url, access_key, target="SageMaker.ListModels", body=b'{"Bogus": 1}', when=now
    )
    assert extra.status_code == 400
    assert extra.json()["__type"] == "ValidationException"
    assert (
        "'bogus' failed to satisfy constraint: Member is not a known field"
        in extra.json()["message"]
    )

    broken = _signed_post(
        live_server.url, access_key, target="SageMaker.ListModels", body=b"{not json", when=now
    )
    assert broken.status_code == 400
    assert broken.json()["__type"] == "SerializationException"

    unknown = _signed_post(
        live_server.url, access_key, target="SageMaker.MakeCoffee", body=b"{}", when=now
    )
    assert unknown.status_code == 400
    assert unknown.json()["__type"] == "UnknownOperationException"
    assert "MakeCoffee" in unknown.json()["message"]


def test_bad_next_token_is_a_validation_error(sagemaker):
    with pytest.raises(ClientError) as raised:
        sagemaker.list_endpoints(NextToken="garbage!!")
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_list_executions_of_a_missing_pipeline_is_not_found(sagemaker):
    with pytest.raises(ClientError) as raised:
        sagemaker.list_pipeline_executions(PipelineName="nope")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFound"


def test_runtime_route_speaks_the_runtime_protocol(live_server, access_key):
    import boto3
    from botocore.config import Config

    runtime = boto3.client(
        "sagemaker-runtime",
        endpoint_url=live_server.url,
        region_name="us-east-1",
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key=access_key.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    with pytest.raises(ClientError) as raised:
        runtime.invoke_endpoint(EndpointName="missing", Body=b"1,2,3", ContentType="text/csv")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "Endpoint missing of account" in raised.value.response["Error"]["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    with pytest.raises(ClientError) as raised:
        runtime.invoke_endpoint(
            EndpointName="missing", Body=b"x" * (6 * 1024 * 1024 + 1), ContentType="text/csv"
        )
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_console_home_is_still_served_at_the_root(client, user):
    response = client.get("/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(user)
    assert client.get("/").status_code == 200
    # A POST without X-Amz-Target is not mistaken for an API call.
    assert client.post("/").status_code in (200, 405)
