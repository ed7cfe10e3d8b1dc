"""The model registry's console pages: a group's versions with approval and metrics, and a
version's page where it is approved or rejected, showing its metrics and lineage."""

from __future__ import annotations

import json

import pytest

from console.registry.models import ModelPackage
from console.registry.reports import metric_numbers
from console.registry.services import model_package_create, model_package_group_create
from console.training.models import TrainingJob
from tests.console.registry.conftest import package_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def versions(user, registry_bucket) -> list[ModelPackage]:
    TrainingJob.objects.create(
        owner=user,
        name="train-1",
        arn="arn:aws:sagemaker:us-east-1:000000000001:training-job/train-1",
        status="Completed",
        model_artifacts=f"s3://{registry_bucket}/train-1/output/model.tar.gz",
        spec={
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {"S3DataSource": {"S3Uri": f"s3://{registry_bucket}/train/"}},
                }
            ]
        },
    )
    model_package_group_create(user=user, spec={"ModelPackageGroupName": "churn"})
    first = model_package_create(user=user, spec=package_request(registry_bucket))
    broken = package_request(registry_bucket)
    broken["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] = (
        f"s3://{registry_bucket}/eval/missing.json"
    )
    second = model_package_create(
        user=user,
        spec=broken,
        source="arn:aws:sagemaker:us-east-1:000000000001:pipeline/nightly/execution/abc",
    )
    return [first, second]


def test_the_group_page_lists_versions_with_approval_and_metrics(browser, versions):
    page = browser.get("/model-package-groups/churn/").content.decode()
    assert 'href="/model-package-groups/churn/1/"' in page
    assert "PendingManualApproval" in page
    assert "regression_metrics.mse" in page and "0.2500" in page
    assert "Could not read the report" in page  # version 2's report is missing
    listing = browser.get("/model-package-groups/").content.decode()
    assert 'href="/model-package-groups/churn/"' in listing
    assert '<a href="/model-package-groups/" class="active"' in listing


def test_a_version_page_shows_metrics_lineage_and_approves(browser, versions, registry_bucket):
    page = browser.get("/model-package-groups/churn/1/").content.decode()
    assert "regression_metrics.mse" in page and "0.25" in page
    assert 'href="/training-jobs/train-1/"' in page  # lineage: the training job
    assert f"s3://{registry_bucket}/train/" in page  # and its training data
    assert "lightgbm" in page
    assert 'value="Approved"' in page and "data-confirm=" in page  # delete asks first

    answer = browser.post(
        "/model-package-groups/churn/1/approval",
        {"status": "Approved", "description": "beats the live model"},
        follow=True,
    )
    assert "Version 1 of churn is Approved." in answer.content.decode()
    approved = ModelPackage.objects.get(version=1)
    assert approved.approval_status == "Approved"
    assert approved.approval_description == "beats the live model"
    assert approved.last_modified_by == "ada"
    assert 'value="Approved"' not in answer.content.decode()  # only Reject is offered now

    wrong = browser.post("/model-package-groups/churn/1/approval", {"status": "Maybe"}, follow=True)
    assert "modelApprovalStatus" in wrong.content.decode()
    assert ModelPackage.objects.get(version=1).approval_status == "Approved"
    assert browser.get("/model-package-groups/churn/1/approval").status_code == 405

    second = browser.get("/model-package-groups/churn/2/").content.decode()
    assert "Pipeline execution" in second and "nightly/execution/abc" in second


def test_a_group_is_deleted_only_when_empty(browser, versions):
    refused = browser.post("/model-package-groups/churn/delete", follow=True).content.decode()
    assert "holds 2 model package" in refused
    browser.post("/model-package-groups/churn/1/delete")
    browser.post("/model-package-groups/churn/2/delete")
    done = browser.post("/model-package-groups/churn/delete", follow=True).content.decode()
    assert "Model package group churn deleted." in done
    assert browser.get("/model-package-groups/churn/").status_code == 404


def test_metric_numbers_read_sagemakers_report_shape():
    report = {
        "version": 0.0,
        "binary_classification_metrics": {
            "accuracy": {"value": 0.91, "standard_deviation": 0.02},
            "confusion_matrix": {"0": {"0": 40, "1": 3}},
            "labels": ["0", "1"],
        },
        "passed": True,
    }
    assert metric_numbers(report) == [
        ("version", 0.0),
        ("binary_classification_metrics.accuracy", 0.91),
        ("binary_classification_metrics.confusion_matrix.0.0", 40),
        ("binary_classification_metrics.confusion_matrix.0.1", 3),
    ]
    assert metric_numbers(json.loads("[1, 2]")) == []
