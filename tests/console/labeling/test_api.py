"""The REST adapter of labeling: jobs created, listed, described and stopped, the work queue
answered, and work teams, all through the same services as the SageMaker API."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from console.labeling.models import HumanAnswer, LabelingJob
from console.labeling.services import labeling_items_send_to_humans, labeling_job_start
from tests.console.labeling.conftest import TEXTS, job_request

pytestmark = pytest.mark.django_db


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def snake(spec):
    """CreateLabelingJob's request with snake_case names, as REST takes it."""
    from console.core.casing import snake_name

    if isinstance(spec, dict):
        return {snake_name(key): snake(value) for key, value in spec.items()}
    return spec


def created(user, bucket, team, **task) -> LabelingJob:
    spec = job_request(bucket, team.arn)
    spec["HumanTaskConfig"].update(task)
    response = as_user(user).post("/api/v1/labeling-jobs/", snake(spec), format="json")
    assert response.status_code == 201, response.json()
    job = LabelingJob.objects.get(name=spec["LabelingJobName"])
    labeling_job_start(job_id=job.pk)
    labeling_items_send_to_humans(
        job_id=job.pk, item_ids=list(job.items.values_list("pk", flat=True))
    )
    return job


def test_create_list_describe_and_stop(user, workteam, labeling_bucket):
    client = as_user(user)
    spec = snake(job_request(labeling_bucket, workteam.arn))
    response = client.post("/api/v1/labeling-jobs/", spec, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["labeling_job_status"] == "Initializing"
    assert body["label_counters"]["unlabeled"] == 0
    assert body["human_task_config"]["workteam_arn"] == workteam.arn
    assert body["rounds"] == []
    [listed] = client.get("/api/v1/labeling-jobs/").json()["results"]
    assert listed["name"] == "films"
    detail = client.get("/api/v1/labeling-jobs/films/").json()
    assert detail["labeling_job_arn"].endswith(":labeling-job/films")
    assert client.post("/api/v1/labeling-jobs/films/stop/").status_code == 202
    assert client.get("/api/v1/labeling-jobs/films/").json()["labeling_job_status"] == "Stopping"


def test_a_bad_request_names_the_field_and_writes_nothing(user, workteam, labeling_bucket):
    spec = snake(job_request(labeling_bucket, workteam.arn, LabelAttributeName="x-metadata"))
    response = as_user(user).post("/api/v1/labeling-jobs/", spec, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "label_attribute_name"
    assert not LabelingJob.objects.exists()


def test_the_work_queue_next_answer_undo(user, workteam, labeling_bucket, labelers):
    created(user, labeling_bucket, workteam)
    lin = as_user(labelers[0])
    task = lin.post("/api/v1/labeling-jobs/films/tasks/next/").json()
    assert task == {
        "item": 0,
        "source": TEXTS[0],
        "labels": ["positive", "negative"],
        "progress": {"answered": 0, "queued": len(TEXTS), "waiting": len(TEXTS)},
    }
    answered = lin.post(
        "/api/v1/labeling-jobs/films/tasks/0/answer/", {"label": "negative"}, format="json"
    )
    assert answered.status_code == 200 and answered.json()["progress"]["answered"] == 1
    refused = lin.post(
        "/api/v1/labeling-jobs/films/tasks/1/answer/", {"label": "meh"}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["field"] == "label"
    assert lin.post("/api/v1/labeling-jobs/films/tasks/next/").json()["item"] == 1
    undone = lin.post("/api/v1/labeling-jobs/films/tasks/undo/")
    assert undone.status_code == 200 and undone.json()["item"] == 0
    assert not HumanAnswer.objects.exists()
    assert lin.post("/api/v1/labeling-jobs/films/tasks/undo/").status_code == 204
    skipped = lin.post("/api/v1/labeling-jobs/films/tasks/0/skip/")
    assert skipped.status_code == 204


def test_a_worker_outside_the_team_gets_404(user, other_user, workteam, labeling_bucket):
    created(user, labeling_bucket, workteam)
    outsider = as_user(other_user)
    assert outsider.post("/api/v1/labeling-jobs/films/tasks/next/").status_code == 404
    response = outsider.post(
        "/api/v1/labeling-jobs/films/tasks/0/answer/", {"label": 0}, format="json"
    )
    assert response.status_code == 404 and "detail" in response.json()
    assert as_user(user).post("/api/v1/labeling-jobs/films/tasks/next/").status_code == 404


def test_nothing_waiting_for_me_is_204(user, workteam, labeling_bucket, labelers):
    created(
        user,
        labeling_bucket,
        workteam,
        MaxConcurrentTaskCount=1,
        NumberOfHumanWorkersPerDataObject=2,
    )
    lin = as_user(labelers[0])
    assert lin.post("/api/v1/labeling-jobs/films/tasks/next/").json()["item"] == 0
    lin.post("/api/v1/labeling-jobs/films/tasks/0/answer/", {"label": 1}, format="json")
    assert lin.post("/api/v1/labeling-jobs/films/tasks/next/").status_code == 204


def test_workteams_create_describe_update_delete(user, labelers):
    client = as_user(user)
    spec = {
        "workteam_name": "team-a",
        "description": "A team",
        "member_definitions": [{"oidc_member_definition": {"groups": ["labelers"]}}],
    }
    created = client.post("/api/v1/workteams/", spec, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["workteam_arn"].endswith(":workteam/private-crowd/team-a")
    assert client.get("/api/v1/workteams/").json()["results"][0]["name"] == "team-a"
    assert client.get("/api/v1/workteams/team-a/").json()["description"] == "A team"
    patched = client.patch("/api/v1/workteams/team-a/", {"description": "B"}, format="json")
    assert patched.status_code == 200 and patched.json()["description"] == "B"
    assert client.delete("/api/v1/workteams/team-a/").status_code == 204
    assert client.get("/api/v1/workteams/team-a/").status_code == 404
    bad = dict(spec, member_definitions=[{"oidc_member_definition": {"groups": ["nope"]}}])
    refused = client.post("/api/v1/workteams/", bad, format="json")
    assert refused.status_code == 400
    assert refused.json()["field"] == "member_definitions.1.oidc_member_definition.groups.1"
