"""List* parameters at the edges: time filters and NextToken are refused as 4xx, never a 500."""

from __future__ import annotations

import base64
import json

import pytest

from tests.console.sagemaker.conftest import assert_aws_error, aws_call

pytestmark = pytest.mark.django_db

LIST_TRAINING_JOBS = {"target": "SageMaker.ListTrainingJobs"}


@pytest.mark.parametrize(
    "value",
    [
        1e20,
        -1e20,
        1_700_000_000_000_000,  # epoch microseconds
        253_402_300_800,  # the first second of year 10000
        "10000-01-01T00:00:00",
        "9999-12-31T23:59:59-05:00",  # year 10000 in UTC
        "0001-01-01T00:00:00+01:00",  # year 0 in UTC
        "not a date",
        True,
    ],
)
def test_time_filters_out_of_range_are_validation_errors(client, access_key, value):
    body = json.dumps({"CreationTimeAfter": value}).encode()
    response = aws_call(client, access_key, body, **LIST_TRAINING_JOBS)
    assert_aws_error(response, "ValidationException")


@pytest.mark.parametrize(
    "value",
    [0, 1_700_000_000.5, 1_700_000_000_000, "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"],
)
def test_time_filters_at_the_calendars_edges_work(client, access_key, value):
    """Epoch milliseconds (1.7e12) are year ~55,800: outside the calendar, a 400 like the rest."""
    body = json.dumps({"LastModifiedTimeBefore": value}).encode()
    response = aws_call(client, access_key, body, **LIST_TRAINING_JOBS)
    if value == 1_700_000_000_000:
        assert_aws_error(response, "ValidationException")
    else:
        assert response.status_code == 200, response.content


def _token(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        _token({"offset": 2**63}),
        _token({"offset": 2**31}),
        _token({"offset": -1}),
        _token({"offset": True}),
        _token({"offset": 1.5}),
        base64.urlsafe_b64encode(b"[" * 6000).decode(),
        "garbage!!",
    ],
)
def test_next_tokens_that_decode_to_no_offset_are_validation_errors(client, access_key, token):
    for target in ("SageMaker.ListModels", "SageMaker.ListTrainingJobsForHyperParameterTuningJob"):
        params = {"NextToken": token}
        if "Tuning" in target:
            params["HyperParameterTuningJobName"] = "none"
        response = aws_call(client, access_key, json.dumps(params).encode(), target=target)
        assert 400 <= response.status_code < 500, response.content
        assert json.loads(response.content)["__type"] in ("ValidationException", "ResourceNotFound")
