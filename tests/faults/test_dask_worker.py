"""A Dask worker killed (SIGKILL, no clean-up) in the middle of a multi-object transform: the job
still completes, and every ``.out`` holds each of its object's records once and in input order,
with no part or temporary object left beside them."""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest
from botocore.exceptions import WaiterError

from tests.conftest import FEATURES
from tests.datasets import feature_rows, oracle
from tests.faults.conftest import dask_workers, report, wait_until
from tests.stack import STACK_START_S

pytestmark = pytest.mark.e2e

OBJECTS, ROWS = 6, 1500  # SingleRecord: one model call per row, so the job is still mid-way


@pytest.mark.timeout(STACK_START_S + 300)
def test_a_killed_dask_worker_costs_time_not_records(stack, fault_model, lightgbm_model):
    bucket, model = fault_model
    sm = stack.sagemaker
    objects = {f"part-{n}.csv": feature_rows(ROWS, FEATURES, seed=200 + n) for n in range(OBJECTS)}
    for name, records in objects.items():
        stack.store.write_bytes(f"s3://{bucket}/in/{name}", b"\n".join(records) + b"\n")
    name = f"faults-dask-{bucket[-8:]}"
    started = time.monotonic()
    sm.create_transform_job(
        TransformJobName=name,
        ModelName=model,
        BatchStrategy="SingleRecord",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/in/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{bucket}/out/", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 2},
    )

    def progress() -> dict:
        return stack.rest("GET", f"/api/v1/transform-jobs/{name}/")[1].get("progress") or {}

    # Once an object is out, both workers hold ranges of later ones: kill one of them mid-range.
    workers = wait_until(
        lambda: progress().get("objects_completed", 0) >= 1 and dask_workers(stack.data_dir),
        timeout=120,
        what="an object transformed while the job's Dask workers run",
    )
    completed_before = progress()["objects_completed"]
    assert completed_before < OBJECTS, "the job ended before a worker could be killed"
    victim = workers[0]
    os.kill(victim.pid, signal.SIGKILL)
    killed = time.monotonic()
    survivors = {w.pid for w in workers} - {victim.pid}
    wait_until(
        lambda: {w.pid for w in dask_workers(stack.data_dir)} - survivors - {victim.pid},
        timeout=60,
        what="the killed worker's nanny starting a new one",
        poll=0.05,
    )
    replaced = time.monotonic()

    with contextlib.suppress(WaiterError):
        sm.get_waiter("transform_job_completed_or_stopped").wait(
            TransformJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 240}
        )
    ended = time.monotonic()
    job = sm.describe_transform_job(TransformJobName=name)
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    prefix = f"s3://{bucket}/out/"
    outputs = {
        info.uri[len(prefix) :]: stack.store.read_bytes(info.uri)
        for info in stack.store.list(prefix)
    }
    # Equality with the model's own answers: every record once, in order; and nothing else.
    assert outputs == {
        f"{path}.out": oracle(lightgbm_model, records) for path, records in objects.items()
    }
    assert progress()["records"] == OBJECTS * ROWS
    report(
        "dask-worker-killed",
        objects_done_at_kill=f"{completed_before}/{OBJECTS}",
        worker_replaced_s=round(replaced - killed, 2),
        job_end_after_kill_s=round(ended - killed, 1),
        job_total_s=round(ended - started, 1),
    )
