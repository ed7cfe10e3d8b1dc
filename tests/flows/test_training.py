"""The training flow's work, run in-process against the test database and the local store; the
request builder the other training tests use."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from console.core.errors import InvalidState
from console.training.models import TrainingJob
from console.training.selectors import training_job_describe, training_job_log
from console.training.services import training_job_create, training_job_stop
from flows.staging import scratch_root
from flows.training import run_training_job
from infra.storage import get_store
from tests.conftest import SKLEARN_SCRIPT, owned_bucket, sklearn_script_tarball
from tests.datasets import labelled_csv

pytestmark = pytest.mark.django_db


def request(bucket: str, name: str = "xgb-job", **changes) -> dict:
    spec = {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::000000000000:role/sagebrush",
        "AlgorithmSpecification": {"TrainingImage": "xgboost", "TrainingInputMode": "File"},
        "HyperParameters": {
            "num_round": "20",
            "objective": "binary:logistic",
            "eta": "0.3",
            "eval_metric": "auc",
        },
        "InputDataConfig": [
            channel("train", f"s3://{bucket}/train/"),
            channel("validation", f"s3://{bucket}/validation/"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    spec.update(changes)
    return spec


def channel(name: str, uri: str, content_type: str = "text/csv") -> dict:
    return {
        "ChannelName": name,
        "ContentType": content_type,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
    }


def test_xgboost_job_trains_uploads_the_model_and_reports_metrics(user, data_bucket):
    job = training_job_create(user=user, spec=request(data_bucket))
    assert (job.status, job.secondary_status) == ("InProgress", "Starting")

    assert run_training_job(job.pk) == "Completed"

    job.refresh_from_db()
    described = training_job_describe(job)
    artifact = f"s3://{data_bucket}/output/xgb-job/output/model.tar.gz"
    assert described["ModelArtifacts"] == {"S3ModelArtifacts": artifact}
    with tarfile.open(fileobj=io.BytesIO(get_store().read_bytes(artifact))) as archive:
        assert "sagebrush-model.json" in archive.getnames()
    phases = [t["Status"] for t in described["SecondaryStatusTransitions"]]
    assert phases == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all("EndTime" in t for t in described["SecondaryStatusTransitions"][:-1])
    finals = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    assert finals["validation:auc"] > 0.9
    # Recorded per iteration while it trained, in order.
    steps = list(job.metrics.filter(name="validation:auc").values_list("step", flat=True))
    assert steps == list(range(1, 21))
    assert "Channel train: 2 objects" in training_job_log(job)
    # The job read the stored objects (in place: tests/infra cover the links) and left them as
    # they were.
    stored = get_store().read_bytes(f"s3://{data_bucket}/train/part-1.csv")
    assert stored == labelled_csv(300, seed=1)
    assert not (scratch_root() / str(job.pk)).exists()  # its scratch folder went with it


def test_bad_row_fails_the_job_naming_object_line_and_column(user, data_bucket):
    store = get_store()
    good = labelled_csv(50).decode().splitlines()
    good[6] = "1,0.5,abc,0.1,0.2"
    store.write_bytes(f"s3://{data_bucket}/bad/x.csv", ("\n".join(good) + "\n").encode())
    spec = request(data_bucket, InputDataConfig=[channel("train", f"s3://{data_bucket}/bad/")])

    job = training_job_create(user=user, spec=spec)
    assert run_training_job(job.pk) == "Failed"

    job.refresh_from_db()
    assert job.failure_reason.startswith("ClientError: ")
    assert "train/x.csv" in job.failure_reason and "line 7" in job.failure_reason
    assert "column 3" in job.failure_reason
    assert not store.exists(f"s3://{data_bucket}/output/xgb-job/output/model.tar.gz")
    assert training_job_describe(job)["ModelArtifacts"] == {"S3ModelArtifacts": ""}


def test_stop_keeps_the_model_saved_so_far(user, data_bucket):
    job = training_job_create(user=user, spec=request(data_bucket))
    training_job_stop(user=user, name="xgb-job")
    assert TrainingJob.objects.get(pk=job.pk).status == "Stopping"
    with pytest.raises(InvalidState, match="in status Stopping"):
        training_job_stop(user=user, name="xgb-job")

    assert run_training_job(job.pk) == "Stopped"
    job.refresh_from_db()
    assert job.secondary_status == "Stopped"


def test_max_runtime_ends_the_job_stopped_with_max_runtime_exceeded(user, data_bucket):
    spec = request(
        data_bucket,
        HyperParameters={"num_round": "100000", "objective": "binary:logistic"},
        StoppingCondition={"MaxRuntimeInSeconds": 2},
    )
    job = training_job_create(user=user, spec=spec)
    assert run_training_job(job.pk) == "Stopped"
    job.refresh_from_db()
    assert job.secondary_status == "MaxRuntimeExceeded"
    assert get_store().exists(job.model_artifacts)


def test_script_mode_runs_the_users_script_with_its_hyperparameters(user, data_bucket):
    get_store().write_bytes(f"s3://{data_bucket}/code/sourcedir.tar.gz", sklearn_script_tarball())
    spec = request(
        data_bucket,
        AlgorithmSpecification={
            "TrainingImage": "sagemaker-scikit-learn:1.2-1-cpu-py3",
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "train:accuracy", "Regex": "train_accuracy=(.*?);"}],
        },
        HyperParameters={
            "regularization": "0.5",
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": f'"s3://{data_bucket}/code/sourcedir.tar.gz"',
        },
    )
    job = training_job_create(user=user, spec=spec)
    status = run_training_job(job.pk)
    job.refresh_from_db()
    assert status == "Completed", job.failure_reason
    assert job.final_metrics["train:accuracy"] > 0.9
    assert "--regularization 0.5" in training_job_log(job)
    with tarfile.open(fileobj=io.BytesIO(get_store().read_bytes(job.model_artifacts))) as archive:
        assert {"model.joblib", "code/train.py"} <= set(archive.getnames())
    output = job.model_artifacts.replace("model.tar.gz", "output.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(get_store().read_bytes(output))) as archive:
        assert archive.getnames() == ["report.txt"]


def test_a_script_that_changes_its_input_files_leaves_the_stored_objects_alone(user, data_bucket):
    script = SKLEARN_SCRIPT + "for name in files:\n    open(name, 'w').close()\n"
    get_store().write_bytes(
        f"s3://{data_bucket}/code/sourcedir.tar.gz", sklearn_script_tarball(script)
    )
    spec = request(
        data_bucket,
        AlgorithmSpecification={
            "TrainingImage": "sagemaker-scikit-learn:1.2-1-cpu-py3",
            "TrainingInputMode": "File",
        },
        HyperParameters={
            "sagemaker_program": "train.py",
            "sagemaker_submit_directory": f"s3://{data_bucket}/code/sourcedir.tar.gz",
        },
    )
    job = training_job_create(user=user, spec=spec)
    assert run_training_job(job.pk) == "Completed"
    store = get_store()
    assert store.read_bytes(f"s3://{data_bucket}/train/part-1.csv") == labelled_csv(300, seed=1)
    stored = store.read_bytes(f"s3://{data_bucket}/train/nested/part-2.csv")
    assert stored == labelled_csv(200, seed=2)


def test_manifest_channel_of_gzipped_json_lines(user, data_bucket):
    import gzip
    import json

    store = get_store()
    lines = labelled_csv(300, seed=9).decode().splitlines()
    records = "".join(
        json.dumps({"features": [float(v) for v in line.split(",")[1:]], "label": int(line[0])})
        + "\n"
        for line in lines
    )
    store.write_bytes(f"s3://{data_bucket}/jl/a.jsonl.gz", gzip.compress(records.encode()))
    store.write_bytes(f"s3://{data_bucket}/jl/unlisted.jsonl", b"not json\n")
    manifest = [{"prefix": f"s3://{data_bucket}/jl/"}, "a.jsonl.gz"]
    store.write_bytes(f"s3://{data_bucket}/train.manifest", json.dumps(manifest).encode())
    train = {
        "ChannelName": "train",
        "ContentType": "application/jsonlines",
        "CompressionType": "Gzip",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "ManifestFile",
                "S3Uri": f"s3://{data_bucket}/train.manifest",
            }
        },
    }
    spec = request(
        data_bucket,
        AlgorithmSpecification={"TrainingImage": "linear-learner", "TrainingInputMode": "File"},
        HyperParameters={"predictor_type": "binary_classifier", "epochs": "3"},
        InputDataConfig=[train],
    )
    job = training_job_create(user=user, spec=spec)
    status = run_training_job(job.pk)
    job.refresh_from_db()
    assert status == "Completed", job.failure_reason
    assert "Channel train: 1 objects" in training_job_log(job)


@pytest.mark.parametrize(
    ("image", "hyperparameters", "metric"),
    [
        (
            "lightgbm",
            {"num_boost_round": "15", "objective": "binary", "metric": "binary_error"},
            "validation:binary_error",
        ),
        (
            "xgboost",
            {"num_round": "15", "objective": "binary:logistic", "eval_metric": "error"},
            "validation:error",
        ),
    ],
)
def test_two_instances_train_on_dask_with_sharded_objects(
    user, data_bucket, image, hyperparameters, metric
):
    sharded = channel("train", f"s3://{data_bucket}/train/")
    sharded["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    spec = request(
        data_bucket,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        HyperParameters=hyperparameters,
        InputDataConfig=[sharded, channel("validation", f"s3://{data_bucket}/validation/")],
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1},
    )
    job = training_job_create(user=user, spec=spec)
    status = run_training_job(job.pk)
    job.refresh_from_db()
    assert status == "Completed", job.failure_reason
    assert "Training on 2 Dask workers" in training_job_log(job)
    assert job.final_metrics[metric] < 0.15
    assert get_store().exists(job.model_artifacts)


def ground_truth_manifest(rows: bytes, *, label: str = "species") -> bytes:
    """Ground Truth's output manifest for text classification over CSV feature rows."""
    import json

    lines = []
    for row in rows.decode().splitlines():
        cls, _, features = row.partition(",")
        metadata = {
            "class-name": ["no", "yes"][int(cls)],
            "confidence": 0.0,
            "type": "groundtruth/text-classification",
            "job-name": "labeling-job/species",
            "human-annotated": "yes",
            "creation-date": "2024-01-01T00:00:00.000000",
        }
        lines.append(
            json.dumps({"source": features, label: int(cls), f"{label}-metadata": metadata})
        )
    return ("\n".join(lines) + "\n").encode()


def augmented(name: str, uri: str, attribute_names: list[str]) -> dict:
    return {
        "ChannelName": name,
        "ContentType": "text/csv",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "AugmentedManifestFile",
                "S3Uri": uri,
                "AttributeNames": attribute_names,
            }
        },
    }


def test_a_ground_truth_output_manifest_trains_as_an_augmented_manifest_channel(user, data_bucket):
    store = get_store()
    for name, seed in (("train", 3), ("validation", 4)):
        store.write_bytes(
            f"s3://{data_bucket}/gt/{name}/output.manifest",
            ground_truth_manifest(labelled_csv(300, seed=seed)),
        )
    spec = request(
        data_bucket,
        InputDataConfig=[
            augmented(name, f"s3://{data_bucket}/gt/{name}/output.manifest", ["source", "species"])
            for name in ("train", "validation")
        ],
    )
    job = training_job_create(user=user, spec=spec)
    status = run_training_job(job.pk)
    job.refresh_from_db()
    assert status == "Completed", job.failure_reason
    finals = {
        m["MetricName"]: m["Value"] for m in training_job_describe(job)["FinalMetricDataList"]
    }
    assert finals["validation:auc"] > 0.9
    assert "Channel train: 300 records from the augmented manifest" in training_job_log(job)


def test_a_bad_augmented_manifest_line_fails_the_job_naming_the_object_and_line(user, data_bucket):
    store = get_store()
    lines = ground_truth_manifest(labelled_csv(20)).decode().splitlines()
    lines[4] = lines[4].replace('"species": ', '"species": "dog", "x": ')
    uri = f"s3://{data_bucket}/gt/bad.manifest"
    store.write_bytes(uri, ("\n".join(lines) + "\n").encode())
    spec = request(data_bucket, InputDataConfig=[augmented("train", uri, ["source", "species"])])

    job = training_job_create(user=user, spec=spec)
    assert run_training_job(job.pk) == "Failed"

    job.refresh_from_db()
    assert job.failure_reason.startswith(f"ClientError: {uri}: line 5, attribute 'species'")
    assert "the label must be a number" in job.failure_reason


def test_a_source_ref_into_another_users_bucket_fails_the_job_naming_it(
    user, other_user, data_bucket
):
    """The manifest is the owner's, and passed the checks at create; the object one of its lines
    names is in a bucket of another account: the job reads nothing of it and fails saying so."""
    theirs = owned_bucket(other_user, "theirs")
    secret = f"s3://{theirs}/private/row.csv"
    get_store().write_bytes(secret, b"0.1,0.2,0.3")
    uri = f"s3://{data_bucket}/gt/refs.manifest"
    line = {"source-ref": f"s3://{data_bucket}/train/part-1.csv", "species": 1}
    get_store().write_bytes(uri, (json.dumps(line) + "\n").encode())
    spec = request(
        data_bucket, InputDataConfig=[augmented("train", uri, ["source-ref", "species"])]
    )
    job = training_job_create(user=user, spec=spec)
    # Changed after the job was created, before it runs.
    get_store().write_bytes(uri, (json.dumps({**line, "source-ref": secret}) + "\n").encode())

    assert run_training_job(job.pk) == "Failed"

    job.refresh_from_db()
    assert f"{secret} is in the bucket '{theirs}'" in job.failure_reason
    assert "not one of this job's owner's buckets" in job.failure_reason
    assert "0.1,0.2,0.3" not in training_job_log(job)
