"""While Redis (the serving state) is unreachable, endpoint reads answer "unavailable, try again"
(503) in every adapter, not an internal error; other resources keep answering."""

from __future__ import annotations

import socket

import pytest
import redis
from botocore.exceptions import ClientError
from rest_framework.test import APIClient

from console.endpoints import selectors
from infra.serving.state import ServingState
from tests.console.endpoints.test_serving import serving_endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def redis_down(monkeypatch):
    client = redis.Redis(port=_closed_port(), socket_connect_timeout=0.5)
    monkeypatch.setattr(selectors, "serving_state", lambda: ServingState(client))


def test_rest_answers_503_and_names_the_cause(redis_down, access_key, user):
    serving_endpoint(user)
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {access_key.access_key_id}:{access_key.secret_access_key}"
    )
    response = client.get("/api/v1/endpoints/ep/")
    assert response.status_code == 503
    assert "serving state is unreachable" in response.json()["detail"]
    assert client.get("/api/v1/models/").status_code == 200


def test_sagemaker_api_answers_service_unavailable(redis_down, sagemaker, user):
    serving_endpoint(user)
    # botocore retries a 503: one attempt is enough to see what the server answered.
    with pytest.raises(ClientError) as raised:
        sagemaker.describe_endpoint(EndpointName="ep")
    assert raised.value.response["Error"]["Code"] == "ServiceUnavailable"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert sagemaker.list_models()["Models"] == []
