"""The labeling flow's human-only path, in-process: the flow run waits in a thread while the work
team answers through the same services the console and REST use."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection

from console.labeling.models import HumanAnswer, LabelingJob
from console.labeling.selectors import labeling_job_describe
from console.labeling.services import (
    labeling_job_create,
    labeling_job_stop,
    labeling_task_answer,
    labeling_task_next,
)
from flows.labeling import run_labeling_job
from infra.storage import get_store
from tests.console.labeling import conftest as labeling
from tests.console.labeling.conftest import TEXTS, job_request

pytestmark = pytest.mark.django_db(transaction=True)
labeling_bucket = labeling.labeling_bucket
labelers = labeling.labelers
workteam = labeling.workteam


@pytest.fixture(autouse=True)
def _flow_runs_start(monkeypatch):
    monkeypatch.setattr("infra.prefect.start_flow_run", lambda deployment, *, parameters: None)


class FlowRun(threading.Thread):
    def __init__(self, job_id: int) -> None:
        super().__init__(daemon=True)
        self.job_id, self.status = job_id, None

    def run(self) -> None:
        try:
            self.status = run_labeling_job(self.job_id, poll_seconds=0.05)
        finally:
            connection.close()


def running(job: LabelingJob) -> FlowRun:
    run = FlowRun(job.pk)
    run.start()
    for _ in range(200):
        job.refresh_from_db()
        if job.status == "InProgress" and job.items.filter(sent_to_humans=True).exists():
            return run
        run.join(0.05)
    raise AssertionError("the flow did not send the items to people")


def test_people_label_every_item_and_the_job_completes(user, workteam, labeling_bucket, labelers):
    job = labeling_job_create(user=user, spec=job_request(labeling_bucket, workteam.arn))
    run = running(job)
    answers = {}
    while (item := labeling_task_next(user=labelers[0], job=job)) is not None:
        answers[item.index] = item.index % 2
        labeling_task_answer(user=labelers[0], item=item, label=item.index % 2)
    run.join(10)
    assert run.status == "Completed"
    job.refresh_from_db()
    described = labeling_job_describe(job)
    assert described["LabelCounters"] == {
        "TotalLabeled": len(TEXTS),
        "HumanLabeled": len(TEXTS),
        "MachineLabeled": 0,
        "FailedNonRetryableError": 0,
        "Unlabeled": 0,
    }
    uri = described["LabelingJobOutput"]["OutputDatasetS3Uri"]
    lines = [json.loads(line) for line in get_store().read_bytes(uri).splitlines()]
    assert [line["sentiment"] for line in lines] == [str(answers[i]) for i in range(len(TEXTS))]
    assert {line["sentiment-metadata"]["human-annotated"] for line in lines} == {"yes"}


def test_a_stopping_condition_ends_the_job(user, workteam, labeling_bucket, labelers):
    spec = job_request(
        labeling_bucket, workteam.arn, StoppingConditions={"MaxHumanLabeledObjectCount": 2}
    )
    job = labeling_job_create(user=user, spec=spec)
    run = running(job)
    for _ in range(2):
        item = labeling_task_next(user=labelers[0], job=job)
        labeling_task_answer(user=labelers[0], item=item, label="positive")
    assert labeling_task_next(user=labelers[0], job=job) is None  # the human budget is spent
    run.join(10)
    assert run.status == "Completed"
    job.refresh_from_db()
    assert (job.label_counters["HumanLabeled"], job.label_counters["Unlabeled"]) == (2, 3)


def test_stopping_keeps_every_answer_given(user, workteam, labeling_bucket, labelers):
    spec = job_request(labeling_bucket, workteam.arn)
    spec["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"] = 2
    job = labeling_job_create(user=user, spec=spec)
    run = running(job)
    item = labeling_task_next(user=labelers[0], job=job)
    labeling_task_answer(user=labelers[0], item=item, label="negative")
    labeling_job_stop(user=user, name="films")
    run.join(10)
    assert run.status == "Stopped"
    job.refresh_from_db()
    assert job.label_counters["Unlabeled"] == len(TEXTS)
    assert HumanAnswer.objects.filter(item__job=job, worker=labelers[0]).count() == 1
    assert job.output["OutputDatasetS3Uri"].endswith("/films/manifests/output/output.manifest")


def test_a_job_stopped_before_its_run_began_ends_stopped(user, workteam, labeling_bucket):
    job = labeling_job_create(user=user, spec=job_request(labeling_bucket, workteam.arn))
    labeling_job_stop(user=user, name="films")
    assert run_labeling_job(job.pk) == "Stopped"
    job.refresh_from_db()
    assert (job.output, job.items.count()) == ({}, 0)


def test_a_manifest_broken_after_create_fails_the_job_naming_the_line(
    user, workteam, labeling_bucket
):
    job = labeling_job_create(user=user, spec=job_request(labeling_bucket, workteam.arn))
    get_store().write_bytes(
        f"s3://{labeling_bucket}/in/texts.manifest", b'{"source": "a"}\n{oops\n'
    )
    assert run_labeling_job(job.pk) == "Failed"
    job.refresh_from_db()
    assert job.failure_reason.startswith("ClientError: ")
    assert "Line 2 of the manifest is not JSON" in job.failure_reason
