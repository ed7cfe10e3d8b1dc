"""The AWS CLI (v1, ``aws ...``) against the running platform with only ``AWS_ENDPOINT_URL``, an
access key and a region set: identity, S3 on the embedded store, a training job from
``--cli-input-json``, and its log through CloudWatch Logs.

The CLI is run as its own process, as a user runs it: ``python -m awscli`` where awscli is
installed beside the platform, else an ``aws`` on the PATH; skipped when there is neither.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.stack import STACK_START_S, Stack, training_csv

pytestmark = pytest.mark.e2e

ROLE = "arn:aws:iam::000000000000:role/sagebrush"


def cli_command() -> list[str] | None:
    if importlib.util.find_spec("awscli") is not None:
        return [sys.executable, "-m", "awscli"]
    found = shutil.which("aws")
    return [found] if found else None


AWS = cli_command()
if AWS is None:
    pytest.skip(
        "the AWS CLI is not installed (neither the awscli package nor an `aws` on the PATH)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def aws(stack: Stack, tmp_path_factory):
    """``aws(*args)``: the CLI's parsed JSON output (or its text), failing on a non-zero exit."""
    home = tmp_path_factory.mktemp("aws-home")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),  # no ~/.aws of the machine's
        "AWS_ENDPOINT_URL": stack.url,
        "AWS_ACCESS_KEY_ID": stack.access_key_id,
        "AWS_SECRET_ACCESS_KEY": stack.secret_access_key,
        "AWS_DEFAULT_REGION": "us-east-1",
    }

    def run(*args: str):
        done = subprocess.run(
            [*AWS, *args], env=env, cwd=home, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"aws {' '.join(args)}: {done.stderr or done.stdout}"
        try:
            return json.loads(done.stdout) if done.stdout.strip() else None
        except ValueError:
            return done.stdout

    run.home = home
    return run


@pytest.mark.timeout(STACK_START_S + 120)
def test_identity_and_s3_on_the_embedded_store(aws, stack):
    identity = aws("sts", "get-caller-identity")
    assert identity["Arn"].endswith(":user/e2e-admin")
    assert len(identity["Account"]) == 12

    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    local = Path(aws.home) / "data"
    (local / "train").mkdir(parents=True)
    (local / "train" / "train.csv").write_bytes(training_csv(200, seed=1))
    (local / "notes.txt").write_text("hello\n")
    aws("s3", "mb", f"s3://{bucket}")
    assert bucket in aws("s3", "ls")

    aws("s3", "sync", str(local), f"s3://{bucket}/data/")
    listed = aws("s3", "ls", f"s3://{bucket}/data/", "--recursive")
    assert "data/notes.txt" in listed and "data/train/train.csv" in listed
    assert stack.store.read_bytes(f"s3://{bucket}/data/notes.txt") == b"hello\n"

    aws("s3", "cp", f"s3://{bucket}/data/train/train.csv", str(local / "back.csv"))
    assert (local / "back.csv").read_bytes() == (local / "train" / "train.csv").read_bytes()
    aws("s3", "rm", f"s3://{bucket}/data/notes.txt")
    assert "notes.txt" not in aws("s3", "ls", f"s3://{bucket}/data/", "--recursive")


@pytest.mark.timeout(STACK_START_S + 300)
def test_training_job_from_cli_input_json_and_its_log(aws, stack):
    bucket = f"cli-{uuid.uuid4().hex[:8]}"
    stack.store.create_bucket(bucket)
    for channel, rows in (("train", 400), ("validation", 100)):
        stack.store.write_bytes(
            f"s3://{bucket}/{channel}/{channel}.csv", training_csv(rows, seed=rows)
        )
    name = f"cli-{uuid.uuid4().hex[:8]}"
    request = {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {
            "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "TrainingInputMode": "File",
        },
        "HyperParameters": {"num_round": "10", "objective": "binary:logistic"},
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{bucket}/{channel}/",
                    }
                },
            }
            for channel in ("train", "validation")
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    (Path(aws.home) / "job.json").write_text(json.dumps(request))

    created = aws("sagemaker", "create-training-job", "--cli-input-json", "file://job.json")
    assert created["TrainingJobArn"].endswith(f":training-job/{name}")
    listed = aws("sagemaker", "list-training-jobs", "--name-contains", name)
    assert [job["TrainingJobName"] for job in listed["TrainingJobSummaries"]] == [name]
    deadline = time.monotonic() + 240
    while (job := aws("sagemaker", "describe-training-job", "--training-job-name", name))[
        "TrainingJobStatus"
    ] in ("InProgress", "Stopping"):
        assert time.monotonic() < deadline, job
        time.sleep(2)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == (
        f"s3://{bucket}/models/{name}/output/model.tar.gz"
    )

    group = "/aws/sagemaker/TrainingJobs"
    streams = aws(
        "logs", "describe-log-streams", "--log-group-name", group,
        "--log-stream-name-prefix", f"{name}/",
    )["logStreams"]  # fmt: skip
    [stream] = [s["logStreamName"] for s in streams]
    assert stream.startswith(f"{name}/algo-1-")
    events = aws(
        "logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream,
        "--start-from-head",
    )["events"]  # fmt: skip
    assert any("validation-logloss" in event["message"] for event in events)
    found = aws(
        "logs", "filter-log-events", "--log-group-name", group,
        "--log-stream-name-prefix", f"{name}/", "--filter-pattern", "validation-logloss",
    )["events"]  # fmt: skip
    assert found and all("validation-logloss" in event["message"] for event in found)
