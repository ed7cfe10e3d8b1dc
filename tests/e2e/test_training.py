"""Training from boto3 alone, against the running platform: the issue's "Done means"."""

from __future__ import annotations

import io
import tarfile
import time

import pytest

from tests.conftest import sklearn_script_tarball
from tests.stack import STACK_START_S, WAIT, channels, training_bucket

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def data(stack) -> str:
    return training_bucket(stack, "e2e", train=800, validation=300, seed=1)


@pytest.mark.timeout(STACK_START_S + 300)  # WAIT's four minutes and then some
def test_xgboost_job_from_boto3_then_create_model(stack, data):
    sm = stack.sagemaker
    sm.create_training_job(
        TrainingJobName="e2e-xgboost",
        RoleArn="arn:aws:iam::000000000000:role/sagebrush",
        AlgorithmSpecification={
            "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "TrainingInputMode": "File",
        },
        HyperParameters={
            "num_round": "30",
            "eta": "0.2",
            "max_depth": "4",
            "objective": "binary:logistic",
            "eval_metric": "auc",
        },
        InputDataConfig=channels(data),
        OutputDataConfig={"S3OutputPath": f"s3://{data}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="e2e-xgboost", WaiterConfig=WAIT
    )
    job = sm.describe_training_job(TrainingJobName="e2e-xgboost")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    artifact = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifact == f"s3://{data}/models/e2e-xgboost/output/model.tar.gz"
    assert stack.store.exists(artifact)
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert metrics["validation:auc"] > 0.9
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]][-1] == "Completed"
    listed = sm.list_training_jobs(StatusEquals="Completed", NameContains="e2e-xgboost")[
        "TrainingJobSummaries"
    ]  # the session's stack holds other tests' jobs too, past the first page
    assert "e2e-xgboost" in [summary["TrainingJobName"] for summary in listed]

    model_arn = sm.create_model(
        ModelName="e2e-xgboost-model",
        PrimaryContainer={"Image": "xgboost", "ModelDataUrl": artifact},
        ExecutionRoleArn="arn:aws:iam::000000000000:role/sagebrush",
    )["ModelArn"]
    assert model_arn.endswith(":model/e2e-xgboost-model")
    model = sm.describe_model(ModelName="e2e-xgboost-model")
    assert model["PrimaryContainer"]["ModelDataUrl"] == artifact
    status, rest = stack.rest("GET", "/api/v1/models/e2e-xgboost-model/")
    assert (status, rest["model_name"]) == (200, "e2e-xgboost-model")


@pytest.mark.timeout(STACK_START_S + 300)  # WAIT's four minutes and then some
def test_script_mode_trains_a_users_sklearn_script(stack, data):
    stack.store.write_bytes(f"s3://{data}/code/sourcedir.tar.gz", sklearn_script_tarball())

    sm = stack.sagemaker
    sm.create_training_job(
        TrainingJobName="e2e-script",
        RoleArn="arn:aws:iam::000000000000:role/sagebrush",
        AlgorithmSpecification={
            "TrainingImage": "sagemaker-scikit-learn:1.2-1-cpu-py3",
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "train:accuracy", "Regex": "train_accuracy=(.*?);"}],
        },
        HyperParameters={
            "regularization": "0.5",
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": f'"s3://{data}/code/sourcedir.tar.gz"',
        },
        InputDataConfig=channels(data)[:1],
        OutputDataConfig={"S3OutputPath": f"s3://{data}/models"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="e2e-script", WaiterConfig=WAIT
    )
    job = sm.describe_training_job(TrainingJobName="e2e-script")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert metrics["train:accuracy"] > 0.9
    with tarfile.open(
        fileobj=io.BytesIO(stack.store.read_bytes(job["ModelArtifacts"]["S3ModelArtifacts"]))
    ) as archive:
        assert {"model.joblib", "code/train.py"} <= set(archive.getnames())


def test_the_flows_log_tells_what_ran_not_every_api_call(stack):
    """The runner asks the Prefect API for runs twice a second; its log says what ran (at least
    the start-up reconcile), never a line per request."""
    time.sleep(2)  # a few polls at least
    log = stack.log("flows")
    assert "Beginning flow run" in log
    assert "HTTP Request:" not in log
