"""Batch transform from boto3 alone, against the running platform: the issue's "Done means".

A LightGBM model (trained here by the built-in, uploaded as ``model.tar.gz``, registered with
``create_model``) scores prefixes of CSV and JSON Lines objects — a large one split into ranges,
one with CRLF endings, one without a final newline, one in a sub-prefix — through
``create_transform_job``; every ``.out`` must equal the model's own answer, record for record.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid

import pytest
from botocore.exceptions import WaiterError

from tests.conftest import FEATURES
from tests.datasets import feature_rows, oracle
from tests.stack import STACK_START_S

pytestmark = pytest.mark.e2e

WAIT = {"Delay": 1, "MaxAttempts": 300}  # a poll a second: five minutes and a little more
# pytest timeouts: the stack's start, then WAIT (and what comes before it) for each job run.
ONE_JOB = STACK_START_S + 360
LARGE_ROWS = 300_000  # about 11 MB: more than one range (ranges are at least 8 MiB)


@pytest.fixture(scope="module")
def bucket(stack, model_tarball) -> str:
    """A bucket holding the model, registered as ``e2e-lgbm``."""
    name = f"e2e-tx-{uuid.uuid4().hex[:8]}"
    stack.store.create_bucket(name)
    stack.store.upload_file(str(model_tarball), f"s3://{name}/model/model.tar.gz")
    stack.sagemaker.create_model(
        ModelName="e2e-lgbm",
        PrimaryContainer={"Image": "lightgbm", "ModelDataUrl": f"s3://{name}/model/model.tar.gz"},
    )
    return name


@pytest.fixture(scope="module")
def csv_inputs(stack, bucket) -> dict[str, list[bytes]]:
    """The CSV prefix: its objects' records by path relative to the prefix."""
    objects = {
        "large.csv": (feature_rows(LARGE_ROWS, FEATURES, seed=1), b"\n", True),
        "crlf.csv": (feature_rows(500, FEATURES, seed=2), b"\r\n", True),
        "no-final.csv": (feature_rows(70, FEATURES, seed=3), b"\n", False),
        "sub/deep.csv": (feature_rows(40, FEATURES, seed=4), b"\n", True),
    }
    for path, (records, newline, final) in objects.items():
        data = newline.join(records) + (newline if final else b"")
        stack.store.write_bytes(f"s3://{bucket}/csv/{path}", data)
    return {path: records for path, (records, _, _) in objects.items()}


def run_job(stack, name: str, **request) -> dict:
    stack.sagemaker.create_transform_job(TransformJobName=name, ModelName="e2e-lgbm", **request)
    return wait(stack, name)


def wait(stack, name: str) -> dict:
    """Describe once the job has ended (the waiter raises on Failed: the job is then returned)."""
    sm = stack.sagemaker
    with contextlib.suppress(WaiterError):
        sm.get_waiter("transform_job_completed_or_stopped").wait(
            TransformJobName=name, WaiterConfig=WAIT
        )
    return sm.describe_transform_job(TransformJobName=name)


def job_request(bucket: str, prefix: str, output: str, **changes) -> dict:
    request = {
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{prefix}/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": f"s3://{bucket}/{output}/", "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 2},
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(request.get(key), dict):
            request[key] = {**request[key], **value}
        else:
            request[key] = value
    return request


def outputs(stack, bucket: str, output: str) -> dict[str, bytes]:
    prefix = f"s3://{bucket}/{output}/"
    return {
        info.uri[len(prefix) :]: stack.store.read_bytes(info.uri)
        for info in stack.store.list(prefix)
    }


@pytest.mark.timeout(ONE_JOB)
@pytest.mark.parametrize("assemble_with", ["Line", "None"])
def test_csv_prefix_gives_one_ordered_out_per_object(
    stack, bucket, csv_inputs, lightgbm_model, assemble_with
):
    output = f"out-csv-{assemble_with.lower()}"
    request = job_request(bucket, "csv", output, TransformOutput={"AssembleWith": assemble_with})
    job = run_job(stack, f"e2e-csv-{assemble_with.lower()}", **request)

    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert outputs(stack, bucket, output) == {
        f"{path}.out": oracle(lightgbm_model, records) for path, records in csv_inputs.items()
    }
    status, detail = stack.rest("GET", f"/api/v1/transform-jobs/{job['TransformJobName']}/")
    assert status == 200
    progress = detail["progress"]
    assert progress["records"] == sum(len(records) for records in csv_inputs.values())
    assert progress["ranges_total"] > len(csv_inputs)  # the large object was split
    assert progress["bytes_done"] == progress["bytes_total"]


@pytest.mark.timeout(ONE_JOB)
def test_csv_join_source_input_appends_the_prediction_to_each_row(
    stack, bucket, csv_inputs, lightgbm_model
):
    request = job_request(
        bucket,
        "csv",
        "out-joined",
        TransformOutput={"Accept": "text/csv"},
        DataProcessing={"JoinSource": "Input"},
    )
    job = run_job(stack, "e2e-csv-joined", **request)

    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    got = outputs(stack, bucket, "out-joined")
    for path, records in csv_inputs.items():
        predictions = oracle(lightgbm_model, records).splitlines()
        expected = b"".join(
            row + b"," + p + b"\n" for row, p in zip(records, predictions, strict=True)
        )
        assert got[f"{path}.out"] == expected, path


@pytest.mark.timeout(ONE_JOB + 360)  # two jobs
def test_jsonlines_with_and_without_join(stack, bucket, lightgbm_model):
    records = [
        json.dumps({"id": n, "features": [float(v) for v in row.split(b",")]}).encode()
        for n, row in enumerate(feature_rows(300, FEATURES, seed=5))
    ]
    stack.store.write_bytes(f"s3://{bucket}/jsonl/a.jsonl", b"\n".join(records) + b"\n")
    stack.store.write_bytes(f"s3://{bucket}/jsonl/nested/b.jsonl", b"\n".join(records[:9]))
    features = [json.dumps(json.loads(r)["features"]).encode() for r in records]
    jsonl = "application/jsonlines"
    predictions = [
        json.loads(line) for line in oracle(lightgbm_model, features, jsonl, jsonl).splitlines()
    ]

    for join in ("None", "Input"):
        output = f"out-jsonl-{join.lower()}"
        request = job_request(
            bucket,
            "jsonl",
            output,
            TransformInput={"ContentType": jsonl},
            TransformOutput={"Accept": jsonl},
            DataProcessing={"InputFilter": "$.features", "JoinSource": join},
        )
        job = run_job(stack, f"e2e-jsonl-{join.lower()}", **request)
        assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
        got = {
            path: [json.loads(line) for line in data.splitlines()]
            for path, data in outputs(stack, bucket, output).items()
        }
        if join == "None":
            expected = predictions
        else:
            expected = [
                {**json.loads(r), "SageMakerOutput": p}
                for r, p in zip(records, predictions, strict=True)
            ]
        assert got == {"a.jsonl.out": expected, "nested/b.jsonl.out": expected[:9]}


@pytest.mark.timeout(ONE_JOB)
def test_a_bad_object_fails_alone(stack, bucket, lightgbm_model):
    good = feature_rows(100, FEATURES, seed=6)
    bad = feature_rows(100, FEATURES, seed=7)
    bad[41] = b"1,2,not-a-number,4,5"
    for name, records in (("a.csv", good), ("b.csv", bad), ("c.csv", good)):
        stack.store.write_bytes(f"s3://{bucket}/mixed/{name}", b"\n".join(records) + b"\n")

    job = run_job(stack, "e2e-bad-object", **job_request(bucket, "mixed", "out-mixed"))

    assert job["TransformJobStatus"] == "Failed"
    assert f"s3://{bucket}/mixed/b.csv line 42: " in job["FailureReason"]
    expected = oracle(lightgbm_model, good)
    assert outputs(stack, bucket, "out-mixed") == {"a.csv.out": expected, "c.csv.out": expected}


def _progress(stack, name: str) -> dict:
    return stack.rest("GET", f"/api/v1/transform-jobs/{name}/")[1]


def _slow_objects(stack, bucket: str, prefix: str, count: int) -> dict[str, list[bytes]]:
    objects = {
        f"part-{n:02d}.csv": feature_rows(6000, FEATURES, seed=100 + n) for n in range(count)
    }
    for name, records in objects.items():
        stack.store.write_bytes(f"s3://{bucket}/{prefix}/{name}", b"\n".join(records) + b"\n")
    return objects


@pytest.mark.timeout(ONE_JOB + 240)  # four minutes for an object to finish, then the job
def test_stop_ends_stopped_and_publishes_nothing_more(stack, bucket):
    objects = _slow_objects(stack, bucket, "to-stop", 8)
    name = "e2e-stopped"
    stack.sagemaker.create_transform_job(
        TransformJobName=name,
        ModelName="e2e-lgbm",
        BatchStrategy="SingleRecord",
        **job_request(bucket, "to-stop", "out-stopped"),
    )
    deadline = time.monotonic() + 240
    while _progress(stack, name)["progress"].get("objects_completed", 0) < 1:
        assert time.monotonic() < deadline, _progress(stack, name)
        time.sleep(0.2)
    stack.sagemaker.stop_transform_job(TransformJobName=name)
    assert stack.sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in (
        "Stopping",
        "Stopped",
    )

    stack.sagemaker.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName=name, WaiterConfig=WAIT
    )
    assert (
        stack.sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"]
        == "Stopped"
    )
    published = set(outputs(stack, bucket, "out-stopped"))
    assert 1 <= len(published) < len(objects)
    completed = {
        item["output_uri"].rsplit("/", 1)[-1]
        for item in _progress(stack, name)["progress"]["objects"]
        if item["status"] == "Completed"
    }
    assert published == completed  # no temporary parts, nothing after the stop
