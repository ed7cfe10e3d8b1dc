"""The calling side of the data plane, for async web views: queue a request, await its reply.

One :class:`ServingClient` per event loop. Every request it sends names the client's own reply
list; one listener task pops replies in bulk (``BLMPOP``) and resolves the waiting futures, so
the result path costs one Redis round trip per burst of replies, not one subscription per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref

import redis.asyncio as aioredis

from infra.serving import protocol
from infra.serving.protocol import Reply, Request
from infra.serving.state import STATE_UNAVAILABLE

log = logging.getLogger(__name__)
INVOCATION_TIMEOUT_S = 60.0  # the runtime's documented model timeout
_REPLY_BURST = 512
_RETRY_MIN_S, _RETRY_MAX_S = 0.2, 1.0  # the listener's backoff while Redis cannot be reached


class ServingClient:
    def __init__(self, redis_url: str) -> None:
        self.client_id = uuid.uuid4().hex
        self.reply_key = protocol.reply_key(self.client_id)
        # Bounded: a burst of callers waits for a connection instead of opening thousands.
        pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=32, timeout=None)
        self._redis = aioredis.Redis(connection_pool=pool)
        self._listen_redis = aioredis.Redis.from_url(redis_url)
        self._waiting: dict[str, asyncio.Future[Reply]] = {}
        self._listener: asyncio.Task | None = None

    async def invoke(
        self,
        variant_id: str,
        body: bytes,
        *,
        content_type: str,
        accept: str,
        custom_attributes: str = "",
        timeout: float = INVOCATION_TIMEOUT_S,
    ) -> Reply:
        """The instance's reply, or a ``TIMED_OUT`` reply after ``timeout`` seconds. Raises one of
        :data:`STATE_UNAVAILABLE` when Redis cannot be reached, or goes away while it waits."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        request_id = uuid.uuid4().hex
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        now = time.time()
        request = Request(
            request_id=request_id,
            body=body,
            content_type=content_type,
            accept=accept,
            reply_to=self.reply_key,
            sent_at=now,
            deadline=now + timeout,
            custom_attributes=custom_attributes,
        )
        try:
            async with asyncio.timeout(timeout):
                await self._redis.xadd(protocol.queue_key(variant_id), request.fields())
                return await future
        except TimeoutError:
            return Reply(
                request_id,
                error=protocol.TIMED_OUT,
                message=f"no instance answered within {timeout:g} s",
            )
        finally:
            self._waiting.pop(request_id, None)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
        await self._redis.aclose()
        await self._listen_redis.aclose()

    async def _listen(self) -> None:
        backoff = 0.0
        while True:
            try:
                # Under redis-py's 5 s socket timeout, so an idle listener is never cut off.
                popped = await self._listen_redis.blmpop(
                    2, 1, self.reply_key, direction="LEFT", count=_REPLY_BURST
                )
                backoff = 0.0
            except asyncio.CancelledError:
                raise
            except STATE_UNAVAILABLE as exc:
                # Whatever was queued or answered may be gone with Redis (one restarted empty
                # keeps nothing): the callers waiting hear it now, not at their timeout.
                self._fail_waiting(exc)
                backoff = min(_RETRY_MAX_S, max(_RETRY_MIN_S, backoff * 2))
                log.warning("reading replies from %s failed (%s); retrying", self.reply_key, exc)
                await asyncio.sleep(backoff)
                continue
            except Exception:
                log.warning(
                    "reading replies from %s failed; retrying", self.reply_key, exc_info=True
                )
                await asyncio.sleep(_RETRY_MIN_S)
                continue
            if not popped:
                continue
            for data in popped[1]:
                reply = Reply.decode(data)
                future = self._waiting.get(reply.request_id)
                if future is not None and not future.done():
                    future.set_result(reply)

    def _fail_waiting(self, exc: Exception) -> None:
        """Every waiting call raises ``exc`` (adapters answer it ServiceUnavailable)."""
        for future in list(self._waiting.values()):
            if not future.done():
                future.set_exception(exc)


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ServingClient] = (
    weakref.WeakKeyDictionary()
)


def serving_client(redis_url: str) -> ServingClient:
    """The running event loop's client (a web process serves from one long-lived loop)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = ServingClient(redis_url)
    return client
