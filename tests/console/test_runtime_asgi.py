"""The runtime route as the stack serves it: console.asgi answers it before Django."""

from __future__ import annotations

import asyncio
import json
import logging
from unittest import mock

from console.asgi import application
from console.sagemaker.runtime import MAX_PAYLOAD_BYTES


def call(method: str, path: str, body: bytes = b"", headers=()) -> tuple[int, dict, bytes]:
    """One request through the ASGI application; the body arrives in 1 MB chunks."""
    chunks = [body[i : i + 2**20] for i in range(0, len(body), 2**20)] or [b""]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
    }
    asyncio.run(application(scope, receive, send))
    start = sent[0]
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_unsigned_invocations_are_refused_with_the_runtime_error_shape():
    status, headers, body = call("POST", "/endpoints/x/invocations", b"1,2,3")
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert "message" in json.loads(body)


def test_a_body_over_six_megabytes_is_413_before_anything_else():
    status, headers, body = call("POST", "/endpoints/x/invocations", b"x" * (MAX_PAYLOAD_BYTES + 1))
    assert (status, headers["content-type"]) == (413, "text/plain")
    assert str(MAX_PAYLOAD_BYTES).encode() in body


def test_only_post_invokes():
    status, headers, _ = call("GET", "/endpoints/x/invocations")
    assert (status, headers["x-amzn-ErrorType"]) == (405, "ValidationError")


def test_an_unexpected_exception_is_an_internal_failure_with_the_request_id(caplog):
    # Raised past the payload and signature checks, where only the catch-all answers.
    with (
        mock.patch("console.sagemaker.runtime.authenticate", side_effect=RuntimeError("a bug")),
        caplog.at_level(logging.ERROR, logger="console.sagemaker.runtime"),
    ):
        status, headers, body = call("POST", "/endpoints/x/invocations", b"1,2,3")
    assert (status, headers["x-amzn-ErrorType"]) == (500, "InternalFailure")
    assert headers["content-type"] == "application/json"
    message = json.loads(body)["message"]
    assert headers["x-amzn-RequestId"] in message and "a bug" not in message
    assert any(record.exc_info for record in caplog.records)
