"""The model registry over boto3: model package groups, versions, approval, and models created
from an approved version."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from console.core.names import account_id_for
from console.core.shapes import response_violations
from console.registry.models import ModelPackage
from console.registry.selectors import model_package_describe, model_package_get
from console.registry.services import (
    model_package_create,
    model_package_group_create,
    model_package_update,
)
from console.training.models import TrainingJob
from console.transform.models import TransformJob
from infra.storage import get_store
from tests.console.registry.conftest import IMAGE, package_request


def account(user) -> str:
    return account_id_for(user.pk)


def as_sent(response: dict) -> dict:
    return json.loads(json.dumps(response, default=lambda value: value.timestamp()))


def error_of(call, **params) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


@pytest.fixture
def boto3_sagemaker(sagemaker):
    yield sagemaker
    sagemaker.close()  # no keep-alive request thread outlives the test


@pytest.mark.django_db(transaction=True)
def test_groups_create_describe_list_and_refuse_duplicates(boto3_sagemaker, user):
    sagemaker = boto3_sagemaker
    created = sagemaker.create_model_package_group(
        ModelPackageGroupName="churn", ModelPackageGroupDescription="Churn models"
    )
    group_arn = created["ModelPackageGroupArn"]
    assert group_arn == f"arn:aws:sagemaker:us-east-1:{account(user)}:model-package-group/churn"
    sagemaker.create_model_package_group(ModelPackageGroupName="fraud")

    described = sagemaker.describe_model_package_group(ModelPackageGroupName="churn")
    assert described["ModelPackageGroupArn"] == group_arn
    assert described["ModelPackageGroupDescription"] == "Churn models"
    assert described["ModelPackageGroupStatus"] == "Completed"
    assert isinstance(described["CreationTime"], datetime)
    assert (
        sagemaker.describe_model_package_group(ModelPackageGroupName=group_arn)[
            "ModelPackageGroupName"
        ]
        == "churn"
    )

    listed = sagemaker.list_model_package_groups(SortBy="Name", SortOrder="Descending")
    names = [g["ModelPackageGroupName"] for g in listed["ModelPackageGroupSummaryList"]]
    assert names == ["fraud", "churn"]
    first = sagemaker.list_model_package_groups(MaxResults=1, SortBy="Name")
    assert [g["ModelPackageGroupName"] for g in first["ModelPackageGroupSummaryList"]] == ["churn"]
    rest = sagemaker.list_model_package_groups(
        MaxResults=1, SortBy="Name", NextToken=first["NextToken"]
    )
    assert [g["ModelPackageGroupName"] for g in rest["ModelPackageGroupSummaryList"]] == ["fraud"]
    assert [
        g["ModelPackageGroupName"]
        for g in sagemaker.list_model_package_groups(NameContains="fra")[
            "ModelPackageGroupSummaryList"
        ]
    ] == ["fraud"]

    code, message = error_of(sagemaker.create_model_package_group, ModelPackageGroupName="churn")
    assert code == "ValidationException" and group_arn in message
    code, message = error_of(sagemaker.describe_model_package_group, ModelPackageGroupName="nope")
    assert code == "ValidationException" and "model-package-group/nope does not exist" in message
    code, message = error_of(sagemaker.create_model_package_group, ModelPackageGroupName="a_b")
    assert code == "ValidationException" and "modelPackageGroupName" in message


@pytest.mark.django_db(transaction=True)
def test_versions_are_numbered_within_their_group_and_described_in_full(
    boto3_sagemaker, user, registry_bucket
):
    sagemaker = boto3_sagemaker
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    first = sagemaker.create_model_package(**package_request(registry_bucket))["ModelPackageArn"]
    second = sagemaker.create_model_package(
        **package_request(
            registry_bucket,
            ModelApprovalStatus="Approved",
            MetadataProperties={
                "GeneratedBy": "arn:aws:sagemaker:us-east-1:000000000001:pipeline/p/execution/e1"
            },
            CustomerMetadataProperties={"team": "growth"},
        )
    )["ModelPackageArn"]
    assert first == f"arn:aws:sagemaker:us-east-1:{account(user)}:model-package/churn/1"
    assert second.endswith(":model-package/churn/2")

    described = sagemaker.describe_model_package(ModelPackageName=first)
    assert described["ModelPackageName"] == "churn"
    assert described["ModelPackageGroupName"] == "churn"
    assert described["ModelPackageVersion"] == 1
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
    assert described["ModelPackageStatus"] == "Completed"
    assert described["ModelPackageStatusDetails"]["ValidationStatuses"] == []
    assert described["CertifyForMarketplace"] is False
    container = described["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == f"s3://{registry_bucket}/train-1/output/model.tar.gz"
    assert described["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]
    statistics = described["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["S3Uri"] == f"s3://{registry_bucket}/eval/statistics.json"
    assert described["CustomerMetadataProperties"] == {}

    again = sagemaker.describe_model_package(ModelPackageName="churn/2")
    assert again["ModelApprovalStatus"] == "Approved"
    assert again["CustomerMetadataProperties"] == {"team": "growth"}
    assert again["MetadataProperties"]["GeneratedBy"].endswith("execution/e1")

    by_group_arn = sagemaker.create_model_package(
        **package_request(registry_bucket, group=described["ModelPackageGroupName"])
    )["ModelPackageArn"]
    assert by_group_arn.endswith(":model-package/churn/3")
    group = sagemaker.describe_model_package_group(ModelPackageGroupName="churn")
    group.pop("ResponseMetadata")
    assert response_violations("DescribeModelPackageGroup", as_sent(group)) == []
    group_arn = group["ModelPackageGroupArn"]
    third = sagemaker.create_model_package(**package_request(registry_bucket, group=group_arn))
    assert third["ModelPackageArn"].endswith(":model-package/churn/4")

    package = ModelPackage.objects.get(version=2)
    assert package.source.endswith("pipeline/p/execution/e1")
    response = as_sent(model_package_describe(package))
    assert response_violations("DescribeModelPackage", response) == []


@pytest.mark.django_db(transaction=True)
def test_list_filters_by_group_approval_and_type_and_pages(boto3_sagemaker, registry_bucket):
    sagemaker = boto3_sagemaker
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    sagemaker.create_model_package_group(ModelPackageGroupName="fraud")
    for status in ("Approved", "Rejected", "Approved"):
        sagemaker.create_model_package(
            **package_request(registry_bucket, ModelApprovalStatus=status)
        )
    sagemaker.create_model_package(**package_request(registry_bucket, group="fraud"))
    unversioned = package_request(registry_bucket, group=None)
    del unversioned["ModelPackageGroupName"]
    sagemaker.create_model_package(ModelPackageName="standalone", **unversioned)

    def versions(**params) -> list[tuple[str, int]]:
        page = sagemaker.list_model_packages(**params)["ModelPackageSummaryList"]
        return [(p["ModelPackageName"], p.get("ModelPackageVersion")) for p in page]

    assert versions(ModelPackageGroupName="churn") == [("churn", 1), ("churn", 2), ("churn", 3)]
    assert versions(ModelPackageGroupName="churn", ModelApprovalStatus="Approved") == [
        ("churn", 1),
        ("churn", 3),
    ]
    assert versions() == [("standalone", None)]
    assert len(versions(ModelPackageType="Versioned")) == 4
    assert len(versions(ModelPackageType="Both")) == 5
    newest = sagemaker.list_model_packages(
        ModelPackageGroupName="churn", SortBy="CreationTime", SortOrder="Descending", MaxResults=2
    )
    assert [p["ModelPackageVersion"] for p in newest["ModelPackageSummaryList"]] == [3, 2]
    rest = sagemaker.list_model_packages(
        ModelPackageGroupName="churn",
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=2,
        NextToken=newest["NextToken"],
    )
    assert [p["ModelPackageVersion"] for p in rest["ModelPackageSummaryList"]] == [1]
    [summary] = rest["ModelPackageSummaryList"]
    assert summary["ModelApprovalStatus"] == "Approved"
    assert summary["ModelPackageGroupName"] == "churn"
    assert summary["ModelPackageStatus"] == "Completed"


@pytest.mark.django_db(transaction=True)
def test_approval_metadata_and_deletes(boto3_sagemaker, registry_bucket):
    sagemaker = boto3_sagemaker
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    arn = sagemaker.create_model_package(
        **package_request(registry_bucket, CustomerMetadataProperties={"a": "1", "b": "2"})
    )["ModelPackageArn"]

    updated = sagemaker.update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus="Approved",
        ApprovalDescription="beats the live model",
        CustomerMetadataProperties={"c": "3"},
        CustomerMetadataPropertiesToRemove=["a"],
    )
    assert updated["ModelPackageArn"] == arn
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "beats the live model"
    assert described["CustomerMetadataProperties"] == {"b": "2", "c": "3"}
    assert described["LastModifiedBy"]["UserProfileName"] == "ada"

    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    assert sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == (
        "Rejected"
    )
    code, message = error_of(
        sagemaker.update_model_package, ModelPackageArn=arn, ModelApprovalStatus="Maybe"
    )
    assert code == "ValidationException" and "modelApprovalStatus" in message

    code, message = error_of(sagemaker.delete_model_package_group, ModelPackageGroupName="churn")
    assert code == "ConflictException" and "holds 1 model package" in message
    sagemaker.delete_model_package(ModelPackageName=arn)
    code, message = error_of(sagemaker.describe_model_package, ModelPackageName=arn)
    assert code == "ValidationException" and f"{arn} does not exist" in message
    sagemaker.delete_model_package_group(ModelPackageGroupName="churn")
    assert sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


@pytest.mark.django_db(transaction=True)
def test_create_refusals_name_the_field_and_write_nothing(boto3_sagemaker, registry_bucket):
    sagemaker = boto3_sagemaker
    code, message = error_of(sagemaker.create_model_package, **package_request(registry_bucket))
    assert code == "ValidationException" and "model-package-group/churn does not exist" in message

    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    missing = package_request(registry_bucket)
    missing["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] = (
        f"s3://{registry_bucket}/nothing/model.tar.gz"
    )
    code, message = error_of(sagemaker.create_model_package, **missing)
    assert "InferenceSpecification.Containers.1.ModelDataUrl" in message
    assert "existing object" in message
    unknown = package_request(registry_bucket)
    unknown["InferenceSpecification"]["Containers"][0]["Image"] = "no-such-algorithm"
    code, message = error_of(sagemaker.create_model_package, **unknown)
    assert code == "ValidationException" and "Containers.1.Image" in message
    code, message = error_of(
        sagemaker.create_model_package,
        **package_request(registry_bucket, ModelPackageName="both"),
    )
    assert "not both" in message
    unversioned = package_request(registry_bucket, ModelApprovalStatus="Approved")
    unversioned["ModelPackageName"] = unversioned.pop("ModelPackageGroupName")
    code, message = error_of(sagemaker.create_model_package, **unversioned)
    assert "ModelApprovalStatus" in message and "versioned" in message
    no_spec = {"ModelPackageGroupName": "churn"}
    code, message = error_of(sagemaker.create_model_package, **no_spec)
    assert "InferenceSpecification" in message
    bad_metrics = package_request(registry_bucket)
    bad_metrics["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] = "https://x/y.json"
    code, message = error_of(sagemaker.create_model_package, **bad_metrics)
    assert "ModelMetrics.ModelQuality.Statistics.S3Uri" in message
    assert ModelPackage.objects.count() == 0

    # A refused version used no version number: the next one is still 1.
    created = sagemaker.create_model_package(**package_request(registry_bucket))
    assert created["ModelPackageArn"].endswith("/churn/1")


@pytest.mark.django_db(transaction=True)
def test_a_model_is_created_only_from_an_approved_version(boto3_sagemaker, registry_bucket):
    sagemaker = boto3_sagemaker
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    arn = sagemaker.create_model_package(**package_request(registry_bucket))["ModelPackageArn"]
    request = {
        "ModelName": "churn-live",
        "ExecutionRoleArn": "arn:aws:iam::000000000000:role/sagebrush",
        "PrimaryContainer": {"ModelPackageName": arn, "Environment": {"EXTRA": "1"}},
    }
    code, message = error_of(sagemaker.create_model, **request)
    assert code == "ValidationException"
    assert "PrimaryContainer.ModelPackageName" in message
    assert "PendingManualApproval" in message and "Approved" in message

    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    sagemaker.create_model(**request)
    described = sagemaker.describe_model(ModelName="churn-live")
    container = described["PrimaryContainer"]
    assert container["ModelPackageName"] == arn
    assert container["Image"] == IMAGE
    assert container["ModelDataUrl"] == f"s3://{registry_bucket}/train-1/output/model.tar.gz"
    assert container["Environment"] == {"MODE": "fast", "EXTRA": "1"}

    # The model is an ordinary one: a transform job runs the package's container.
    get_store().write_bytes(f"s3://{registry_bucket}/in/a.csv", b"1,2,3,4,5\n")
    sagemaker.create_transform_job(
        TransformJobName="score-churn",
        ModelName="churn-live",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{registry_bucket}/in/"}
            },
            "ContentType": "text/csv",
        },
        TransformOutput={"S3OutputPath": f"s3://{registry_bucket}/out/"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    [container] = TransformJob.objects.get(name="score-churn").containers
    assert container["ModelDataUrl"] == f"s3://{registry_bucket}/train-1/output/model.tar.gz"

    missing = {**request, "ModelName": "other"}
    missing["PrimaryContainer"] = {"ModelPackageName": arn.replace("/1", "/9")}
    code, message = error_of(sagemaker.create_model, **missing)
    assert "existing model package" in message


@pytest.mark.django_db(transaction=True)  # like this module's live-server tests
def test_lineage_names_the_training_job_whose_artifact_the_version_serves(user, registry_bucket):
    TrainingJob.objects.create(
        owner=user,
        name="train-1",
        arn="arn:aws:sagemaker:us-east-1:000000000001:training-job/train-1",
        status="Completed",
        model_artifacts=f"s3://{registry_bucket}/train-1/output/model.tar.gz",
    )
    model_package_group_create(user=user, spec={"ModelPackageGroupName": "churn"})
    found = model_package_create(user=user, spec=package_request(registry_bucket))
    assert found.training_job_name == "train-1"
    assert found.source.endswith(":training-job/train-1")
    execution = "arn:aws:sagemaker:us-east-1:000000000001:pipeline/nightly/execution/x1"
    told = model_package_create(user=user, spec=package_request(registry_bucket), source=execution)
    assert told.source == execution and told.arn.endswith("/churn/2")

    model_package_update(
        user=user, spec={"ModelPackageArn": told.arn, "ModelApprovalStatus": "Approved"}
    )
    assert model_package_get(user=user, name="churn/2").approval_status == "Approved"
