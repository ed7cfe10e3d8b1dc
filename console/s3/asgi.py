"""The S3 API's own ASGI adapter: under ``infra.web`` (``console.asgi``) an S3 request is answered
here, without Django's request handling around ``s3_api``.

Django's handler reads the whole body into a spooled file before anything looks at it, sends its
request signals through the event loop's thread, runs the middleware chain and hops threads again
to close the response: for a 1 KiB PutObject that cost more than the operation. Here a request is
told apart by ``S3Middleware``'s own rules, its first body message is read on the event loop (a
small body is then whole), and ``s3_api`` runs in one pool thread, which reads the rest of a large
body from the connection as the object is written: memory stays bounded, network and disk overlap.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import suppress

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse

from console.s3.body import take_bytes
from console.s3.views import is_s3_request, s3_api_in_pool

_WHOLE = 1 << 62


class AsgiBody:
    """The request body as a file for the thread that answers the request, ``read(n)`` giving
    ``n`` bytes unless the body ends first. What the first message brought is read from memory;
    the rest is received on the event loop, as much as a read asks for in one hop. A client gone
    mid-body ends the body early, which the S3 readers refuse (IncompleteBody, or a hash that
    does not match), so nothing is written."""

    def __init__(self, receive) -> None:
        self._receive = receive
        self._loop: asyncio.AbstractEventLoop | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._more = True

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._gather(1)

    async def _gather(self, wanted: int) -> None:
        """Receive until ``wanted`` bytes are buffered or the body ends."""
        while self._more and self._buffered < wanted:
            message = await self._receive()
            if message["type"] != "http.request":  # http.disconnect
                self._more = False
                break
            if chunk := message.get("body", b""):
                self._chunks.append(chunk)
                self._buffered += len(chunk)
            self._more = message.get("more_body", False)

    def _fill(self, wanted: int) -> None:
        if self._buffered < wanted and self._more:
            assert self._loop is not None, "start() reads the first message"
            asyncio.run_coroutine_threadsafe(self._gather(wanted), self._loop).result()

    def _take(self, size: int) -> bytes:
        """The next ``size`` buffered bytes, joined only when they span messages."""
        self._buffered -= max(size, 0)
        return take_bytes(self._chunks, size)

    def read(self, size: int | None = -1) -> bytes:
        size = _WHOLE if size is None or size < 0 else size
        self._fill(size)
        return self._take(min(size, self._buffered))

    def readline(self, size: int | None = -1) -> bytes:
        limit = _WHOLE if size is None or size < 0 else size
        while True:
            first = self._chunks[0] if self._chunks else b""
            if (newline := first.find(b"\n", 0, limit)) >= 0:
                return self._take(newline + 1)
            if len(first) >= limit:
                return self._take(limit)
            if len(self._chunks) < 2:
                self._fill(self._buffered + 1)
                if len(self._chunks) < 2:  # the body's end
                    return self._take(len(first))
            second = self._chunks[1]
            del self._chunks[1]
            self._chunks[0] = first + second

    def close(self) -> None:
        pass

    async def disconnected(self) -> None:
        """Return once the client has gone."""
        while (await self._receive())["type"] != "http.disconnect":
            pass


def s3_request(scope, receive) -> tuple[ASGIRequest, AsgiBody] | None:
    """The request and its body when ``scope`` is one for the S3 API; None for Django's."""
    if scope["type"] != "http":
        return None
    body = AsgiBody(receive)
    try:
        request = ASGIRequest(scope, body)
    except UnicodeDecodeError:
        return None  # Django answers it 400
    return (request, body) if is_s3_request(request) else None


async def asgi_s3(request: ASGIRequest, body: AsgiBody, send) -> None:
    await body.start()
    response = await asyncio.get_running_loop().run_in_executor(None, s3_api_in_pool, request)
    headers = [(name.encode("ascii"), value.encode("latin-1")) for name, value in response.items()]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    if not response.streaming:
        await send({"type": "http.response.body", "body": response.content})
        return
    sending = asyncio.ensure_future(_send_stream(response, send))
    watching = asyncio.ensure_future(body.disconnected())
    await asyncio.wait([sending, watching], return_when=asyncio.FIRST_COMPLETED)
    watching.cancel()
    sending.cancel()  # when the client has gone: the object's reader closes as the stream ends
    with suppress(asyncio.CancelledError):
        await sending


async def _send_stream(response: HttpResponse, send) -> None:
    async for part in response.streaming_content:
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
