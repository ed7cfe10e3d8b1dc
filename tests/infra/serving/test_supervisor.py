"""Instances started by the supervisor answer requests, survive a crash, and follow the spec."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import orjson

from infra.serving import protocol, recovery
from infra.serving.client import ServingClient
from infra.serving.instance import ensure_group
from infra.serving.protocol import Request
from tests.infra.serving.conftest import csv_row, wait_until


def deploy(state, lightgbm_model, variant_id="v1", instances=1, **extra) -> None:
    containers = [{"Image": "lightgbm", "ModelDataUrl": str(lightgbm_model[0])}]
    state.deploy(variant_id, containers=containers, instances=instances, **extra)


def in_service(state, variant_id, count):
    return wait_until(
        lambda: state.in_service(variant_id) >= count,
        what=f"{count} instances of {variant_id} in service",
    )


def invoke_all(redis_url, variant_id, bodies, *, timeout=30.0):
    async def run():
        client = ServingClient(redis_url)
        return await asyncio.gather(
            *(
                client.invoke(
                    variant_id, body, content_type="text/csv", accept="text/csv", timeout=timeout
                )
                for body in bodies
            )
        )

    return asyncio.run(run())


def test_instances_answer_with_the_models_predictions(
    supervisor, serving_state, lightgbm_model, expected, redis_url
) -> None:
    deploy(serving_state, lightgbm_model, instances=2)
    in_service(serving_state, "v1", 2)

    rows = lightgbm_model[1]
    replies = invoke_all(redis_url, "v1", [csv_row(row) for row in rows] * 10)

    assert [r.body for r in replies] == expected * 10
    assert {r.content_type for r in replies} == {"text/csv"}
    assert {r.instance for r in replies} <= set(supervisor.pids("v1"))
    [minute] = [m for m in serving_state.stats("v1", minutes=2) if m.invocations]
    assert minute.invocations == 200 and minute.errors == 0


def test_a_model_error_reaches_the_caller_with_the_parsers_message(
    supervisor, serving_state, lightgbm_model, redis_url
) -> None:
    deploy(serving_state, lightgbm_model)
    in_service(serving_state, "v1", 1)

    [reply] = invoke_all(redis_url, "v1", [b"1.0,oops"])

    assert reply.error == protocol.MODEL_ERROR
    assert "oops" in reply.message or "column" in reply.message


def test_a_killed_instance_is_replaced_and_no_request_is_lost(
    supervisor, serving_state, lightgbm_model, expected, redis_url
) -> None:
    deploy(serving_state, lightgbm_model, instances=2)
    in_service(serving_state, "v1", 2)
    victim, pid = next(iter(supervisor.pids("v1").items()))

    async def calls_while_killing():
        client = ServingClient(redis_url)
        body = csv_row(lightgbm_model[1][0])
        tasks = [
            asyncio.ensure_future(
                client.invoke("v1", body, content_type="text/csv", accept="text/csv", timeout=30)
            )
            for _ in range(300)
        ]
        await asyncio.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        tasks += [
            asyncio.ensure_future(
                client.invoke("v1", body, content_type="text/csv", accept="text/csv", timeout=30)
            )
            for _ in range(300)
        ]
        return await asyncio.gather(*tasks)

    replies = asyncio.run(calls_while_killing())

    assert [r.error for r in replies if not r.ok] == []
    assert {r.body for r in replies} == {expected[0]}
    wait_until(lambda: victim not in supervisor.pids("v1") and len(supervisor.pids("v1")) == 2)
    in_service(serving_state, "v1", 2)


def test_requests_held_by_a_silent_instance_are_queued_again_then_answered(
    serving_state, redis_client, supervisor, lightgbm_model, expected, redis_url
) -> None:
    # An instance on another machine takes two requests and goes silent (no heartbeat).
    ensure_group(redis_client, "v1")
    queue = protocol.queue_key("v1")
    now = time.time()
    for attempt, request_id in ((1, "first"), (protocol.MAX_ATTEMPTS, "last")):
        request = Request(
            request_id=request_id,
            body=csv_row(lightgbm_model[1][0]),
            content_type="text/csv",
            accept="text/csv",
            reply_to=protocol.reply_key("test"),
            sent_at=now,
            deadline=now + 60,
            attempt=attempt,
        )
        redis_client.xadd(queue, request.fields())
    redis_client.xreadgroup(protocol.GROUP, "elsewhere.1", {queue: ">"}, count=10)

    deploy(serving_state, lightgbm_model)  # the supervisor notices and starts an instance

    replies = {}
    deadline = time.monotonic() + 60
    while len(replies) < 2 and time.monotonic() < deadline:
        popped = redis_client.blpop([protocol.reply_key("test")], timeout=2)
        if popped:
            reply = protocol.Reply.decode(popped[1])
            replies[reply.request_id] = reply
    assert replies["first"].body == expected[0]
    assert replies["last"].error == protocol.WORKER_LOST
    assert recovery.silent_consumers(redis_client, "v1", set()) == []


def test_a_model_that_cannot_load_reports_why(
    supervisor, serving_state, tmp_path, redis_url
) -> None:
    serving_state.deploy(
        "broken",
        containers=[{"Image": "lightgbm", "ModelDataUrl": str(tmp_path / "nothing-here")}],
        instances=1,
    )

    [health] = wait_until(
        lambda: [i for i in serving_state.instances("broken") if i.state == "Failed"],
        what="a Failed instance",
    )
    assert "nothing-here" in health.error


def test_scaling_and_retiring_follow_the_desired_state(
    supervisor, serving_state, lightgbm_model, redis_client
) -> None:
    deploy(serving_state, lightgbm_model, instances=1)
    in_service(serving_state, "v1", 1)

    serving_state.update("v1", instances=2)
    in_service(serving_state, "v1", 2)
    serving_state.update("v1", instances=1)
    wait_until(lambda: len(serving_state.instances("v1")) == 1, what="one instance left")

    serving_state.retire("v1")
    wait_until(lambda: "v1" not in supervisor.variants, what="the variant retired")
    assert serving_state.instances("v1") == []
    assert not redis_client.exists(protocol.queue_key("v1"))


def test_autoscaling_tracks_invocations_per_instance(
    serving_state, supervisor, lightgbm_model, redis_client
) -> None:
    policy = {"min_instances": 1, "max_instances": 3, "target_invocations_per_instance": 100}
    deploy(serving_state, lightgbm_model, instances=1, autoscaling=policy)
    # 250 invocations in the last minute, as instances count them: three instances' worth.
    now = time.time()
    redis_client.hset(protocol.stats_key("v1", int(now // 60) - 1), "invocations", 250)
    redis_client.hset(protocol.stats_key("v1", int(now // 60)), "invocations", 250)

    scaled = supervisor.autoscale("v1", serving_state.spec("v1"), now=now)

    assert scaled["instances"] == 3
    assert orjson.loads(redis_client.hget(protocol.VARIANTS, "v1"))["instances"] == 3
