"""Tags over boto3: given at create and listed, added, overwritten and deleted on any resource's
ARN, with SageMaker's rules, and only on the caller's own resources."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from django.contrib.auth.models import Group

from console.core.names import account_id_for, arn
from console.core.tags import resource_tags_shape
from console.training.models import TrainingJob
from tests.console.registry.conftest import IMAGE, package_request, registry_bucket  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)
ROLE = "arn:aws:iam::000000000000:role/sagebrush"


def error_of(call, **params) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def training_request(bucket: str, name: str, **extra) -> dict:
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": "lightgbm", "TrainingInputMode": "File"},
        "HyperParameters": {"num_boost_round": "5", "objective": "binary"},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/train/"}
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
        **extra,
    }


def tags(**pairs: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in pairs.items()]


def test_tags_given_at_create_are_listed_and_a_recreated_resource_starts_bare(
    sagemaker, data_bucket, no_flow_runs
):
    job_arn = sagemaker.create_training_job(
        **training_request(data_bucket, "tagged", Tags=tags(team="fraud", stage="dev"))
    )["TrainingJobArn"]
    assert sagemaker.list_tags(ResourceArn=job_arn)["Tags"] == tags(team="fraud", stage="dev")

    group_arn = sagemaker.create_model_package_group(
        ModelPackageGroupName="churn", Tags=tags(owner="ada")
    )["ModelPackageGroupArn"]
    assert sagemaker.list_tags(ResourceArn=group_arn)["Tags"] == tags(owner="ada")
    sagemaker.delete_model_package_group(ModelPackageGroupName="churn")
    again = sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    assert again["ModelPackageGroupArn"] == group_arn
    assert sagemaker.list_tags(ResourceArn=group_arn)["Tags"] == []


def test_add_overwrites_by_key_delete_removes_and_list_pages(sagemaker, user):
    job = TrainingJob.objects.create(
        owner=user,
        name="Mixed-Case",
        status="Completed",
        arn=arn("training-job", "Mixed-Case", account_id=account_id_for(user.pk)),
    )
    added = sagemaker.add_tags(ResourceArn=job.arn, Tags=tags(a="1", b="2"))
    assert added["Tags"] == tags(a="1", b="2")
    sagemaker.add_tags(ResourceArn=job.arn, Tags=tags(b="two", c=""))
    assert sagemaker.list_tags(ResourceArn=job.arn)["Tags"] == tags(a="1", b="two", c="")

    sagemaker.delete_tags(ResourceArn=job.arn, TagKeys=["a", "not-there"])
    assert sagemaker.list_tags(ResourceArn=job.arn)["Tags"] == tags(b="two", c="")

    many = [{"Key": f"k{n:02d}", "Value": str(n)} for n in range(48)]
    sagemaker.add_tags(ResourceArn=job.arn, Tags=many)
    page = sagemaker.list_tags(ResourceArn=job.arn, MaxResults=50)
    assert len(page["Tags"]) == 50 and "NextToken" not in page
    paginated = [
        tag["Key"]
        for page in sagemaker.get_paginator("list_tags").paginate(ResourceArn=job.arn)
        for tag in page["Tags"]
    ]
    assert paginated == ["b", "c", *(t["Key"] for t in many)]


def test_a_workteam_keeps_its_tags_like_every_other_resource(sagemaker):
    Group.objects.create(name="labelers")
    workteam_arn = sagemaker.create_workteam(
        WorkteamName="annotators",
        Description="Our annotators",
        MemberDefinitions=[{"OidcMemberDefinition": {"Groups": ["labelers"]}}],
        Tags=tags(kind="team"),
    )["WorkteamArn"]
    assert sagemaker.list_tags(ResourceArn=workteam_arn)["Tags"] == tags(kind="team")


def test_models_packages_and_endpoint_configs_keep_their_tags(sagemaker, registry_bucket):  # noqa: F811
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    package_arn = sagemaker.create_model_package(
        **package_request(registry_bucket, Tags=tags(version="first"))
    )["ModelPackageArn"]
    assert package_arn.endswith(":model-package/churn/1")
    assert sagemaker.list_tags(ResourceArn=package_arn)["Tags"] == tags(version="first")

    model_arn = sagemaker.create_model(
        ModelName="churn-model",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={
            "Image": IMAGE,
            "ModelDataUrl": f"s3://{registry_bucket}/train-1/output/model.tar.gz",
        },
        Tags=tags(use="scoring"),
    )["ModelArn"]
    assert sagemaker.list_tags(ResourceArn=model_arn)["Tags"] == tags(use="scoring")
    config_arn = sagemaker.create_endpoint_config(
        EndpointConfigName="churn-config",
        ProductionVariants=[
            {
                "VariantName": "main",
                "ModelName": "churn-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        Tags=tags(use="serving"),
    )["EndpointConfigArn"]
    assert sagemaker.list_tags(ResourceArn=config_arn)["Tags"] == tags(use="serving")
    sagemaker.delete_tags(ResourceArn=config_arn, TagKeys=["use"])
    assert sagemaker.list_tags(ResourceArn=config_arn)["Tags"] == []


@pytest.mark.parametrize(
    ("bad", "field", "rule"),
    [
        (tags(**{"aws:team": "x"}), "Tags.1.Key", "reserved"),
        ([{"Key": "k" * 129, "Value": "v"}], "key", "length less than or equal to 128"),
        ([{"Key": "k", "Value": "v" * 257}], "value", "length less than or equal to 256"),
        (tags(a="1") + tags(a="2"), "Tags.2.Key", "unique"),
        ([{"Key": "bad#key", "Value": ""}], "key", "pattern"),
    ],
)
def test_bad_tags_are_refused_naming_the_tag_and_the_rule(sagemaker, user, bad, field, rule):
    job = TrainingJob.objects.create(
        owner=user,
        name="j",
        status="Completed",
        arn=arn("training-job", "j", account_id=account_id_for(user.pk)),
    )
    code, message = error_of(sagemaker.add_tags, ResourceArn=job.arn, Tags=bad)
    assert code == "ValidationException"
    assert field in message and rule in message, message
    assert sagemaker.list_tags(ResourceArn=job.arn)["Tags"] == []


def test_at_most_fifty_tags_per_resource(sagemaker, user):
    job = TrainingJob.objects.create(
        owner=user,
        name="j",
        status="Completed",
        arn=arn("training-job", "j", account_id=account_id_for(user.pk)),
    )
    sagemaker.add_tags(ResourceArn=job.arn, Tags=[{"Key": f"k{n}", "Value": ""} for n in range(40)])
    more = [{"Key": f"x{n}", "Value": ""} for n in range(11)]
    code, message = error_of(sagemaker.add_tags, ResourceArn=job.arn, Tags=more)
    assert code == "ValidationException" and "at most 50 tags" in message and "51" in message
    assert len(sagemaker.list_tags(ResourceArn=job.arn)["Tags"]) == 40


def test_tags_at_create_follow_the_same_rules_and_nothing_is_written(
    sagemaker, data_bucket, no_flow_runs
):
    request = training_request(data_bucket, "refused", Tags=tags(**{"AWS:x": "1"}))
    code, message = error_of(sagemaker.create_training_job, **request)
    assert code == "ValidationException" and "Tags.1.Key" in message
    assert not TrainingJob.objects.filter(name="refused").exists()


def test_an_unknown_or_another_users_arn_is_not_found_naming_it(
    sagemaker, live_server, user, other_user
):
    theirs = TrainingJob.objects.create(
        owner=other_user,
        name="theirs",
        status="Completed",
        arn=arn("training-job", "theirs", account_id=account_id_for(other_user.pk)),
    )
    missing = arn("training-job", "missing", account_id=account_id_for(user.pk))
    for resource_arn in (missing, theirs.arn):
        for call, extra in (
            (sagemaker.list_tags, {}),
            (sagemaker.add_tags, {"Tags": tags(a="1")}),
            (sagemaker.delete_tags, {"TagKeys": ["a"]}),
        ):
            code, message = error_of(call, ResourceArn=resource_arn, **extra)
            assert (code, resource_arn in message) == ("ValidationException", True), message
    assert resource_tags_shape(theirs.arn) == []

    code, message = error_of(sagemaker.list_tags, ResourceArn="arn:aws:s3:::bucket")
    assert code == "ValidationException" and "resourceArn" in message
    mine = TrainingJob.objects.create(
        owner=user,
        name="mine",
        status="Completed",
        arn=arn("training-job", "mine", account_id=account_id_for(user.pk)),
    )
    code, message = error_of(sagemaker.list_tags, ResourceArn=mine.arn, NextToken="not-a-token")
    assert code == "ValidationException" and "NextToken" in message
