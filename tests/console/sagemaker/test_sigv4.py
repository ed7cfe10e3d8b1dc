"""SigV4: the signature covers the body received; its scope names this service, region and day."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from console.sagemaker import sigv4
from tests.console.sagemaker.conftest import assert_aws_error, aws_call, post, sign

pytestmark = pytest.mark.django_db

SIGNATURE_REFUSALS = ("InvalidSignatureException", "XAmzContentSHA256Mismatch")


def test_a_body_swapped_after_signing_is_refused_and_not_executed(client, access_key):
    headers = sign(access_key, b"{}")
    response = post(client, headers, b'{"MaxResults": 5}')
    assert_aws_error(response, SIGNATURE_REFUSALS)


def test_a_claimed_payload_hash_must_be_the_body_received(client, access_key):
    signed_for = b'{"NameContains": "a"}'
    claimed = {"X-Amz-Content-SHA256": hashlib.sha256(signed_for).hexdigest()}
    headers = sign(access_key, signed_for, headers=claimed)
    assert aws_call(client, access_key, signed_for, headers=claimed).status_code == 200
    swapped = post(client, headers, b'{"NameContains": "b"}')
    assert_aws_error(swapped, "XAmzContentSHA256Mismatch")


def test_an_unsigned_payload_claim_is_refused(client, access_key):
    response = aws_call(
        client, access_key, b"{}", headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}
    )
    assert_aws_error(response, "XAmzContentSHA256Mismatch")


def test_the_scope_must_name_sagemaker(client, access_key):
    body = assert_aws_error(
        aws_call(client, access_key, b"{}", service="s3"), "InvalidSignatureException"
    )
    assert "'sagemaker'" in body["message"]


def test_the_scope_must_name_the_configured_region(client, access_key, settings):
    body = assert_aws_error(
        aws_call(client, access_key, b"{}", region="us-west-2"), "InvalidSignatureException"
    )
    assert "region" in body["message"]
    settings.SAGEMAKER_REGION = "eu-central-1"
    assert aws_call(client, access_key, b"{}", region="eu-central-1").status_code == 200
    assert aws_call(client, access_key, b"{}", region="us-east-1").status_code == 400


def test_the_runtime_route_checks_the_same_scope_and_body(client, access_key):
    path = "/endpoints/missing/invocations"
    wrong_service = aws_call(
        client, access_key, b"1,2", path=path, target=None, content_type="text/csv", service="s3"
    )
    assert wrong_service.status_code == 400
    assert wrong_service["x-amzn-ErrorType"] == "InvalidSignatureException"
    headers = sign(access_key, b"1,2", path=path, target=None, content_type="text/csv")
    swapped = post(client, headers, b"3,4", path=path)
    assert swapped.status_code == 400
    assert swapped["x-amzn-ErrorType"] in SIGNATURE_REFUSALS
    fine = post(client, headers, b"1,2", path=path)
    assert fine["x-amzn-ErrorType"] == "ValidationError"  # signed right; the endpoint is missing


def _signed(when: datetime, *, scope_date: str, region: str = "us-east-1", body: bytes = b"{}"):
    headers = {
        "host": "testserver",
        "x-amz-date": f"{when:%Y%m%dT%H%M%SZ}",
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential=AKID/{scope_date}/{region}/sagemaker/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}"
        ),
    }
    return sigv4.SignedRequest("POST", "/", "", headers, body)


def test_the_scope_date_must_be_the_day_of_x_amz_date():
    just_after_midnight = datetime(2030, 1, 2, 0, 0, 5, tzinfo=UTC)
    request = _signed(just_after_midnight, scope_date="20300101")
    with pytest.raises(sigv4.SignatureError, match="Date in Credential scope"):
        sigv4.verify(request, secret="s", region="us-east-1", now=just_after_midnight)
    with pytest.raises(sigv4.SignatureError, match="does not match the signature"):
        sigv4.verify(
            _signed(just_after_midnight, scope_date="20300102"),
            secret="s",
            region="us-east-1",
            now=just_after_midnight + timedelta(minutes=1),
        )
