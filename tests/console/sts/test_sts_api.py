"""STS GetCallerIdentity with boto3 against a live server, reached by endpoint variables."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from console.core.names import account_id_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sts(live_server, access_key, monkeypatch):
    """An STS client configured as a user would: AWS_ENDPOINT_URL only, no endpoint_url."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", live_server.url)
    return boto3.Session(
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key=access_key.secret_access_key,
        region_name="us-west-2",
    ).client("sts")


def test_get_caller_identity_names_the_account_of_the_callers_arns(sts, user):
    identity = sts.get_caller_identity()
    assert identity["Account"] == account_id_for(user.pk)
    assert identity["Arn"] == f"arn:aws:iam::{account_id_for(user.pk)}:user/{user.username}"
    assert identity["UserId"]


def test_unknown_sts_actions_get_stss_error(sts):
    with pytest.raises(ClientError) as unknown:
        sts.get_session_token()
    assert unknown.value.response["Error"]["Code"] == "InvalidAction"
    assert unknown.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_wrong_secret_is_refused(live_server, access_key):
    sts = boto3.client(
        "sts",
        endpoint_url=live_server.url,
        region_name="us-east-1",
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key="wrong",
    )
    with pytest.raises(ClientError) as refused:
        sts.get_caller_identity()
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
