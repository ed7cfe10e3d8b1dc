"""The S3 adapter's protocol details, with requests signed here by hand: virtual-host style
addressing, a body that is not what its signature covers, aws-chunked uploads with chunk
signatures, and SigV4 presigned URLs."""

from __future__ import annotations

import hashlib
import hmac
import http.client
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import boto3
import pytest
from asgiref.sync import async_to_sync
from botocore.config import Config
from django.test import AsyncClient

from infra.storage import get_store

pytestmark = pytest.mark.django_db(transaction=True)
REGION = "us-east-1"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _key(secret: str, date: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_request(access_key, *, method, host, path, payload_hash, extra=None):
    """Headers of a SigV4 request for S3 (path as sent, the payload hash as declared)."""
    now = datetime.now(UTC)
    amz_date, date = f"{now:%Y%m%dT%H%M%SZ}", f"{now:%Y%m%d}"
    headers = {"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash}
    headers.update(extra or {})
    names = sorted(headers)
    canonical = "\n".join(
        [
            method,
            quote(path, safe="/~"),
            "",
            "".join(f"{name}:{headers[name]}\n" for name in names),
            ";".join(names),
            payload_hash,
        ]
    )
    scope = f"{date}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _key(access_key.secret_access_key, date)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return headers, key, amz_date, scope, signature


def send(live_server, method, path, headers, body=b""):
    netloc = urlsplit(live_server.url).netloc
    connection = http.client.HTTPConnection(netloc, timeout=30)
    connection.request(method, quote(path, safe="/~"), body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def test_virtual_host_style(live_server, access_key, s3, bucket):
    s3.put_object(Bucket=bucket, Key="dir/file.txt", Body=b"virtual")
    port = urlsplit(live_server.url).port
    host = f"{bucket}.localhost:{port}"
    headers, *_ = signed_request(
        access_key, method="GET", host=host, path="/dir/file.txt", payload_hash=EMPTY_SHA256
    )
    assert send(live_server, "GET", "/dir/file.txt", headers) == (200, b"virtual")
    listing_headers, *_ = signed_request(
        access_key, method="GET", host=host, path="/", payload_hash=EMPTY_SHA256
    )
    status, body = send(live_server, "GET", "/", listing_headers)
    assert status == 200 and b"<Key>dir/file.txt</Key>" in body


def test_a_body_that_is_not_the_signed_one_is_refused_and_not_written(
    live_server, access_key, bucket
):
    host = urlsplit(live_server.url).netloc
    claimed = hashlib.sha256(b"what was signed").hexdigest()
    headers, *_ = signed_request(
        access_key, method="PUT", host=host, path=f"/{bucket}/k", payload_hash=claimed
    )
    status, body = send(live_server, "PUT", f"/{bucket}/k", headers, b"something else")
    assert status == 400 and b"XAmzContentSHA256Mismatch" in body
    assert not get_store().exists(f"s3://{bucket}/k")


def _chunked(data: bytes, size: int, key: bytes, amz_date: str, scope: str, seed: str, forge=False):
    out, previous = [], seed
    pieces = [data[i : i + size] for i in range(0, len(data), size)] + [b""]
    for piece in pieces:
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                amz_date,
                scope,
                previous,
                EMPTY_SHA256,
                hashlib.sha256(piece).hexdigest(),
            ]
        )
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if forge and piece:
            piece = piece[::-1]
        out.append(f"{len(piece):x};chunk-signature={signature}\r\n".encode() + piece + b"\r\n")
        previous = signature
    return b"".join(out)


def put_chunked(server, access_key, bucket: str, data: bytes, *, chunk: int, forge: bool) -> None:
    """PUT ``data`` as an ``aws-chunked`` body of ``chunk``-byte signed chunks (one forged when
    ``forge``): stored whole, or refused with nothing written."""
    extra = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))}
    headers, key, amz_date, scope, seed = signed_request(
        access_key,
        method="PUT",
        host=urlsplit(server.url).netloc,
        path=f"/{bucket}/chunked",
        payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        extra=extra,
    )
    body = _chunked(data, chunk, key, amz_date, scope, seed, forge=forge)
    status, answer = send(server, "PUT", f"/{bucket}/chunked", headers, body)
    if forge:
        assert status == 403 and b"SignatureDoesNotMatch" in answer
        assert not get_store().exists(f"s3://{bucket}/chunked")
    else:
        assert status == 200, answer
        assert get_store().read_bytes(f"s3://{bucket}/chunked") == data


@pytest.mark.parametrize("forge", [False, True])
def test_aws_chunked_upload_with_chunk_signatures(live_server, access_key, bucket, forge):
    data = bytes(range(256)) * 300  # 76,800 bytes in chunks of 32 KiB
    put_chunked(live_server, access_key, bucket, data, chunk=32 * 1024, forge=forge)


def test_sigv4_presigned_urls(live_server, access_key, bucket):
    import urllib.request

    s3v4 = boto3.client(
        "s3",
        endpoint_url=live_server.url,
        region_name=REGION,
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key=access_key.secret_access_key,
        config=Config(signature_version="s3v4"),
    )
    put_url = s3v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p"})
    urllib.request.urlopen(urllib.request.Request(put_url, data=b"uploaded", method="PUT"))
    get_url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p"})
    assert "X-Amz-Credential" in get_url
    assert urllib.request.urlopen(get_url).read() == b"uploaded"


def test_under_asgi_requests_run_in_the_pool_with_the_same_checks(access_key, bucket):
    """As ``infra.web`` serves it: each S3 request runs in a pool thread (``S3Middleware``), with
    the signature and the body's hash checked there as on the test server."""
    client = AsyncClient()

    def call(method, path, body=b"", payload_hash=None):
        headers, *_ = signed_request(
            access_key,
            method=method,
            host="testserver",
            path=path,
            payload_hash=payload_hash or hashlib.sha256(body).hexdigest(),
        )
        del headers["host"]  # the test client sends its own
        response = async_to_sync(_send)(client, method, path, body, headers)
        content = (
            b"".join(async_to_sync(_gather)(response)) if response.streaming else response.content
        )
        return response.status_code, content

    assert call("PUT", f"/{bucket}/asgi.txt", b"pooled")[0] == 200
    assert call("GET", f"/{bucket}/asgi.txt") == (200, b"pooled")
    claimed = hashlib.sha256(b"what was signed").hexdigest()
    status, body = call("PUT", f"/{bucket}/other.txt", b"something else", claimed)
    assert status == 400 and b"XAmzContentSHA256Mismatch" in body
    assert not get_store().exists(f"s3://{bucket}/other.txt")


async def _send(client, method, path, body, headers):
    return await client.generic(
        method, path, data=body, content_type="application/octet-stream", headers=headers
    )


async def _gather(response) -> list[bytes]:
    return [chunk async for chunk in response.streaming_content]
