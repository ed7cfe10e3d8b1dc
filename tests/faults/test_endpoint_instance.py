"""An endpoint's only instance killed (SIGKILL) under a steady invoke loop: the calls that fail
are counted and few, none waits past the runtime's timeout, the serving supervisor starts a
replacement, and every call after it is ready succeeds."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import boto3
import numpy as np
import pytest
from botocore.config import Config

from tests.faults.conftest import report, wait_until
from tests.stack import STACK_START_S

pytestmark = pytest.mark.e2e

CALLERS = 2
# The runtime answers ModelError/timeout after 60 s (infra.serving.client); the client waits a
# little longer, so a call that hangs shows as its own timeout, not as the platform's answer.
CALL_TIMEOUT_S = 70
# At most what the killed instance held plus what each caller sent during the restart.
MAX_FAILED = 2 * CALLERS


def record(seed: int) -> bytes:
    return ",".join(repr(float(v)) for v in np.random.default_rng(seed).normal(size=5)).encode()


class InvokeLoop:
    """``CALLERS`` threads invoking back to back, each call timed; no client-side retries, so
    every failure is counted."""

    def __init__(self, stack, endpoint: str) -> None:
        self.endpoint = endpoint
        self.client = boto3.client(
            "sagemaker-runtime",
            endpoint_url=stack.url,
            region_name="us-east-1",
            aws_access_key_id=stack.access_key_id,
            aws_secret_access_key=stack.secret_access_key,
            config=Config(
                retries={"max_attempts": 1, "mode": "standard"},
                read_timeout=CALL_TIMEOUT_S,
                max_pool_connections=CALLERS,
            ),
        )
        self.calls: list[tuple[float, float, str | None]] = []  # (start, seconds, error)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._call, args=(n,)) for n in range(CALLERS)]

    def _call(self, caller: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            started = time.monotonic()
            error = None
            try:
                body = self.client.invoke_endpoint(
                    EndpointName=self.endpoint,
                    Body=record(caller * 100_000 + n),
                    ContentType="text/csv",
                )["Body"].read()
                float(body)
            except Exception as exc:  # every failure is what this test counts
                error = f"{type(exc).__name__}: {exc}"
            self.calls.append((started, time.monotonic() - started, error))

    def __enter__(self) -> InvokeLoop:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


@pytest.mark.timeout(STACK_START_S + 300)
def test_a_killed_instance_is_replaced_and_few_calls_fail(stack, fault_model):
    _, model = fault_model
    sm = stack.sagemaker
    endpoint = f"faults-ep-{uuid.uuid4().hex[:8]}"
    sm.create_endpoint_config(
        EndpointConfigName=endpoint,
        ProductionVariants=[{"VariantName": "only", "ModelName": model,
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}],
    )  # fmt: skip
    sm.create_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )

    def instance_pids() -> list[int]:
        detail = stack.rest("GET", f"/api/v1/endpoints/{endpoint}/")[1]
        return [
            instance["pid"]
            for variant in detail["variants"]
            if variant["state"] == "Active"
            for instance in variant["instances"]
            if instance["state"] == "InService"
        ]

    try:
        [victim] = wait_until(instance_pids, timeout=30, what="the instance's health")
        with InvokeLoop(stack, endpoint) as loop:
            wait_until(lambda: len(loop.calls) >= 50, timeout=60, what="50 calls before the kill")
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()
            [replacement] = wait_until(
                lambda: [pid for pid in instance_pids() if pid != victim],
                timeout=90,
                what="a replacement instance in service",
                poll=0.2,
            )
            replaced = time.monotonic()
            # A steady run after recovery: all of it must succeed.
            wait_until(
                lambda: sum(start > replaced for start, _, _ in loop.calls) >= 100,
                timeout=60,
                what="100 calls after the replacement",
            )
        failed = [call for call in loop.calls if call[2]]
        after = [call for call in loop.calls if call[0] > replaced]
        first_ok = min(
            start + took for start, took, error in loop.calls if start >= killed and not error
        )
        assert replacement != victim
        assert not [error for _, _, error in after if error], "calls failed after recovery"
        assert max(took for _, took, _ in loop.calls) < CALL_TIMEOUT_S, "a call hung"
        assert len(failed) <= MAX_FAILED, [error for _, _, error in failed]
        report(
            "endpoint-instance-killed",
            calls=len(loop.calls),
            failed=len(failed),
            replaced_in_service_s=round(replaced - killed, 2),
            first_answer_after_kill_s=round(first_ok - killed, 2),
            slowest_call_s=round(max(took for _, took, _ in loop.calls), 2),
        )
    finally:
        sm.delete_endpoint(EndpointName=endpoint)
        sm.get_waiter("endpoint_deleted").wait(
            EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
