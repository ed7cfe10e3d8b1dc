"""The labeling flow's human-only path, in-process: each time the flow run waits for people, the
work team acts through the same services the console and REST use."""

from __future__ import annotations

import json
import time
import types
from collections.abc import Callable

import pytest

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

pytestmark = pytest.mark.django_db
labeling_bucket = labeling.labeling_bucket
labelers = labeling.labelers
workteam = labeling.workteam


def while_waiting(monkeypatch, act: Callable[[], None]) -> list[int]:
    """Call ``act`` each time the flow waits; returns a list that counts the waits."""
    waits: list[int] = []

    def sleep(_seconds: float) -> None:
        waits.append(1)
        assert len(waits) < 100, "the flow kept waiting"
        act()

    monkeypatch.setattr(
        "flows.labeling.time", types.SimpleNamespace(monotonic=time.monotonic, sleep=sleep)
    )
    return waits


def answer_one(job: LabelingJob, worker, label=None) -> None:
    item = labeling_task_next(user=worker, job=job)
    if item is not None:
        labeling_task_answer(
            user=worker, item=item, label=item.index % 2 if label is None else label
        )


def test_people_label_every_item_and_the_job_completes(
    monkeypatch, user, workteam, labeling_bucket, labelers
):
    job = labeling_job_create(user=user, spec=job_request(labeling_bucket, workteam.arn))
    waits = while_waiting(monkeypatch, lambda: answer_one(job, labelers[0]))
    assert run_labeling_job(job.pk, poll_seconds=0) == "Completed"
    assert len(waits) == len(TEXTS)
    job.refresh_from_db()
    described = labeling_job_describe(job)
    assert described["LabelingJobStatus"] == "Completed"
    assert described["LabelCounters"] == {
        "TotalLabeled": len(TEXTS),
        "HumanLabeled": len(TEXTS),
        "MachineLabeled": 0,
        "FailedNonRetryableError": 0,
        "Unlabeled": 0,
    }
    uri = described["LabelingJobOutput"]["OutputDatasetS3Uri"]
    lines = [json.loads(line) for line in get_store().read_bytes(uri).splitlines()]
    assert [line["sentiment"] for line in lines] == [str(i % 2) for i in range(len(TEXTS))]
    assert {line["sentiment-metadata"]["human-annotated"] for line in lines} == {"yes"}


def test_a_stopping_condition_ends_the_job(monkeypatch, user, workteam, labeling_bucket, labelers):
    spec = job_request(
        labeling_bucket, workteam.arn, StoppingConditions={"MaxHumanLabeledObjectCount": 2}
    )
    job = labeling_job_create(user=user, spec=spec)
    while_waiting(monkeypatch, lambda: answer_one(job, labelers[0], "positive"))
    assert run_labeling_job(job.pk, poll_seconds=0) == "Completed"
    job.refresh_from_db()
    assert (job.label_counters["HumanLabeled"], job.label_counters["Unlabeled"]) == (2, 3)


def test_stopping_keeps_every_answer_given(monkeypatch, user, workteam, labeling_bucket, labelers):
    spec = job_request(labeling_bucket, workteam.arn)
    spec["HumanTaskConfig"]["NumberOfHumanWorkersPerDataObject"] = 2
    job = labeling_job_create(user=user, spec=spec)

    def answer_then_stop() -> None:
        answer_one(job, labelers[0], "negative")
        labeling_job_stop(user=user, name="films")

    while_waiting(monkeypatch, answer_then_stop)
    assert run_labeling_job(job.pk, poll_seconds=0) == "Stopped"
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
