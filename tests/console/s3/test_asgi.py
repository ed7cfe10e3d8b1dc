"""The S3 API as ``infra.web`` serves it: uvicorn running ``console.asgi``, whose S3 requests
``console.s3.asgi`` answers before Django. Bodies arrive in several messages and are checked as
they stream; large objects stream back."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
import time
import urllib.request
from types import SimpleNamespace
from urllib.error import HTTPError
from urllib.parse import urlsplit

import pytest
import uvicorn
from boto3.s3.transfer import TransferConfig

from infra.storage import get_store
from tests.console.s3.conftest import s3_client
from tests.console.s3.test_s3_protocol import put_chunked, send, signed_request

pytestmark = pytest.mark.django_db(transaction=True)
MIB = 1024 * 1024


@pytest.fixture
def asgi_server(transactional_db):
    from django.core.asgi import get_asgi_application

    from console.s3.asgi import asgi_s3, s3_request

    django_application = get_asgi_application()

    async def application(scope, receive, send):  # console.asgi's routing, less its imports
        if s3 := s3_request(scope, receive):
            await asgi_s3(*s3, send)
        else:
            await django_application(scope, receive, send)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        application, host="127.0.0.1", port=port, lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)


def test_objects_and_multipart_uploads_stream_both_ways(asgi_server, access_key, bucket_name):
    s3 = s3_client(asgi_server.url, access_key)
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="small", Body=b"x" * 1024)
    assert s3.get_object(Bucket=bucket_name, Key="small")["Body"].read() == b"x" * 1024
    data = os.urandom(11 * MIB + 5)
    parts = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_fileobj(io.BytesIO(data), bucket_name, "big", Config=parts)
    assert s3.head_object(Bucket=bucket_name, Key="big")["ContentLength"] == len(data)
    assert s3.get_object(Bucket=bucket_name, Key="big")["Body"].read() == data
    ranged = s3.get_object(Bucket=bucket_name, Key="big", Range="bytes=1048570-3145727")
    assert ranged["Body"].read() == data[1048570:3145728]
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket_name, Key="missing")


def test_a_body_that_is_not_the_signed_one_is_refused_and_not_written(
    asgi_server, access_key, bucket_name
):
    s3_client(asgi_server.url, access_key).create_bucket(Bucket=bucket_name)
    host = urlsplit(asgi_server.url).netloc
    claimed = hashlib.sha256(b"what was signed").hexdigest()
    headers, *_ = signed_request(
        access_key, method="PUT", host=host, path=f"/{bucket_name}/k", payload_hash=claimed
    )
    status, body = send(asgi_server, "PUT", f"/{bucket_name}/k", headers, os.urandom(MIB))
    assert status == 400 and b"XAmzContentSHA256Mismatch" in body
    assert not get_store().exists(f"s3://{bucket_name}/k")


@pytest.mark.parametrize("forge", [False, True])
def test_aws_chunked_upload_across_messages(asgi_server, access_key, bucket_name, forge):
    s3_client(asgi_server.url, access_key).create_bucket(Bucket=bucket_name)
    data = os.urandom(700_001)  # chunks of 64 KiB, their headers split across messages
    put_chunked(asgi_server, access_key, bucket_name, data, chunk=64 * 1024, forge=forge)


def test_other_requests_go_to_the_console(asgi_server):
    try:
        answer = urllib.request.urlopen(f"{asgi_server.url}/login/")
    except HTTPError as error:
        answer = error
    assert answer.status == 200 and b"<html" in answer.read().lower()
