"""Rows of each kind of job, as their flows leave them, for the live pages' tests: written
straight to the test database (the pages read them; no flow runs)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from console.core.names import account_id_for, arn


@pytest.fixture
def user(django_user_model):
    """A user without a password (``force_login``): hashing one costs seconds on a busy machine."""
    return django_user_model.objects.create(username="ada")


@pytest.fixture
def console(client, user):
    client.force_login(user)
    return client


def job_row(model, user, name: str, kind: str, *, status: str = "InProgress", **fields):
    """A job of ``model`` started a minute and a half ago, still running unless told."""
    started = timezone.now() - timedelta(seconds=90)
    return model.objects.create(
        owner=user,
        name=name,
        arn=arn(kind, name, account_id=account_id_for(user.pk)),
        status=status,
        started_at=started,
        **fields,
    )
