"""The Prefect server killed (SIGKILL) in the middle of a training job and started again on its
port and database: the job still ends, Completed with its model whole, not left InProgress; its
flow run ends in Prefect too, and a job created after the restart runs.

``manage.py stack`` cannot take this with its embedded server: honcho ends every process of the
stack when one of them ends, so a dead Prefect server stops the platform, and the next start
reconciles what was running (``tests/e2e/test_restart.py`` covers that). Here Prefect is its own
service, as a deployment runs it beside PostgreSQL and MinIO: the server ``infra/stack.py``
would start (the same command), owned by this test, and a stack of its own told its URL.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, sklearn_script_tarball, wait_for_http
from tests.e2e.test_restart import prefect_runs
from tests.faults.conftest import report, wait_until
from tests.stack import STACK_START_S, Stack, channels, running_stack, training_bucket

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/sagebrush"
DOWN_S = 1.0  # how long the server stays down
# How long the first job's script trains: longer than the kill and restart take, however fast the
# machine (a built-in's training time depends on the machine; a held script's does not).
HOLD_S = 40
PREFECT_START_S = 60
JOB_BOUND_S = 90


class PrefectServer:
    """``prefect server start`` on a fixed port, its database in ``home``; killed and started
    again on both."""

    def __init__(self, home: Path) -> None:
        self.home, self.port = home, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PREFECT_HOME": str(self.home), "DO_NOT_TRACK": "1"}
        env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
        env.pop("PREFECT_API_URL", None)
        prefect = str(Path(sys.executable).with_name("prefect"))
        argv = [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)]
        with (self.home / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for_http(f"{self.url}/api/health", timeout=PREFECT_START_S)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def prefect_stack() -> Iterator[tuple[PrefectServer, Stack]]:
    home = Path(tempfile.mkdtemp(prefix="sagebrush-prefect-"))
    server = PrefectServer(home)
    try:
        server.start()
        with running_stack(env={"PREFECT_API_URL": f"{server.url}/api"}) as stack:
            yield server, stack
    finally:
        if server.process is not None:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)


# A user's script that trains for ``--hold`` seconds, then saves its model.
HELD_SCRIPT = """
import argparse, os, time
parser = argparse.ArgumentParser()
parser.add_argument("--hold", type=float, default=0)
hold = parser.parse_args().hold
started = time.monotonic()
while time.monotonic() - started < hold:
    time.sleep(0.5)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as model:
    model.write(f"held {hold} s")
"""


def training(bucket: str, hold_s: float) -> dict:
    return {
        "RoleArn": ROLE,
        "AlgorithmSpecification": {
            "TrainingImage": "sagemaker-scikit-learn:1.2-1-cpu-py3",
            "TrainingInputMode": "File",
        },
        "HyperParameters": {
            "hold": str(hold_s),
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": f'"s3://{bucket}/code/sourcedir.tar.gz"',
        },
        "InputDataConfig": channels(bucket)[:1],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def ended(stack: Stack, name: str) -> dict | None:
    job = stack.sagemaker.describe_training_job(TrainingJobName=name)
    return job if job["TrainingJobStatus"] not in ("InProgress", "Stopping") else None


def assert_model_whole(stack: Stack, job: dict) -> None:
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    body = stack.store.read_bytes(job["ModelArtifacts"]["S3ModelArtifacts"])
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        assert "model.txt" in archive.getnames()  # the whole archive reads to its end


@pytest.mark.timeout(STACK_START_S + PREFECT_START_S * 2 + HOLD_S + JOB_BOUND_S * 2)
def test_a_training_job_outlives_a_prefect_server_restart(prefect_stack) -> None:
    server, stack = prefect_stack
    sm = stack.sagemaker
    bucket = training_bucket(stack, "faults-prefect", train=100, validation=20, seed=70)
    stack.store.write_bytes(
        f"s3://{bucket}/code/sourcedir.tar.gz", sklearn_script_tarball(HELD_SCRIPT)
    )
    sm.create_training_job(TrainingJobName="before-restart", **training(bucket, hold_s=HOLD_S))
    wait_until(
        lambda: (
            sm.describe_training_job(TrainingJobName="before-restart")["SecondaryStatus"]
            == "Training"
        ),
        timeout=JOB_BOUND_S,
        what="the job training",
        poll=0.2,
    )
    killed = time.monotonic()
    server.kill()
    time.sleep(DOWN_S)
    server.start()
    restarted = time.monotonic()
    assert not ended(stack, "before-restart"), "the job ended before the restart"

    job = wait_until(
        lambda: ended(stack, "before-restart"), timeout=JOB_BOUND_S, what="the job's end"
    )
    job_ended = time.monotonic()
    assert_model_whole(stack, job)

    sm.create_training_job(TrainingJobName="after-restart", **training(bucket, hold_s=0))
    after = wait_until(
        lambda: ended(stack, "after-restart"), timeout=JOB_BOUND_S, what="the new job's end"
    )
    new_job_ended = time.monotonic()
    assert_model_whole(stack, after)
    # Prefect's record agrees: no flow run is left Running or Pending after its job ended.
    states = {run["name"]: run["state_type"] for run in prefect_runs(server.url, {})}
    assert not {name for name, state in states.items() if state not in ("COMPLETED",)}, states
    report(
        "prefect restart (training)",
        down_s=DOWN_S,
        api_back_after_kill_s=round(restarted - killed, 1),
        job_end_after_restart_s=round(job_ended - restarted, 1),
        job_status=job["TrainingJobStatus"],
        new_job_done_after_restart_s=round(new_job_ended - restarted, 1),
    )
