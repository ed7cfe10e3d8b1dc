"""Brute force slowed: past the limit of failed authentications from one access key (or user
name) or one address, each protocol answers its own throttling error; a good key still works.

The suite runs with the limit out of reach (tests/environment.py); these tests lower it with
the ``settings`` fixture and start from empty counts. Requests are signed here as the AWS SDKs
sign them (botocore's signers) and sent through the Django test client.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.core.cache import cache
from django.test import override_settings

from tests.infra.serving.conftest import redis_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
LIMIT = 3


@pytest.fixture(autouse=True)
def limit(settings):
    settings.AUTH_FAILURE_LIMIT = LIMIT
    settings.AUTH_FAILURE_WINDOW_S = 60
    cache.clear()
    yield settings
    cache.clear()


def signed(client, key_id, secret, *, service, path="/", method="POST", body=b"", **headers):
    """``client``'s request signed by ``key_id``/``secret`` for ``service``; ``REMOTE_ADDR``
    among ``headers`` sets the address it comes from."""
    address = headers.pop("REMOTE_ADDR", "127.0.0.1")
    request = AWSRequest(
        method=method, url=f"http://testserver{path}", data=body, headers=dict(headers)
    )
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(Credentials(key_id, secret), service, "us-east-1").add_auth(request)
    sent = {k: v for k, v in request.headers.items() if k.lower() != "content-type"}
    return client.generic(
        method,
        path,
        body,
        content_type=request.headers.get("Content-Type", ""),
        headers={"Host": "testserver", **sent},
        REMOTE_ADDR=address,
    )


def document(response) -> dict:
    return json.loads(response.content)


def sagemaker_call(client, key_id, secret, **extra):
    return signed(
        client,
        key_id,
        secret,
        service="sagemaker",
        body=b"{}",
        **{
            "X-Amz-Target": "SageMaker.ListTrainingJobs",
            "Content-Type": "application/x-amz-json-1.1",
            **extra,
        },
    )


@pytest.mark.parametrize("backend", ["locmem", "redis"])
def test_sagemaker_json_answers_throttling_exception_past_the_limit(
    client, access_key, settings, backend, request
):
    if backend == "redis":  # what the stack's web processes share
        url = request.getfixturevalue("redis_url")
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
        }
        cache.clear()
    key_id = access_key.access_key_id

    refusals = [sagemaker_call(client, key_id, "wrong-secret") for _ in range(LIMIT)]
    throttled = sagemaker_call(client, key_id, "wrong-secret")
    good = sagemaker_call(client, key_id, access_key.secret_access_key)

    assert {(r.status_code, document(r)["__type"]) for r in refusals} == {
        (400, "InvalidSignatureException")
    }
    assert (throttled.status_code, document(throttled)["__type"]) == (400, "ThrottlingException")
    assert throttled["x-amzn-ErrorType"] == "ThrottlingException"
    message = document(throttled)["message"]
    assert f"access key {key_id}" in message and f"{LIMIT + 1} within 60 seconds" in message
    assert good.status_code == 200 and document(good)["TrainingJobSummaries"] == []


def test_one_address_is_throttled_whichever_keys_it_guesses(client, access_key):
    for number in range(LIMIT):
        assert sagemaker_call(client, f"AKIAGUESS{number}", "x").status_code == 400

    throttled = sagemaker_call(client, "AKIAGUESS9", "x")
    elsewhere = sagemaker_call(client, "AKIAGUESS9", "x", REMOTE_ADDR="10.0.0.7")
    good = sagemaker_call(client, access_key.access_key_id, access_key.secret_access_key)

    assert document(throttled)["__type"] == "ThrottlingException"
    assert "address 127.0.0.1" in document(throttled)["message"]
    assert document(elsewhere)["__type"] == "UnrecognizedClientException"
    assert good.status_code == 200  # a valid signature from the same address is never refused


def test_the_runtime_answers_throttling_exception_in_its_error_shape(client, access_key):
    def invoke(secret):
        return signed(
            client,
            access_key.access_key_id,
            secret,
            service="sagemaker",
            path="/endpoints/nowhere/invocations",
            body=b"1,2,3",
            **{"Content-Type": "text/csv"},
        )

    for _ in range(LIMIT):
        assert invoke("wrong")["x-amzn-ErrorType"] == "InvalidSignatureException"
    throttled = invoke("wrong")
    good = invoke(access_key.secret_access_key)

    assert (throttled.status_code, throttled["x-amzn-ErrorType"]) == (400, "ThrottlingException")
    assert "Too many failed authentication attempts" in document(throttled)["message"]
    # Past authentication: the endpoint does not exist.
    assert good.status_code == 400 and "Endpoint nowhere" in document(good)["message"]


def test_sts_answers_its_query_protocols_throttling(client, access_key):
    def identity(secret):
        return signed(
            client,
            access_key.access_key_id,
            secret,
            service="sts",
            body=b"Action=GetCallerIdentity&Version=2011-06-15",
            **{"Content-Type": "application/x-www-form-urlencoded"},
        )

    for _ in range(LIMIT):
        assert b"<Code>SignatureDoesNotMatch</Code>" in identity("wrong").content
    throttled = identity("wrong")
    good = identity(access_key.secret_access_key)

    assert throttled.status_code == 400
    error = ET.fromstring(throttled.content).find("Error")
    assert (error.findtext("Type"), error.findtext("Code")) == ("Sender", "Throttling")
    assert good.status_code == 200 and b"GetCallerIdentityResult" in good.content


def test_s3_answers_slow_down_in_its_xml(client, access_key):
    def list_buckets(secret):
        return signed(client, access_key.access_key_id, secret, service="s3", method="GET")

    for _ in range(LIMIT):
        assert b"<Code>SignatureDoesNotMatch</Code>" in list_buckets("wrong").content
    throttled = list_buckets("wrong")
    good = list_buckets(access_key.secret_access_key)

    assert throttled.status_code == 429
    error = ET.fromstring(throttled.content)
    assert error.findtext("Code") == "SlowDown"
    assert "Please reduce your request rate" in error.findtext("Message")
    assert good.status_code == 200 and b"ListAllMyBucketsResult" in good.content


def test_the_rest_api_answers_429_with_retry_after(client, access_key):
    def training_jobs(secret):
        return client.get(
            "/api/v1/training-jobs/",
            headers={"Authorization": f"Bearer {access_key.access_key_id}:{secret}"},
        )

    assert {training_jobs("wrong").status_code for _ in range(LIMIT)} == {401}
    throttled = training_jobs("wrong")
    good = training_jobs(access_key.secret_access_key)

    assert (throttled.status_code, throttled["Retry-After"]) == (429, "60")
    assert "Too many failed authentication attempts" in json.dumps(document(throttled))
    assert good.status_code == 200


def test_the_sign_in_form_says_to_wait_and_refuses_even_the_right_password(
    client, user, other_user
):
    def sign_in(username, password, address="127.0.0.1"):
        return client.post(
            "/login/", {"username": username, "password": password}, REMOTE_ADDR=address
        )

    for _ in range(LIMIT):
        wrong = sign_in("ada", "guess")
        assert wrong.status_code == 200 and b"didn't match" in wrong.content
    refused = sign_in("ada", "correct horse 9")

    assert refused.status_code == 429
    assert b"Too many failed authentication attempts from user ada" in refused.content
    assert "_auth_user_id" not in client.session
    # The address is stopped for every name; another user elsewhere signs in.
    assert sign_in("grace", "correct horse 9").status_code == 429
    assert sign_in("grace", "correct horse 9", "10.0.0.8").status_code == 302


def test_a_successful_sign_in_forgets_the_users_failures(client, user):
    for _ in range(LIMIT - 1):
        client.post("/login/", {"username": "ada", "password": "guess"}, REMOTE_ADDR="10.0.0.1")
    assert (
        client.post("/login/", {"username": "ada", "password": "correct horse 9"}).status_code
        == 302
    )
    client.logout()

    again = client.post("/login/", {"username": "ada", "password": "guess"}, REMOTE_ADDR="10.0.0.2")

    assert again.status_code == 200 and b"didn't match" in again.content


def test_an_unreachable_cache_slows_nobody(client, access_key):
    nowhere = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens
        }
    }
    with override_settings(CACHES=nowhere):
        refused = [sagemaker_call(client, access_key.access_key_id, "x") for _ in range(LIMIT + 1)]
        good = sagemaker_call(client, access_key.access_key_id, access_key.secret_access_key)

    assert {document(r)["__type"] for r in refused} == {"InvalidSignatureException"}
    assert good.status_code == 200
