"""S3's XML documents and object responses (streamed under ASGI, never more than ``CHUNK_SIZE``
in memory)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from urllib.parse import quote
from xml.sax.saxutils import escape

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date

from infra.storage import ObjectInfo
from infra.storage.base import CHUNK_SIZE

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"


def timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def element(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def encoded(value: str, encoding_type: str) -> str:
    """A key or prefix as the listing's ``encoding-type=url`` asks (botocore decodes it)."""
    return quote(value, safe="/") if encoding_type == "url" else value


def xml_response(root: str, body: str, *, status: int = 200) -> HttpResponse:
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NAMESPACE}">{body}</{root}>'
    )
    return HttpResponse(document.encode(), status=status, content_type="application/xml")


def etag(value: str) -> str:
    return f'"{value}"'


def object_headers(response: HttpResponse, info: ObjectInfo) -> None:
    response["ETag"] = etag(info.etag)
    response["Last-Modified"] = http_date(info.last_modified.timestamp())
    response["Accept-Ranges"] = "bytes"


def stream(request: HttpRequest, reader, *, status: int, length: int) -> HttpResponse:
    """An object's bytes from ``reader``, which the response closes at its end. One of at most
    ``CHUNK_SIZE`` bytes is read here at once: streaming it would cost more thread hops than the
    read."""
    if length <= CHUNK_SIZE:
        with reader:
            body = reader.read(length)
        response = HttpResponse(body, status=status, content_type="application/octet-stream")
        response["Content-Length"] = str(len(body))
        return response
    chunks = _async_chunks(reader) if isinstance(request, ASGIRequest) else _chunks(reader)
    response = StreamingHttpResponse(chunks, status=status)
    response["Content-Length"] = str(length)
    response["Content-Type"] = "application/octet-stream"
    return response


def _chunks(reader) -> Iterator[bytes]:
    with reader:
        while chunk := reader.read(CHUNK_SIZE):
            yield chunk


async def _async_chunks(reader) -> AsyncIterator[bytes]:
    # Django's ASGI handler would gather a synchronous iterator whole before sending it.
    try:
        while chunk := await asyncio.to_thread(reader.read, CHUNK_SIZE):
            yield chunk
    finally:
        await asyncio.to_thread(reader.close)
