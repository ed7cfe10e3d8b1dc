"""CloudWatch metrics as SageMaker clients read training curves: boto3's ``cloudwatch`` client
against the live server, in the protocol botocore speaks to it, with CloudWatch's own errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from console.core.names import account_id_for, arn
from console.training.models import TrainingJob, TrainingMetric

pytestmark = pytest.mark.django_db(transaction=True)
NAMESPACE = "/aws/sagemaker/TrainingJobs"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def cloudwatch(live_server, access_key):
    client = boto3.client(
        "cloudwatch",
        endpoint_url=live_server.url,
        region_name="us-east-1",
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key=access_key.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    yield client
    client.close()


def job_with_metrics(owner, name: str, values: dict[str, list[tuple[int, float]]]) -> TrainingJob:
    """A job whose metrics were recorded ``seconds`` after START."""
    job = TrainingJob.objects.create(
        owner=owner,
        name=name,
        status="Completed",
        arn=arn("training-job", name, account_id=account_id_for(owner.pk)),
        started_at=START,
    )
    TrainingMetric.objects.bulk_create(
        TrainingMetric(
            job=job, name=metric, step=n, value=value, timestamp=START + timedelta(seconds=seconds)
        )
        for metric, points in values.items()
        for n, (seconds, value) in enumerate(points, start=1)
    )
    return job


def statistics(cloudwatch, job: str, metric: str, **extra) -> list[dict]:
    request = {
        "Namespace": NAMESPACE,
        "MetricName": metric,
        "Dimensions": [{"Name": "TrainingJobName", "Value": job}],
        "StartTime": START,
        "EndTime": START + timedelta(minutes=10),
        "Period": 60,
        "Statistics": ["Average"],
        **extra,
    }
    sent = {name: value for name, value in request.items() if value is not None}
    return cloudwatch.get_metric_statistics(**sent)["Datapoints"]


def test_a_jobs_metric_is_aggregated_per_period(cloudwatch, user):
    job_with_metrics(
        user,
        "xgb",
        {
            "validation:auc": [(5, 0.6), (30, 0.8), (70, 0.9), (200, 0.95)],
            "train:auc": [(5, 0.7)],
        },
    )
    points = statistics(
        cloudwatch,
        "xgb",
        "validation:auc",
        Statistics=["Average", "Minimum", "Maximum", "SampleCount", "Sum"],
        ExtendedStatistics=["p50"],
    )
    assert [p["Timestamp"] for p in points] == [
        START,
        START + timedelta(minutes=1),
        START + timedelta(minutes=3),
    ]
    first = points[0]
    assert first["Average"] == pytest.approx(0.7)
    assert (first["Minimum"], first["Maximum"], first["SampleCount"]) == (0.6, 0.8, 2.0)
    assert first["Sum"] == pytest.approx(1.4)
    assert first["ExtendedStatistics"]["p50"] == pytest.approx(0.7)
    assert first["Unit"] == "None"
    assert [p["Average"] for p in points[1:]] == [0.9, 0.95]

    by_second = statistics(cloudwatch, "xgb", "validation:auc", Period=1)
    assert [p["Average"] for p in by_second] == [0.6, 0.8, 0.9, 0.95]
    assert set(by_second[0]) == {"Timestamp", "Average", "Unit"}


def test_what_nobody_recorded_has_no_datapoints(cloudwatch, user, other_user):
    job_with_metrics(other_user, "theirs", {"validation:auc": [(5, 0.6)]})
    job_with_metrics(user, "mine", {"validation:auc": [(5, 0.6)]})
    assert statistics(cloudwatch, "theirs", "validation:auc") == []
    assert statistics(cloudwatch, "mine", "validation:rmse") == []
    assert statistics(cloudwatch, "missing", "validation:auc") == []
    assert statistics(cloudwatch, "mine", "validation:auc", Namespace="AWS/EC2") == []
    late = {"StartTime": START + timedelta(minutes=5), "EndTime": START + timedelta(minutes=9)}
    assert statistics(cloudwatch, "mine", "validation:auc", **late) == []


def test_list_metrics_names_each_jobs_metrics(cloudwatch, user, other_user):
    job_with_metrics(user, "a", {"train:auc": [(1, 0.5)], "validation:auc": [(1, 0.5)]})
    job_with_metrics(user, "b", {"validation:auc": [(1, 0.5)]})
    job_with_metrics(other_user, "c", {"validation:auc": [(1, 0.5)]})
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert [(m["Dimensions"][0]["Value"], m["MetricName"]) for m in listed] == [
        ("a", "train:auc"),
        ("a", "validation:auc"),
        ("b", "validation:auc"),
    ]
    assert listed[0] == {
        "Namespace": NAMESPACE,
        "MetricName": "train:auc",
        "Dimensions": [{"Name": "TrainingJobName", "Value": "a"}],
    }
    only_b = cloudwatch.list_metrics(Dimensions=[{"Name": "TrainingJobName", "Value": "b"}])
    assert [m["MetricName"] for m in only_b["Metrics"]] == ["validation:auc"]
    assert cloudwatch.list_metrics(Namespace="AWS/EC2")["Metrics"] == []


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        (
            {"Period": 90},
            "InvalidParameterValue",
            "Period must be 1, 5, 10, 30, or a multiple of 60",
        ),
        (
            {"EndTime": START - timedelta(minutes=1)},
            "InvalidParameterValue",
            "StartTime must be less than the parameter EndTime",
        ),
        (
            {"Period": 1, "EndTime": START + timedelta(hours=1)},
            "InvalidParameterCombination",
            "3600 datapoints, which exceeds the limit of 1440",
        ),
        ({"Statistics": None}, "InvalidParameterCombination", "Statistics or ExtendedStatistics"),
        ({"ExtendedStatistics": ["median"]}, "InvalidParameterValue", "ExtendedStatistics"),
        ({"Statistics": ["Mean"]}, "InvalidParameterValue", "statistics"),
    ],
)
def test_bad_requests_get_cloudwatchs_errors_naming_the_field(
    cloudwatch, user, changes, code, words
):
    with pytest.raises(ClientError) as raised:
        statistics(cloudwatch, "any", "validation:auc", **changes)
    error = raised.value.response["Error"]
    assert error["Code"] == code
    assert words in error["Message"], error["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_invalid_parameter_is_the_modelled_exception(cloudwatch, user):
    with pytest.raises(cloudwatch.exceptions.InvalidParameterValueException):
        statistics(cloudwatch, "any", "validation:auc", Period=90)
    with pytest.raises(ClientError) as raised:
        cloudwatch.describe_alarms()
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
