"""Users, access keys and boto3 clients pointed at a live server; the SageMaker SDK's session on
one, and flow runs that run in threads of the test."""

from __future__ import annotations

import threading

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


def sdk_session(key, sagemaker, bucket: str):
    """The SageMaker SDK's session as a user makes one: their key, a region, the platform's
    SageMaker client and a default bucket."""
    from sagemaker.session import Session

    boto_session = boto3.Session(
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        region_name="us-east-1",
    )
    return Session(boto_session=boto_session, sagemaker_client=sagemaker, default_bucket=bucket)


@pytest.fixture
def run_flows_in_threads(monkeypatch):
    """``run_flows_in_threads(run, **kwargs)``: every flow run the platform starts from then on
    runs ``run(job_id, **kwargs)`` in a thread, a second later as the serve process would pick it
    up (the request that started it has answered: the test database, SQLite, takes one writer
    at a time). The threads are joined when the test ends."""
    threads: list[threading.Timer] = []

    def install(run, **kwargs) -> list[threading.Timer]:
        def start(deployment, *, parameters):
            thread = threading.Timer(1.0, run, args=(parameters["job_id"],), kwargs=kwargs)
            thread.start()
            threads.append(thread)

        monkeypatch.setattr("infra.prefect.start_flow_run", start)
        return threads

    yield install
    for thread in threads:
        thread.join(timeout=120)
