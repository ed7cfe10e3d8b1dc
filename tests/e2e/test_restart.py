"""The platform after a crash: every process killed at once, then `make run` again on its data."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.stack import STACK_START_S, channels, running_stack, training_csv

pytestmark = pytest.mark.e2e


def flow_run_states(prefect_url: str) -> list[str]:
    request = urllib.request.Request(
        f"{prefect_url}/api/flow_runs/filter",
        data=json.dumps({"limit": 50}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return [run["state_type"] for run in json.load(response)]


def create_job(sagemaker, name: str, *, rounds: int) -> None:
    sagemaker.create_training_job(
        TrainingJobName=name,
        RoleArn="arn:aws:iam::000000000000:role/sagebrush",
        AlgorithmSpecification={"TrainingImage": "xgboost", "TrainingInputMode": "File"},
        HyperParameters={"num_round": str(rounds), "objective": "binary:logistic"},
        InputDataConfig=channels("restart"),
        OutputDataConfig={"S3OutputPath": "s3://restart/output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )


# Two starts of the stack; two minutes for the job to train, half a minute each for the first stack
# to stop and for Prefect to answer, four and a bit for the waiter.
@pytest.mark.timeout(2 * STACK_START_S + 480)
def test_a_job_running_when_the_machine_stopped_ends_failed_at_the_next_start():
    data_dir = Path(tempfile.mkdtemp(prefix="sagebrush-e2e-restart-"))
    try:
        with running_stack(data_dir) as stack:
            stack.store.create_bucket("restart")
            stack.store.write_bytes("s3://restart/train/train.csv", training_csv(20_000, seed=1))
            stack.store.write_bytes("s3://restart/validation/v.csv", training_csv(2_000, seed=2))
            create_job(stack.sagemaker, "cut-short", rounds=100_000)
            deadline = time.monotonic() + 120
            while (
                stack.sagemaker.describe_training_job(TrainingJobName="cut-short")[
                    "SecondaryStatus"
                ]
                != "Training"
            ):
                assert time.monotonic() < deadline, "the job never reached Training"
                time.sleep(0.5)
            scratch = data_dir / "work" / "training"
            assert any(scratch.iterdir()), "a training job works in DATA_DIR/work/training"
            stack.crash()

        with running_stack(data_dir) as stack:
            job = stack.sagemaker.describe_training_job(TrainingJobName="cut-short")
            assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Failed", "Failed")
            assert "The platform stopped while this job was running" in job["FailureReason"]
            assert not job["ModelArtifacts"]["S3ModelArtifacts"]
            assert job["SecondaryStatusTransitions"][-1]["Status"] == "Failed"
            assert not list(stack.store.list("s3://restart/output/"))  # nothing half-published
            assert not any(scratch.iterdir()), "the killed run's scratch folder is removed"
            # Prefect agrees: the killed run is Crashed, not Running forever.
            states = flow_run_states(stack.prefect_url)
            assert "CRASHED" in states
            assert "RUNNING" not in states and "PENDING" not in states
            # And the platform works on: a new job runs to the end.
            create_job(stack.sagemaker, "after-restart", rounds=10)
            stack.sagemaker.get_waiter("training_job_completed_or_stopped").wait(
                TrainingJobName="after-restart", WaiterConfig={"Delay": 1, "MaxAttempts": 240}
            )
            job = stack.sagemaker.describe_training_job(TrainingJobName="after-restart")
            assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
