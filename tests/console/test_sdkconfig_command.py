"""``manage.py sdkconfig``: the SageMaker SDK's config file for a user, which the SDK itself
loads (its schema checked), naming the bucket ``sagemaker-<region>-<account of that user>``."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from console.accounts.services import access_key_revoke
from console.core.names import account_id_for


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("sdkconfig", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_file_names_the_users_bucket_and_the_sdk_loads_it(user, tmp_path) -> None:
    path = tmp_path / "conf" / "sagemaker-config.yaml"

    printed = run("ada", "--output", str(path))

    assert f"export SAGEMAKER_USER_CONFIG_OVERRIDE={path}" in printed.splitlines()
    assert "export AWS_DEFAULT_REGION=us-east-1" in printed.splitlines()
    bucket = f"sagemaker-us-east-1-{account_id_for(user.pk)}"
    # The SDK's own loader, in a process of its own (it reads the variable at import).
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "from sagemaker.config import load_sagemaker_config as load; import json;"
            f"print(json.dumps(load([{str(path)!r}])))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f'"DefaultS3Bucket": "{bucket}"' in loaded
    assert '"TelemetryOptOut": true' in loaded


@pytest.mark.django_db
def test_an_access_key_names_its_user(user, access_key, tmp_path) -> None:
    path = tmp_path / "sdk.yaml"

    run("--access-key", access_key.access_key_id, "--output", str(path))

    assert f"DefaultS3Bucket: sagemaker-us-east-1-{account_id_for(user.pk)}" in path.read_text()


@pytest.mark.django_db
def test_unknown_users_and_revoked_keys_are_refused(user, access_key, tmp_path) -> None:
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run("nobody", "--output", str(tmp_path / "a.yaml"))
    access_key_revoke(user=user, access_key_id=access_key.access_key_id)
    with pytest.raises(CommandError, match="No active access key"):
        run("--access-key", access_key.access_key_id, "--output", str(tmp_path / "b.yaml"))
    with pytest.raises(CommandError, match="one of the two"):
        run("--output", str(tmp_path / "c.yaml"))
    assert not list(tmp_path.iterdir())
