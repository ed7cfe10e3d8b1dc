"""Secrets never reach a log: after the session's end-to-end runs (this module runs after
``tests/e2e`` and ``tests/notebooks``, on the same stack), no process log of the stack holds the
secret access key those runs signed with, nor the bearer credentials the REST calls sent."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.e2e


def test_no_process_log_holds_an_access_key_secret(stack):
    # Calls of every kind with the key, so the logs have had their chance even when this test
    # runs alone: SigV4 calls, a refused signature, REST with the key as a bearer credential.
    stack.sagemaker.list_training_jobs()
    with pytest.raises(ClientError):
        stack.sagemaker.describe_training_job(TrainingJobName="no-such-job")
    forged = boto3.client(
        "sagemaker",
        endpoint_url=stack.url,
        region_name="us-east-1",
        aws_access_key_id=stack.access_key_id,
        aws_secret_access_key="not-" + stack.secret_access_key,
    )
    with pytest.raises(ClientError):
        forged.list_models()
    code, _ = stack.rest("GET", "/api/v1/training-jobs/")
    assert code == 200

    logs = sorted(path for path in stack.data_dir.rglob("*.log") if path.is_file())
    assert logs, f"no process logs under {stack.data_dir}"
    leaking = [
        str(path.relative_to(stack.data_dir))
        for path in logs
        if stack.secret_access_key.encode() in path.read_bytes()
    ]
    assert not leaking, f"the secret access key is in {leaking}"
