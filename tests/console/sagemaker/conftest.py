"""Signed SageMaker requests through Django's test client, with every part of SigV4 choosable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from unittest import mock

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.infra.serving.conftest import redis_url  # noqa: F401  (fixture)

JSON_1_1 = "application/x-amz-json-1.1"


def sign(
    key,
    body: bytes,
    *,
    target: str | None = "SageMaker.ListModels",
    path: str = "/",
    content_type: str = JSON_1_1,
    service: str = "sagemaker",
    region: str = "us-east-1",
    secret: str | None = None,
    when: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """The headers botocore would send for ``body``, signed as chosen."""
    request_headers = {"Content-Type": content_type, **(headers or {})}
    if target is not None:
        request_headers["X-Amz-Target"] = target
    request = AWSRequest(
        method="POST", url=f"http://testserver{path}", data=body, headers=request_headers
    )
    credentials = Credentials(key.access_key_id, secret or key.secret_access_key)
    signed_at = (when or datetime.now(UTC)).replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", lambda: signed_at):
        SigV4Auth(credentials, service, region).add_auth(request)
    return dict(request.headers)


def post(client, headers: dict[str, str], body: bytes, *, path: str = "/"):
    """POST ``body`` with exactly ``headers`` (as the test client spells them)."""
    meta = {
        "HTTP_" + name.upper().replace("-", "_"): value
        for name, value in headers.items()
        if name.lower() != "content-type"
    }
    meta.setdefault("HTTP_HOST", "testserver")  # signed by botocore from the URL
    return client.generic(
        "POST", path, data=body, content_type=headers.get("Content-Type", ""), **meta
    )


def aws_call(client, key, body: bytes, **signing):
    """Sign ``body`` and send it: the common case."""
    path = signing.get("path", "/")
    return post(client, sign(key, body, **signing), body, path=path)


def assert_aws_error(response, code: str | tuple[str, ...], *, status: int = 400) -> dict:
    """The AWS JSON 1.1 error shape botocore parses; returns the body."""
    codes = (code,) if isinstance(code, str) else code
    assert response.status_code == status, response.content
    assert response["Content-Type"] == JSON_1_1
    body = json.loads(response.content)
    assert body["__type"] in codes, body
    assert isinstance(body["message"], str) and body["message"]
    assert response["x-amzn-RequestId"]
    return body


# Application Auto Scaling (test_autoscaling*.py): a real Redis for the serving state.
@pytest.fixture
def serving_redis(redis_url, monkeypatch):  # noqa: F811
    """The serving state on a fresh Redis, as the live server reads and writes it."""
    import redis

    from infra.config import settings
    from infra.serving.state import serving_state

    redis.Redis.from_url(redis_url).flushall()
    monkeypatch.setenv("REDIS_URL", redis_url)
    settings.cache_clear()
    yield serving_state()
    settings.cache_clear()


@pytest.fixture
def aas(live_server, access_key, serving_redis):
    """boto3's application-autoscaling client on the live server, as the test user."""
    return boto3.client(
        "application-autoscaling",
        endpoint_url=live_server.url,
        region_name="us-east-1",
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key=access_key.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
