"""CloudWatch metrics as SageMaker clients read training curves (``GraniteServiceVersion20100801``).

botocore speaks CloudWatch in JSON 1.0 (its model lists ``json`` before ``query``), signed for
``monitoring``. A training job's recorded metric series is the metric ``<name>`` of namespace
``/aws/sagemaker/TrainingJobs`` with the dimension ``TrainingJobName``, as SageMaker publishes
it; the SDK's ``TrainingJobAnalytics`` reads it with GetMetricStatistics. As in CloudWatch, a
metric nobody recorded (or another user's job) answers no datapoints, not an error.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from console.core.errors import NotFound
from console.core.metric_statistics import datapoints
from console.core.shapes import timestamp_value
from console.sagemaker.errors import AwsError, validation
from console.sagemaker.listing import decode_token, encode_token, page_response
from console.sagemaker.operations import CLOUDWATCH
from console.training.selectors import (
    training_job_get,
    training_job_metric_names,
    training_job_metric_series,
)

NAMESPACE = "/aws/sagemaker/TrainingJobs"
DIMENSION = "TrainingJobName"
MAX_DATAPOINTS = 1440  # GetMetricStatistics' limit per call
METRICS_PAGE = 500  # ListMetrics' page
SHORT_PERIODS = (1, 5, 10, 30)
PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d{1,2})?|100)$")


def _invalid(field: str, rule: str) -> AwsError:
    # CloudWatch's own code for a bad value (InvalidParameterValueException in boto3).
    return validation(f"The parameter {field} {rule}.")


def _combination(message: str) -> AwsError:
    return AwsError("InvalidParameterCombination", message)


def _time(params: dict, field: str) -> datetime:
    return timestamp_value(params[field])


def _check_request(params: dict) -> tuple[list[str], list[str], datetime, datetime, int]:
    statistics, extended = params.get("Statistics", []), params.get("ExtendedStatistics", [])
    if not statistics and not extended:
        raise _combination("Must specify either Statistics or ExtendedStatistics.")
    for statistic in extended:
        if not PERCENTILE.match(statistic):
            raise _invalid(
                "ExtendedStatistics", f"must be percentiles such as p99 (got {statistic})"
            )
    period = params["Period"]
    if period not in SHORT_PERIODS and period % 60:
        raise _invalid("Period", "must be 1, 5, 10, 30, or a multiple of 60")
    start, end = _time(params, "StartTime"), _time(params, "EndTime")
    if start >= end:
        raise _invalid("StartTime", "must be less than the parameter EndTime")
    asked = math.ceil((end - start).total_seconds() / period)
    if asked > MAX_DATAPOINTS:
        raise _combination(
            f"You have requested up to {asked} datapoints, which exceeds the limit of "
            f"{MAX_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, "
            "or decreasing the time range."
        )
    return statistics, extended, start, end, period


def _job_name(params: dict) -> str | None:
    """The training job the request's dimensions name exactly, or None."""
    dimensions = params.get("Dimensions", [])
    if params["Namespace"] != NAMESPACE or len(dimensions) != 1:
        return None
    (dimension,) = dimensions
    return dimension["Value"] if dimension["Name"] == DIMENSION else None


@CLOUDWATCH.operation("GetMetricStatistics")
def get_metric_statistics(*, user, params: dict) -> dict:
    statistics, extended, start, end, period = _check_request(params)
    name = params["MetricName"]
    job_name = _job_name(params)
    series: list[dict] = []
    if job_name is not None:
        try:
            job = training_job_get(user=user, name=job_name)
        except NotFound:
            job = None
        series = training_job_metric_series(job).get(name, []) if job else []
    points = [(item["timestamp"], item["value"]) for item in series]
    found = datapoints(
        points, start=start, end=end, period=period, statistics=statistics, extended=extended
    )
    return {"Label": name, "Datapoints": found}


@CLOUDWATCH.operation("ListMetrics")
def list_metrics(*, user, params: dict) -> dict:
    if params.get("Namespace", NAMESPACE) != NAMESPACE:
        return {"Metrics": []}
    wanted = {d["Name"]: d.get("Value") for d in params.get("Dimensions", [])}
    if set(wanted) - {DIMENSION}:
        return {"Metrics": []}
    metrics = [
        {
            "Namespace": NAMESPACE,
            "MetricName": metric,
            "Dimensions": [{"Name": DIMENSION, "Value": job}],
        }
        for job, metric in training_job_metric_names(user=user)
        if params.get("MetricName", metric) == metric and wanted.get(DIMENSION) in (None, job)
    ]
    offset = decode_token(params.get("NextToken"))
    page = metrics[offset : offset + METRICS_PAGE]
    more = offset + METRICS_PAGE < len(metrics)
    return page_response("Metrics", page, encode_token(offset + METRICS_PAGE) if more else None)
