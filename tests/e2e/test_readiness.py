"""The running stack is ready when it answers: ``/readyz`` is 200 with every part ready, and a
flow run asked for before its deployment is registered waits for it, or says why it could not
start (never "None")."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from console.core.health import expected_deployments
from infra.prefect import FlowRunNotStarted, start_flow_run


def get_json(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_readyz_says_every_part_of_the_running_stack_is_ready(stack) -> None:
    assert get_json(stack.url + "/healthz") == (200, {"status": "alive"})

    # The stack fixture waited for the flows' log line, not for /readyz: allow its last parts
    # (a Celery worker's first ping) a few seconds.
    deadline = time.monotonic() + 30
    while True:
        try:
            status, body = get_json(stack.url + "/readyz")
        except urllib.error.HTTPError as error:
            status, body = error.code, json.loads(error.read())
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)

    assert status == 200 and body["ready"] is True, body
    assert all(part["ready"] for part in body["parts"].values()), body
    assert body["parts"]["deployments"]["detail"] == (
        f"{len(expected_deployments())} deployments served"
    )


@pytest.fixture
def stack_settings(stack):
    """Prefect's client pointed at the stack's server, as the stack's web process has it: a
    context to enter in each thread (Prefect's settings context is per thread)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    updates = {PREFECT_API_URL: f"{stack.prefect_url}/api", PREFECT_CLIENT_MAX_RETRIES: 2}
    return lambda: temporary_settings(updates=updates)


@pytest.fixture
def stack_prefect(stack_settings):
    with stack_settings():
        yield


def test_a_flow_run_waits_for_its_deployment_to_be_registered(
    stack_prefect, stack_settings, monkeypatch
):
    from prefect import get_client

    flow_name = f"late-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("SAGEBRUSH_FLOW_START_WAIT_S", "30")

    def register_later() -> None:
        time.sleep(2)
        with stack_settings(), get_client(sync_client=True) as client:
            flow_id = client.create_flow_from_name(flow_name)
            client.create_deployment(flow_id=flow_id, name="sagebrush")

    registering = threading.Thread(target=register_later)
    started = time.monotonic()
    registering.start()
    try:
        flow_run_id = start_flow_run(f"{flow_name}/sagebrush", parameters={})
    finally:
        registering.join()
    waited = time.monotonic() - started

    assert 2 <= waited < 30
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        deployment = client.read_deployment_by_name(f"{flow_name}/sagebrush")
        assert run.deployment_id == deployment.id
        client.delete_flow_run(flow_run_id)
        client.delete_deployment(deployment.id)


def test_a_deployment_never_registered_fails_saying_so(stack, stack_prefect, monkeypatch):
    monkeypatch.setenv("SAGEBRUSH_FLOW_START_WAIT_S", "2")

    started = time.monotonic()
    with pytest.raises(FlowRunNotStarted) as raised:
        start_flow_run("never-registered/sagebrush", parameters={})

    assert time.monotonic() - started >= 2
    message = str(raised.value)
    assert (
        "the flow deployment 'never-registered/sagebrush' is not registered with the Prefect "
        f"API at {stack.prefect_url}/api (waited 2 s" in message
    )
    assert "waited 2 s" in message and "None" not in message
