"""The S3 API's one entry: find the bucket and key (path style, or ``<bucket>.localhost``),
authenticate, pick the operation by method and sub-resource, answer S3's shapes.

A request signed for the ``s3`` service (Authorization header or presigned URL) or addressed to
a bucket's virtual host comes here: under ASGI from ``console.s3.asgi``, before Django's request
handling; under WSGI (the test server) from ``S3Middleware``, before Django's URL routing and
CSRF. Every other request (a browser's) goes on to the console.
"""

from __future__ import annotations

import logging
import uuid

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse

from console.s3 import buckets, multipart, objects
from console.s3.auth import SERVICE, authenticate, is_presigned_v2
from console.s3.errors import S3Error, error_response, from_exception, not_implemented
from console.sagemaker.auth import credential_service
from console.sagemaker.runtime import INVOCATIONS_PATH
from infra.storage.base import BUCKET_NAME

log = logging.getLogger(__name__)
VIRTUAL_HOST_SUFFIX = ".localhost"
# Query parameters that are not sub-resources: listing, presigning and response overrides.
_PLAIN_PARAMETERS = frozenset(
    {
        "list-type",
        "prefix",
        "delimiter",
        "continuation-token",
        "start-after",
        "max-keys",
        "encoding-type",
        "fetch-owner",
        "marker",
        "x-id",
        "response-content-type",
        "response-content-disposition",
        "response-cache-control",
        "response-content-encoding",
        "response-content-language",
        "response-expires",
        "AWSAccessKeyId",
        "Signature",
        "Expires",
    }
)


def virtual_host_bucket(request: HttpRequest) -> str | None:
    host = request.META.get("HTTP_HOST", "").rsplit(":", 1)[0].lower()
    if host.endswith(VIRTUAL_HOST_SUFFIX):
        name = host.removesuffix(VIRTUAL_HOST_SUFFIX)
        if BUCKET_NAME.match(name):
            return name
    return None


def is_s3_request(request: HttpRequest) -> bool:
    """Signed for ``s3`` or addressed to a bucket's host. Never a call that names an AWS JSON
    target, nor the runtime's invocations path (which ``console.asgi`` answers before Django):
    those are the SageMaker APIs', which refuse a signature scoped to another service."""
    if "X-Amz-Target" in request.headers or INVOCATIONS_PATH.match(request.path):
        return False
    return (
        virtual_host_bucket(request) is not None
        or credential_service(request) == SERVICE
        or is_presigned_v2(request)
    )


class S3Middleware:
    """Under Django's ASGI handler (``infra.web`` answers S3 in ``console.s3.asgi`` before it),
    an S3 request runs in a thread of its own from a pool (``s3_api_in_pool``), not in the one
    thread where Django runs every request's sync code in a worker: a request waiting on the disk
    (an object's fsync) does not hold up the worker's other requests. Under WSGI (the test
    server) the request stays on its server thread."""

    sync_capable = False
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_s3_request(request):
            return await self.get_response(request)
        if isinstance(request, ASGIRequest):
            return await sync_to_async(s3_api_in_pool, thread_sensitive=False)(request)
        return await sync_to_async(s3_api)(request)


def s3_api_in_pool(request: HttpRequest) -> HttpResponse:
    """``s3_api`` in a pool thread: its database connections are closed at the request's end,
    as Django does for its own."""
    close_old_connections()
    try:
        return s3_api(request)
    finally:
        close_old_connections()


def address(request: HttpRequest) -> tuple[str, str]:
    """``(bucket, key)`` the request names; either may be empty."""
    if bucket := virtual_host_bucket(request):
        return bucket, request.path[1:]
    bucket, _, key = request.path[1:].partition("/")
    return bucket, key


def s3_api(request: HttpRequest) -> HttpResponse:
    request_id = uuid.uuid4().hex[:16].upper()
    bucket, key = address(request)
    try:
        try:
            caller = authenticate(request)
            response = dispatch(request, caller, bucket, key)
        except Exception as exc:
            raise from_exception(exc, bucket=bucket, key=key) from exc
    except S3Error as error:
        response = error_response(
            error,
            resource=request.path,
            request_id=request_id,
            head=request.method == "HEAD",
        )
    except Exception:
        log.exception("S3 request %s failed", request_id)
        response = error_response(
            S3Error(
                "InternalError", "We encountered an internal error. Please try again.", status=500
            ),
            resource=request.path,
            request_id=request_id,
            head=request.method == "HEAD",
        )
    response["x-amz-request-id"] = request_id
    return response


def _sub_resources(request: HttpRequest) -> set[str]:
    return {
        name
        for name in request.GET
        if name not in _PLAIN_PARAMETERS and not name.startswith("X-Amz-")
    }


def dispatch(request: HttpRequest, caller, bucket: str, key: str) -> HttpResponse:
    method, sub = request.method, _sub_resources(request)
    if not bucket:
        if method == "GET" and not sub:
            return buckets.list_buckets(caller)
        raise not_implemented(f"{method} on the service")
    if not key:
        return _bucket_operation(request, caller, bucket, method, sub)
    return _object_operation(request, caller, bucket, key, method, sub)


def _bucket_operation(request, caller, bucket: str, method: str, sub: set[str]) -> HttpResponse:
    operations = {
        ("GET", frozenset()): (
            buckets.list_objects_v2 if request.GET.get("list-type") == "2" else buckets.list_objects
        ),
        ("GET", frozenset({"location"})): buckets.location,
        ("GET", frozenset({"uploads"})): multipart.list_uploads,
        ("PUT", frozenset()): buckets.create,
        ("HEAD", frozenset()): buckets.head,
        ("DELETE", frozenset()): buckets.delete,
        ("POST", frozenset({"delete"})): buckets.delete_objects,
    }
    operation = operations.get((method, frozenset(sub)))
    if operation is None:
        raise not_implemented(f"{method} on a bucket with {_named(sub)}")
    return operation(request, caller, bucket)


def _object_operation(
    request, caller, bucket: str, key: str, method: str, sub: set[str]
) -> HttpResponse:
    copying = "x-amz-copy-source" in request.headers
    operations = {
        ("PUT", frozenset(), False): objects.put,
        ("PUT", frozenset(), True): objects.copy,
        ("PUT", frozenset({"partNumber", "uploadId"}), False): multipart.upload_part,
        ("GET", frozenset(), False): objects.get,
        ("GET", frozenset({"uploadId"}), False): multipart.list_parts,
        ("HEAD", frozenset(), False): objects.head,
        ("DELETE", frozenset(), False): objects.delete,
        ("DELETE", frozenset({"uploadId"}), False): multipart.abort,
        ("POST", frozenset({"uploads"}), False): multipart.create,
        ("POST", frozenset({"uploadId"}), False): multipart.complete,
    }
    operation = operations.get((method, frozenset(sub), copying))
    if operation is None:
        what = "x-amz-copy-source with " if copying else ""
        raise not_implemented(f"{method} on an object with {what}{_named(sub)}")
    return operation(request, caller, bucket, key)


def _named(sub: set[str]) -> str:
    return ", ".join(f"?{name}" for name in sorted(sub)) if sub else "no sub-resource"
