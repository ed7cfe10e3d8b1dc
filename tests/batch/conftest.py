"""Fixtures for the engine tests: the suite's LightGBM model in the object store under test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def model_uri(store, bucket: str, model_tarball: Path) -> str:
    """The model as a training job leaves it: ``model.tar.gz`` in object storage."""
    uri = f"s3://{bucket}/models/lightgbm/output/model.tar.gz"
    store.upload_file(str(model_tarball), uri)
    return uri
