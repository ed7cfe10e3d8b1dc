"""boto3 S3 clients for two users of a live server, and a fresh bucket name per test."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config

from console.accounts.services import access_key_create


def s3_client(url: str, key, **config):
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


@pytest.fixture
def s3(live_server, access_key):
    return s3_client(live_server.url, access_key)


@pytest.fixture
def other_s3(live_server, other_user):
    return s3_client(live_server.url, access_key_create(user=other_user, description="tests"))


@pytest.fixture
def bucket_name() -> str:
    return f"b-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def bucket(s3, bucket_name) -> str:
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name
