"""The OpenAPI document describes the REST API as it answers, and refusals found by fuzzing it
stay in the one error shape."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(access_key) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {access_key.access_key_id}:{access_key.secret_access_key}"
    )
    return client


@pytest.fixture(scope="module")
def document() -> dict:
    client = APIClient()
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def _error_shape(body: dict) -> None:
    assert isinstance(body["detail"], str) and body["detail"]
    assert set(body) <= {"detail", "field", "errors"}


def test_creates_are_documented_as_201_with_the_describe_shape(document):
    create = document["paths"]["/api/v1/training-jobs/"]["post"]
    assert "200" not in create["responses"]
    created = create["responses"]["201"]["content"]["application/json"]["schema"]
    assert "training_job_status" in created["properties"]
    body = create["requestBody"]["content"]
    assert list(body) == ["application/json"]
    assert "training_job_name" in body["application/json"]["schema"]["required"]


def test_detail_reads_are_documented_with_the_describe_shape(document):
    detail = document["paths"]["/api/v1/models/{name}/"]["get"]["responses"]["200"]
    properties = detail["content"]["application/json"]["schema"]["properties"]
    assert {"model_name", "model_arn", "creation_time"} <= set(properties)


def test_refusals_are_documented_in_the_error_shape(document):
    error = {"$ref": "#/components/schemas/Error"}
    assert set(document["components"]["schemas"]["Error"]["properties"]) == {
        "detail",
        "field",
        "errors",
    }
    for path, codes in [
        ("/api/v1/models/", {"get": {"400", "401", "403"}, "post": {"400", "404", "409", "415"}}),
        ("/api/v1/models/{name}/", {"get": {"404"}, "delete": {"404", "409"}}),
        ("/api/v1/training-jobs/{name}/stop/", {"post": {"404", "409"}}),
    ]:
        for method, expected in codes.items():
            responses = document["paths"][path][method]["responses"]
            assert expected <= set(responses), (path, method)
            for code in expected:
                assert responses[code]["content"]["application/json"]["schema"] == error


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/pipelines/{name}/update/", "get"),
        ("/api/v1/training-jobs/{name}/", "delete"),
        ("/api/v1/transform-jobs/{name}/", "delete"),
        ("/api/v1/tuning-jobs/{name}/", "delete"),
        ("/api/v1/labeling-jobs/{name}/", "delete"),
    ],
)
def test_methods_a_view_does_not_implement_are_neither_advertised_nor_offered(
    document, api, path, method
):
    assert method not in document["paths"][path]
    response = getattr(api, method)(path.replace("{name}", "x"))
    assert response.status_code == 405
    _error_shape(response.json())
    assert method.upper() not in response["Allow"]


@pytest.mark.parametrize("path", ["update", "weights-and-capacities"])
@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"3", b"null"])
def test_an_endpoint_update_body_that_is_not_an_object_is_a_400(api, path, body):
    response = api.generic(
        "POST", f"/api/v1/endpoints/x/{path}/", body, content_type="application/json"
    )
    assert response.status_code == 400
    _error_shape(response.json())


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "limit=-1", "offset=null", "offset=-3"])
def test_a_limit_or_offset_that_is_not_a_whole_number_is_a_400_naming_it(api, query):
    response = api.get(f"/api/v1/models/?{query}")
    assert response.status_code == 400
    assert response.json()["field"] == query.split("=")[0]


def test_a_path_no_route_takes_is_a_json_404_under_the_api_only(api, client):
    response = api.post("/api/v1/labeling-jobs/x/tasks/-1/skip/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    _error_shape(response.json())
    assert "application/json" not in client.get("/no-such-page/")["Content-Type"]


def test_an_access_key_description_must_be_a_string_sent_as_json(api):
    number = api.post("/api/v1/access-keys/", {"description": 0}, format="json")
    assert number.status_code == 400 and number.json()["field"] == "description"
    form = api.post("/api/v1/access-keys/", {"description": "ci"})  # multipart
    assert form.status_code == 415
    _error_shape(form.json())
