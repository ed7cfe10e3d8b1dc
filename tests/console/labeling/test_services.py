"""Labeling services: creation refuses bad input naming the line or field (and writes nothing), the
work queue hands items only to the team, consolidates by majority vote, undoes, and the output
manifest is Ground Truth's."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group

from console.core.errors import InvalidState, NotFound, ValidationError
from console.core.shapes import ShapeError
from console.labeling.models import HumanAnswer, LabelingItem, LabelingJob, Workteam
from console.labeling.selectors import (
    labeling_items_human_labeled,
    labeling_jobs_pending_for_worker,
    labeling_worker_progress,
    workteam_members,
)
from console.labeling.services import (
    labeling_items_machine_label,
    labeling_items_send_to_humans,
    labeling_job_create,
    labeling_job_finish,
    labeling_job_round_record,
    labeling_job_start,
    labeling_job_stop,
    labeling_task_answer,
    labeling_task_next,
    labeling_task_skip,
    labeling_task_undo,
    workteam_create,
    workteam_delete,
    workteam_update,
)
from infra.storage import get_store
from tests.conftest import claim_bucket, owned_bucket
from tests.console.labeling.conftest import TEXTS, categories_file, job_request, manifest

pytestmark = pytest.mark.django_db


def started(user, bucket, team, **task) -> LabelingJob:
    """A job InProgress with every item queued for people."""
    spec = job_request(bucket, team.arn)
    spec["HumanTaskConfig"].update(task)
    job = labeling_job_create(user=user, spec=spec)
    labeling_job_start(job_id=job.pk)
    labeling_items_send_to_humans(
        job_id=job.pk, item_ids=list(job.items.values_list("pk", flat=True))
    )
    job.refresh_from_db()
    return job


def adds_up(job: LabelingJob) -> dict:
    job.refresh_from_db()
    c = job.label_counters
    assert c["TotalLabeled"] == c["HumanLabeled"] + c["MachineLabeled"]
    assert c["TotalLabeled"] + c["FailedNonRetryableError"] + c["Unlabeled"] == job.items.count()
    return c


def test_create_saves_the_job_initializing_and_start_reads_every_line(
    user, workteam, labeling_bucket
):
    job = labeling_job_create(user=user, spec=job_request(labeling_bucket, workteam.arn))
    assert (job.status, job.task_type, job.categories) == (
        "Initializing",
        "text-classification",
        ["positive", "negative"],
    )
    assert job.workteam == workteam and job.arn.endswith(":labeling-job/films")
    job = labeling_job_start(job_id=job.pk)
    assert job.status == "InProgress"
    assert [item.source for item in job.items.all()] == TEXTS
    assert job.items.first().line == {"source": TEXTS[0], "id": 0}
    assert adds_up(job)["Unlabeled"] == len(TEXTS)


def _write(bucket: str, key: str, body: bytes) -> str:
    get_store().write_bytes(f"s3://{bucket}/{key}", body)
    return f"s3://{bucket}/{key}"


MANIFEST = "InputConfig.DataSource.S3DataSource.ManifestS3Uri"


@pytest.mark.parametrize(
    ("manifest_body", "words"),
    [
        (b'{"source": "a"}\n{"source": "b"\n', "Line 2 of the manifest is not JSON"),
        (b'{"source": "a"}\n[1, 2]\n', "Line 2 of the manifest is not a JSON object"),
        (b'{"source": "a"}\n{"text": "b"}\n', "Line 2 of the manifest must have exactly one"),
        (b'{"source": "a", "$x": 1}\n', "Line 1 of the manifest has an attribute name starting"),
        (b'{"source-ref": "s3://bkt/x.jpg"}\n', 'Line 1 of the manifest must have "source"'),
    ],
)
def test_a_bad_manifest_line_is_refused_naming_it(
    user, workteam, labeling_bucket, manifest_body, words
):
    uri = _write(labeling_bucket, "in/bad.manifest", manifest_body)
    spec = job_request(labeling_bucket, workteam.arn)
    spec["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"] = uri
    with pytest.raises(ValidationError) as refused:
        labeling_job_create(user=user, spec=spec)
    assert refused.value.field == MANIFEST
    assert words in refused.value.rule
    assert not LabelingJob.objects.exists()


def test_a_source_ref_naming_no_object_is_refused_naming_it(user, workteam, labeling_bucket):
    there = _write(labeling_bucket, "img/a.jpg", b"\xff\xd8")
    missing = f"s3://{labeling_bucket}/img/missing.jpg"
    uri = _write(
        labeling_bucket,
        "in/images.manifest",
        manifest([{"source-ref": there}, {"source-ref": missing}]),
    )
    spec = job_request(labeling_bucket, workteam.arn)
    spec["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"] = uri
    del spec["HumanTaskConfig"]["PreHumanTaskLambdaArn"]
    with pytest.raises(ValidationError) as refused:
        labeling_job_create(user=user, spec=spec)
    assert "Line 2" in refused.value.rule and missing in refused.value.rule
    assert not LabelingJob.objects.exists()
    _write(labeling_bucket, "img/missing.jpg", b"\xff\xd8")
    job = labeling_job_create(user=user, spec=spec)
    assert job.task_type == "image-classification"


def test_a_source_ref_into_another_users_bucket_is_refused_as_not_yours(
    user, other_user, workteam, labeling_bucket
):
    theirs = owned_bucket(other_user, "theirs")
    private = _write(theirs, "img/private.jpg", b"\xff\xd8")
    uri = _write(labeling_bucket, "in/images.manifest", manifest([{"source-ref": private}]))
    spec = job_request(labeling_bucket, workteam.arn)
    spec["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"] = uri
    del spec["HumanTaskConfig"]["PreHumanTaskLambdaArn"]

    with pytest.raises(ValidationError) as refused:
        labeling_job_create(user=user, spec=spec)

    assert refused.value.rule == (
        f'Line 1 of the manifest has a "source-ref" in a bucket that is not one of yours: {private}'
    )
    assert not LabelingJob.objects.exists()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (categories_file(["only"]), "between 2 and 256 labels (it lists 1)"),
        (categories_file([f"c{i}" for i in range(257)]), "between 2 and 256 labels (it lists 257)"),
        (categories_file(["a", "a"]), "unique"),
        (b'{"labels": [{"name": "a"}, {"label": "b"}]}', "labels[1] must be an object"),
        (b"not json", "not JSON"),
    ],
)
def test_a_bad_category_file_is_refused(user, workteam, labeling_bucket, body, words):
    uri = _write(labeling_bucket, "in/bad-categories.json", body)
    spec = job_request(labeling_bucket, workteam.arn, LabelCategoryConfigS3Uri=uri)
    with pytest.raises(ValidationError) as refused:
        labeling_job_create(user=user, spec=spec)
    assert refused.value.field == "LabelCategoryConfigS3Uri"
    assert words in refused.value.rule
    assert not LabelingJob.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"LabelAttributeName": "sentiment-metadata"}, "LabelAttributeName"),
        ({"LabelAttributeName": "sentiment-ref"}, "LabelAttributeName"),
        ({"LabelAttributeName": "a" * 128}, "LabelAttributeName"),
        ({"LabelAttributeName": "bad_name"}, "LabelAttributeName"),
        ({"LabelingJobName": "bad_name"}, "LabelingJobName"),
        (
            {
                "LabelingJobAlgorithmsConfig": {
                    "LabelingJobAlgorithmSpecificationArn": "arn:aws:sagemaker:us-east-1:"
                    "027400017018:labeling-job-algorithm-specification/object-tracking"
                }
            },
            "LabelingJobAlgorithmsConfig.LabelingJobAlgorithmSpecificationArn",
        ),
        (
            {"OutputConfig": {"S3OutputPath": "s3://no-such-bucket-q/out"}},
            "OutputConfig.S3OutputPath",
        ),
        (
            {"StoppingConditions": {"MaxPercentageOfInputDatasetLabeled": 101}},
            "StoppingConditions.MaxPercentageOfInputDatasetLabeled",
        ),
        (
            {"Tags": [{"Key": "sagebrush:labeling:query-strategy", "Value": "loudest"}]},
            "Tags",
        ),
        (
            {
                "LabelingJobAlgorithmsConfig": {
                    "LabelingJobAlgorithmSpecificationArn": "arn:aws:sagemaker:us-east-1:"
                    "027400017018:labeling-job-algorithm-specification/image-classification"
                }
            },
            "LabelingJobAlgorithmsConfig",
        ),
    ],
)
def test_a_bad_field_is_refused_naming_it(user, workteam, labeling_bucket, changes, field):
    spec = job_request(labeling_bucket, workteam.arn, **changes)
    with pytest.raises((ValidationError, ShapeError)) as refused:
        labeling_job_create(user=user, spec=spec)
    named = (
        refused.value.field
        if isinstance(refused.value, ValidationError)
        else refused.value.violations[0].path
    )
    assert named == field
    assert not LabelingJob.objects.exists()


@pytest.mark.parametrize(
    ("task", "field"),
    [
        (
            {"NumberOfHumanWorkersPerDataObject": 10},
            "HumanTaskConfig.NumberOfHumanWorkersPerDataObject",
        ),
        (
            {"NumberOfHumanWorkersPerDataObject": 0},
            "HumanTaskConfig.NumberOfHumanWorkersPerDataObject",
        ),
        ({"TaskTimeLimitInSeconds": 29}, "HumanTaskConfig.TaskTimeLimitInSeconds"),
        ({"MaxConcurrentTaskCount": 5001}, "HumanTaskConfig.MaxConcurrentTaskCount"),
        (
            {
                "WorkteamArn": "arn:aws:sagemaker:us-east-1:000000000001:"
                "workteam/private-crowd/nobody"
            },
            "HumanTaskConfig.WorkteamArn",
        ),
    ],
)
def test_a_bad_human_task_config_is_refused(user, workteam, labeling_bucket, task, field):
    spec = job_request(labeling_bucket, workteam.arn)
    spec["HumanTaskConfig"].update(task)
    with pytest.raises((ValidationError, ShapeError)) as refused:
        labeling_job_create(user=user, spec=spec)
    named = (
        refused.value.field
        if isinstance(refused.value, ValidationError)
        else refused.value.violations[0].path
    )
    assert named == field
    assert not LabelingJob.objects.exists()


def test_another_users_work_team_cannot_be_used(user, other_user, workteam, labeling_bucket):
    claim_bucket(other_user, labeling_bucket)  # the data is hers; the work team is not
    with pytest.raises(ValidationError) as refused:
        labeling_job_create(user=other_user, spec=job_request(labeling_bucket, workteam.arn))
    assert refused.value.field == "HumanTaskConfig.WorkteamArn"


# Work teams


def test_work_team_members_are_the_users_of_its_groups(user, workteam, labelers, django_user_model):
    assert set(workteam_members(workteam)) == set(labelers)
    Group.objects.create(name="reviewers-2")
    updated = workteam_update(
        user=user,
        spec={
            "WorkteamName": "reviewers",
            "Description": "New",
            "MemberDefinitions": [
                {
                    "CognitoMemberDefinition": {
                        "UserPool": "us-east-1_abc",
                        "UserGroup": "reviewers-2",
                        "ClientId": "client",
                    }
                }
            ],
        },
    )
    assert (updated.description, updated.group_names) == ("New", ["reviewers-2"])
    assert not workteam_members(updated).exists()


def test_a_work_team_naming_an_unknown_group_is_refused(user):
    with pytest.raises(ValidationError) as refused:
        workteam_create(
            user=user,
            spec={
                "WorkteamName": "t",
                "Description": "d",
                "MemberDefinitions": [{"OidcMemberDefinition": {"Groups": ["nobody-here"]}}],
            },
        )
    assert refused.value.field == "MemberDefinitions.1.OidcMemberDefinition.Groups.1"
    assert not Workteam.objects.exists()


def test_a_work_team_in_use_cannot_be_deleted(user, workteam, labeling_bucket):
    job = labeling_job_create(user=user, spec=job_request(labeling_bucket, workteam.arn))
    with pytest.raises(InvalidState):
        workteam_delete(user=user, name="reviewers")
    labeling_job_finish(job_id=job.pk, status="Completed")
    workteam_delete(user=user, name="reviewers")
    assert not Workteam.objects.exists()


# The work queue


def test_a_worker_outside_the_team_gets_no_tasks(
    user, other_user, workteam, labeling_bucket, labelers
):
    job = started(user, labeling_bucket, workteam)
    with pytest.raises(NotFound):
        labeling_task_next(user=other_user, job=job)
    with pytest.raises(NotFound):
        labeling_task_next(user=user, job=job)  # its owner is not in the team either
    item = labeling_task_next(user=labelers[0], job=job)
    with pytest.raises(NotFound):
        labeling_task_answer(user=other_user, item=item, label="positive")
    assert labeling_jobs_pending_for_worker(user=other_user) == []
    assert labeling_jobs_pending_for_worker(user=labelers[1]) == [job]


def test_each_item_goes_to_as_many_workers_as_asked(user, workteam, labeling_bucket, labelers):
    lin, max_, noa = labelers
    job = started(user, labeling_bucket, workteam, NumberOfHumanWorkersPerDataObject=2)
    first = labeling_task_next(user=lin, job=job)
    assert labeling_task_next(user=lin, job=job) == first  # held for lin until answered
    assert labeling_task_next(user=max_, job=job) == first
    assert labeling_task_next(user=noa, job=job).index == 1  # item 0 has its two workers
    labeling_task_answer(user=lin, item=first, label="positive")
    assert labeling_task_next(user=lin, job=job).index not in (0,)
    with pytest.raises(InvalidState):
        labeling_task_answer(user=lin, item=first, label="negative")


def test_max_concurrent_tasks_bounds_the_items_open_at_once(
    user, workteam, labeling_bucket, labelers
):
    lin, max_, _ = labelers
    job = started(
        user,
        labeling_bucket,
        workteam,
        NumberOfHumanWorkersPerDataObject=2,
        MaxConcurrentTaskCount=1,
    )
    item = labeling_task_next(user=lin, job=job)
    labeling_task_answer(user=lin, item=item, label="negative")
    assert labeling_task_next(user=lin, job=job) is None  # only one item may be open
    assert labeling_task_next(user=max_, job=job) == item
    labeling_task_answer(user=max_, item=item, label="negative")
    assert labeling_task_next(user=lin, job=job).index == 1


def test_majority_vote_gives_the_label_and_its_share_of_votes(
    user, workteam, labeling_bucket, labelers
):
    job = started(user, labeling_bucket, workteam, NumberOfHumanWorkersPerDataObject=3)
    for worker, label in zip(labelers, ["negative", "positive", 1], strict=True):
        item = labeling_task_next(user=worker, job=job)
        labeling_task_answer(user=worker, item=item, label=label)
    item.refresh_from_db()
    assert (item.state, item.label, item.tie, item.human_annotated) == ("human", 1, False, True)
    assert item.confidence == pytest.approx(2 / 3)
    assert adds_up(job)["HumanLabeled"] == 1
    assert list(labeling_items_human_labeled(job_id=job.pk)) == [item]


def test_a_tie_is_flagged(user, workteam, labeling_bucket, labelers):
    job = started(user, labeling_bucket, workteam, NumberOfHumanWorkersPerDataObject=2)
    for worker, label in zip(labelers[:2], ["negative", "positive"], strict=True):
        item = labeling_task_next(user=worker, job=job)
        labeling_task_answer(user=worker, item=item, label=label)
    item.refresh_from_db()
    assert (item.state, item.tie, item.confidence) == ("human", True, 0.5)


def test_an_answer_must_be_a_label_of_the_job(user, workteam, labeling_bucket, labelers):
    job = started(user, labeling_bucket, workteam)
    item = labeling_task_next(user=labelers[0], job=job)
    for label in ("neutral", 2, True):
        with pytest.raises(ValidationError) as refused:
            labeling_task_answer(user=labelers[0], item=item, label=label)
        assert refused.value.field == "label"
    assert not HumanAnswer.objects.exists()


def test_undo_takes_back_the_last_answer(user, workteam, labeling_bucket, labelers):
    lin = labelers[0]
    job = started(user, labeling_bucket, workteam)
    first = labeling_task_next(user=lin, job=job)
    labeling_task_answer(user=lin, item=first, label="positive")
    second = labeling_task_next(user=lin, job=job)
    labeling_task_answer(user=lin, item=second, label="negative")
    assert adds_up(job)["HumanLabeled"] == 2
    assert labeling_task_undo(user=lin, job=job) == second
    second.refresh_from_db()
    assert (second.state, second.label, second.confidence) == ("unlabeled", None, None)
    assert adds_up(job)["HumanLabeled"] == 1
    assert labeling_task_next(user=lin, job=job) == second  # to label again
    assert labeling_worker_progress(user=lin, job=job)["answered"] == 1
    labeling_task_answer(user=lin, item=second, label="positive")
    assert [a.label for a in HumanAnswer.objects.order_by("item__index")] == [0, 0]


def test_skip_passes_an_item_over_for_that_worker_only(user, workteam, labeling_bucket, labelers):
    lin, max_, _ = labelers
    job = started(user, labeling_bucket, workteam)
    item = labeling_task_next(user=lin, job=job)
    labeling_task_skip(user=lin, item=item)
    assert labeling_task_next(user=lin, job=job).index == 1
    assert labeling_task_next(user=max_, job=job) == item


def test_machine_labels_and_rounds_are_recorded(user, workteam, labeling_bucket, labelers):
    job = started(user, labeling_bucket, workteam)
    item = labeling_task_next(user=labelers[0], job=job)
    labeling_task_answer(user=labelers[0], item=item, label="positive")
    ids = list(job.items.order_by("index").values_list("pk", flat=True))
    done = labeling_items_machine_label(
        job_id=job.pk,
        labels=[(ids[0], "negative", 0.9), (ids[1], 1, 0.97), (ids[2], "positive", 0.99)],
    )
    assert done == 2  # item 0 was labeled by a person already
    counters = adds_up(job)
    assert (counters["HumanLabeled"], counters["MachineLabeled"], counters["Unlabeled"]) == (
        1,
        2,
        2,
    )
    round_ = labeling_job_round_record(
        job_id=job.pk, number=1, threshold=0.95, estimated_accuracy=0.96, machine_labeled=2
    )
    assert (round_.human_labeled, round_.threshold) == (1, 0.95)
    intermediate = f"s3://{labeling_bucket}/out/films/manifests/intermediate/1/output.manifest"
    assert len(get_store().read_bytes(intermediate).splitlines()) == 3


def test_the_output_manifest_is_ground_truths(user, workteam, labeling_bucket, labelers):
    job = started(user, labeling_bucket, workteam)
    answers = ["positive", "negative", "positive"]
    for label in answers:
        item = labeling_task_next(user=labelers[0], job=job)
        labeling_task_answer(user=labelers[0], item=item, label=label)
    ids = list(job.items.order_by("index").values_list("pk", flat=True))
    labeling_items_machine_label(job_id=job.pk, labels=[(ids[3], "negative", 0.973)])
    labeling_job_finish(job_id=job.pk, status="Completed")
    job.refresh_from_db()
    uri = f"s3://{labeling_bucket}/out/films/manifests/output/output.manifest"
    assert job.status == "Completed" and job.output == {"OutputDatasetS3Uri": uri}
    lines = [json.loads(line) for line in get_store().read_bytes(uri).splitlines()]
    assert [line["source"] for line in lines] == TEXTS
    for index, (line, label) in enumerate(zip(lines, [*answers, "negative"], strict=False)):
        assert line["id"] == index
        assert line["sentiment"] == str(["positive", "negative"].index(label))
        metadata = line["sentiment-metadata"]
        assert metadata["class-name"] == label
        assert metadata["type"] == "groundtruth/text-classification"
        assert metadata["job-name"] == "labeling-job/films"
        assert metadata["human-annotated"] == ("yes" if index < 3 else "no")
        assert "T" in metadata["creation-date"] and "+" not in metadata["creation-date"]
    assert lines[0]["sentiment-metadata"]["confidence"] == 1.0
    assert lines[3]["sentiment-metadata"]["confidence"] == 0.97
    assert "sentiment" not in lines[4] and "failure-reason" in lines[4]["sentiment-metadata"]
    answers_uri = (
        f"s3://{labeling_bucket}/out/films/annotations/worker-response/iteration-1/answers.jsonl"
    )
    assert len(get_store().read_bytes(answers_uri).splitlines()) == 3
    assert adds_up(job)["TotalLabeled"] == 4


def test_stopping_keeps_every_answer(user, workteam, labeling_bucket, labelers):
    job = started(user, labeling_bucket, workteam, NumberOfHumanWorkersPerDataObject=2)
    item = labeling_task_next(user=labelers[0], job=job)
    labeling_task_answer(user=labelers[0], item=item, label="negative")
    other = labeling_task_next(user=labelers[1], job=job)
    labeling_task_answer(user=labelers[1], item=other, label="negative")
    labeling_job_stop(user=user, name="films")
    with pytest.raises(InvalidState):
        labeling_task_answer(user=labelers[2], item=item, label="negative")
    labeling_job_finish(job_id=job.pk, status="Completed")
    job.refresh_from_db()
    assert job.status == "Stopped"
    assert HumanAnswer.objects.filter(item__job=job).count() == 2
    assert labeling_task_next(user=labelers[2], job=job) is None
    with pytest.raises(InvalidState):
        labeling_job_stop(user=user, name="films")
    assert other == item  # two workers per item: both answered item 0, which is consolidated
    assert LabelingItem.objects.filter(job=job, state="human").count() == 1
    assert LabelingItem.objects.filter(job=job, state="unlabeled").count() == len(TEXTS) - 1
