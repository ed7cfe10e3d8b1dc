"""The flows' serve process killed (SIGKILL) while a training job trains, then the platform
started again on the same data: the job does not stay InProgress, nothing outlives the stack
that lost its serve process, and the killed run's scratch is removed.

Losing a core process should end the whole stack (honcho stops every process when one exits), so
this test has its own: two starts of ``running_stack``, about three minutes on a loaded machine."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from tests.faults.conftest import flows_serve, report, stack_processes, wait_until
from tests.stack import STACK_START_S, channels, running_stack, training_csv

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/sagebrush"


def create_job(sagemaker, name: str, *, rounds: int) -> None:
    sagemaker.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": "xgboost", "TrainingInputMode": "File"},
        HyperParameters={"num_round": str(rounds), "objective": "binary:logistic"},
        InputDataConfig=channels("serve-kill"),
        OutputDataConfig={"S3OutputPath": "s3://serve-kill/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )


# Not run until fixed (it would spend three minutes to fail): measured 2026-12-07, after the kill
# the stack stays up for good without a flow runner, and the killed process's fork server and
# the training flow run it forked live on as orphans (parent pid 1), still training.
@pytest.mark.xfail(
    run=False,
    strict=True,
    reason="a SIGKILLed flows.serve orphans its fork server and running flow runs, and the "
    "stack (honcho) does not notice the loss",
)
@pytest.mark.timeout(2 * STACK_START_S + 240)
def test_a_killed_serve_process_leaves_no_job_in_progress():
    data_dir = Path(tempfile.mkdtemp(prefix="sagebrush-faults-serve-"))
    scratch = data_dir / "work" / "training"
    try:
        with running_stack(data_dir) as stack:
            stack.store.create_bucket("serve-kill")
            stack.store.write_bytes("s3://serve-kill/train/t.csv", training_csv(2_000, seed=1))
            stack.store.write_bytes("s3://serve-kill/validation/v.csv", training_csv(500, seed=2))
            create_job(stack.sagemaker, "serve-killed", rounds=10_000_000)
            wait_until(
                lambda: (
                    stack.sagemaker.describe_training_job(TrainingJobName="serve-killed")[
                        "SecondaryStatus"
                    ]
                    == "Training"
                ),
                timeout=120,
                what="the job training",
                poll=0.2,
            )
            assert any(scratch.iterdir()), "a training job works in DATA_DIR/work/training"
            [serve] = flows_serve(data_dir)
            os.kill(serve.pid, signal.SIGKILL)
            killed = time.monotonic()
            # honcho stops every other process when one exits; nothing the stack started lives on.
            try:
                wait_until(
                    lambda: not stack_processes(data_dir, lambda _cmdline: True),
                    timeout=60,
                    what="every process of the stack ending",
                    poll=0.2,
                )
            except TimeoutError:
                left = [
                    (p.pid, p.ppid(), " ".join(p.cmdline())[:200])
                    for p in stack_processes(data_dir, lambda _cmdline: True)
                ]
                pytest.fail(f"processes outlive the stack: {left}")
            down = time.monotonic()

        restarted = time.monotonic()
        with running_stack(data_dir) as stack:
            ready = time.monotonic()
            job = stack.sagemaker.describe_training_job(TrainingJobName="serve-killed")
            assert job["TrainingJobStatus"] == "Failed"
            assert "The platform stopped while this job was running" in job["FailureReason"]
            in_progress = stack.sagemaker.list_training_jobs(StatusEquals="InProgress")
            assert in_progress["TrainingJobSummaries"] == []
            assert not list(stack.store.list("s3://serve-kill/output/"))
            assert not any(scratch.iterdir()), "the killed run's scratch folder is removed"
        report(
            "flows-serve-killed",
            stack_down_after_kill_s=round(down - killed, 2),
            restart_to_ready_s=round(ready - restarted, 1),
            job_failed_at_ready="yes",
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
