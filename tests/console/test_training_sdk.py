"""The SageMaker Python SDK's ``Estimator`` as notebooks use it, against the live server: ``fit``
with its defaults creates the job, follows its log through the Logs API and returns when the
job ends.

The job's flow runs in the test, as the serve process would run it, started where the platform
would start its flow run.
"""

from __future__ import annotations

import threading

import boto3
import pytest
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.session import Session

from flows.training import run_training_job

pytestmark = pytest.mark.django_db(transaction=True)
ROLE = "arn:aws:iam::000000000000:role/sagebrush"


@pytest.fixture
def flow_runs_in_threads(monkeypatch):
    """Each started flow run runs at once beside the SDK call that started it."""
    threads: list[threading.Thread] = []

    def start(deployment, *, parameters):
        thread = threading.Thread(target=run_training_job, args=(parameters["job_id"],))
        thread.start()
        threads.append(thread)

    monkeypatch.setattr("infra.prefect.start_flow_run", start)
    yield threads
    for thread in threads:
        thread.join(timeout=120)


def test_fit_with_default_arguments_prints_the_log_and_returns_when_the_job_ends(
    live_server, sagemaker, data_bucket, flow_runs_in_threads, monkeypatch, capsys
):
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", live_server.url)
    session = Session(
        boto_session=boto3.Session(
            aws_access_key_id=sagemaker._request_signer._credentials.access_key,
            aws_secret_access_key=sagemaker._request_signer._credentials.secret_key,
            region_name="us-east-1",
        ),
        sagemaker_client=sagemaker,
        default_bucket=data_bucket,
    )
    estimator = Estimator(
        image_uri="xgboost",
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path=f"s3://{data_bucket}/sdk-output",
        hyperparameters={"num_round": 5, "objective": "binary:logistic", "eval_metric": "auc"},
        sagemaker_session=session,
    )
    estimator.fit(
        {
            "train": TrainingInput(f"s3://{data_bucket}/train/", content_type="csv"),
            "validation": TrainingInput(f"s3://{data_bucket}/validation/", content_type="csv"),
        }
    )

    printed = capsys.readouterr().out
    name = estimator.latest_training_job.name
    assert "validation-auc" in printed  # the algorithm's own log lines, as the SDK prints them
    assert "Completed - Training job completed" in printed
    described = sagemaker.describe_training_job(TrainingJobName=name)
    assert described["TrainingJobStatus"] == "Completed"
    # What the SDK's Estimator.attach indexes, beside the tags it lists (ListTags: not yet).
    assert described["OutputDataConfig"]["KmsKeyId"] == ""
    assert described["AlgorithmSpecification"]["MetricDefinitions"] == []
