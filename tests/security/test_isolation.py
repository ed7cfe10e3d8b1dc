"""Other users: one user's resources, of every kind, through every adapter, are invisible and
untouchable to another user; staff see everyone's.

Ada creates one resource of each kind through boto3. Grace then tries every operation she could
name on them: the SageMaker API (describe, stop, update, delete, tags by ARN), the runtime
(invoke), S3 on Ada's bucket, the REST API and the console pages. Each attempt is one row of a
table, so a new kind of resource is a few rows. Every attempt must be refused as "not found" (the
same answer as for a name nobody uses, so nothing tells her the resource exists), and afterwards
every one of Ada's resources is as she left it.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from rest_framework.test import APIClient

from console.accounts.services import access_key_create
from console.endpoints.models import Endpoint
from infra.storage import get_store
from tests.conftest import owned_bucket
from tests.console.conftest import sagemaker_client
from tests.console.labeling.conftest import job_request
from tests.console.labeling.conftest import labeling_bucket as labeling_bucket  # a fixture
from tests.console.pipelines.definitions import chain
from tests.console.registry.conftest import package_request
from tests.console.sagemaker.test_tags import tags, training_request
from tests.console.test_transform import request as transform_request
from tests.console.test_tuning import request as tuning_request
from tests.flows.test_processing import request as processing_request

pytestmark = pytest.mark.django_db(transaction=True)
ROLE = "arn:aws:iam::000000000000:role/sagebrush"
NOT_FOUND = {"ValidationException", "ResourceNotFound"}


@pytest.fixture
def sagemaker(live_server, access_key):
    """Ada's SageMaker client."""
    return sagemaker_client(live_server.url, access_key.access_key_id, access_key.secret_access_key)


def client_for(live_server, key, service: str):
    return boto3.client(
        service,
        endpoint_url=live_server.url,
        region_name="us-east-1",
        aws_access_key_id=key.access_key_id,
        aws_secret_access_key=key.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def adas(
    sagemaker, user, data_bucket, transform_bucket, labeling_bucket, django_user_model, no_flow_runs
) -> dict[str, str]:
    """One resource of each kind, Ada's, tagged; returns kind -> ARN."""
    from django.contrib.auth.models import Group

    sm, store = sagemaker, get_store()
    store.write_bytes(f"s3://{data_bucket}/code/preprocess.py", b"print('ready')\n")
    store.write_bytes(f"s3://{data_bucket}/raw/rows.csv", b"1,2\n")
    model = store.read_bytes(f"s3://{transform_bucket}/models/lgbm/model.tar.gz")
    store.write_bytes(f"s3://{data_bucket}/train-1/output/model.tar.gz", model)
    mine = tags(owner="ada")
    arns = {
        "training-job": sm.create_training_job(
            **training_request(data_bucket, "a-train", Tags=mine)
        )["TrainingJobArn"],
        "tuning-job": sm.create_hyper_parameter_tuning_job(
            **tuning_request(data_bucket, name="a-tune"), Tags=mine
        )["HyperParameterTuningJobArn"],
        "transform-job": sm.create_transform_job(
            **transform_request(transform_bucket, name="a-score"), Tags=mine
        )["TransformJobArn"],
        "processing-job": sm.create_processing_job(
            **processing_request(data_bucket, name="a-prep"), Tags=mine
        )["ProcessingJobArn"],
        "model": sm.describe_model(ModelName="lgbm")["ModelArn"],
        "endpoint-config": sm.create_endpoint_config(
            EndpointConfigName="a-config",
            ProductionVariants=[
                {
                    "VariantName": "main",
                    "ModelName": "lgbm",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
            Tags=mine,
        )["EndpointConfigArn"],
        "model-package-group": sm.create_model_package_group(
            ModelPackageGroupName="churn", Tags=mine
        )["ModelPackageGroupArn"],
    }
    arns["endpoint"] = sm.create_endpoint(
        EndpointName="a-endpoint", EndpointConfigName="a-config", Tags=mine
    )["EndpointArn"]
    arns["model-package"] = sm.create_model_package(
        **package_request(data_bucket, group="churn", Tags=mine)
    )["ModelPackageArn"]
    Group.objects.create(name="ada-labelers").user_set.add(user)
    arns["workteam"] = sm.create_workteam(
        WorkteamName="a-team",
        Description="Ada's annotators",
        MemberDefinitions=[{"OidcMemberDefinition": {"Groups": ["ada-labelers"]}}],
        Tags=mine,
    )["WorkteamArn"]
    arns["labeling-job"] = sm.create_labeling_job(
        **job_request(labeling_bucket, arns["workteam"], name="a-label"), Tags=mine
    )["LabelingJobArn"]
    arns["pipeline"] = sm.create_pipeline(
        PipelineName="a-pipeline",
        PipelineDefinition=json.dumps(chain(data_bucket)),
        RoleArn=ROLE,
        Tags=mine,
    )["PipelineArn"]
    arns["pipeline-execution"] = sm.start_pipeline_execution(PipelineName="a-pipeline")[
        "PipelineExecutionArn"
    ]
    return arns


# What Grace tries through the SageMaker API, by Ada's names: (operation, parameters).
SAGEMAKER_ATTEMPTS = [
    ("describe_training_job", {"TrainingJobName": "a-train"}),
    ("stop_training_job", {"TrainingJobName": "a-train"}),
    ("describe_hyper_parameter_tuning_job", {"HyperParameterTuningJobName": "a-tune"}),
    ("stop_hyper_parameter_tuning_job", {"HyperParameterTuningJobName": "a-tune"}),
    (
        "list_training_jobs_for_hyper_parameter_tuning_job",
        {"HyperParameterTuningJobName": "a-tune"},
    ),
    ("describe_transform_job", {"TransformJobName": "a-score"}),
    ("stop_transform_job", {"TransformJobName": "a-score"}),
    ("describe_processing_job", {"ProcessingJobName": "a-prep"}),
    ("stop_processing_job", {"ProcessingJobName": "a-prep"}),
    ("describe_model", {"ModelName": "lgbm"}),
    ("delete_model", {"ModelName": "lgbm"}),
    ("describe_endpoint_config", {"EndpointConfigName": "a-config"}),
    ("delete_endpoint_config", {"EndpointConfigName": "a-config"}),
    ("describe_endpoint", {"EndpointName": "a-endpoint"}),
    ("update_endpoint", {"EndpointName": "a-endpoint", "EndpointConfigName": "a-config"}),
    ("delete_endpoint", {"EndpointName": "a-endpoint"}),
    ("describe_model_package_group", {"ModelPackageGroupName": "churn"}),
    ("delete_model_package_group", {"ModelPackageGroupName": "churn"}),
    ("list_model_packages", {"ModelPackageGroupName": "churn"}),
    ("describe_workteam", {"WorkteamName": "a-team"}),
    ("update_workteam", {"WorkteamName": "a-team", "Description": "Grace's now"}),
    ("delete_workteam", {"WorkteamName": "a-team"}),
    ("describe_labeling_job", {"LabelingJobName": "a-label"}),
    ("stop_labeling_job", {"LabelingJobName": "a-label"}),
    ("describe_pipeline", {"PipelineName": "a-pipeline"}),
    ("start_pipeline_execution", {"PipelineName": "a-pipeline"}),
    ("update_pipeline", {"PipelineName": "a-pipeline", "PipelineDescription": "Grace's now"}),
    ("delete_pipeline", {"PipelineName": "a-pipeline", "ClientRequestToken": "g" * 32}),
]

# Operations that take an ARN: Grace passes Ada's (kind -> operation, parameter name).
BY_ARN = {
    "model-package": [("describe_model_package", "ModelPackageName")],
    "workteam": [("list_labeling_jobs_for_workteam", "WorkteamArn")],
    "pipeline-execution": [
        ("describe_pipeline_execution", "PipelineExecutionArn"),
        ("list_pipeline_execution_steps", "PipelineExecutionArn"),
        ("describe_pipeline_definition_for_execution", "PipelineExecutionArn"),
    ],
}

# The lists Grace reads: none may hold anything of Ada's.
LISTS = {
    "list_training_jobs": "TrainingJobSummaries",
    "list_hyper_parameter_tuning_jobs": "HyperParameterTuningJobSummaries",
    "list_transform_jobs": "TransformJobSummaries",
    "list_processing_jobs": "ProcessingJobSummaries",
    "list_models": "Models",
    "list_endpoint_configs": "EndpointConfigs",
    "list_endpoints": "Endpoints",
    "list_model_package_groups": "ModelPackageGroupSummaryList",
    "list_workteams": "Workteams",
    "list_labeling_jobs": "LabelingJobSummaryList",
    "list_pipelines": "PipelineSummaries",
}

# REST resources and console pages, by Ada's names.
REST_DETAILS = [
    "training-jobs/a-train",
    "tuning-jobs/a-tune",
    "transform-jobs/a-score",
    "processing-jobs/a-prep",
    "models/lgbm",
    "endpoint-configs/a-config",
    "endpoints/a-endpoint",
    "model-package-groups/churn",
    "model-packages/churn/1",
    "workteams/a-team",
    "labeling-jobs/a-label",
    "pipelines/a-pipeline",
]
CONSOLE_PAGES = [
    "training-jobs/a-train/",
    "tuning-jobs/a-tune/",
    "transform-jobs/a-score/",
    "processing-jobs/a-prep/",
    "models/lgbm/",
    "endpoints/a-endpoint/",
    "model-package-groups/churn/",
    "workteams/a-team/",
    "labeling-jobs/a-label/",
    "pipelines/a-pipeline/",
]
CONSOLE_POSTS = ["models/lgbm/delete", "endpoints/a-endpoint/delete"]


def refused(call, **params) -> str:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return raised.value.response["Error"]["Code"]


def test_another_user_gets_nothing_of_adas_and_changes_nothing(
    live_server, sagemaker, user, other_user, adas, transform_bucket, client, django_user_model
):
    graces_key = access_key_create(user=other_user, description="grace")
    grace = sagemaker_client(
        live_server.url, graces_key.access_key_id, graces_key.secret_access_key
    )
    before = {kind: sagemaker.list_tags(ResourceArn=arn)["Tags"] for kind, arn in adas.items()}

    answers = {}
    for operation, params in SAGEMAKER_ATTEMPTS:
        answers[operation] = refused(getattr(grace, operation), **params)
    for kind, calls in BY_ARN.items():
        for operation, field in calls:
            answers[f"{operation}({kind})"] = refused(
                getattr(grace, operation), **{field: adas[kind]}
            )
    for kind, resource_arn in adas.items():
        answers[f"list_tags({kind})"] = refused(grace.list_tags, ResourceArn=resource_arn)
        answers[f"add_tags({kind})"] = refused(
            grace.add_tags, ResourceArn=resource_arn, Tags=tags(owner="grace")
        )
        answers[f"delete_tags({kind})"] = refused(
            grace.delete_tags, ResourceArn=resource_arn, TagKeys=["owner"]
        )
    runtime = client_for(live_server, graces_key, "sagemaker-runtime")
    wrong = {attempt: code for attempt, code in answers.items() if code not in NOT_FOUND}
    assert not wrong, wrong
    # The runtime's "not found", as SageMaker's runtime says it.
    invoked = refused(
        runtime.invoke_endpoint, EndpointName="a-endpoint", Body=b"1,2,3", ContentType="text/csv"
    )
    assert invoked == "ValidationError"

    for operation, key in LISTS.items():
        assert getattr(grace, operation)()[key] == [], operation

    s3 = client_for(live_server, graces_key, "s3")
    for attempt in (
        lambda: s3.list_objects_v2(Bucket=transform_bucket),
        lambda: s3.get_object(Bucket=transform_bucket, Key="in/a.csv"),
        lambda: s3.put_object(Bucket=transform_bucket, Key="in/a.csv", Body=b"grace"),
        lambda: s3.delete_object(Bucket=transform_bucket, Key="in/a.csv"),
    ):
        with pytest.raises(ClientError) as raised:
            attempt()
        assert raised.value.response["Error"]["Code"] in {"NoSuchBucket", "AccessDenied"}
    assert transform_bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    rest = APIClient()
    rest.force_authenticate(other_user)
    for path in REST_DETAILS:
        assert rest.get(f"/api/v1/{path}/").status_code == 404, path
        assert rest.delete(f"/api/v1/{path}/").status_code in (404, 405), path
    client.force_login(other_user)
    for path in CONSOLE_PAGES:
        assert client.get(f"/{path}").status_code == 404, path
    for path in CONSOLE_POSTS:  # refused as for a name nobody uses: a message, nothing deleted
        answer = client.post(f"/{path}", follow=True).content.decode()
        assert "not found" in answer.lower() or "could not find" in answer.lower(), path
        assert "deleted" not in answer, path
    browsed = client.get(f"/objects/{transform_bucket}/in/", follow=True).content.decode()
    assert "a.csv" not in browsed
    assert client.get(f"/objects/download?uri=s3://{transform_bucket}/in/a.csv").status_code == 404

    # Ada's resources are as she left them.
    assert {kind: sagemaker.list_tags(ResourceArn=arn)["Tags"] for kind, arn in adas.items()} == (
        before
    )
    assert sagemaker.describe_workteam(WorkteamName="a-team")["Workteam"]["Description"] == (
        "Ada's annotators"
    )
    # (DescribeEndpoint reads the serving state, which this test does not start.)
    assert Endpoint.objects.get(owner=user, name="a-endpoint").status == "Creating"
    assert sagemaker.describe_model(ModelName="lgbm")["ModelName"] == "lgbm"
    pipeline = sagemaker.describe_pipeline(PipelineName="a-pipeline")
    assert pipeline.get("PipelineDescription", "") == ""
    assert (
        len(
            sagemaker.list_pipeline_executions(PipelineName="a-pipeline")[
                "PipelineExecutionSummaries"
            ]
        )
        == 1
    )
    assert get_store().read_bytes(f"s3://{transform_bucket}/in/a.csv") != b"grace"

    # Staff see everyone's.
    staff = django_user_model.objects.create_user(username="ops", password="x", is_staff=True)
    rest.force_authenticate(staff)
    listed = rest.get("/api/v1/training-jobs/").json()["results"]
    assert "a-train" in [job["name"] for job in listed]


def test_another_users_jobs_cannot_name_adas_buckets(
    live_server, other_user, data_bucket, labeling_bucket, no_flow_runs
):
    """Grace names Ada's buckets (inputs, outputs, model data, manifests, capture) in requests of
    her own: each is refused naming the field, so no job of hers reads or writes Ada's data."""
    graces_key = access_key_create(user=other_user, description="grace")
    grace = sagemaker_client(
        live_server.url, graces_key.access_key_id, graces_key.secret_access_key
    )
    hers = owned_bucket(other_user, "grace")
    get_store().write_bytes(f"s3://{hers}/train/rows.csv", b"1,2\n")
    adas_model = f"s3://{data_bucket}/train-1/output/model.tar.gz"
    get_store().write_bytes(adas_model, b"not read")
    reading = training_request(data_bucket, "g-read")
    reading["OutputDataConfig"] = {"S3OutputPath": f"s3://{hers}/out"}
    writing = training_request(hers, "g-write")
    writing["OutputDataConfig"] = {"S3OutputPath": f"s3://{data_bucket}/stolen"}
    attempts = {
        "InputDataConfig.1.DataSource.S3DataSource.S3Uri": (grace.create_training_job, reading),
        "OutputDataConfig.S3OutputPath": (grace.create_training_job, writing),
        "TrainingJobDefinition.InputDataConfig.1.DataSource.S3DataSource.S3Uri": (
            grace.create_hyper_parameter_tuning_job,
            tuning_request(data_bucket, name="g-tune"),
        ),
        "ProcessingInputs.1.S3Input.S3Uri": (
            grace.create_processing_job,
            processing_request(data_bucket, name="g-prep"),
        ),
        "PrimaryContainer.ModelDataUrl": (
            grace.create_model,
            {
                "ModelName": "g-model",
                "PrimaryContainer": {"Image": "lightgbm", "ModelDataUrl": adas_model},
                "ExecutionRoleArn": ROLE,
            },
        ),
        "InferenceSpecification.Containers.1.ModelDataUrl": (
            grace.create_model_package,
            package_request(data_bucket, group="g-group"),
        ),
        "InputConfig.DataSource.S3DataSource.ManifestS3Uri": (
            grace.create_labeling_job,
            job_request(
                labeling_bucket, "arn:aws:sagemaker:us-east-1:000000000000:workteam/private-crowd/x"
            ),
        ),
    }
    # A manifest of Grace's own that lists objects under a prefix of Ada's (one that is not
    # there: the refusal must not tell her which of Ada's keys exist).
    get_store().write_bytes(
        f"s3://{hers}/manifest.json",
        json.dumps(
            [{"prefix": f"s3://{data_bucket}/train/"}, "part-1.csv", "no-such.csv"]
        ).encode(),
    )
    listed = training_request(hers, "g-manifest")
    listed["InputDataConfig"][0]["DataSource"]["S3DataSource"] = {
        "S3DataType": "ManifestFile",
        "S3Uri": f"s3://{hers}/manifest.json",
    }
    refusals = [
        (field, call, params, "one of your buckets") for field, (call, params) in attempts.items()
    ]
    refusals.append(
        (
            "InputDataConfig.1.DataSource.S3DataSource.S3Uri",
            grace.create_training_job,
            listed,
            f"it lists objects in '{data_bucket}'",
        )
    )
    for field, call, params, words in refusals:
        with pytest.raises(ClientError) as raised:
            call(**params)
        error = raised.value.response["Error"]
        assert error["Code"] == "ValidationException", (field, error)
        assert f"'{field}'" in error["Message"] and words in error["Message"], error["Message"]
    assert grace.list_training_jobs()["TrainingJobSummaries"] == []
    assert grace.list_processing_jobs()["ProcessingJobSummaries"] == []
    assert grace.list_models()["Models"] == []
    assert not list(get_store().list(f"s3://{data_bucket}/stolen/"))
