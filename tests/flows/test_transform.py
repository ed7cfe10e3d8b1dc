"""The transform flow's work, in-process: the test database, the local store, a real Dask cluster.

``run_transform_job`` is what the Prefect flow runs; here it runs on the suite's two-worker
LocalCluster, and the job's row is checked for what the console and the APIs show.
"""

from __future__ import annotations

import pytest

from console.core.selectors import job_log_events
from console.transform.models import TransformJob
from console.transform.selectors import transform_job_describe
from console.transform.services import transform_job_create, transform_job_stop
from flows.transform import JobMonitor, run_transform_job
from infra.storage import get_store
from tests.conftest import FEATURES, TRANSFORM_ROWS
from tests.console.test_transform import request
from tests.datasets import feature_rows, oracle

pytestmark = pytest.mark.django_db

RANGE_BYTES = 2048  # many ranges from a few KB, spread over both workers


def outputs(bucket: str) -> dict[str, bytes]:
    store, prefix = get_store(), f"s3://{bucket}/out/"
    return {info.uri[len(prefix) :]: store.read_bytes(info.uri) for info in store.list(prefix)}


def test_a_job_runs_to_completed_with_its_progress_recorded(
    user,
    transform_bucket,
    dask_client,
    lightgbm_model,
):
    store = get_store()
    big, crlf = feature_rows(400, FEATURES, seed=1), feature_rows(30, FEATURES, seed=2)
    store.write_bytes(f"s3://{transform_bucket}/in/big.csv", b"\n".join(big) + b"\n")
    store.write_bytes(f"s3://{transform_bucket}/in/crlf.csv", b"\r\n".join(crlf))
    job = transform_job_create(user=user, spec=request(transform_bucket))

    assert run_transform_job(job.pk, client=dask_client, range_bytes=RANGE_BYTES) == "Completed"

    small = TRANSFORM_ROWS
    assert outputs(transform_bucket) == {
        "a.csv.out": oracle(lightgbm_model, small),
        "b.csv.out": oracle(lightgbm_model, small),
        "big.csv.out": oracle(lightgbm_model, big),
        "crlf.csv.out": oracle(lightgbm_model, crlf),
        "sub/c.csv.out": oracle(lightgbm_model, small),
    }
    job.refresh_from_db()
    progress = job.progress
    assert (progress["objects_total"], progress["objects_completed"]) == (5, 5)
    assert progress["records"] == 3 * 3 + 400 + 30
    assert progress["bytes_done"] == progress["bytes_total"] > 0
    assert progress["ranges_total"] > 5
    by_uri = {item["uri"]: item for item in progress["objects"]}
    assert by_uri[f"s3://{transform_bucket}/in/big.csv"]["records"] == 400
    assert {item["status"] for item in progress["objects"]} == {"Completed"}
    assert "dashboard_url" not in progress  # linked only while the job runs
    described = transform_job_describe(job)
    assert described["TransformStartTime"] <= described["TransformEndTime"]
    assert "FailureReason" not in described
    log = [line for _, line in job_log_events(job)]
    assert log[0].startswith(f"Transform job {job.name}: 5 input objects, ")
    assert f"s3://{transform_bucket}/in/big.csv: 400 records -> " in "\n".join(log)
    assert log[-1] == "Transform job Completed: 5 of 5 objects transformed, 439 records"


def test_a_bad_object_fails_alone_and_the_reason_names_object_and_line(
    user,
    transform_bucket,
    dask_client,
    lightgbm_model,
):
    rows = feature_rows(300, FEATURES, seed=3)
    rows[250] = b"1,2,three,4,5"
    get_store().write_bytes(f"s3://{transform_bucket}/in/bad.csv", b"\n".join(rows) + b"\n")
    job = transform_job_create(user=user, spec=request(transform_bucket))

    assert run_transform_job(job.pk, client=dask_client, range_bytes=RANGE_BYTES) == "Failed"

    assert set(outputs(transform_bucket)) == {"a.csv.out", "b.csv.out", "sub/c.csv.out"}
    job.refresh_from_db()
    assert job.failure_reason.startswith("1 of 4 input objects failed: ")
    assert f"s3://{transform_bucket}/in/bad.csv line 251: " in job.failure_reason
    statuses = {item["uri"].rsplit("/", 1)[-1]: item["status"] for item in job.progress["objects"]}
    assert statuses == {
        "a.csv": "Completed",
        "b.csv": "Completed",
        "bad.csv": "Failed",
        "c.csv": "Completed",
    }


def test_input_gone_by_the_time_the_job_runs_fails_it_saying_so(
    user, transform_bucket, dask_client
):
    job = transform_job_create(user=user, spec=request(transform_bucket))
    get_store().delete_prefix(f"s3://{transform_bucket}/in/")

    assert run_transform_job(job.pk, client=dask_client) == "Failed"

    job.refresh_from_db()
    assert job.failure_reason.startswith("ClientError: ")
    assert "matches no objects" in job.failure_reason
    assert [line for _, line in job_log_events(job)] == [job.failure_reason]


def test_a_job_stopped_before_it_ran_ends_stopped_with_nothing_published(
    user,
    transform_bucket,
    dask_client,
):
    job = transform_job_create(user=user, spec=request(transform_bucket))
    transform_job_stop(user=user, name=job.name)

    assert run_transform_job(job.pk, client=dask_client) == "Stopped"
    assert outputs(transform_bucket) == {}
    assert TransformJob.objects.get(pk=job.pk).ended_at is not None


def test_the_monitor_sees_a_stop_request_and_writes_progress_at_most_every_second(
    user, transform_bucket
):
    from batch.engine import Progress

    job = transform_job_create(user=user, spec=request(transform_bucket))
    monitor = JobMonitor(job.pk)
    assert not monitor.should_stop()
    transform_job_stop(user=user, name=job.name)
    monitor.should_stop._checked_at = 0.0  # as if a second had passed
    assert monitor.should_stop()

    def report(records: int) -> Progress:
        return Progress(1, 0, 0, 1, 0, records, 0, 10)

    monitor.progress(report(5))
    monitor.progress(report(6))  # within the second: not written
    assert TransformJob.objects.get(pk=job.pk).progress["records"] == 5
