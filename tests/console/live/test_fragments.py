"""Every live job page answers its fragment URLs with just that fragment (the element the page
polls, nothing of the page around it), never reloads itself, and says when to stop polling."""

from __future__ import annotations

import pytest

from console.endpoints.models import Endpoint
from console.labeling.models import LabelingJob
from console.pipelines.models import Pipeline, PipelineExecution
from console.processing.models import ProcessingJob, ProcessingLog
from console.transform.models import TransformJob
from console.tuning.models import HyperParameterTuningJob
from tests.console.labeling.conftest import job_request
from tests.console.live.conftest import job_row
from tests.console.pipelines.definitions import chain
from tests.console.test_transform import request as transform_request
from tests.console.test_tuning import request as tuning_request
from tests.flows.test_processing import request as processing_request

pytestmark = pytest.mark.django_db


def processing(user):
    job = job_row(ProcessingJob, user, "prep", "processing-job", spec=processing_request("raw"))
    ProcessingLog.objects.create(job=job, text="reading raw/\nwrote 10 rows\n")
    return job, "/processing-jobs/prep/", {"status": "processing-live", "outputs": "outputs-live"}


def transform(user):
    spec = transform_request("raw", name="score")
    job = job_row(TransformJob, user, "score", "transform-job", spec=spec, model_name="churn")
    return job, "/transform-jobs/score/", {"status": "transform-live"}


def labeling(user):
    job = job_row(
        LabelingJob,
        user,
        "films",
        "labeling-job",
        spec=job_request("raw", "arn:aws:sagemaker:::workteam/private-crowd/crew"),
        categories=["positive", "negative"],
        label_counters={"Unlabeled": 4},
    )
    return job, "/labeling-jobs/films/", {"status": "labeling-live"}


def tuning(user):
    job = job_row(HyperParameterTuningJob, user, "tune", "hyper-parameter-tuning-job")
    job.spec = tuning_request("data")
    job.save()
    return job, "/tuning-jobs/tune/", {"status": "tuning-live", "trials": "trials-live"}


def execution(user):
    pipeline = Pipeline.objects.create(
        owner=user, name="chain", arn="arn:aws:sagemaker:::pipeline/chain", definition=chain("d")
    )
    job = job_row(
        PipelineExecution,
        user,
        "run1",
        "pipeline-execution",
        pipeline=pipeline,
        definition=pipeline.definition,
        status="Executing",
    )
    return job, "/pipelines/chain/executions/run1/", {"status": "execution-live"}


PAGES = [processing, transform, labeling, tuning, execution]


@pytest.mark.parametrize("make", PAGES, ids=lambda make: make.__name__)
def test_each_part_answers_alone_until_the_job_ends(console, user, make):
    job, url, fragments = make(user)
    page = console.get(url).content.decode()
    assert 'http-equiv="refresh"' not in page and "location.reload" not in page
    assert "console/live.js" in page
    for name, element in fragments.items():
        assert f'data-live-url="{url}?fragment={name}"' in page
        html = console.get(f"{url}?fragment={name}").content.decode().strip()
        assert html.startswith((f'<div id="{element}"', f'<section id="{element}"')), html[:200]
        assert "crumbs" not in html and "</main>" not in html  # the fragment, not the page
        assert "data-live-done" not in html

    type(job).objects.filter(pk=job.pk).update(status=job.TERMINAL_STATUSES[0])
    for name in fragments:
        assert "data-live-done" in console.get(f"{url}?fragment={name}").content.decode()


def test_the_processing_log_follows_and_downloads_whole(console, user):
    processing(user)
    log = console.get("/processing-jobs/prep/?fragment=log").content.decode()
    assert "data-follow" in log and "wrote 10 rows" in log
    download = console.get("/processing-jobs/prep/log")
    assert download.content == b"reading raw/\nwrote 10 rows\n"
    assert download["Content-Disposition"] == 'attachment; filename="prep.log"'


def test_a_pipeline_and_an_endpoint_keep_polling_slowly_when_idle(console, user):
    execution(user)
    page = console.get("/pipelines/chain/?fragment=status").content.decode()
    assert 'data-live-seconds="3"' in page and "run1" in page  # an execution runs
    PipelineExecution.objects.update(status="Succeeded")
    idle = console.get("/pipelines/chain/?fragment=status").content.decode()
    assert 'data-live-seconds="30"' in idle

    Endpoint.objects.create(owner=user, name="live", arn="arn:aws:sagemaker:::endpoint/live")
    page = console.get("/endpoints/live/").content.decode()
    assert 'id="test-request"' in page and "location.reload" not in page
    status = console.get("/endpoints/live/?fragment=status").content.decode().strip()
    assert status.startswith('<div id="endpoint-live"') and 'data-live-seconds="3"' in status
    assert 'id="test-request"' not in status  # the half-typed request is never replaced
