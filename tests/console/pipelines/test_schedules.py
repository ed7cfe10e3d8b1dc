"""Pipeline schedules: checked like executions' parameters, kept as rows, missed runs reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from console.core.errors import ValidationError
from console.pipelines.models import PipelineSchedule
from console.pipelines.schedules import (
    fire_times,
    pipeline_schedule_create,
    pipeline_schedules_restore,
)
from console.pipelines.services import pipeline_create, pipeline_execution_start_scheduled
from tests.console.pipelines.definitions import ROLE, chain, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(user, data_bucket):
    return pipeline_create(
        user=user,
        spec={
            "PipelineName": "chain",
            "PipelineDefinition": text(chain(data_bucket)),
            "ClientRequestToken": "c" * 32,
            "RoleArn": ROLE,
        },
    )


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_rest_creates_reads_changes_and_deletes_a_schedule(api, pipeline):
    created = api.post(
        "/api/v1/pipelines/chain/schedules/",
        {
            "schedule_name": "nightly",
            "cron": "0 2 * * *",
            "timezone": "Europe/Paris",
            "pipeline_parameters": [{"name": "NumRound", "value": "7"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["cron"] == "0 2 * * *" and body["timezone"] == "Europe/Paris"
    assert body["applied"] is False  # applied to Prefect once committed

    changed = api.patch(
        "/api/v1/pipelines/chain/schedules/nightly/", {"interval_seconds": 3600}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["cron"] is None and changed.json()["interval_seconds"] == 3600
    assert [s["schedule_name"] for s in api.get("/api/v1/pipelines/chain/schedules/").json()] == [
        "nightly"
    ]
    assert api.delete("/api/v1/pipelines/chain/schedules/nightly/").status_code == 204
    assert api.get("/api/v1/pipelines/chain/schedules/nightly/").status_code == 404


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"Cron": "every night"}, "Cron"),
        ({"Cron": "0 2 * * *", "IntervalSeconds": 60}, "Cron"),
        ({}, "Cron"),
        ({"IntervalSeconds": 5}, "IntervalSeconds"),
        ({"Cron": "0 2 * * *", "Timezone": "Mars/Olympus"}, "Timezone"),
        ({"Cron": "0 2 * * *", "PipelineParameters": [{"Name": "Rounds", "Value": "3"}]}, "Name"),
        (
            {"Cron": "0 2 * * *", "StartTime": "2026-02-01T00:00:00Z", "EndTime": "2026-01-01"},
            "EndTime",
        ),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(user, pipeline, spec, field):
    with pytest.raises(ValidationError) as refused:
        pipeline_schedule_create(
            user=user, pipeline_name="chain", spec={"ScheduleName": "s", **spec}
        )
    assert field in refused.value.field
    assert not PipelineSchedule.objects.exists()


def test_a_scheduled_run_starts_an_execution_with_the_schedules_parameters(user, pipeline):
    schedule = pipeline_schedule_create(
        user=user,
        pipeline_name="chain",
        spec={
            "ScheduleName": "hourly",
            "IntervalSeconds": 3600,
            "PipelineParameters": [{"Name": "NumRound", "Value": "9"}],
            "EndTime": "2030-01-01T00:00:00Z",
        },
    )
    due = datetime(2027, 1, 1, 3, tzinfo=UTC)
    execution = pipeline_execution_start_scheduled(
        schedule_id=schedule.pk, flow_run_id=None, scheduled_time=due
    )
    assert execution.parameters == {"NumRound": 9, "Threshold": 1.0}
    assert execution.schedule == schedule and execution.status == "Executing"
    schedule.refresh_from_db()
    assert schedule.last_fired_at == due
    late = datetime(2031, 1, 1, tzinfo=UTC)  # after EndTime: nothing starts
    assert (
        pipeline_execution_start_scheduled(
            schedule_id=schedule.pk, flow_run_id=None, scheduled_time=late
        )
        is None
    )


def test_runs_due_while_the_platform_was_down_are_reported(user, pipeline):
    schedule = pipeline_schedule_create(
        user=user, pipeline_name="chain", spec={"ScheduleName": "minutely", "Cron": "* * * * *"}
    )
    down_since = datetime(2027, 3, 1, 12, 0, 30, tzinfo=UTC)
    PipelineSchedule.objects.filter(pk=schedule.pk).update(last_fired_at=down_since)

    restored = pipeline_schedules_restore(now=down_since + timedelta(minutes=5), apply=False)

    schedule.refresh_from_db()
    assert restored["missed"] == 5  # 12:01 to 12:05, each due over 30 s before the restart
    assert schedule.missed_runs[0].startswith("2027-03-01T12:01:00")
    assert (
        pipeline_schedules_restore(now=down_since + timedelta(minutes=5), apply=False)["missed"]
        == 0
    )  # reported once


def test_fire_times_follow_the_time_zone(user, pipeline):
    schedule = pipeline_schedule_create(
        user=user,
        pipeline_name="chain",
        spec={"ScheduleName": "paris", "Cron": "0 2 * * *", "Timezone": "Europe/Paris"},
    )
    start = datetime(2027, 6, 1, tzinfo=UTC)
    times = fire_times(schedule, start, start + timedelta(days=2))
    assert [t.astimezone(UTC).hour for t in times] == [0, 0]  # 02:00 in Paris, summer time
