"""Processing jobs from boto3 alone, against the running platform: the serve process runs the
processing flow, the script runs in the job sandbox at /opt/ml, its output is uploaded."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from tests.flows.test_processing import request
from tests.stack import STACK_START_S

pytestmark = pytest.mark.e2e

SCRIPT = """
import json, os, sys
rows = open("/opt/ml/processing/input/raw/a.csv").read().splitlines()
os.makedirs("/opt/ml/processing/train", exist_ok=True)
json.dump({"rows": len(rows), "uid": os.getuid(), "args": sys.argv[1:],
           "secret": "SECRET_KEY" in os.environ},
          open("/opt/ml/processing/train/summary.json", "w"))
print("processed", len(rows), "rows")
"""


def wait_until_ended(sm, name: str, *, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        described = sm.describe_processing_job(ProcessingJobName=name)
        if described["ProcessingJobStatus"] not in ("InProgress", "Stopping"):
            return described
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} is still {described['ProcessingJobStatus']}")
        time.sleep(0.2)


@pytest.mark.timeout(STACK_START_S + 180)
def test_a_processing_job_runs_on_the_stack_in_the_sandbox(stack):
    bucket = f"proc-{uuid.uuid4().hex[:8]}"
    stack.store.create_bucket(bucket)
    stack.store.write_bytes(f"s3://{bucket}/raw/a.csv", b"1,2\n3,4\n")
    stack.store.write_bytes(f"s3://{bucket}/code/preprocess.py", SCRIPT.encode())
    spec = request(bucket, name="e2e-processing")
    spec["AppSpecification"]["ContainerArguments"] = ["--split", "0.5"]

    stack.sagemaker.create_processing_job(**spec)
    described = wait_until_ended(stack.sagemaker, "e2e-processing")

    assert described["ProcessingJobStatus"] == "Completed", described["FailureReason"]
    summary = json.loads(stack.store.read_bytes(f"s3://{bucket}/out/train/summary.json"))
    assert summary["rows"] == 2 and summary["args"] == ["--split", "0.5"]
    assert summary["secret"] is False
    assert summary["uid"] != 0
