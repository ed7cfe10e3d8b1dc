"""A work team of two labelers, a text manifest and its label categories in the platform's store."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group

from console.labeling.services import workteam_create
from infra.storage import get_store
from tests.conftest import owned_bucket

TEXTS = ["great film", "dull plot", "loved it", "boring", "fine acting"]
CATEGORIES = ["positive", "negative"]
TEXT_LAMBDA = "arn:aws:lambda:us-east-1:432418664414:function:PRE-TextMultiClass"


def manifest(lines: list[dict]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def categories_file(labels: list[str]) -> bytes:
    return json.dumps(
        {"document-version": "2018-11-28", "labels": [{"label": label} for label in labels]}
    ).encode()


@pytest.fixture
def labeling_bucket(user) -> str:
    name = owned_bucket(user, "labels")
    store = get_store()
    store.write_bytes(
        f"s3://{name}/in/texts.manifest",
        manifest([{"source": text, "id": i} for i, text in enumerate(TEXTS)]),
    )
    store.write_bytes(f"s3://{name}/in/categories.json", categories_file(CATEGORIES))
    return name


@pytest.fixture
def labelers(django_user_model):
    group = Group.objects.create(name="labelers")
    workers = []
    for username in ("lin", "max", "noa"):
        worker = django_user_model.objects.create_user(username=username, password="x horse 99")
        worker.groups.add(group)
        workers.append(worker)
    return workers


@pytest.fixture
def workteam(user, labelers):
    return workteam_create(
        user=user,
        spec={
            "WorkteamName": "reviewers",
            "Description": "Film reviewers",
            "MemberDefinitions": [
                {
                    "OidcMemberDefinition": {"Groups": ["labelers"]},
                }
            ],
        },
    )


def job_request(bucket: str, workteam_arn: str, name: str = "films", **changes) -> dict:
    spec = {
        "LabelingJobName": name,
        "LabelAttributeName": "sentiment",
        "InputConfig": {
            "DataSource": {"S3DataSource": {"ManifestS3Uri": f"s3://{bucket}/in/texts.manifest"}}
        },
        "OutputConfig": {"S3OutputPath": f"s3://{bucket}/out"},
        "RoleArn": "arn:aws:iam::000000000000:role/labeling",
        "LabelCategoryConfigS3Uri": f"s3://{bucket}/in/categories.json",
        "HumanTaskConfig": {
            "WorkteamArn": workteam_arn,
            "UiConfig": {"UiTemplateS3Uri": f"s3://{bucket}/in/template.liquid"},
            "PreHumanTaskLambdaArn": TEXT_LAMBDA,
            "TaskTitle": "Sentiment",
            "TaskDescription": "Is the review positive or negative?",
            "NumberOfHumanWorkersPerDataObject": 1,
            "TaskTimeLimitInSeconds": 300,
        },
    }
    spec.update(changes)
    return spec
