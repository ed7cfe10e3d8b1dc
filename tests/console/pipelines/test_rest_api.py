"""/api/v1/pipelines/: the same services as the SageMaker API, snake_cased."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from console.pipelines.models import PipelineExecution
from flows.pipelines import run_pipeline_execution
from flows.training import run_training_job
from tests.console.pipelines.definitions import ROLE, chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def create(api, bucket, **changes):
    body = {"pipeline_name": "chain", "pipeline_definition": chain(bucket), "role_arn": ROLE}
    return api.post("/api/v1/pipelines/", {**body, **changes}, format="json")


def test_create_read_update_and_delete(api, data_bucket):
    created = create(api, data_bucket, pipeline_description="first")
    assert created.status_code == 201, created.json()
    assert created.json()["pipeline_status"] == "Active"
    assert created.json()["pipeline_description"] == "first"

    assert [p["name"] for p in api.get("/api/v1/pipelines/").json()["results"]] == ["chain"]
    detail = api.get("/api/v1/pipelines/chain/").json()
    assert detail["pipeline_arn"].endswith(":pipeline/chain")

    updated = api.post(
        "/api/v1/pipelines/chain/update/", {"pipeline_description": "second"}, format="json"
    )
    assert updated.status_code == 200 and updated.json()["pipeline_description"] == "second"

    assert api.delete("/api/v1/pipelines/chain/").status_code == 204
    assert api.get("/api/v1/pipelines/chain/").status_code == 404


def test_a_bad_definition_is_refused_naming_the_field(api, data_bucket):
    definition = chain(data_bucket)
    definition["Steps"][0]["DependsOn"] = ["Nowhere"]
    refused = create(api, data_bucket, pipeline_definition=definition)
    assert refused.status_code == 400
    assert "Steps.Train.DependsOn" in str(refused.json())


def test_executions_start_list_show_their_steps_and_stop(api, data_bucket):
    create(api, data_bucket)
    started = api.post(
        "/api/v1/pipelines/chain/executions/",
        {"pipeline_parameters": [{"name": "NumRound", "value": "2"}]},
        format="json",
    )
    assert started.status_code == 201, started.json()
    execution = started.json()
    assert execution["pipeline_execution_status"] == "Executing"
    assert execution["parameters"] == {"NumRound": 2, "Threshold": 1.0}
    path = f"/api/v1/pipelines/chain/executions/{execution['execution_id']}/"
    listed = api.get("/api/v1/pipelines/chain/executions/").json()
    assert [e["execution_id"] for e in listed] == [execution["execution_id"]]

    row = PipelineExecution.objects.get(name=execution["execution_id"])
    run_pipeline_execution(row.pk, poll_seconds=0.01, run_child={"Training": run_training_job})

    steps = api.get(path + "steps/").json()
    assert [s["step_name"] for s in steps] == ["Train", "Check", "Model"]
    assert steps[0]["metadata"]["training_job"]["arn"].startswith("arn:aws:sagemaker:")
    detail = api.get(path).json()
    assert detail["pipeline_execution_status"] == "Succeeded"
    assert {"name": "NumRound", "value": "2"} in detail["pipeline_parameters"]
    assert api.post(path + "stop/").status_code == 409  # it has ended


def test_stop_marks_an_executing_execution_stopping(api, data_bucket):
    create(api, data_bucket)
    execution = api.post("/api/v1/pipelines/chain/executions/", {}, format="json").json()
    path = f"/api/v1/pipelines/chain/executions/{execution['execution_id']}/"
    assert api.post(path + "stop/").status_code == 202
    assert api.get(path).json()["pipeline_execution_status"] == "Stopping"
