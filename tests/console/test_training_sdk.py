"""The SageMaker Python SDK's ``Estimator`` as notebooks use it, against the live server: ``fit``
with its defaults creates the job, follows its log through the Logs API and returns when the
job ends; ``Estimator.attach`` binds to the finished job with its tags, and
``training_job_analytics`` reads its metrics through CloudWatch.

The job's flow runs in the test, as the serve process would run it, started where the platform
would start its flow run.
"""

from __future__ import annotations

import pytest
from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput

from console.training.models import TrainingMetric
from flows.training import run_training_job
from tests.console.conftest import sdk_session

pytestmark = pytest.mark.django_db(transaction=True)
ROLE = "arn:aws:iam::000000000000:role/sagebrush"


@pytest.fixture
def flow_runs_in_threads(run_flows_in_threads):
    return run_flows_in_threads(run_training_job)


def test_fit_with_default_arguments_prints_the_log_and_returns_when_the_job_ends(
    live_server, sagemaker, access_key, data_bucket, flow_runs_in_threads, monkeypatch, capsys
):
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", live_server.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", live_server.url)
    session = sdk_session(access_key, sagemaker, data_bucket)
    estimator = Estimator(
        image_uri="xgboost",
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path=f"s3://{data_bucket}/sdk-output",
        hyperparameters={"num_round": 5, "objective": "binary:logistic", "eval_metric": "auc"},
        sagemaker_session=session,
        tags=[{"Key": "team", "Value": "fraud"}],
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
    # What the SDK's Estimator.attach indexes, beside the tags it lists.
    assert described["OutputDataConfig"]["KmsKeyId"] == ""

    attached = Estimator.attach(name, sagemaker_session=session)
    assert attached.latest_training_job.name == name
    assert attached.model_data == described["ModelArtifacts"]["S3ModelArtifacts"]
    assert attached.tags == [{"Key": "team", "Value": "fraud"}]
    assert attached.hyperparameters()["num_round"] == "5"

    # The curve of each metric the job recorded, averaged per minute as CloudWatch serves it.
    frame = estimator.training_job_analytics.dataframe()
    recorded: dict[str, list[TrainingMetric]] = {}
    for metric in TrainingMetric.objects.filter(job__name=name):
        recorded.setdefault(metric.name, []).append(metric)
    assert "validation:auc" in recorded
    assert set(frame["metric_name"]) == set(recorded)
    for metric_name, metrics in recorded.items():
        values = frame[frame["metric_name"] == metric_name]["value"]
        minutes = {m.timestamp.replace(second=0, microsecond=0) for m in metrics}
        assert len(values) == len(minutes)
        lowest, highest = min(m.value for m in metrics), max(m.value for m in metrics)
        assert all(lowest - 1e-9 <= value <= highest + 1e-9 for value in values)
        if len(minutes) == 1:
            assert values.iloc[0] == pytest.approx(sum(m.value for m in metrics) / len(metrics))
