"""One instance of a variant: reads its variant's queue in micro-batches and answers each request.

The instance loads the model once, then loops: take whatever is queued (up to ``max_batch``
requests), and while other callers are evidently active wait a bounded ``max_wait_ms`` for more;
answer them with one model call (:mod:`infra.serving.batching`); write every reply and only then
acknowledge the entries (late ack). A heartbeat (state, counters, what it is busy with) goes to
Redis every second; the supervisor and the endpoint page read it. Redis going away stops
nothing: the instance waits for it (bounded backoff), makes its queue again if Redis came back
empty, and its next heartbeat registers it again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable

import orjson
import redis

from infra.serving import protocol
from infra.serving.batching import Call, invoke_batch
from infra.serving.protocol import GROUP, Reply, Request
from infra.serving.state import STATE_UNAVAILABLE

log = logging.getLogger(__name__)
HEARTBEAT_S = 1.0
STATS_TTL_S = 3 * 3600
POLL_S = 0.0003  # between reads while a micro-batch waits for more requests
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.1, 2.0  # backoff while Redis cannot be reached


def ensure_group(client: redis.Redis, variant_id: str) -> None:
    try:
        client.xgroup_create(protocol.queue_key(variant_id), GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


class Instance:
    """Serves ``variant_id`` with ``model`` until ``stop()``; ``name`` is its consumer name."""

    def __init__(
        self,
        *,
        client: redis.Redis,
        variant_id: str,
        name: str,
        max_batch: int = 32,
        max_wait_ms: float = 2.0,
    ) -> None:
        self.client = client
        self.variant_id = variant_id
        self.name = name
        self.max_batch = max_batch
        self.max_wait_ms = max_wait_ms
        self.queue = protocol.queue_key(variant_id)
        self.model = None
        self.state = "Loading"
        self.error = ""
        self.served = 0
        self.failed = 0
        self.batches = 0
        self.busy_since: float | None = None
        self._stop = threading.Event()
        self._last_batch = 1

    # ---- lifecycle -------------------------------------------------------------------------

    def load(self, loader: Callable[[], object]) -> bool:
        """Load the model with ``loader``; False (and state ``Failed``) if it raised."""
        self.beat()
        try:
            self.model = loader()
        except Exception as exc:
            log.exception("instance %s could not load its model", self.name)
            self.state, self.error = "Failed", f"{type(exc).__name__}: {exc}"[:1000]
            self.beat()
            return False
        ensure_group(self.client, self.variant_id)
        self.state = "InService"
        self.beat()
        return True

    def stop(self) -> None:
        self._stop.set()

    def serve_forever(self) -> None:
        beater = threading.Thread(target=self._beat_forever, daemon=True, name="heartbeat")
        beater.start()
        backoff = 0.0
        try:
            while not self._stop.is_set():
                try:
                    self.serve_once(block_ms=500)
                    backoff = 0.0
                except STATE_UNAVAILABLE as exc:
                    # Redis is down or restarting: what this instance held went with it (or
                    # is taken back by the supervisor); try again, backing off up to a bound.
                    backoff = min(RECONNECT_MAX_S, max(RECONNECT_MIN_S, backoff * 2))
                    log.warning("instance %s cannot reach Redis (%s)", self.name, exc)
                    self._stop.wait(backoff)
                except redis.ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    # Redis came back without the queue (restarted empty): make it again.
                    log.warning("instance %s: its queue is gone; making it again", self.name)
                    ensure_group(self.client, self.variant_id)
        finally:
            self.state = "Stopped"
            self._stop.set()
            with contextlib.suppress(redis.RedisError):
                self.client.hdel(protocol.instances_key(self.variant_id), self.name)

    def beat(self) -> None:
        heartbeat = {
            "state": self.state,
            "error": self.error,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "ts": time.time(),
            "served": self.served,
            "failed": self.failed,
            "batches": self.batches,
            "busy_since": self.busy_since,
        }
        self.client.hset(
            protocol.instances_key(self.variant_id), self.name, orjson.dumps(heartbeat)
        )

    def _beat_forever(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self.beat()
            except redis.RedisError:
                log.warning("heartbeat of %s failed", self.name, exc_info=True)

    # ---- the loop --------------------------------------------------------------------------

    def serve_once(self, *, block_ms: int) -> int:
        """Answer one micro-batch; returns how many requests it held (0 after ``block_ms``)."""
        entries = self._read(self.max_batch, block_ms)
        if not entries:
            return 0
        # Wait for more only while others are calling concurrently: a lone caller never waits.
        if self.max_wait_ms > 0 and self._last_batch > 1 and len(entries) < self.max_batch:
            deadline = time.monotonic() + self.max_wait_ms / 1000
            # Polled, not a BLOCKing read: Redis ends a blocked read's timeout only at its next
            # event or cron tick, so "BLOCK 2" takes 100 ms when nothing else arrives.
            while len(entries) < self.max_batch and time.monotonic() < deadline:
                more = self._read(self.max_batch - len(entries), None)
                if more:
                    entries += more
                else:
                    time.sleep(POLL_S)
        self._last_batch = len(entries)
        self._answer(entries)
        return len(entries)

    def _read(self, count: int, block_ms: int | None) -> list[tuple[bytes, dict]]:
        """Up to ``count`` new entries, waiting up to ``block_ms`` for one (None: no wait)."""
        response = self.client.xreadgroup(
            GROUP, self.name, {self.queue: ">"}, count=count, block=block_ms
        )
        return list(response[0][1]) if response else []

    def _answer(self, entries: list[tuple[bytes, dict]]) -> None:
        started = time.time()
        self.busy_since = started
        requests, live, replies = [], [], []
        for _, fields in entries:
            request = Request.from_fields(fields)
            requests.append(request)
            if request.deadline < started:
                replies.append(self._reply(request, error=protocol.TIMED_OUT))
            else:
                live.append(request)
        outcomes = invoke_batch(
            self.model,
            [Call(r.body, r.content_type, r.accept, r.custom_attributes) for r in live],
        )
        for request, outcome in zip(live, outcomes, strict=True):
            if outcome.ok:
                replies.append(
                    Reply(
                        request.request_id,
                        body=outcome.body,
                        content_type=outcome.content_type,
                        # SageMaker answers only the attributes the model set.
                        custom_attributes=outcome.custom_attributes,
                        instance=self.name,
                    )
                )
            else:
                replies.append(
                    self._reply(
                        request,
                        error=protocol.MODEL_ERROR,
                        message=outcome.error,
                        status=outcome.status,
                    )
                )
        self.busy_since = None
        self._publish(requests, replies, [entry_id for entry_id, _ in entries], started)

    def _reply(
        self, request: Request, *, error: str, message: str = "", status: int = 500
    ) -> Reply:
        return Reply(
            request.request_id, error=error, message=message, status=status, instance=self.name
        )

    def _publish(
        self, requests: list[Request], replies: list[Reply], ids: list[bytes], started: float
    ) -> None:
        by_request = {reply.request_id: reply for reply in replies}
        finished = time.time()
        failed = sum(1 for reply in replies if not reply.ok)
        latency_ms = sum((finished - r.sent_at) * 1000 for r in requests)
        minute = int(finished // 60)
        stats = protocol.stats_key(self.variant_id, minute)
        pipe = self.client.pipeline(transaction=False)
        for reply_to in {r.reply_to for r in requests}:
            pipe.rpush(
                reply_to,
                *(by_request[r.request_id].encode() for r in requests if r.reply_to == reply_to),
            )
            pipe.expire(reply_to, protocol.REPLY_TTL_S)
        pipe.xack(self.queue, GROUP, *ids)
        pipe.xdel(self.queue, *ids)
        pipe.hincrby(stats, "invocations", len(requests))
        pipe.hincrby(stats, "errors", failed)
        pipe.hincrbyfloat(stats, "latency_ms", latency_ms)
        pipe.hincrbyfloat(stats, "model_ms", (finished - started) * 1000)
        pipe.hincrby(stats, "batches", 1)
        pipe.expire(stats, STATS_TTL_S)
        pipe.execute()
        self.served += len(requests) - failed
        self.failed += failed
        self.batches += 1
