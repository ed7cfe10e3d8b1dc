"""Fixtures of the model registry's tests: a bucket with a model artifact and its metrics, and
the CreateModelPackage request that registers it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.storage import get_store
from tests.conftest import owned_bucket

IMAGE = "lightgbm"


@pytest.fixture
def registry_bucket(user, model_tarball: Path) -> str:
    """``user``'s bucket holding a model artifact and its model-quality statistics."""
    name = owned_bucket(user, "registry")
    store = get_store()
    store.upload_file(str(model_tarball), f"s3://{name}/train-1/output/model.tar.gz")
    statistics = {"regression_metrics": {"mse": {"value": 0.25, "standard_deviation": 0.01}}}
    store.write_bytes(f"s3://{name}/eval/statistics.json", json.dumps(statistics).encode())
    return name


def package_request(bucket: str, group: str = "churn", **extra) -> dict:
    return {
        "ModelPackageGroupName": group,
        "ModelPackageDescription": "LightGBM on the churn set",
        "InferenceSpecification": {
            "Containers": [
                {
                    "Image": IMAGE,
                    "ModelDataUrl": f"s3://{bucket}/train-1/output/model.tar.gz",
                    "Environment": {"MODE": "fast"},
                }
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
            "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
            "SupportedTransformInstanceTypes": ["ml.m5.large"],
        },
        "ModelMetrics": {
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": f"s3://{bucket}/eval/statistics.json",
                }
            }
        },
        **extra,
    }
