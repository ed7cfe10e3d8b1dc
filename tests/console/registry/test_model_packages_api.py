"""The model registry's REST API: `/api/v1/model-package-groups/` and `/api/v1/model-packages/`
end in the same services as the SageMaker API, and answer in the Describe shapes."""

from __future__ import annotations

import pytest

from tests.console.test_rest_api import bearer

pytestmark = pytest.mark.django_db


def snake_request(bucket: str, **extra) -> dict:
    return {
        "model_package_group_name": "churn",
        "model_package_description": "LightGBM on the churn set",
        "inference_specification": {
            "containers": [
                {
                    "image": "lightgbm",
                    "model_data_url": f"s3://{bucket}/train-1/output/model.tar.gz",
                }
            ],
            "supported_content_types": ["text/csv"],
            "supported_response_mime_types": ["text/csv"],
        },
        "model_metrics": {
            "model_quality": {
                "statistics": {
                    "content_type": "application/json",
                    "s3_uri": f"s3://{bucket}/eval/statistics.json",
                }
            }
        },
        "customer_metadata_properties": {"Team": "growth"},
        **extra,
    }


def test_register_approve_list_and_delete_a_version(access_key, registry_bucket):
    client = bearer(access_key)
    created = client.post(
        "/api/v1/model-package-groups/",
        {"model_package_group_name": "churn", "model_package_group_description": "Churn"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["model_package_group_arn"].endswith(":model-package-group/churn")

    registered = client.post(
        "/api/v1/model-packages/", snake_request(registry_bucket), format="json"
    )
    assert registered.status_code == 201, registered.content
    body = registered.json()
    assert body["model_package_version"] == 1
    assert body["model_approval_status"] == "PendingManualApproval"
    assert body["customer_metadata_properties"] == {"Team": "growth"}  # keys are not renamed
    container = body["inference_specification"]["containers"][0]
    assert container["model_data_url"].endswith("/train-1/output/model.tar.gz")

    approved = client.post(
        "/api/v1/model-packages/churn/1/update/",
        {"model_approval_status": "Approved", "approval_description": "better"},
        format="json",
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["model_approval_status"] == "Approved"
    detail = client.get("/api/v1/model-packages/churn/1/").json()
    assert detail["approval_description"] == "better"

    client.post("/api/v1/model-packages/", snake_request(registry_bucket), format="json")
    listed = client.get("/api/v1/model-packages/?group=churn").json()["results"]
    assert [(p["version"], p["approval_status"]) for p in listed] == [
        (2, "PendingManualApproval"),
        (1, "Approved"),
    ]
    approved_only = client.get("/api/v1/model-packages/?approval_status=Approved").json()
    assert [p["version"] for p in approved_only["results"]] == [1]

    refused = client.delete("/api/v1/model-package-groups/churn/")
    assert refused.status_code == 409
    assert "holds 2 model package" in refused.json()["detail"]
    assert client.delete("/api/v1/model-packages/churn/1/").status_code == 204
    assert client.delete("/api/v1/model-packages/churn/2/").status_code == 204
    assert client.get("/api/v1/model-packages/churn/1/").status_code == 404
    assert client.delete("/api/v1/model-package-groups/churn/").status_code == 204


def test_refusals_name_the_field(access_key, registry_bucket):
    client = bearer(access_key)
    missing_group = client.post(
        "/api/v1/model-packages/", snake_request(registry_bucket), format="json"
    )
    assert missing_group.status_code == 404
    client.post(
        "/api/v1/model-package-groups/", {"model_package_group_name": "churn"}, format="json"
    )
    bad = snake_request(registry_bucket)
    bad["inference_specification"]["containers"][0]["model_data_url"] = (
        f"s3://{registry_bucket}/none/model.tar.gz"
    )
    refused = client.post("/api/v1/model-packages/", bad, format="json")
    assert refused.status_code == 400
    assert refused.json()["field"] == "inference_specification.containers.1.model_data_url"

    client.post("/api/v1/model-packages/", snake_request(registry_bucket), format="json")
    wrong = client.post(
        "/api/v1/model-packages/churn/1/update/", {"model_approval_status": "Maybe"}, format="json"
    )
    assert wrong.status_code == 400 and wrong.json()["field"] == "model_approval_status"
    duplicate = client.post(
        "/api/v1/model-package-groups/", {"model_package_group_name": "churn"}, format="json"
    )
    assert duplicate.status_code == 409


def test_unversioned_packages_are_addressed_by_name(access_key, registry_bucket):
    client = bearer(access_key)
    request = snake_request(registry_bucket)
    request["model_package_name"] = request.pop("model_package_group_name")
    created = client.post("/api/v1/model-packages/", request, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["model_package_arn"].endswith(":model-package/churn")
    assert "model_package_version" not in created.json()
    assert client.get("/api/v1/model-packages/churn/").json()["model_package_name"] == "churn"
    refused = client.post(
        "/api/v1/model-packages/churn/update/", {"model_approval_status": "Approved"}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["field"] == "model_approval_status"


def test_other_users_do_not_see_a_group(access_key, other_user, registry_bucket):
    from console.accounts.services import access_key_create

    client = bearer(access_key)
    client.post(
        "/api/v1/model-package-groups/", {"model_package_group_name": "churn"}, format="json"
    )
    client.post("/api/v1/model-packages/", snake_request(registry_bucket), format="json")
    other = bearer(access_key_create(user=other_user, description="other"))
    assert other.get("/api/v1/model-package-groups/").json()["results"] == []
    assert other.get("/api/v1/model-packages/churn/1/").status_code == 404
    assert other.get("/api/v1/model-package-groups/churn/").status_code == 404
