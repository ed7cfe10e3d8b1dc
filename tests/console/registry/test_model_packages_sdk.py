"""The SageMaker Python SDK's model registry path against the platform: ``Model.register()``
into a group, approval through ``ModelPackage``, and a model created from the approved
version, as ``ModelPackage.deploy()`` creates it before the endpoint."""

from __future__ import annotations

import boto3
import pytest
from sagemaker.metadata_properties import MetadataProperties
from sagemaker.model import Model, ModelPackage
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.session import Session

from console.registry.models import ModelPackage as ModelPackageRow
from tests.console.registry.conftest import IMAGE

ROLE = "arn:aws:iam::000000000000:role/sagebrush"


@pytest.fixture
def session(sagemaker, registry_bucket) -> Session:
    """An SDK session whose SageMaker client (the ``sagemaker`` fixture) speaks to the platform."""
    yield Session(
        boto_session=boto3.Session(region_name="us-east-1"),
        sagemaker_client=sagemaker,
        default_bucket=registry_bucket,
    )
    sagemaker.close()  # no keep-alive request thread outlives the test


@pytest.mark.django_db(transaction=True)
def test_register_approve_and_create_a_model_from_the_version(session, registry_bucket):
    model = Model(
        image_uri=IMAGE,
        model_data=f"s3://{registry_bucket}/train-1/output/model.tar.gz",
        role=ROLE,
        sagemaker_session=session,
    )
    metrics = ModelMetrics(
        model_statistics=MetricsSource(
            content_type="application/json",
            s3_uri=f"s3://{registry_bucket}/eval/statistics.json",
        )
    )
    registered = model.register(
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=["ml.m5.large"],
        transform_instances=["ml.m5.large"],
        model_package_group_name="churn",  # the SDK creates the group when it is missing
        model_metrics=metrics,
        metadata_properties=MetadataProperties(generated_by="notebook-run-7"),
        approval_status="PendingManualApproval",
        description="LightGBM on the churn set",
    )
    assert registered.model_package_arn.endswith(":model-package/churn/1")
    row = ModelPackageRow.objects.get()
    assert row.source == "notebook-run-7"
    assert row.spec["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"].endswith(
        "statistics.json"
    )

    package = ModelPackage(
        role=ROLE, model_package_arn=registered.model_package_arn, sagemaker_session=session
    )
    package.update_approval_status("Approved", approval_description="reviewed")
    row.refresh_from_db()
    assert (row.approval_status, row.approval_description) == ("Approved", "reviewed")

    package.name = "churn-live"
    package.create(instance_type="ml.m5.large")  # what deploy() does before the endpoint
    described = session.sagemaker_client.describe_model(ModelName="churn-live")
    [container] = described["Containers"]  # the SDK names a package in Containers
    assert container["ModelPackageName"] == registered.model_package_arn
    assert container["Image"] == IMAGE

    latest = session.sagemaker_client.list_model_packages(
        ModelPackageGroupName="churn", ModelApprovalStatus="Approved"
    )["ModelPackageSummaryList"]
    assert [p["ModelPackageVersion"] for p in latest] == [1]
