"""Flows transcribed from the public SageMaker example notebooks, run cell by cell against the
session's stack (``tests.stack``, started as ``make run`` starts it) with only what a user sets:
the endpoint variable, an access key, a region and the SDK's own config file.

Each test module is one notebook: its cells in order, the SDK v2 and boto3 as the notebook calls
them, synthetic data of the notebook's shape in place of its downloads.
"""

from __future__ import annotations

import time
from pathlib import Path

import boto3
import pytest

from tests.stack import _manage

REGION = "us-east-1"


def pytest_collection_modifyitems(items) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def sdk_config_file(stack, tmp_path_factory) -> Path:
    """The SDK's config file as a user gets it: ``manage.py sdkconfig --access-key <id>``
    (the default bucket ``sagemaker-<region>-<account>``, telemetry off)."""
    path = tmp_path_factory.mktemp("sdk") / "sagemaker-config.yaml"
    printed = _manage(
        stack.env,
        "sdkconfig",
        "--access-key",
        stack.access_key_id,
        "--output",
        str(path),
        deadline=time.monotonic() + 120,
    )
    assert f"SAGEMAKER_USER_CONFIG_OVERRIDE={path}" in printed
    account = stack.client("sts").get_caller_identity()["Account"]
    assert f"DefaultS3Bucket: sagemaker-{REGION}-{account}" in path.read_text()
    return path


@pytest.fixture
def user_env(stack, sdk_config_file, monkeypatch) -> dict[str, str]:
    """The environment a notebook user sets, and nothing else: ``AWS_ENDPOINT_URL``, the key,
    the region, and ``SAGEMAKER_USER_CONFIG_OVERRIDE`` naming the SDK's config file. Returns
    the variables set."""
    env = {
        "AWS_ENDPOINT_URL": stack.url,
        "AWS_ACCESS_KEY_ID": stack.access_key_id,
        "AWS_SECRET_ACCESS_KEY": stack.secret_access_key,
        "AWS_DEFAULT_REGION": REGION,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(sdk_config_file),
    }
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    boto3.DEFAULT_SESSION = None
    return env
