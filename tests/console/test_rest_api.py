"""The REST API: authentication, access keys, resource lists and the OpenAPI schema."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from console.core.names import account_id_for, arn
from console.training.models import TrainingJob

pytestmark = pytest.mark.django_db

RESOURCES = [
    "training-jobs",
    "tuning-jobs",
    "models",
    "endpoint-configs",
    "endpoints",
    "transform-jobs",
    "labeling-jobs",
    "pipelines",
]


def bearer(key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key.access_key_id}:{key.secret_access_key}")
    return client


@pytest.mark.parametrize("resource", RESOURCES)
def test_unauthenticated_calls_get_no_data(resource):
    response = APIClient().get(f"/api/v1/{resource}/")
    assert response.status_code in (401, 403)
    assert "results" not in response.json()


@pytest.mark.parametrize("resource", RESOURCES)
def test_lists_start_empty_and_paginate(access_key, resource):
    response = bearer(access_key).get(f"/api/v1/{resource}/")
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_wrong_secret_is_401(access_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_key.access_key_id}:wrong")
    assert client.get("/api/v1/models/").status_code == 401


def test_users_see_only_their_own_resources_and_staff_see_all(
    user, other_user, access_key, django_user_model
):
    for owner, name in ((user, "mine"), (other_user, "theirs")):
        TrainingJob.objects.create(
            owner=owner,
            name=name,
            status="InProgress",
            arn=arn("training-job", name, account_id=account_id_for(owner.pk)),
        )
    mine = bearer(access_key).get("/api/v1/training-jobs/").json()
    assert [job["name"] for job in mine["results"]] == ["mine"]
    assert bearer(access_key).get("/api/v1/training-jobs/theirs/").status_code == 404
    mine_detail = bearer(access_key).get("/api/v1/training-jobs/mine/").json()
    assert mine_detail["training_job_status"] == "InProgress"

    staff = django_user_model.objects.create_user(username="ops", password="x", is_staff=True)
    client = APIClient()
    client.force_authenticate(staff)
    everyone = client.get("/api/v1/training-jobs/?status=InProgress").json()
    assert sorted(job["name"] for job in everyone["results"]) == ["mine", "theirs"]


def test_access_keys_are_created_once_and_revoked(user):
    client = APIClient()
    client.force_authenticate(user)
    created = client.post("/api/v1/access-keys/", {"description": "ci"}, format="json")
    assert created.status_code == 201
    key_id, secret = created.json()["access_key_id"], created.json()["secret_access_key"]

    listed = client.get("/api/v1/access-keys/").json()["results"]
    assert [k["access_key_id"] for k in listed] == [key_id]
    assert "secret_access_key" not in listed[0]

    with_key = APIClient()
    with_key.credentials(HTTP_AUTHORIZATION=f"Bearer {key_id}:{secret}")
    assert with_key.get("/api/v1/models/").status_code == 200
    assert client.delete(f"/api/v1/access-keys/{key_id}/").status_code == 200
    assert with_key.get("/api/v1/models/").status_code == 401


def test_too_long_description_names_the_field(user):
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/v1/access-keys/", {"description": "x" * 201}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "description"


def test_openapi_schema_and_docs_are_served(user, client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/training-jobs/" in paths and "/api/v1/access-keys/" in paths
    client.force_login(user)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_openapi_schema_describes_every_view_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    for path in ("/api/v1/training-jobs/{name}/stop/", "/api/v1/endpoints/{name}/update/"):
        assert path in schema


def _is_error_shape(response, *, field: str | None = None) -> dict:
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"detail", "field", "errors"}
    assert body.get("field") == field
    return body


def test_access_key_refusals_use_the_one_error_shape(user, access_key):
    client = APIClient()
    client.force_authenticate(user)
    too_long = client.post("/api/v1/access-keys/", {"description": "x" * 201}, format="json")
    assert too_long.status_code == 400
    body = _is_error_shape(too_long, field="description")
    assert "description" in body["errors"]
    not_an_object = client.post("/api/v1/access-keys/", [1, 2], format="json")
    assert not_an_object.status_code == 400
    _is_error_shape(not_an_object)
    missing = client.delete("/api/v1/access-keys/SBAKNOSUCHKEY/")
    assert missing.status_code == 404
    _is_error_shape(missing)
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Bearer {access_key.access_key_id}:wrong")
    refused = wrong.get("/api/v1/access-keys/")
    assert refused.status_code == 401
    _is_error_shape(refused)
    _is_error_shape(APIClient().get("/api/v1/models/"))


@pytest.mark.parametrize(
    "body",
    [
        b'{"description": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"description": "\\ud800"}',
        b'{"description": NaN}',
        "{}".encode("utf-16"),
        b'{"description": ' + b"1" * 5000 + b"}",
    ],
    ids=["deep", "lone-surrogate", "nan", "utf-16", "huge-integer"],
)
def test_unreadable_json_is_a_400_in_the_error_shape(user, body):
    client = APIClient()
    client.force_authenticate(user)
    response = client.generic("POST", "/api/v1/access-keys/", body, content_type="application/json")
    assert response.status_code == 400
    _is_error_shape(response)


@pytest.mark.parametrize("resource", ["models", "access-keys", "training-jobs"])
def test_a_huge_limit_is_capped_and_a_huge_offset_refused(access_key, resource):
    client = bearer(access_key)
    assert client.get(f"/api/v1/{resource}/?limit={10**30}").status_code == 200
    assert client.get(f"/api/v1/{resource}/?limit={'9' * 5000}").status_code == 200
    response = client.get(f"/api/v1/{resource}/?offset={10**30}")
    assert response.status_code == 400
    _is_error_shape(response, field="offset")


def test_an_unexpected_exception_is_a_json_500(access_key, monkeypatch, caplog):
    def broken(**_):
        raise RuntimeError("a bug")

    monkeypatch.setattr("console.accounts.api.access_key_list", broken)
    response = bearer(access_key).get("/api/v1/access-keys/")
    assert response.status_code == 500
    body = _is_error_shape(response)
    assert "a bug" not in body["detail"]
    assert any(record.exc_info for record in caplog.records)
