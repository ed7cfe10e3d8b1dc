"""The SageMaker Python SDK (v2) on the embedded store: ``upload_data`` and ``default_bucket``
with the endpoint set by environment variables only.

SDK v2 calls STS at the AWS regional endpoint it names itself (``sts_regional_endpoint``), which
an endpoint variable cannot redirect; the SDK's own configuration file (pointed to by
``SAGEMAKER_USER_CONFIG_OVERRIDE``) names the default bucket instead, ``sagemaker-<region>-
<account>`` with the account that STS GetCallerIdentity answers here.
"""

from __future__ import annotations

import boto3
import pytest

from console.core.management.commands.sdkconfig import sdk_config
from console.core.names import account_id_for
from infra.storage import get_store

pytestmark = pytest.mark.django_db(transaction=True)
REGION = "us-east-1"


@pytest.fixture
def sdk_session(live_server, access_key, user, tmp_path, monkeypatch):
    import sagemaker

    account = boto3.client(
        "sts",
        endpoint_url=live_server.url,
        region_name=REGION,
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key=access_key.secret_access_key,
    ).get_caller_identity()["Account"]
    assert account == account_id_for(user.pk)
    config = tmp_path / "sagemaker-config.yaml"
    config.write_text(sdk_config(region=REGION, account=account))
    monkeypatch.setenv("SAGEMAKER_USER_CONFIG_OVERRIDE", str(config))
    monkeypatch.setenv("AWS_ENDPOINT_URL", live_server.url)
    boto_session = boto3.Session(
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key=access_key.secret_access_key,
        region_name=REGION,
    )
    session = sagemaker.Session(boto_session=boto_session)
    yield session
    # Closed while the live server still shares its database connection with the threads that
    # answer: a connection kept open to the session's end has its thread fail then.
    for client in (session.s3_client, session.s3_resource.meta.client):
        client.close()


def test_default_bucket_and_upload_data(sdk_session, user, tmp_path):
    bucket = sdk_session.default_bucket()
    assert bucket == f"sagemaker-{REGION}-{account_id_for(user.pk)}"
    data = tmp_path / "train"
    data.mkdir()
    (data / "part-1.csv").write_bytes(b"1,2,3\n")
    (data / "part-2.csv").write_bytes(b"4,5,6\n")
    uri = sdk_session.upload_data(str(data), key_prefix="datasets/train")
    assert uri == f"s3://{bucket}/datasets/train"
    store = get_store()
    assert store.read_bytes(f"s3://{bucket}/datasets/train/part-2.csv") == b"4,5,6\n"
    single = sdk_session.upload_data(str(data / "part-1.csv"), key_prefix="one")
    assert single == f"s3://{bucket}/one/part-1.csv"
    assert sdk_session.read_s3_file(bucket, "one/part-1.csv") == "1,2,3\n"
    assert sdk_session.list_s3_files(bucket, "datasets/") == [
        "datasets/train/part-1.csv",
        "datasets/train/part-2.csv",
    ]
    assert sdk_session.default_bucket() == bucket  # the bucket exists now: kept, not re-made
