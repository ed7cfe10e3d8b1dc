"""``/healthz`` and ``/readyz``: alive as soon as the web process answers; ready only when every
part can take work, each part's state in JSON, no login needed and no credential shown. Here the
test settings point Prefect and Redis at ports where nothing listens (``tests.environment``)."""

from __future__ import annotations

import time

import pytest

from console.core.health import expected_deployments
from infra.prefect import FlowRunNotStarted, start_flow_run

PARTS = {"celery", "dask", "database", "deployments", "prefect", "redis", "storage"}


def test_healthz_answers_alive_without_a_login(client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


@pytest.mark.django_db
def test_readyz_is_503_naming_each_part_while_parts_are_down(client, monkeypatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://sagebrush:hunter2@127.0.0.1:9/0")
    from infra.config import settings

    settings.cache_clear()
    try:
        response = client.get("/readyz")
    finally:
        settings.cache_clear()

    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert set(body["parts"]) == PARTS
    assert body["parts"]["database"]["ready"] is True
    assert body["parts"]["storage"]["ready"] is True
    for down in ("prefect", "deployments", "redis"):
        assert body["parts"][down]["ready"] is False, down
        assert body["parts"][down]["detail"], down
    assert "hunter2" not in response.content.decode()


def test_every_deployment_the_console_starts_is_expected() -> None:
    assert expected_deployments() == sorted(
        [
            "endpoint-deploy/sagebrush",
            "labeling/sagebrush",
            "pipeline-schedule/sagebrush",
            "pipeline/sagebrush",
            "processing/sagebrush",
            "training/sagebrush",
            "transform/sagebrush",
            "tuning/sagebrush",
        ]
    )


def test_a_flow_run_that_cannot_start_says_why_and_never_none() -> None:
    started = time.monotonic()
    with pytest.raises(FlowRunNotStarted) as raised:
        start_flow_run("training/sagebrush", parameters={"job_id": 1})

    message = str(raised.value)
    assert "None" not in message
    assert "the Prefect API at http://127.0.0.1:9/api did not start 'training/sagebrush'" in message
    assert time.monotonic() - started < 10  # a Prefect that does not answer is not waited for


@pytest.mark.django_db(transaction=True)
def test_the_stack_command_reads_which_parts_it_waits_for(live_server) -> None:
    from console.core.management.commands.stack import readyz

    ready, waiting = readyz(live_server.url)

    assert ready is False
    assert {"prefect", "deployments", "redis", "celery"} <= set(waiting)
    assert "database" not in waiting and "storage" not in waiting
    ready, waiting = readyz("http://127.0.0.1:9")
    assert ready is False and list(waiting) == ["web"]
    assert waiting["web"].startswith("not answering yet")
