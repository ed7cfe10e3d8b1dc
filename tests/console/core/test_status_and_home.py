"""The status page answers from a cache refreshed in the background; the home page says what
runs, what failed and why, and how the endpoints are; both refresh in place (``data-live-url``)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from console.core import health
from console.core.names import account_id_for, arn
from console.endpoints.models import Endpoint
from console.training.models import TrainingJob
from infra.health import Health

pytestmark = pytest.mark.django_db


@pytest.fixture
def slow_checks(monkeypatch):
    """The stack's checks as slow as when a part is down (a Celery ping that times out)."""
    monkeypatch.setattr(health, "_stack_checks", health._StackChecksCache())
    calls = []
    release = threading.Event()

    def checks(config):
        calls.append(time.monotonic())
        release.wait(5)
        return [Health("Redis", False, "ConnectionError: redis://user:pw@db:6379 refused")]

    monkeypatch.setattr("infra.health.stack_health", checks)
    return calls, release


def test_status_answers_at_once_from_the_cache_while_checks_run_behind(client, user, slow_checks):
    calls, release = slow_checks
    client.force_login(user)

    started = time.monotonic()
    first = client.get("/status/").content.decode()
    assert time.monotonic() - started < 0.2
    assert "Checking every process" in first and 'data-live-url="/status/?fragment=checks"' in first

    release.set()
    health.stack_checks_wait(5)
    started = time.monotonic()
    fragment = client.get("/status/", {"fragment": "checks"}).content.decode()
    assert time.monotonic() - started < 0.2
    assert "<html" not in fragment and "Checked 0 s ago" in fragment
    assert "redis://***@db:6379 refused" in fragment  # never a credential
    client.get("/status/")
    assert len(calls) == 1  # fresh: no second run of the checks


def _job(owner, name: str, status: str, **fields) -> TrainingJob:
    return TrainingJob.objects.create(
        owner=owner,
        name=name,
        arn=arn("training-job", name, account_id=account_id_for(owner.pk)),
        status=status,
        **fields,
    )


def test_home_shows_running_jobs_recent_failures_and_endpoint_health(client, user, other_user):
    _job(
        user,
        "still-training",
        "InProgress",
        secondary_status="Training",
        started_at=timezone.now() - timedelta(minutes=3),
    )
    _job(user, "broke", "Failed", failure_reason="AlgorithmError: s3://d/train.csv line 7: 3 cols")
    _job(other_user, "not-mine", "Failed", failure_reason="someone else's")
    Endpoint.objects.create(
        owner=user,
        name="scoring",
        arn=arn("endpoint", "scoring", account_id=account_id_for(user.pk)),
        status="Failed",
        failure_reason="model.tar.gz is missing",
        config_name="scoring-config",
    )
    client.force_login(user)

    html = client.get("/").content.decode()
    assert 'href="/training-jobs/still-training/"' in html and "3 min" in html
    assert "Training" in html
    assert "s3://d/train.csv line 7: 3 cols" in html and "not-mine" not in html
    assert 'href="/endpoints/scoring/"' in html and "model.tar.gz is missing" in html
    assert 'data-live-url="/?fragment=panels"' in html
    fragment = client.get("/", {"fragment": "panels"}).content.decode()
    assert "<nav" not in fragment and "still-training" in fragment
