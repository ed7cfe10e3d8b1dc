"""Each invoke outcome as the REST API, the runtime route and the console's test form answer it.

The serving client is faked at its boundary (``ServingClient.invoke``): the invoke service, its
route choice and status check, and each adapter's mapping run as they do in the stack.
"""

from __future__ import annotations

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from rest_framework.test import APIClient

from console.core.names import account_id_for, arn
from console.endpoints import invoke as invoke_service
from console.endpoints.models import Endpoint, EndpointVariant
from infra.serving import protocol
from infra.serving.client import ServingClient
from tests.infra.serving.conftest import redis_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_routes():
    invoke_service._routes.clear()
    yield
    invoke_service._routes.clear()


@pytest.fixture
def replies(monkeypatch) -> list[protocol.Reply]:
    """What the model's instances answer, in order; the requests sent are kept on the list's
    ``sent`` attribute."""

    class Replies(list):
        sent: list[tuple[str, bytes, dict]] = []

    queue = Replies()

    async def invoke(self, variant_id, body, **arguments):
        queue.sent.append((variant_id, body, arguments))
        return queue.pop(0)

    monkeypatch.setattr(ServingClient, "invoke", invoke)
    return queue


def endpoint(user, name="ep", *, status="InService", variants=(("main", 1.0),)):
    row = Endpoint.objects.create(
        owner=user,
        name=name,
        arn=arn("endpoint", name, account_id=account_id_for(user.pk)),
        status=status,
        config_name="config",
    )
    for variant, weight in variants:
        EndpointVariant.objects.create(
            endpoint=row,
            name=variant,
            deployment_id=f"{name}-{variant}",
            model_name="model",
            state=EndpointVariant.ACTIVE if status != "Creating" else EndpointVariant.CREATING,
            current_weight=weight,
            desired_weight=weight,
        )
    return row


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def rest_invoke(api, name="ep", body=b"1,2,3", **headers):
    return api.post(
        f"/api/v1/endpoints/{name}/invocations/", body, content_type="text/csv", headers=headers
    )


# ---- REST -----------------------------------------------------------------------------------


def test_rest_answer_is_the_models_body_with_the_variant(api, user, replies):
    endpoint(user)
    replies.append(protocol.Reply("r", body=b"0.5\n", content_type="text/csv"))

    answered = rest_invoke(api)

    assert answered.status_code == 200
    assert (answered.content, answered["Content-Type"]) == (b"0.5\n", "text/csv")
    assert answered["X-Invoked-Production-Variant"] == "main"
    [(variant_id, body, arguments)] = replies.sent
    assert (variant_id, body, arguments["content_type"]) == ("ep-main", b"1,2,3", "text/csv")


def test_rest_model_error_is_424_with_the_models_reason(api, user, replies):
    endpoint(user)
    replies.append(
        protocol.Reply(
            "r", error=protocol.MODEL_ERROR, status=400, message="could not parse 'x' as a number"
        )
    )

    refused = rest_invoke(api, body=b"1,x,3")

    assert refused.status_code == 424
    body = refused.json()
    assert "could not parse 'x' as a number" in body["detail"]
    assert (body["variant_name"], body["original_status_code"]) == ("main", 400)


def test_rest_timeout_is_504_naming_the_variant(api, user, replies):
    endpoint(user)
    replies.append(
        protocol.Reply("r", error=protocol.TIMED_OUT, message="no instance answered within 60 s")
    )

    refused = rest_invoke(api)

    assert refused.status_code == 504
    assert "no instance answered within 60 s" in refused.json()["detail"]
    assert refused.json()["variant_name"] == "main"


@pytest.mark.parametrize("status", ["Creating", "Failed"])
def test_rest_endpoint_not_in_service_is_409_saying_its_status(api, user, replies, status):
    endpoint(user, status=status)

    refused = rest_invoke(api)

    assert refused.status_code == 409
    assert f"Endpoint ep is {status}" in refused.json()["detail"]
    assert replies.sent == []


def test_rest_endpoint_without_a_serving_variant_is_409(api, user, replies):
    endpoint(user, variants=())

    refused = rest_invoke(api)

    assert refused.status_code == 409
    assert "no variant serving traffic" in refused.json()["detail"]


def test_rest_unknown_endpoint_is_still_404(api, replies):
    assert rest_invoke(api, name="nope").status_code == 404


def test_rest_unknown_target_variant_is_a_400_naming_the_header(api, user, replies):
    endpoint(user, variants=(("a", 1.0), ("b", 1.0)))

    refused = rest_invoke(api, **{"X-Target-Variant": "zz"})

    assert refused.status_code == 400
    body = refused.json()
    assert body["field"] == "x-target-variant"
    assert "a, b" in body["detail"]
    assert replies.sent == []


def test_rest_target_variant_chooses_the_variant(api, user, replies):
    endpoint(user, variants=(("a", 1.0), ("b", 0.0)))
    replies.append(protocol.Reply("r", body=b"1", content_type="text/csv"))

    answered = rest_invoke(api, **{"X-Target-Variant": "b"})

    assert answered["X-Invoked-Production-Variant"] == "b"
    assert replies.sent[0][0] == "ep-b"


def test_rest_accept_goes_to_the_model_and_errors_stay_json(api, user, replies):
    endpoint(user)
    replies.append(protocol.Reply("r", body=b"0.5\n", content_type="text/csv"))
    replies.append(protocol.Reply("r", error=protocol.TIMED_OUT, message="no answer"))

    answered = rest_invoke(api, Accept="text/csv")
    refused = rest_invoke(api, Accept="text/csv")

    assert (answered.status_code, answered.content) == (200, b"0.5\n")
    assert replies.sent[0][2]["accept"] == "text/csv"
    assert (refused.status_code, refused["Content-Type"]) == (504, "application/json")


# ---- the runtime route (AWS shapes, as before) ----------------------------------------------


def runtime_invoke(client, access_key, name="ep", body=b"1,2,3"):
    request = AWSRequest(
        method="POST",
        url=f"http://testserver/endpoints/{name}/invocations",
        data=body,
        headers={"Content-Type": "text/csv", "Accept": "text/csv"},
    )
    credentials = Credentials(access_key.access_key_id, access_key.secret_access_key)
    SigV4Auth(credentials, "sagemaker", "us-east-1").add_auth(request)
    return client.generic(
        "POST",
        f"/endpoints/{name}/invocations",
        body,
        content_type="text/csv",
        headers={
            "Host": "testserver",
            **{k: v for k, v in request.headers.items() if k != "Content-Type"},
        },
    )


def test_runtime_timeout_stays_a_model_error(client, user, access_key, replies):
    endpoint(user)
    replies.append(
        protocol.Reply("r", error=protocol.TIMED_OUT, message="no instance answered within 60 s")
    )

    refused = runtime_invoke(client, access_key)

    assert (refused.status_code, refused["x-amzn-ErrorType"]) == (424, "ModelError")
    assert refused.json()["OriginalStatusCode"] == 0
    assert "timed out" in refused.json()["OriginalMessage"]
    assert refused.json()["LogStreamArn"] == "serving/ep-main"


def test_runtime_not_in_service_stays_a_validation_error(client, user, access_key, replies):
    endpoint(user, status="Creating")

    refused = runtime_invoke(client, access_key)

    assert (refused.status_code, refused["x-amzn-ErrorType"]) == (400, "ValidationError")
    assert refused.json()["message"] == (
        f"Endpoint ep of account {account_id_for(user.pk)} not found."
    )


def test_runtime_answer_names_the_invoked_variant(client, user, access_key, replies):
    endpoint(user)
    replies.append(protocol.Reply("r", body=b"0.5\n", content_type="text/csv"))

    answered = runtime_invoke(client, access_key)

    assert (answered.status_code, answered.content) == (200, b"0.5\n")
    assert answered["x-Amzn-Invoked-Production-Variant"] == "main"


# ---- the console's test form ----------------------------------------------------------------


@pytest.fixture
def platform_redis(redis_url, monkeypatch):  # noqa: F811
    """The page reads its variants' health and metrics from the serving state."""
    from infra.config import settings

    monkeypatch.setenv("REDIS_URL", redis_url)
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


def test_console_form_shows_the_outcome(client, user, replies, platform_redis):
    endpoint(user)
    client.force_login(user)
    replies.append(protocol.Reply("r", error=protocol.MODEL_ERROR, status=400, message="bad row"))

    page = client.post("/endpoints/ep/", {"body": "1,x", "content_type": "text/csv"})

    assert page.status_code == 200
    assert "Error (400) from variant main: bad row" in page.content.decode()
