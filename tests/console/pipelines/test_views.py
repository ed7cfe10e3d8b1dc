"""Console pages: the pipelines list, a pipeline with its step graph and executions, and one
execution with each step's state."""

from __future__ import annotations

import pytest

from console.pipelines.schedules import pipeline_schedule_create
from console.pipelines.services import pipeline_create, pipeline_execution_start
from flows.pipelines import run_pipeline_execution
from flows.training import run_training_job
from tests.console.pipelines.definitions import ROLE, chain, text

pytestmark = pytest.mark.django_db


def test_pages_show_the_graph_the_executions_and_each_steps_state(client, user, data_bucket):
    pipeline_create(
        user=user,
        spec={
            "PipelineName": "chain",
            "PipelineDisplayName": "Nightly-chain",
            "PipelineDefinition": text(chain(data_bucket)),
            "ClientRequestToken": "c" * 32,
            "RoleArn": ROLE,
        },
    )
    pipeline_schedule_create(
        user=user, pipeline_name="chain", spec={"ScheduleName": "nightly", "Cron": "0 2 * * *"}
    )
    execution = pipeline_execution_start(
        user=user,
        spec={
            "PipelineName": "chain",
            "ClientRequestToken": "r" * 32,
            "PipelineParameters": [{"Name": "NumRound", "Value": "3"}],
        },
    )
    client.force_login(user)
    running = client.get(f"/pipelines/chain/executions/{execution.name}/").content.decode()
    assert "?fragment=status" in running and "data-live-done" not in running  # refreshed
    assert "Stop" in running

    run_pipeline_execution(
        execution.pk, poll_seconds=0.01, run_child={"Training": run_training_job}
    )

    listing = client.get("/pipelines/").content.decode()
    assert 'href="/pipelines/chain/"' in listing
    page = client.get("/pipelines/chain/").content.decode()
    assert "Nightly-chain" in page
    for step in ("Train", "Check", "Model", "TooWeak"):
        assert f'data-step="{step}"' in page
    assert 'data-step="Train" data-status="Succeeded"' in page
    assert 'data-step="TooWeak" data-status=""' in page  # the branch not taken
    assert f"/pipelines/chain/executions/{execution.name}/" in page
    assert "NumRound=3" in page
    assert "0 2 * * *" in page
    done = client.get(f"/pipelines/chain/executions/{execution.name}/").content.decode()
    assert "Succeeded" in done and "outcome True" in done
    assert "data-live-done" in done  # no longer refreshed
    assert client.get("/pipelines/nothing/").status_code == 404
