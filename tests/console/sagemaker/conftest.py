"""Signed SageMaker requests through Django's test client, with every part of SigV4 choosable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

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
