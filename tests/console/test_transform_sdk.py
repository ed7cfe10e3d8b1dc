"""The SageMaker Python SDK's ``Transformer`` as notebooks use it, against the live server:
``transform(..., wait=True, logs=True)`` creates the job, prints its log read through the Logs
API (``/aws/sagemaker/TransformJobs``) and returns when the job ends.

The job's flow runs in the test, on the suite's Dask cluster, started where the platform would
start its flow run.
"""

from __future__ import annotations

import time

import pytest
from sagemaker.transformer import Transformer

from flows.transform import run_transform_job
from infra.storage import get_store
from tests.conftest import TRANSFORM_ROWS
from tests.console.conftest import sdk_session

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def flow_runs_in_threads(run_flows_in_threads, dask_client):
    return run_flows_in_threads(run_transform_job, client=dask_client)


class QuickClock:
    """The SDK's clock with its pauses shortened: it polls the log every 10 s and the job's
    status every 30 s; here each pause is a tenth of a second, and the clock moves on as if the
    whole pause had passed, so the SDK's own sequence of calls is unchanged."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, 0.1))
        self.skipped += max(seconds - 0.1, 0.0)

    def time(self) -> float:
        return time.time() + self.skipped

    def __getattr__(self, name: str):
        return getattr(time, name)


def test_transform_with_logs_prints_the_jobs_log_and_returns_when_it_ends(
    live_server, sagemaker, access_key, transform_bucket, flow_runs_in_threads, monkeypatch, capsys
):
    monkeypatch.setattr("sagemaker.session.time", QuickClock())
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", live_server.url)
    session = sdk_session(access_key, sagemaker, transform_bucket)
    transformer = Transformer(
        model_name="lgbm",
        instance_count=1,
        instance_type="ml.m5.large",
        output_path=f"s3://{transform_bucket}/sdk-out",
        assemble_with="Line",
        sagemaker_session=session,
    )

    transformer.transform(
        f"s3://{transform_bucket}/in/",
        content_type="text/csv",
        split_type="Line",
        wait=True,
        logs=True,
    )

    printed = capsys.readouterr().out
    name = transformer.latest_transform_job.name
    assert sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == (
        "Completed"
    )
    assert f"Transform job {name}: 3 input objects" in printed
    assert f"s3://{transform_bucket}/in/a.csv: {len(TRANSFORM_ROWS)} records" in printed
    assert "Transform job Completed: 3 of 3 objects transformed, 9 records" in printed
    out = get_store().read_bytes(f"s3://{transform_bucket}/sdk-out/a.csv.out")
    assert out.count(b"\n") == len(TRANSFORM_ROWS)
