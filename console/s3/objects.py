"""S3's object operations: Put/Get (ranges)/Head/Delete Object and CopyObject. Bodies stream
through in bounded memory both ways."""

from __future__ import annotations

import re
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse

from console.s3.auth import Caller
from console.s3.body import body_reader, content_length
from console.s3.buckets import check_access
from console.s3.errors import S3Error
from console.s3.responses import element, etag, object_headers, stream, timestamp, xml_response
from infra.storage import ObjectInfo, get_store, join_uri, parse_object_uri
from infra.storage.base import CHUNK_SIZE

MAX_OBJECT_SIZE = 5 * 1024**3  # a single PUT, as in S3
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def object_uri(bucket: str, key: str) -> str:
    """The object's URI; InvalidURI (InvalidArgument) for keys with path tricks."""
    uri = join_uri(bucket, key)
    parse_object_uri(uri)
    return uri


def check_size(length: int, *, limit: int = MAX_OBJECT_SIZE, what: str = "an object") -> None:
    if length > limit:
        raise S3Error(
            "EntityTooLarge",
            f"Your proposed upload is {length} bytes: {what} may be at most {limit} bytes.",
            MaxSizeAllowed=str(limit),
        )


def copy_body(reader, writer, *, length: int) -> None:
    """Stream the body into the writer; IncompleteBody (inside the write, which is then
    discarded) when it is not ``length`` bytes."""
    written = 0
    while chunk := reader.read(CHUNK_SIZE):
        writer.write(chunk)
        written += len(chunk)
    if written != length:
        raise S3Error(
            "IncompleteBody",
            f"You did not provide the number of bytes specified by the Content-Length HTTP "
            f"header ({written} of {length}).",
        )


def put(request: HttpRequest, caller: Caller, bucket: str, key: str) -> HttpResponse:
    check_access(request, caller, bucket)
    uri = object_uri(bucket, key)
    length = content_length(request)
    check_size(length)
    store = get_store()
    content_type = request.headers.get("Content-Type") or "application/octet-stream"
    with store.open_write(uri, content_type=content_type) as writer:
        copy_body(body_reader(request, caller), writer, length=length)
    response = HttpResponse(status=200)
    response["ETag"] = etag(store.stat(uri).etag)
    return response


def _range(header: str, size: int) -> tuple[int, int] | None:
    """``[start, end)`` of a ``Range: bytes=...`` header; None to send the whole object (no
    header, or a form S3 also ignores); InvalidRange when nothing of the object is in it."""
    match = _RANGE.match(header.strip()) if header else None
    if not match or (not match[1] and not match[2]):
        return None
    if not match[1]:  # the last N bytes
        suffix = int(match[2])
        if suffix == 0 or size == 0:
            raise _invalid_range(size)
        return max(size - suffix, 0), size
    start = int(match[1])
    end = size if not match[2] else min(int(match[2]) + 1, size)
    if match[2] and int(match[2]) < start:
        return None
    if start >= size:
        raise _invalid_range(size)
    return start, end


def _invalid_range(size: int) -> S3Error:
    error = S3Error(
        "InvalidRange",
        "The requested range is not satisfiable",
        status=416,
        ActualObjectSize=str(size),
    )
    error.headers = {"Content-Range": f"bytes */{size}"}
    return error


def get(request: HttpRequest, caller: Caller, bucket: str, key: str) -> HttpResponse:
    check_access(request, caller, bucket)
    store = get_store()
    uri = object_uri(bucket, key)
    info = store.stat(uri)
    wanted = _range(request.headers.get("Range", ""), info.size)
    start, end = wanted or (0, info.size)
    reader = store.open_read(uri, start=start, end=end)
    response = stream(request, reader, status=206 if wanted else 200, length=end - start)
    object_headers(response, info)
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end - 1}/{info.size}"
    for name, header in (
        ("response-content-type", "Content-Type"),
        ("response-content-disposition", "Content-Disposition"),
        ("response-cache-control", "Cache-Control"),
        ("response-content-encoding", "Content-Encoding"),
    ):
        if name in request.GET:
            response[header] = request.GET[name]
    return response


def head(request: HttpRequest, caller: Caller, bucket: str, key: str) -> HttpResponse:
    check_access(request, caller, bucket)
    info = get_store().stat(object_uri(bucket, key))
    response = HttpResponse(status=200, content_type="application/octet-stream")
    object_headers(response, info)
    response["Content-Length"] = str(info.size)
    return response


def delete(request: HttpRequest, caller: Caller, bucket: str, key: str) -> HttpResponse:
    check_access(request, caller, bucket)
    get_store().delete(object_uri(bucket, key))
    return HttpResponse(status=204)


def copy_source(request: HttpRequest) -> tuple[str, str]:
    raw = unquote(request.headers["x-amz-copy-source"]).lstrip("/")
    path, _, version = raw.partition("?versionId=")
    bucket, _, key = path.partition("/")
    if version and version != "null":
        raise S3Error("NotImplemented", "Object versions are not implemented by this platform.")
    if not bucket or not key:
        raise S3Error(
            "InvalidArgument", "x-amz-copy-source must name a source bucket and key: bucket/key."
        )
    return bucket, key


def copy(request: HttpRequest, caller: Caller, bucket: str, key: str) -> HttpResponse:
    check_access(request, caller, bucket)
    source_bucket, source_key = copy_source(request)
    check_access(request, caller, source_bucket)
    source, target = object_uri(source_bucket, source_key), object_uri(bucket, key)
    store = get_store()
    if source == target:
        store.stat(source)
        raise S3Error(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata, storage class, website redirect location "
            "or encryption attributes.",
        )
    info: ObjectInfo = store.copy(source, target)
    return xml_response(
        "CopyObjectResult",
        element("LastModified", timestamp(info.last_modified)) + element("ETag", etag(info.etag)),
    )
