"""Fixtures of the endpoint console's tests: a signed-in browser session, the flow runs the pages
start (recorded, not run), and a registered model whose artifact is in the platform's store."""

from __future__ import annotations

import uuid

import pytest

from console.registry.services import model_create
from infra.storage import get_store
from tests.conftest import owned_bucket


@pytest.fixture
def user(django_user_model):
    """The suite's user, without a password: these tests sign in with ``force_login``, and
    hashing one costs about two seconds a test on a busy machine."""
    return django_user_model.objects.create(username="ada")


@pytest.fixture
def console(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def flow_runs(monkeypatch) -> list[tuple[str, dict]]:
    """The flow runs started (by on-commit hooks a test runs): recorded, none run."""
    started: list[tuple[str, dict]] = []

    def start_flow_run(deployment: str, *, parameters: dict):
        started.append((deployment, parameters))
        return uuid.uuid4()

    monkeypatch.setattr("infra.prefect.start_flow_run", start_flow_run)
    return started


@pytest.fixture
def artifact(user) -> str:
    """A model artifact of ``user``'s: the services check that it exists, the deploy flow
    reads it."""
    bucket = owned_bucket(user, "endpoint-forms")
    store = get_store()
    uri = f"s3://{bucket}/job/output/model.tar.gz"
    store.write_bytes(uri, b"a model")
    return uri


@pytest.fixture
def model(user, artifact):
    return model_create(
        user=user,
        spec={
            "ModelName": "churn",
            "PrimaryContainer": {"Image": "lightgbm", "ModelDataUrl": artifact},
        },
    )
