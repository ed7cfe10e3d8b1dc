"""Fixtures of the console form tests: a user made without a password (the tests sign in with
``force_login``, and hashing one costs a second per test), and jobs whose flow runs never start."""

from __future__ import annotations

import pytest


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="ada")


@pytest.fixture
def no_flow_runs(monkeypatch):
    """Jobs are created without their flow runs starting: these tests look at the request."""
    monkeypatch.setattr("infra.prefect.start_flow_run", lambda deployment, *, parameters: None)
