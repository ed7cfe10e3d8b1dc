"""Labeling jobs and work teams from boto3 alone, against the live server: every response holds to
botocore's output shape, and bad input answers ValidationException naming the line or field."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from django.contrib.auth.models import Group

from console.core.shapes import response_violations
from console.labeling.models import LabelingJob
from tests.console.labeling import conftest as labeling
from tests.console.labeling.conftest import job_request

pytestmark = pytest.mark.django_db(transaction=True)
labeling_bucket = labeling.labeling_bucket  # the same manifest and categories


@pytest.fixture(autouse=True)
def _flow_runs_start(monkeypatch):
    """The Prefect API is not running: a started flow run is only recorded."""
    started = []
    monkeypatch.setattr(
        "infra.prefect.start_flow_run",
        lambda deployment, *, parameters: started.append((deployment, parameters)),
    )
    return started


def _raw(sagemaker, operation: str, **params) -> dict:
    """The response as sent (timestamps as epoch seconds), for the shape check."""
    captured = {}

    def keep(http_response, **_):
        import json

        captured["body"] = json.loads(http_response.content)

    sagemaker.meta.events.register(
        f"after-call.sagemaker.{operation}", lambda **kw: keep(kw["http_response"])
    )
    getattr(sagemaker, _snake(operation))(**params)
    return captured["body"]


def _snake(operation: str) -> str:
    from console.core.casing import snake_name

    return snake_name(operation)


def _team(sagemaker) -> str:
    Group.objects.get_or_create(name="labelers")
    return sagemaker.create_workteam(
        WorkteamName="reviewers",
        Description="Film reviewers",
        MemberDefinitions=[{"OidcMemberDefinition": {"Groups": ["labelers"]}}],
    )["WorkteamArn"]


def test_work_teams_in_sagemakers_shapes(sagemaker):
    team_arn = _team(sagemaker)
    assert ":workteam/private-crowd/reviewers" in team_arn
    described = _raw(sagemaker, "DescribeWorkteam", WorkteamName="reviewers")
    assert response_violations("DescribeWorkteam", described) == []
    assert described["Workteam"]["MemberDefinitions"] == [
        {"OidcMemberDefinition": {"Groups": ["labelers"]}}
    ]
    listed = _raw(sagemaker, "ListWorkteams")
    assert response_violations("ListWorkteams", listed) == []
    assert [t["WorkteamName"] for t in listed["Workteams"]] == ["reviewers"]
    updated = sagemaker.update_workteam(WorkteamName="reviewers", Description="Critics")
    assert updated["Workteam"]["Description"] == "Critics"
    assert sagemaker.delete_workteam(WorkteamName="reviewers")["Success"] is True
    with pytest.raises(ClientError) as missing:
        sagemaker.describe_workteam(WorkteamName="reviewers")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"


def test_create_describe_list_and_stop_a_labeling_job(sagemaker, labeling_bucket, _flow_runs_start):
    team_arn = _team(sagemaker)
    job_arn = sagemaker.create_labeling_job(**job_request(labeling_bucket, team_arn))[
        "LabelingJobArn"
    ]
    assert job_arn.endswith(":labeling-job/films")
    assert _flow_runs_start == [("labeling/sagebrush", {"job_id": LabelingJob.objects.get().pk})]
    described = _raw(sagemaker, "DescribeLabelingJob", LabelingJobName="films")
    assert response_violations("DescribeLabelingJob", described) == []
    assert described["LabelingJobStatus"] == "Initializing"
    assert described["LabelAttributeName"] == "sentiment"
    assert set(described["LabelCounters"]) == {
        "TotalLabeled",
        "HumanLabeled",
        "MachineLabeled",
        "FailedNonRetryableError",
        "Unlabeled",
    }
    listed = _raw(sagemaker, "ListLabelingJobs", NameContains="fil", SortBy="Name")
    assert response_violations("ListLabelingJobs", listed) == []
    assert [j["LabelingJobName"] for j in listed["LabelingJobSummaryList"]] == ["films"]
    for_team = _raw(sagemaker, "ListLabelingJobsForWorkteam", WorkteamArn=team_arn)
    assert response_violations("ListLabelingJobsForWorkteam", for_team) == []
    assert [j["LabelingJobName"] for j in for_team["LabelingJobSummaryList"]] == ["films"]
    sagemaker.stop_labeling_job(LabelingJobName="films")
    assert (
        sagemaker.describe_labeling_job(LabelingJobName="films")["LabelingJobStatus"] == "Stopping"
    )
    with pytest.raises(ClientError) as duplicate:
        sagemaker.create_labeling_job(**job_request(labeling_bucket, team_arn))
    assert duplicate.value.response["Error"]["Code"] == "ResourceInUse"


def test_bad_input_names_the_line_or_field(sagemaker, labeling_bucket):
    from infra.storage import get_store

    team_arn = _team(sagemaker)
    get_store().write_bytes(
        f"s3://{labeling_bucket}/in/texts.manifest", b'{"source": "a"}\nnot json\n'
    )
    with pytest.raises(ClientError) as bad_line:
        sagemaker.create_labeling_job(**job_request(labeling_bucket, team_arn))
    error = bad_line.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "Line 2 of the manifest is not JSON" in error["Message"]
    other_team = team_arn.replace("reviewers", "nobody")
    with pytest.raises(ClientError) as no_team:
        sagemaker.create_labeling_job(**job_request(labeling_bucket, other_team))
    assert "HumanTaskConfig.WorkteamArn" in no_team.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        sagemaker.describe_labeling_job(LabelingJobName="nothing")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFound"
    assert not LabelingJob.objects.exists()
