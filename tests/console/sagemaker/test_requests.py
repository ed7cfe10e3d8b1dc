"""The request-reading layer: strict UTF-8 JSON within limits, AWS error shapes for everything."""

from __future__ import annotations

import json
from unittest import mock

import pytest

from console.sagemaker.operations import OPERATIONS
from tests.console.sagemaker.conftest import JSON_1_1, assert_aws_error, aws_call, post, sign

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [
        b'{"MaxResults": ' + b"1" * 5000 + b"}",  # past Python's 4,300-digit int limit
        b'{"MaxResults": ' + b"9" * 60 + b"}",
        b'{"MaxResults": 1e400}',
        b'{"MaxResults": NaN}',
        b'{"MaxResults": -Infinity}',
        b'{"NameContains": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # RecursionError
        b'{"NameContains": ' + b"[" * 200 + b"]" * 200 + b"}",
        "{}".encode("utf-16"),
        "{}".encode("utf-16-le"),
        b"\xef\xbb\xbf{}",
        b'{"NameContains": "\xff"}',
        b'{"NameContains": "\\ud800"}',
        b'{"\\udfff": 1}',
        b"{not json",
    ],
    ids=lambda body: repr(body[:24]),
)
def test_bodies_that_are_not_strict_json_are_serialization_errors(client, access_key, body):
    assert_aws_error(aws_call(client, access_key, body), "SerializationException")


def test_a_list_body_is_a_validation_error(client, access_key):
    assert_aws_error(aws_call(client, access_key, b"[]"), "ValidationException")


def test_a_signed_post_without_a_target_answers_in_the_aws_shape(client, access_key):
    response = aws_call(client, access_key, b"{}", target=None)
    body = assert_aws_error(response, "UnknownOperationException")
    assert "X-Amz-Target" in body["message"]


def test_a_target_of_no_service_here_names_the_services_answered(client, access_key):
    response = aws_call(client, access_key, b"{}", target="DynamoDB_20120810.ListTables")
    body = assert_aws_error(response, "UnknownOperationException")
    for service in ("SageMaker", "CloudWatch Logs", "CloudWatch", "Application Auto Scaling"):
        assert service in body["message"]


def test_a_query_protocol_client_gets_an_error_it_can_parse(client, access_key):
    from botocore.parsers import QueryParser
    from botocore.session import get_session

    form = b"Action=GetCallerIdentity&Version=2011-06-15"
    headers = sign(
        access_key,
        form,
        target=None,
        content_type="application/x-www-form-urlencoded; charset=utf-8",
        service="sagemaker",  # signed for sts, STS answers it (console/sts)
    )
    response = post(client, headers, form)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/xml")
    operation = get_session().get_service_model("sts").operation_model("GetCallerIdentity")
    parsed = QueryParser().parse(
        {"status_code": 400, "headers": dict(response.headers), "body": response.content},
        operation.output_shape,
    )
    assert parsed["Error"]["Code"] == "InvalidAction"
    assert "GetCallerIdentity" in parsed["Error"]["Message"]


def test_an_unexpected_exception_is_an_internal_failure_with_the_request_id(
    client, access_key, caplog
):
    def broken(**_):
        raise RuntimeError("a bug")

    with mock.patch.dict(OPERATIONS, {"ListModels": broken}):
        response = aws_call(client, access_key, b"{}")
    body = assert_aws_error(response, "InternalFailure", status=500)
    assert response["x-amzn-RequestId"] in body["message"]
    assert "a bug" not in body["message"]
    assert any(record.exc_info for record in caplog.records)


def test_the_runtime_route_answers_an_unexpected_exception_as_internal_failure(client, access_key):
    path = "/endpoints/anything/invocations"
    headers = sign(access_key, b"1", path=path, target=None, content_type="text/csv")
    with mock.patch("console.sagemaker.runtime.invocation", side_effect=RuntimeError("bug")):
        response = post(client, headers, b"1", path=path)
    assert response.status_code == 500
    assert response["x-amzn-ErrorType"] == "InternalFailure"
    assert json.loads(response.content)["message"]


def test_a_wrong_content_type_is_refused_in_the_aws_shape(client, access_key):
    response = aws_call(client, access_key, b"{}", content_type="application/json")
    assert_aws_error(response, "SerializationException")
    assert response["Content-Type"] == JSON_1_1


@pytest.mark.parametrize(
    "target", ["SageMaker.ListLabelingJobs", "SageMaker.ListTrainingJobs", "SageMaker.ListModels"]
)
def test_members_sent_as_null_are_absent(client, access_key, target):
    body = b'{"SortBy": null, "MaxResults": null, "NextToken": null}'
    response = aws_call(client, access_key, body, target=target)
    assert response.status_code == 200, response.content
