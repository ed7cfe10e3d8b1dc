"""Users, access keys and boto3 clients pointed at a live server."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config


def sagemaker_client(url: str, key_id: str, secret: str, **config):
    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


@pytest.fixture
def sagemaker(live_server, access_key):
    return sagemaker_client(live_server.url, access_key.access_key_id, access_key.secret_access_key)
