"""The labeling console: the owner's job and work team pages, the create form refusing bad input
next to its field, and the work queue, each button ending in one service call."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from console.core.names import account_id_for, arn
from console.labeling.models import HumanAnswer, LabelingJob, LabelingTask, Workteam
from console.labeling.services import (
    labeling_items_send_to_humans,
    labeling_job_create,
    labeling_job_round_record,
    labeling_job_start,
    labeling_task_answer,
)
from infra.storage import get_store
from tests.console.core.test_lists import assert_pages_and_sorts, linked_names
from tests.console.labeling.conftest import TEXTS, job_request

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def running_job(user, bucket, team, **task) -> LabelingJob:
    """A job as the flow leaves it once it has sent every item to the work team."""
    spec = job_request(bucket, team.arn)
    spec["HumanTaskConfig"].update(task)
    job = labeling_job_create(user=user, spec=spec)
    labeling_job_start(job_id=job.pk)
    labeling_items_send_to_humans(
        job_id=job.pk, item_ids=list(job.items.values_list("pk", flat=True))
    )
    return job


def form_data(bucket: str, team: Workteam, **changes) -> dict:
    data = {
        "name": "films",
        "manifest_uri": f"s3://{bucket}/in/texts.manifest",
        "categories_uri": f"s3://{bucket}/in/categories.json",
        "categories": "",
        "label_attribute_name": "sentiment",
        "task_type": "PRE-TextMultiClass",
        "task_title": "Sentiment",
        "task_description": "Positive or negative?",
        "workteam": team.arn,
        "workers_per_object": "1",
        "task_time_limit": "300",
        "output_path": f"s3://{bucket}/out",
    }
    data.update(changes)
    return data


def field_errors(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


# The owner's pages


def test_the_pages_render(user, workteam, labeling_bucket):
    job = running_job(user, labeling_bucket, workteam)
    client = signed_in(user)
    listed = client.get("/labeling-jobs/")
    assert listed.status_code == 200
    assert b'href="/labeling-jobs/films/"' in listed.content
    assert b"0 / 5" in listed.content
    for path in (
        "/labeling-jobs/new/",
        "/workteams/",
        "/workteams/new/",
        "/workteams/reviewers/",
        "/labeling-queue/",
    ):
        assert client.get(path).status_code == 200, path
    page = client.get(f"/labeling-jobs/{job.name}/")
    assert page.status_code == 200
    assert b'id="counter-Unlabeled">5<' in page.content
    assert b'?fragment=status" data-live-seconds' in page.content  # refreshed in place
    assert b"Stop</button>" in page.content
    assert client.get("/labeling-jobs/nope/").status_code == 404


def test_the_list_shows_every_job_a_page_at_a_time(user, workteam):
    LabelingJob.objects.bulk_create(
        LabelingJob(
            owner=user,
            name=f"row-{index:03d}",
            arn=arn("labeling-job", f"row-{index:03d}", account_id=account_id_for(user.pk)),
            status="InProgress" if index % 2 else "Completed",
            workteam=workteam,
            label_counters={"TotalLabeled": 3, "HumanLabeled": 3, "Unlabeled": 1},
        )
        for index in range(201)
    )
    client = signed_in(user)
    assert_pages_and_sorts(client, "/labeling-jobs/", 201)

    by_status = client.get("/labeling-jobs/", {"sort": "status"}).content.decode()
    assert linked_names(by_status, "/labeling-jobs/")[:2] == ["row-000", "row-002"]  # Completed
    assert f'<a href="/workteams/{workteam.name}/">{workteam.name}</a>' in by_status
    assert "3 / 4" in by_status and "Create labeling job" in by_status


def test_create_form_makes_the_job(user, workteam, labeling_bucket):
    with mock.patch("console.labeling.views.labeling_job_create", wraps=labeling_job_create) as c:
        response = signed_in(user).post("/labeling-jobs/new/", form_data(labeling_bucket, workteam))
    assert response.status_code == 302
    assert response["Location"] == "/labeling-jobs/films/"
    spec = c.call_args.kwargs["spec"]
    assert spec["HumanTaskConfig"]["WorkteamArn"] == workteam.arn
    assert spec["HumanTaskConfig"]["PreHumanTaskLambdaArn"].endswith(":PRE-TextMultiClass")
    assert "LabelingJobAlgorithmsConfig" not in spec
    job = LabelingJob.objects.get(name="films")
    assert job.categories == ["positive", "negative"]
    assert job.task_type == "text-classification"


def test_typed_categories_are_written_to_storage(user, workteam, labeling_bucket):
    data = form_data(
        labeling_bucket,
        workteam,
        categories_uri="",
        categories="good\nbad\nmixed\n",
        automated_labeling="on",
    )
    response = signed_in(user).post("/labeling-jobs/new/", data)
    assert response.status_code == 302, response.context["form"].errors
    job = LabelingJob.objects.get(name="films")
    assert job.categories == ["good", "bad", "mixed"]
    uri = job.spec["LabelCategoryConfigS3Uri"]
    assert uri == f"s3://{labeling_bucket}/out/films/annotation-tool/data.json"
    written = json.loads(get_store().read_bytes(uri))
    assert [entry["label"] for entry in written["labels"]] == ["good", "bad", "mixed"]
    algorithm = job.spec["LabelingJobAlgorithmsConfig"]["LabelingJobAlgorithmSpecificationArn"]
    assert algorithm.endswith("/text-classification")


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"label_attribute_name": "x-metadata"}, "label_attribute_name", "-metadata"),
        ({"manifest_uri": "s3://nowhere/none.manifest"}, "manifest_uri", "readable object"),
        ({"categories_uri": ""}, "categories_uri", "required"),
        ({"categories_uri": "", "categories": "only"}, "categories", "between 2"),
        ({"categories": "a\nb"}, "categories", "not both"),
        ({"workers_per_object": "0"}, "workers_per_object", "NumberOfHumanWorkersPerDataObject"),
        ({"name": "bad name!"}, "name", "LabelingJobName"),
        ({"output_path": "s3://no-such-bucket-x/out"}, "output_path", "existing bucket"),
        ({"workteam": "elsewhere"}, "workteam", "valid choice"),
    ],
)
def test_the_form_refuses_bad_input_naming_the_field(
    user, workteam, labeling_bucket, changes, field, words
):
    data = form_data(labeling_bucket, workteam, **changes)
    response = signed_in(user).post("/labeling-jobs/new/", data)
    assert response.status_code == 200
    assert words in field_errors(response, field), response.context["form"].errors
    assert not LabelingJob.objects.exists()


def test_an_unknown_work_team_is_refused_in_the_services_words(
    user, other_user, workteam, labeling_bucket
):
    theirs = Workteam.objects.create(
        owner=other_user,
        name="theirs",
        arn="arn:aws:sagemaker:us-east-1:111111111111:workteam/private-crowd/theirs",
        description="",
    )
    with mock.patch("console.labeling.views.workteam_list") as teams:
        teams.return_value.order_by.return_value = [workteam, theirs]
        data = form_data(labeling_bucket, workteam, workteam=theirs.arn)
        response = signed_in(user).post("/labeling-jobs/new/", data)
    assert "existing work team" in field_errors(response, "workteam")


def test_stop_button_stops_the_job(user, workteam, labeling_bucket):
    running_job(user, labeling_bucket, workteam)
    response = signed_in(user).post("/labeling-jobs/films/stop/")
    assert response.status_code == 302
    assert LabelingJob.objects.get(name="films").status == "Stopping"


def test_the_job_page_shows_rounds_ties_and_the_output(user, workteam, labeling_bucket, labelers):
    job = running_job(user, labeling_bucket, workteam, NumberOfHumanWorkersPerDataObject=2)
    item = job.items.get(index=0)
    labeling_task_answer(user=labelers[0], item=item, label=0)
    labeling_task_answer(user=labelers[1], item=item, label=1)
    labeling_job_round_record(
        job_id=job.pk,
        number=1,
        threshold=0.8,
        estimated_accuracy=0.96,
        machine_labeled=3,
        model_arn="arn:aws:sagemaker:us-east-1:000000000000:model/films-round-1",
        training_job_name="films-round-1",
        transform_job_name="films-round-1",
    )
    LabelingJob.objects.filter(pk=job.pk).update(
        output={
            "OutputDatasetS3Uri": f"s3://{labeling_bucket}/out/films/output.manifest",
            "FinalActiveLearningModelArn": (
                "arn:aws:sagemaker:us-east-1:000000000000:model/films-round-1"
            ),
        }
    )
    page = signed_in(user).get("/labeling-jobs/films/").content.decode()
    assert 'id="rounds"' in page and "0.800" in page and "96 %" in page
    # the round's training and transform jobs, and the final model, are links
    assert 'href="/training-jobs/films-round-1/"' in page
    assert 'href="/transform-jobs/films-round-1/"' in page
    assert 'id="final-model" href="/models/films-round-1/"' in page
    assert 'id="disputed"' in page and "tie" in page
    assert "lin: positive" in page and "max: negative" in page
    assert 'id="output-manifest"' in page
    assert "/objects/download?uri=s3%3A//" in page


def test_work_teams_are_created_from_platform_groups(user, labelers):
    Group.objects.create(name="reviewers-b")
    client = signed_in(user)
    response = client.post(
        "/workteams/new/", {"name": "crew", "description": "Crew", "groups": ["labelers"]}
    )
    assert response.status_code == 302
    team = Workteam.objects.get(name="crew")
    assert team.group_names == ["labelers"]
    page = client.get("/workteams/crew/").content.decode()
    assert "lin" in page and "noa" in page
    refused = client.post("/workteams/new/", {"name": "empty", "description": "none"})
    assert "Groups" in field_errors(refused, "groups")


# The work queue


def test_the_queue_lists_the_jobs_waiting_for_me(user, workteam, labeling_bucket, labelers):
    running_job(user, labeling_bucket, workteam)
    page = signed_in(labelers[0]).get("/labeling-queue/").content.decode()
    assert 'href="/labeling-queue/films/"' in page
    assert "5 of 5" in page


def test_the_task_page_shows_one_item_and_the_label_buttons(
    user, workteam, labeling_bucket, labelers
):
    running_job(user, labeling_bucket, workteam)
    page = signed_in(labelers[0]).get("/labeling-queue/films/").content.decode()
    assert TEXTS[0] in page and TEXTS[1] not in page
    assert 'data-key="1"' in page and "positive" in page
    assert 'data-key="2"' in page and "negative" in page
    assert "labeling/task.js" in page
    assert LabelingTask.objects.filter(worker=labelers[0]).count() == 1


def test_answer_skip_and_undo_call_the_services(user, workteam, labeling_bucket, labelers):
    job = running_job(user, labeling_bucket, workteam)
    lin = labelers[0]
    client = signed_in(lin)
    client.get("/labeling-queue/films/")
    with mock.patch(
        "console.labeling.views.labeling_task_answer", wraps=labeling_task_answer
    ) as answer:
        response = client.post("/labeling-queue/films/0/answer/", {"label": "1"})
    assert response.status_code == 302 and response["Location"] == "/labeling-queue/films/"
    answer.assert_called_once()
    assert answer.call_args.kwargs["label"] == 1
    assert HumanAnswer.objects.get(worker=lin).label == 1
    job.refresh_from_db()
    assert job.label_counters["HumanLabeled"] == 1

    assert TEXTS[1] in client.get("/labeling-queue/films/").content.decode()
    client.post("/labeling-queue/films/1/skip/")
    assert LabelingTask.objects.get(worker=lin, item__index=1).skipped
    assert TEXTS[2] in client.get("/labeling-queue/films/").content.decode()

    undone = client.post("/labeling-queue/films/undo/")
    assert undone["Location"] == "/labeling-queue/films/?item=0"
    assert not HumanAnswer.objects.filter(worker=lin).exists()
    job.refresh_from_db()
    assert job.label_counters["HumanLabeled"] == 0
    assert TEXTS[0] in client.get(undone["Location"]).content.decode()
    assert client.get("/labeling-queue/films/?item=4").context["item"].index != 4  # not held


def test_a_refused_answer_is_shown_not_raised(user, workteam, labeling_bucket, labelers):
    running_job(user, labeling_bucket, workteam)
    client = signed_in(labelers[0])
    client.get("/labeling-queue/films/")
    client.post("/labeling-queue/films/0/answer/", {"label": "0"})
    again = client.post("/labeling-queue/films/0/answer/", {"label": "0"}, follow=True)
    assert "not waiting for an answer" in again.content.decode()
    bad = client.post("/labeling-queue/films/1/answer/", {"label": "7"}, follow=True)
    assert "one of the job" in bad.content.decode()


def test_a_non_member_sees_no_tasks(user, other_user, workteam, labeling_bucket):
    running_job(user, labeling_bucket, workteam)
    client = signed_in(other_user)
    assert b"Nothing is waiting for you" in client.get("/labeling-queue/").content
    assert client.get("/labeling-queue/films/").status_code == 404
    assert client.post("/labeling-queue/films/0/answer/", {"label": "0"}).status_code == 404
    assert client.post("/labeling-queue/films/undo/").status_code == 404
    assert client.get("/labeling-jobs/films/").status_code == 404
    assert not HumanAnswer.objects.exists()


def test_tabular_rows_show_as_a_table(user, workteam, labeling_bucket, labelers):
    store = get_store()
    rows = [{"source": "5.1,3.5,setosa-like"}, {"source": "6.2,2.9,other"}]
    store.write_bytes(
        f"s3://{labeling_bucket}/in/rows.manifest",
        "".join(json.dumps(row) + "\n" for row in rows).encode(),
    )
    spec = job_request(labeling_bucket, workteam.arn)
    spec["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"] = (
        f"s3://{labeling_bucket}/in/rows.manifest"
    )
    spec["HumanTaskConfig"]["PreHumanTaskLambdaArn"] = spec["HumanTaskConfig"][
        "PreHumanTaskLambdaArn"
    ].replace("PRE-TextMultiClass", "PRE-TabularMultiClass")
    job = labeling_job_create(user=user, spec=spec)
    labeling_job_start(job_id=job.pk)
    labeling_items_send_to_humans(
        job_id=job.pk, item_ids=list(job.items.values_list("pk", flat=True))
    )
    page = signed_in(labelers[0]).get("/labeling-queue/films/").content.decode()
    assert 'id="item-row"' in page and "<td>3.5</td>" in page


def test_images_are_shown_from_storage(user, workteam, labeling_bucket, labelers):
    store = get_store()
    store.write_bytes(f"s3://{labeling_bucket}/img/a.png", b"\x89PNG fake")
    store.write_bytes(
        f"s3://{labeling_bucket}/in/images.manifest",
        (json.dumps({"source-ref": f"s3://{labeling_bucket}/img/a.png"}) + "\n").encode(),
    )
    spec = job_request(labeling_bucket, workteam.arn)
    spec["InputConfig"]["DataSource"]["S3DataSource"]["ManifestS3Uri"] = (
        f"s3://{labeling_bucket}/in/images.manifest"
    )
    del spec["HumanTaskConfig"]["PreHumanTaskLambdaArn"]
    job = labeling_job_create(user=user, spec=spec)
    labeling_job_start(job_id=job.pk)
    labeling_items_send_to_humans(
        job_id=job.pk, item_ids=list(job.items.values_list("pk", flat=True))
    )
    client = signed_in(labelers[0])
    page = client.get("/labeling-queue/films/").content.decode()
    assert f'src="/objects/download?uri=s3%3A//{labeling_bucket}/img/a.png"' in page
    image = client.get(f"/objects/download?uri=s3://{labeling_bucket}/img/a.png")
    assert b"".join(image.streaming_content) == b"\x89PNG fake"
