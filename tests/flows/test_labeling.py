"""The labeling flow, human-only and automated, in-process: each time the flow run waits for
people, the work team acts through the same services the console and REST use; automated
labeling's training jobs train in this process and its transform jobs run on the suite's Dask
cluster."""

from __future__ import annotations

import json
import time
import types
from collections.abc import Callable
from functools import partial

import numpy as np
import pytest

from console.labeling.models import HumanAnswer, LabelingJob
from console.labeling.selectors import labeling_job_describe, labeling_job_rounds
from console.labeling.services import (
    labeling_job_create,
    labeling_job_stop,
    labeling_task_answer,
    labeling_task_next,
)
from console.labeling.specs import QUERY_STRATEGY_TAG
from console.registry.models import Model
from console.training.selectors import training_job_describe, training_job_list_for_labeling_job
from console.transform.selectors import (
    transform_job_describe,
    transform_job_list_for_labeling_job,
)
from flows.labeling import loop_settings, run_labeling_job
from flows.labeling_rounds import child_name
from flows.training import run_training_job
from flows.transform import run_transform_job
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


# Automated labeling: a few hundred generated reviews of three topics, a simulated annotator who
# answers every waiting item with the truth each time the flow waits.

ALGORITHM_ARN = (
    "arn:aws:sagemaker:us-east-1:027400017018:labeling-job-algorithm-specification/"
    "text-classification"
)
TOPICS = {
    "sport": "goal match team striker league coach season score stadium referee",
    "cooking": "recipe oven flour sauce garlic simmer bake dough spice kitchen",
    "travel": "flight hotel beach passport museum island train luggage tour city",
}
FILLER = ["the", "a", "of", "and", "really", "very", "quite", "this", "that", "was", "it"]


def reviews(count: int, seed: int = 0) -> tuple[list[str], list[int]]:
    rng = np.random.default_rng(seed)
    words = [topic.split() for topic in TOPICS.values()]
    texts, truth = [], []
    for _ in range(count):
        label = int(rng.integers(len(TOPICS)))
        # Mostly the topic's words, some of another topic's, and filler: not every text is easy.
        other = int(rng.integers(len(TOPICS)))
        chosen = list(rng.choice(words[label], 3)) + list(rng.choice(words[other], 1))
        chosen += list(rng.choice(FILLER, 4))
        rng.shuffle(chosen)
        texts.append(" ".join(chosen))
        truth.append(label)
    return texts, truth


def automated_job(user, workteam, bucket: str, texts: list[str], **changes) -> LabelingJob:
    store = get_store()
    store.write_bytes(
        f"s3://{bucket}/in/topics.manifest", labeling.manifest([{"source": t} for t in texts])
    )
    store.write_bytes(f"s3://{bucket}/in/topics.json", labeling.categories_file(list(TOPICS)))
    spec = job_request(
        bucket,
        workteam.arn,
        name="topics",
        LabelCategoryConfigS3Uri=f"s3://{bucket}/in/topics.json",
        LabelingJobAlgorithmsConfig={"LabelingJobAlgorithmSpecificationArn": ALGORITHM_ARN},
        **changes,
    )
    spec["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"] = (
        f"s3://{bucket}/in/topics.manifest"
    )
    spec["HumanTaskConfig"]["MaxConcurrentTaskCount"] = 30
    return labeling_job_create(user=user, spec=spec)


def answer_all(job: LabelingJob, worker, truth: list[int]) -> None:
    while (item := labeling_task_next(user=worker, job=job)) is not None:
        labeling_task_answer(user=worker, item=item, label=truth[item.index])


def run_automated(job: LabelingJob, dask_client) -> str:
    """The flow with its training and transform jobs run in this process."""
    return run_labeling_job(
        job.pk,
        poll_seconds=0,
        run_training=run_training_job,
        run_transform=partial(run_transform_job, client=dask_client),
    )


def test_automated_labeling_labels_most_items_by_machine_and_mostly_right(
    monkeypatch, user, workteam, labeling_bucket, labelers, dask_client
):
    texts, truth = reviews(300)
    job = automated_job(user, workteam, labeling_bucket, texts)
    while_waiting(monkeypatch, lambda: answer_all(job, labelers[0], truth))
    assert run_automated(job, dask_client) == "Completed"
    job.refresh_from_db()
    counters = job.label_counters
    assert counters["Unlabeled"] == 0
    assert counters["HumanLabeled"] + counters["MachineLabeled"] == counters["TotalLabeled"] == 300
    assert counters["MachineLabeled"] >= 150
    machine = job.items.filter(state="machine")
    right = sum(item.label == truth[item.index] for item in machine)
    assert right >= 0.93 * machine.count()
    assert HumanAnswer.objects.filter(item__job=job).count() == counters["HumanLabeled"]
    rounds = labeling_job_rounds(job)
    assert rounds and sum(r["machine_labeled"] for r in rounds) == counters["MachineLabeled"]
    calibrated = [r for r in rounds if r["machine_labeled"]]
    assert all(r["threshold"] is not None for r in calibrated)
    assert all(r["estimated_accuracy"] >= 0.95 for r in calibrated)
    described = labeling_job_describe(job)
    lines = [
        json.loads(line)
        for line in get_store()
        .read_bytes(described["LabelingJobOutput"]["OutputDatasetS3Uri"])
        .splitlines()
    ]
    assert {line["sentiment-metadata"]["human-annotated"] for line in lines} == {"yes", "no"}

    # Each round with a model ran a training job and a transform job naming the labeling job,
    # under the job's output prefix in Ground Truth's layout.
    trained = [r for r in rounds if r["model_arn"]]
    trainings = list(training_job_list_for_labeling_job(labeling_job_arn=job.arn))
    transforms = list(transform_job_list_for_labeling_job(labeling_job_arn=job.arn))
    assert [t.name for t in trainings] == [r["training_job_name"] for r in trained]
    assert [t.name for t in transforms] == [r["transform_job_name"] for r in trained]
    assert trainings[0].name == child_name("topics", trained[0]["number"])
    assert {t.status for t in trainings + transforms} == {"Completed"}
    assert training_job_describe(trainings[0])["LabelingJobArn"] == job.arn
    assert transform_job_describe(transforms[0])["LabelingJobArn"] == job.arn
    prefix = f"s3://{labeling_bucket}/out/topics"
    assert trainings[0].model_artifacts.startswith(f"{prefix}/training/")
    assert transform_job_describe(transforms[0])["TransformOutput"]["S3OutputPath"].startswith(
        f"{prefix}/inference/"
    )
    # every round's features are fitted on every item: its human labels and all the others
    for r in trained:
        given = [
            f"{prefix}/training/input/round-{r['number']}/{n}.jsonl" for n in ("train", "unlabeled")
        ]
        assert sum(len(get_store().read_bytes(uri).splitlines()) for uri in given) == 300
    decided = json.loads(get_store().read_bytes(f"{prefix}/activelearning/round-1.json"))
    assert decided["machine-labeled"] == rounds[0]["machine_labeled"]
    final = Model.objects.get(arn=described["LabelingJobOutput"]["FinalActiveLearningModelArn"])
    assert final.spec["PrimaryContainer"]["ModelDataUrl"] == trainings[-1].model_artifacts
    assert trained[-1]["model_arn"] == final.arn


def test_the_query_strategy_tag_is_read_and_a_bad_one_fails_the_job(
    monkeypatch, user, workteam, labeling_bucket, labelers
):
    texts, _ = reviews(60)
    tag = {"Key": QUERY_STRATEGY_TAG, "Value": "entropy"}
    job = automated_job(user, workteam, labeling_bucket, texts, Tags=[tag])
    assert loop_settings(job).strategy == "entropy"
    job.spec["Tags"] = []
    assert loop_settings(job).strategy == "least-confidence"  # the default
    job.spec["Tags"] = [{**tag, "Value": "loudest"}]
    job.save()
    assert run_labeling_job(job.pk, poll_seconds=0) == "Failed"
    job.refresh_from_db()
    assert "least-confidence, margin or entropy" in job.failure_reason


def test_a_stopping_condition_ends_automated_labeling(
    monkeypatch, user, workteam, labeling_bucket, labelers, dask_client
):
    texts, truth = reviews(120)
    job = automated_job(
        user,
        workteam,
        labeling_bucket,
        texts,
        StoppingConditions={"MaxHumanLabeledObjectCount": 30},
    )
    while_waiting(monkeypatch, lambda: answer_all(job, labelers[0], truth))
    assert run_automated(job, dask_client) == "Completed"
    job.refresh_from_db()
    assert job.label_counters["HumanLabeled"] == 30
    assert job.label_counters["MachineLabeled"] == 0


def test_stopping_during_automated_labeling_keeps_the_answers(
    monkeypatch, user, workteam, labeling_bucket, labelers, dask_client
):
    texts, truth = reviews(120)
    job = automated_job(user, workteam, labeling_bucket, texts)
    waits = []

    def answer_then_stop() -> None:
        answer_all(job, labelers[0], truth)
        waits.append(1)
        if len(waits) == 2:
            labeling_job_stop(user=user, name="topics")

    while_waiting(monkeypatch, answer_then_stop)
    assert run_automated(job, dask_client) == "Stopped"
    job.refresh_from_db()
    # the first random 30, and those round 1 asked about (30, or fewer when it machine-labeled
    # all but a few): every answer given is kept
    (round_1,) = job.rounds.all()
    asked = min(30, 120 - 30 - round_1.machine_labeled)
    assert job.label_counters["HumanLabeled"] == 30 + asked
    assert HumanAnswer.objects.filter(item__job=job).count() == 30 + asked
