"""Requests left in hand by an instance that died: queued again, or answered with an error.

An instance acknowledges a request only after replying (late ack), so whatever a dead instance
held is still pending under its consumer name. It is queued again for the variant's other
instances; one that has already been in hand ``MAX_ATTEMPTS`` times (a request that kills its
instance, say) is answered with an error instead, so the caller is never left waiting in silence.
"""

from __future__ import annotations

import contextlib
import logging

import redis

from infra.serving import protocol
from infra.serving.protocol import GROUP, Reply, Request
from infra.serving.state import STALE_AFTER_S, ServingState

log = logging.getLogger(__name__)


def requeue_pending(client: redis.Redis, variant_id: str, consumer: str) -> tuple[int, int]:
    """Take back what ``consumer`` held; (requeued, answered with an error). Forgets it."""
    queue = protocol.queue_key(variant_id)
    requeued = failed = 0
    while True:
        try:
            pending = client.xpending_range(queue, GROUP, "-", "+", 100, consumername=consumer)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            pending = []  # no queue (Redis restarted empty): nothing is held
        if not pending:
            break
        ids = [entry["message_id"] for entry in pending]
        claimed = client.xclaim(queue, GROUP, "supervisor", 0, ids)
        pipe = client.pipeline(transaction=False)
        for _, fields in claimed:
            if not fields:  # deleted meanwhile
                continue
            request = Request.from_fields(fields)
            if request.attempt >= protocol.MAX_ATTEMPTS:
                reply = Reply(
                    request.request_id,
                    error=protocol.WORKER_LOST,
                    message=(
                        f"the instance serving this request stopped while processing it, "
                        f"{request.attempt} times"
                    ),
                )
                pipe.rpush(request.reply_to, reply.encode())
                pipe.expire(request.reply_to, protocol.REPLY_TTL_S)
                failed += 1
            else:
                again = Request(**{**request.__dict__, "attempt": request.attempt + 1})
                pipe.xadd(queue, again.fields())
                requeued += 1
        pipe.xack(queue, GROUP, *ids)
        pipe.xdel(queue, *ids)
        pipe.execute()
    with contextlib.suppress(redis.ResponseError):  # no group: nothing was ever queued
        client.xgroup_delconsumer(queue, GROUP, consumer)
    client.hdel(protocol.instances_key(variant_id), consumer)
    if requeued or failed:
        log.warning(
            "instance %s of %s stopped holding %d requests: %d queued again, %d answered with an "
            "error",
            consumer,
            variant_id,
            requeued + failed,
            requeued,
            failed,
        )
    return requeued, failed


def answer_leftovers(client: redis.Redis, variant_id: str) -> int:
    """A retired variant's queue: answer whatever is still in it with an error, then drop it."""
    queue = protocol.queue_key(variant_id)
    answered = 0
    for _, fields in client.xrange(queue, "-", "+"):
        request = Request.from_fields(fields)
        reply = Reply(
            request.request_id,
            error=protocol.WORKER_LOST,
            message="the variant stopped serving before answering this request",
        )
        client.rpush(request.reply_to, reply.encode())
        answered += 1
    client.delete(queue, protocol.instances_key(variant_id))
    return answered


def silent_consumers(client: redis.Redis, variant_id: str, live: set[str]) -> list[str]:
    """Consumers holding requests whose instance is neither ``live`` nor beating."""
    queue = protocol.queue_key(variant_id)
    try:
        consumers = client.xinfo_consumers(queue, GROUP)
    except redis.ResponseError:
        return []
    beating = {
        health.name
        for health in ServingState(client).instances(variant_id)
        if health.seconds_since_beat <= STALE_AFTER_S
    }
    silent = []
    for consumer in consumers:
        name = consumer["name"]
        name = name.decode() if isinstance(name, bytes) else name
        if consumer["pending"] and name not in live | beating and name != "supervisor":
            silent.append(name)
    return silent
