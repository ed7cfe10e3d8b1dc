"""The processing flow's work, run in-process against the test database and the local store: the
container contract (inputs at their LocalPath, /opt/ml config, outputs), failures, stops and
several instances; the request builder the other processing tests use."""

from __future__ import annotations

import json

import pytest

from console.processing.models import ProcessingJob
from console.processing.selectors import processing_job_describe, processing_job_log
from console.processing.services import processing_job_create, processing_job_stop
from flows.processing import run_processing_job, scratch_root
from infra.storage import get_store
from tests.algorithms.test_sandbox import tmp_as_a_job_sees_it
from tests.conftest import owned_bucket

pytestmark = pytest.mark.django_db

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
CODE = "/opt/ml/processing/input/code"


def request(bucket: str, name: str = "prep-job", *, script: str = "preprocess.py", **changes):
    """What ``SKLearnProcessor.run(code=..., inputs=[raw], outputs=[train])`` sends."""
    spec = {
        "ProcessingJobName": name,
        "RoleArn": "arn:aws:iam::000000000000:role/sagebrush",
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 1,
            }
        },
        "AppSpecification": {
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", f"{CODE}/{script}"],
        },
        "ProcessingInputs": [
            s3_input("input-1", f"s3://{bucket}/raw", "/opt/ml/processing/input/raw"),
            s3_input("code", f"s3://{bucket}/code/{script}", CODE),
        ],
        "ProcessingOutputConfig": {
            "Outputs": [s3_output("train", f"s3://{bucket}/out/train", "/opt/ml/processing/train")]
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    spec.update(changes)
    return spec


def s3_input(name: str, uri: str, local_path: str, **source) -> dict:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            **source,
        },
    }


def s3_output(name: str, uri: str, local_path: str, mode: str = "EndOfJob") -> dict:
    return {
        "OutputName": name,
        "AppManaged": False,
        "S3Output": {"S3Uri": uri, "LocalPath": local_path, "S3UploadMode": mode},
    }


@pytest.fixture
def bucket(user) -> str:
    """``user``'s bucket with raw/ (two objects, one nested) for the scripts to read."""
    name = owned_bucket(user, "proc")
    store = get_store()
    store.write_bytes(f"s3://{name}/raw/a.csv", b"1,2\n3,4\n")
    store.write_bytes(f"s3://{name}/raw/nested/b.csv", b"5,6\n")
    return name


def put_script(bucket: str, source: str, name: str = "preprocess.py") -> None:
    get_store().write_bytes(f"s3://{bucket}/code/{name}", source.encode())


PREPROCESS = """
import json, os, sys
raw = "/opt/ml/processing/input/raw"
files = sorted(os.path.relpath(os.path.join(d, f), raw) for d, _, fs in os.walk(raw) for f in fs)
rows = sum(open(os.path.join(raw, f)).read().count("\\n") for f in files)
config = json.load(open("/opt/ml/config/processingjobconfig.json"))
hosts = json.load(open("/opt/ml/config/resourceconfig.json"))
os.makedirs("/opt/ml/processing/train/sub", exist_ok=True)
with open("/opt/ml/processing/train/sub/summary.json", "w") as out:
    json.dump({"files": files, "rows": rows, "args": sys.argv[1:],
               "job": config["ProcessingJobName"], "hosts": hosts, "cwd": os.getcwd(),
               "mode": os.environ.get("MODE")}, out)
open("unpacked-here", "w").write("a script may write where it starts, as the abalone evaluation")
print("preprocessed", rows, "rows")
"""


def test_a_script_reads_its_inputs_at_their_paths_and_its_output_is_uploaded(user, bucket):
    put_script(bucket, PREPROCESS)
    spec = request(bucket, Environment={"MODE": "fast"})
    spec["AppSpecification"]["ContainerArguments"] = ["--split", "0.2"]
    job = processing_job_create(user=user, spec=spec)

    assert run_processing_job(job.pk) == "Completed"

    job.refresh_from_db()
    summary = json.loads(get_store().read_bytes(f"s3://{bucket}/out/train/sub/summary.json"))
    assert summary == {
        "files": ["a.csv", "nested/b.csv"],  # keys keep their path below the prefix
        "rows": 3,
        "args": ["--split", "0.2"],
        "job": "prep-job",
        "hosts": {"current_host": "algo-1", "hosts": ["algo-1"]},
        "cwd": "/opt/ml",  # where the job's user may write, as root may in SageMaker's "/"
        "mode": "fast",
    }
    described = processing_job_describe(job)
    assert described["ProcessingJobStatus"] == "Completed"
    assert described["FailureReason"] == described["ExitMessage"] == ""
    assert described["ProcessingStartTime"] <= described["ProcessingEndTime"]
    assert "preprocessed 3 rows" in processing_job_log(job)
    assert job.uploaded == [
        {"OutputName": "train", "S3Uri": f"s3://{bucket}/out/train", "Objects": 1}
    ]
    assert not (scratch_root() / str(job.pk)).exists()


FAILING = """
import os
with open("/opt/ml/processing/train/partial.csv", "w") as out:
    out.write("1,2\\n")
with open("/opt/ml/output/message", "w") as message:
    message.write("row 3 has no label")
def parse(row):
    raise ValueError(f"bad row {row}: no label")
parse(3)
"""


def test_a_failing_script_fails_the_job_with_its_exception_and_keeps_its_output(user, bucket):
    put_script(bucket, FAILING)
    job = processing_job_create(user=user, spec=request(bucket))

    assert run_processing_job(job.pk) == "Failed"

    job.refresh_from_db()
    assert job.failure_reason.startswith("AlgorithmError: ")
    assert job.failure_reason.endswith("ValueError: bad row 3: no label")
    assert "exited with code 1" in job.failure_reason
    assert job.exit_message == "row 3 has no label"
    log = processing_job_log(job)
    assert "Traceback (most recent call last)" in log and "in parse" in log
    # What the script wrote before it failed is uploaded, as SageMaker does.
    assert get_store().read_bytes(f"s3://{bucket}/out/train/partial.csv") == b"1,2\n"


def test_a_long_exception_message_keeps_its_end_within_1024_characters(user, bucket):
    put_script(bucket, "raise RuntimeError('x' * 3000 + ' the end')\n")
    job = processing_job_create(user=user, spec=request(bucket))
    assert run_processing_job(job.pk) == "Failed"
    job.refresh_from_db()
    assert len(job.failure_reason) <= 1024
    assert job.failure_reason.startswith("AlgorithmError: ")
    assert job.failure_reason.endswith("x the end")


SANDBOXED = """
import json, os
def listing(path):
    return sorted(os.listdir(path)) if os.path.isdir(path) else None
seen = {"env": dict(os.environ), "root": listing("/"), "uid": os.getuid(),
        "tmp": listing("/tmp"), "ml": listing("/opt/ml"),
        "data_dir": listing(os.environ["LOOK_AT"]), "home": listing(os.path.expanduser("~root"))}
with open("/opt/ml/processing/train/seen.json", "w") as out:
    json.dump(seen, out)
"""


def test_the_script_sees_no_platform_secret_and_no_other_jobs_files(user, bucket, settings):
    import os

    from infra.config import settings as platform

    data_dir = platform().data_dir
    # Another job's scratch, and a secret in the platform's environment and data directory.
    other = data_dir / "work" / "processing" / "999999"
    other.mkdir(parents=True, exist_ok=True)
    (other / "other-job.csv").write_text("not yours")
    os.environ["SAGEBRUSH_TEST_SECRET"] = "hunter2"
    try:
        put_script(bucket, SANDBOXED)
        spec = request(bucket, Environment={"LOOK_AT": str(data_dir)})
        job = processing_job_create(user=user, spec=spec)
        assert run_processing_job(job.pk) == "Completed", job.failure_reason
    finally:
        del os.environ["SAGEBRUSH_TEST_SECRET"]

    seen = json.loads(get_store().read_bytes(f"s3://{bucket}/out/train/seen.json"))
    values = json.dumps(seen["env"])
    for secret in ("hunter2", settings.SECRET_KEY, str(platform().database_url)):
        assert secret not in values
    assert not {"SECRET_KEY", "DATA_DIR", "DATABASE_URL", "S3_SECRET_KEY"} & set(seen["env"])
    assert set(seen["env"]) <= {
        "PATH",
        "HOME",
        "LANG",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONPATH",
        "PIP_TARGET",
        "LOOK_AT",
    }
    assert seen["uid"] != 0
    assert "opt" in seen["root"]
    assert seen["ml"] == ["config", "output", "processing"]
    assert seen["data_dir"] in (None, [])  # hidden: the database, objects, other jobs' scratch
    assert seen["tmp"] == tmp_as_a_job_sees_it()
    assert seen["home"] in (None, [], [".pyenv"])  # the platform user's home: only its Python
    assert "other-job.csv" not in json.dumps(seen)


def test_several_instances_share_out_sharded_inputs_by_key(user, bucket):
    store = get_store()
    for n in range(6):
        store.write_bytes(f"s3://{bucket}/many/part-{n}.csv", b"1\n")
    put_script(
        bucket,
        """
import json, os
host = json.load(open("/opt/ml/config/resourceconfig.json"))["current_host"]
files = sorted(os.listdir("/opt/ml/processing/input/many"))
everyone = sorted(os.listdir("/opt/ml/processing/input/raw"))
open(f"/opt/ml/processing/train/{host}.json", "w").write(json.dumps([files, everyone]))
""",
    )
    spec = request(bucket)
    spec["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = 2
    spec["ProcessingInputs"].append(
        s3_input(
            "many",
            f"s3://{bucket}/many/",
            "/opt/ml/processing/input/many",
            S3DataDistributionType="ShardedByS3Key",
        )
    )
    job = processing_job_create(user=user, spec=spec)
    assert run_processing_job(job.pk) == "Completed", job.failure_reason

    first, second = (
        json.loads(store.read_bytes(f"s3://{bucket}/out/train/algo-{n}.json")) for n in (1, 2)
    )
    assert first[0] == ["part-0.csv", "part-2.csv", "part-4.csv"]
    assert second[0] == ["part-1.csv", "part-3.csv", "part-5.csv"]
    assert first[1] == second[1] == ["a.csv", "nested"]  # FullyReplicated: everyone has all


def test_gzip_inputs_arrive_unpacked(user, bucket):
    import gzip

    get_store().write_bytes(f"s3://{bucket}/gz/rows.csv.gz", gzip.compress(b"7,8\n"))
    put_script(
        bucket,
        "import shutil\n"
        "shutil.copy('/opt/ml/processing/input/gz/rows.csv',"
        " '/opt/ml/processing/train/rows.csv')\n",
    )
    spec = request(bucket)
    spec["ProcessingInputs"].append(
        s3_input(
            "gz", f"s3://{bucket}/gz/", "/opt/ml/processing/input/gz", S3CompressionType="Gzip"
        )
    )
    job = processing_job_create(user=user, spec=spec)
    assert run_processing_job(job.pk) == "Completed", job.failure_reason
    assert get_store().read_bytes(f"s3://{bucket}/out/train/rows.csv") == b"7,8\n"


def test_continuous_outputs_are_uploaded_while_the_script_runs(user, bucket):
    # The script removes its file before it ends: only an upload made while it ran keeps it.
    put_script(
        bucket,
        """
import os, time
with open("/opt/ml/processing/train/early.txt", "w") as out:
    out.write("early")
time.sleep(3.5)
os.remove("/opt/ml/processing/train/early.txt")
""",
    )
    spec = request(bucket)
    spec["ProcessingOutputConfig"]["Outputs"] = [
        s3_output("train", f"s3://{bucket}/out/train", "/opt/ml/processing/train", "Continuous"),
        s3_output("late", f"s3://{bucket}/out/late", "/opt/ml/processing/late"),
    ]
    job = processing_job_create(user=user, spec=spec)

    assert run_processing_job(job.pk) == "Completed", job.failure_reason
    assert get_store().read_bytes(f"s3://{bucket}/out/train/early.txt") == b"early"


def test_stop_before_the_run_begins_ends_stopped(user, bucket):
    put_script(bucket, PREPROCESS)
    job = processing_job_create(user=user, spec=request(bucket))
    processing_job_stop(user=user, name="prep-job")
    assert ProcessingJob.objects.get(pk=job.pk).status == "Stopping"
    assert run_processing_job(job.pk) == "Stopped"


def test_max_runtime_stops_the_script_and_fails_the_job_saying_so(user, bucket):
    put_script(bucket, "import time\ntime.sleep(60)\n")
    spec = request(bucket, StoppingCondition={"MaxRuntimeInSeconds": 1})
    job = processing_job_create(user=user, spec=spec)
    assert run_processing_job(job.pk, stop_grace_seconds=2) == "Failed"
    job.refresh_from_db()
    assert job.failure_reason.startswith("MaxRuntimeExceeded: ")
    assert "MaxRuntimeInSeconds (1 s)" in job.failure_reason


def test_an_exit_message_that_is_not_utf8_fails_the_job_as_a_client_error(user, bucket):
    put_script(bucket, "open('/opt/ml/output/message', 'wb').write(b'\\xff\\xfe bad')\n")
    job = processing_job_create(user=user, spec=request(bucket))
    assert run_processing_job(job.pk) == "Failed"
    job.refresh_from_db()
    assert job.failure_reason == "ClientError: /opt/ml/output/message on algo-1 is not UTF-8 text"


def test_a_new_run_removes_the_scratch_left_by_jobs_that_ended(user, bucket):
    put_script(bucket, PREPROCESS)
    left = scratch_root() / "424242"  # no such job runs: a killed run's leftovers
    (left / "algo-1" / "ml").mkdir(parents=True)
    job = processing_job_create(user=user, spec=request(bucket))
    assert run_processing_job(job.pk) == "Completed"
    assert not left.exists()
