"""Processing jobs through the REST API (`/api/v1/processing-jobs/`) and the console's pages: the
same service behind both, the same refusals, the log and the outputs shown."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from console.core.casing import snake_name
from console.core.names import account_id_for, arn
from console.processing.models import ProcessingJob
from console.processing.services import processing_job_create
from flows.processing import run_processing_job
from tests.console.core.test_lists import assert_pages_and_sorts, linked_names
from tests.flows.test_processing import FAILING, PREPROCESS, SKLEARN_IMAGE, put_script, request
from tests.flows.test_processing import bucket as processing_bucket

pytestmark = pytest.mark.django_db
bucket = processing_bucket


def snake(value):
    """A SageMaker request with the REST API's snake_case member names (maps keep their keys)."""
    if isinstance(value, list):
        return [snake(item) for item in value]
    if isinstance(value, dict):
        return {
            snake_name(key): item if key == "Environment" else snake(item)
            for key, item in value.items()
        }
    return value


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_rest_create_read_list_and_stop(api, bucket):
    put_script(bucket, PREPROCESS)
    created = api.post("/api/v1/processing-jobs/", snake(request(bucket)), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["processing_job_status"] == "InProgress"
    assert body["processing_inputs"][1]["s3_input"]["local_path"] == "/opt/ml/processing/input/code"
    assert body["uploaded"] == []

    run_processing_job(ProcessingJob.objects.get().pk)
    detail = api.get("/api/v1/processing-jobs/prep-job/").json()
    assert detail["processing_job_status"] == "Completed"
    assert detail["uploaded"] == [
        {"OutputName": "train", "S3Uri": f"s3://{bucket}/out/train", "Objects": 1}
    ]
    listed = api.get("/api/v1/processing-jobs/").json()["results"]
    assert [job["name"] for job in listed] == ["prep-job"]
    stopped = api.post("/api/v1/processing-jobs/prep-job/stop/")
    assert stopped.status_code == 409  # it has ended


def test_rest_refusals_are_400_naming_the_snake_case_field(api, bucket):
    put_script(bucket, PREPROCESS)
    bad = request(bucket)
    bad["ProcessingInputs"][0]["S3Input"]["LocalPath"] = "/data/in"
    response = api.post("/api/v1/processing-jobs/", snake(bad), format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "processing_inputs.1.s3_input.local_path"
    assert not ProcessingJob.objects.exists()


def test_console_pages_list_detail_log_and_outputs(client, user, bucket):
    put_script(bucket, FAILING)
    job = processing_job_create(user=user, spec=request(bucket))
    client.force_login(user)

    running = client.get("/processing-jobs/prep-job/")
    assert running.status_code == 200
    assert b"/processing-jobs/prep-job/?fragment=log" in running.content  # polled while it runs
    run_processing_job(job.pk)

    listing = client.get("/processing-jobs/").content.decode()
    assert "prep-job" in listing and "Failed" in listing
    page = client.get("/processing-jobs/prep-job/").content.decode()
    assert "ValueError: bad row 3: no label" in page  # the failure reason
    assert "row 3 has no label" in page  # the exit message
    assert "Traceback (most recent call last)" in page  # the log
    assert f"s3://{bucket}/out/train" in page
    log = client.get("/processing-jobs/prep-job/log").content.decode()  # the download
    assert "Traceback" in log and log.endswith("no label\n")


def test_the_list_shows_every_job_a_page_at_a_time_with_its_duration(client, user):
    started = timezone.now() - timedelta(hours=1)
    ProcessingJob.objects.bulk_create(
        ProcessingJob(
            owner=user,
            name=f"row-{index:03d}",
            arn=arn("processing-job", f"row-{index:03d}", account_id=account_id_for(user.pk)),
            status="Failed" if index % 4 == 0 else "Completed",
            spec=request("raw"),
            started_at=started,
            ended_at=started + timedelta(seconds=42),
        )
        for index in range(201)
    )
    client.force_login(user)
    assert_pages_and_sorts(client, "/processing-jobs/", 201)

    failed = client.get("/processing-jobs/", {"status": "Failed", "sort": "-name"}).content.decode()
    assert linked_names(failed, "/processing-jobs/")[:2] == ["row-200", "row-196"]
    assert ">Duration</th>" in failed and "<td>42 s</td>" in failed
    assert f"<code>{SKLEARN_IMAGE}</code>" in failed


def test_console_form_creates_a_job_and_refuses_what_the_api_refuses(client, user, bucket):
    put_script(bucket, PREPROCESS)
    client.force_login(user)
    form = {
        "name": "form-job",
        "image": "sagemaker-scikit-learn:1.2-1-cpu-py3",
        "code_uri": f"s3://{bucket}/code/preprocess.py",
        "arguments": "--split 0.2",
        "input_uri": f"s3://{bucket}/raw",
        "input_path": "/opt/ml/processing/input/raw",
        "output_uri": f"s3://{bucket}/out/form",
        "output_path": "/opt/ml/processing/train",
        "instance_type": "ml.m5.large",
        "instance_count": 1,
        "max_runtime": 600,
    }
    refused = client.post("/processing-jobs/new", {**form, "output_path": "/srv/out"})
    assert refused.status_code == 200
    assert "under /opt/ml/processing/" in refused.content.decode()
    assert not ProcessingJob.objects.exists()

    created = client.post("/processing-jobs/new", form)
    assert created.status_code == 302 and created["Location"].endswith("/processing-jobs/form-job/")
    job = ProcessingJob.objects.get(name="form-job")
    assert job.spec["AppSpecification"]["ContainerArguments"] == ["--split", "0.2"]
    assert run_processing_job(job.pk) == "Completed"


def test_the_navigation_leads_to_processing(client, user):
    client.force_login(user)
    assert b'href="/processing-jobs/"' in client.get("/processing-jobs/").content
