"""The sagemaker-runtime adapter: ``POST /endpoints/<name>/invocations`` (rest-json errors).

``invocation(request)`` does the work on a plain :class:`sigv4.SignedRequest` and answers a
:class:`RuntimeResponse`. Two adapters call it: ``asgi_invocations``, which ``console.asgi`` puts
in front of Django (Django's request handling alone costs ~3.5 ms per request here; the raw ASGI
route 0.3 ms), and the Django view ``invoke_endpoint`` (the test client, WSGI). The request waits
on its reply without holding a thread. What it needs from the database (the caller's access key,
the endpoint's routes) is read through a thread and kept for about a second, so a stream of
invocations costs no query each; the signature is verified on every request.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from console.accounts.selectors import access_key_credentials
from console.accounts.services import access_key_mark_used
from console.core.names import account_id_for
from console.endpoints.selectors import endpoint_routes
from console.sagemaker import sigv4
from console.sagemaker.auth import access_key_id_of, signed_request, verified_user
from console.sagemaker.errors import AwsError
from console.sagemaker.requests import read_body
from infra.config import settings
from infra.serving import protocol, routing
from infra.serving.client import INVOCATION_TIMEOUT_S, ServingClient, serving_client

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # 6,291,456: InvokeEndpoint's documented maximum
CREDENTIALS_CACHE_S = 5.0  # a revoked key stops working within this long
SERVING_STATUSES = ("InService", "Updating")  # an endpoint being updated keeps answering


INVOCATIONS_PATH = re.compile(r"^/endpoints/(?P<name>[^/]+)/invocations$")


@dataclass
class RuntimeResponse:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    def as_http_response(self) -> HttpResponse:
        response = HttpResponse(self.body, status=self.status, content_type=self.content_type)
        for name, value in self.headers.items():
            response[name] = value
        return response


def runtime_error(
    error: AwsError, *, request_id: str, extra: dict | None = None
) -> RuntimeResponse:
    return RuntimeResponse(
        status=error.status,
        body=json.dumps({"message": error.message, **(extra or {})}).encode(),
        content_type="application/json",
        headers={"x-amzn-ErrorType": error.code, "x-amzn-RequestId": request_id},
    )


@dataclass(frozen=True)
class _Cached:
    value: object
    until: float


_credentials: dict[str, _Cached] = {}
_routes: dict[tuple[int, str], _Cached] = {}


def _credentials_now(access_key_id: str):
    found = access_key_credentials(access_key_id=access_key_id)
    if found is not None:
        access_key_mark_used(key=found[0])
    return found


async def authenticate(signed: sigv4.SignedRequest):
    """The user whose access key signed the request (SigV4); AwsError otherwise."""
    access_key_id = access_key_id_of(signed)
    cached = _credentials.get(access_key_id)
    if cached is None or cached.until < time.monotonic():
        found = await sync_to_async(_credentials_now)(access_key_id)
        cached = _credentials[access_key_id] = _Cached(
            found, time.monotonic() + CREDENTIALS_CACHE_S
        )
    return verified_user(signed, cached.value)


async def _routes_of(user, name: str) -> list[routing.Route] | None:
    """The endpoint's routes, None when it is unknown or not serving.

    Only routes are cached: an endpoint that has just become InService answers at once.
    """
    cached = _routes.get((user.pk, name))
    if cached is None or cached.until < time.monotonic():
        endpoint, routes = await sync_to_async(endpoint_routes)(user=user, name=name)
        if endpoint is None or endpoint.status not in SERVING_STATUSES or not routes:
            _routes.pop((user.pk, name), None)
            return None
        cached = _routes[(user.pk, name)] = _Cached(
            routes, time.monotonic() + routing.ROUTE_CACHE_S
        )
    return cached.value


@csrf_exempt
async def invoke_endpoint(request: HttpRequest, endpoint_name: str) -> HttpResponse:
    """The Django route (what the test client reaches; the stack's ASGI app answers first)."""
    if request.method != "POST":
        return _not_post().as_http_response()
    try:
        body = read_body(request)
    except AwsError as exc:
        return _too_large(exc).as_http_response()
    answer = await invocation(
        signed_request(request, body),
        endpoint_name,
        shared_client=isinstance(request, ASGIRequest),
    )
    return answer.as_http_response()


async def asgi_invocations(scope: dict, receive, send, endpoint_name: str) -> None:
    """The same route as a bare ASGI application, ahead of Django's request handling."""
    if scope["method"] != "POST":
        answer = _not_post()
    else:
        body = await _read_body(receive)
        if body is None:
            answer = _too_large(AwsError("RequestEntityTooLarge", "", status=413))
        else:
            headers = {
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in scope["headers"]
            }
            signed = sigv4.SignedRequest(
                method="POST",
                path=scope["path"],
                query_string=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                body=body,
            )
            answer = await invocation(signed, endpoint_name, shared_client=True)
    headers = [(b"content-type", answer.content_type.encode("latin-1"))]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _read_body(receive) -> bytes | None:
    """The whole request body, or None once it grows past the payload limit."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_PAYLOAD_BYTES:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _not_post() -> RuntimeResponse:
    error = AwsError("ValidationError", "InvokeEndpoint takes POST.", status=405)
    return runtime_error(error, request_id=str(uuid.uuid4()))


def _too_large(exc: AwsError) -> RuntimeResponse:
    """As the real service: plain text, which boto3 reports as code "413"."""
    message = f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes."
    return RuntimeResponse(status=413, body=message.encode(), content_type="text/plain")


async def invocation(
    signed: sigv4.SignedRequest, endpoint_name: str, *, shared_client: bool
) -> RuntimeResponse:
    """InvokeEndpoint: authenticate, route by weight or the target variant, wait for the reply."""
    request_id = str(uuid.uuid4())
    try:
        if len(signed.body) > MAX_PAYLOAD_BYTES:
            return _too_large(AwsError("RequestEntityTooLarge", "", status=413))
        user = await authenticate(signed)
        routes = await _routes_of(user, endpoint_name)
        if routes is None:
            raise AwsError(
                "ValidationError",
                f"Endpoint {endpoint_name} of account {account_id_for(user.pk)} not found.",
            )
        target = signed.headers.get("x-amzn-sagemaker-target-variant")
        try:
            route = routing.choose(routes, target)
        except routing.NoSuchVariant:
            names = ", ".join(route.variant_name for route in routes)
            raise AwsError(
                "ValidationError",
                f"The variant {target} is not found for endpoint {endpoint_name} "
                f"(its variants: {names}).",
            ) from None
        reply = await _invoke(signed, route, shared_client=shared_client)
    except AwsError as exc:
        return runtime_error(exc, request_id=request_id)
    if not reply.ok:
        return _model_error(reply, route, request_id=request_id)
    return RuntimeResponse(
        status=200,
        body=reply.body,
        content_type=reply.content_type or "application/json",
        headers={
            "x-Amzn-Invoked-Production-Variant": route.variant_name,
            "x-amzn-RequestId": request_id,
        },
    )


async def _invoke(
    signed: sigv4.SignedRequest, route: routing.Route, *, shared_client: bool
) -> protocol.Reply:
    arguments = {
        "content_type": signed.headers.get("content-type") or "application/octet-stream",
        "accept": signed.headers.get("accept") or "",
        "custom_attributes": signed.headers.get("x-amzn-sagemaker-custom-attributes", ""),
        "timeout": INVOCATION_TIMEOUT_S,
    }
    if shared_client:  # a long-lived event loop: its shared client
        return await serving_client(settings().redis_url).invoke(
            route.variant_id, signed.body, **arguments
        )
    client = ServingClient(settings().redis_url)  # WSGI: a loop per request
    try:
        return await client.invoke(route.variant_id, signed.body, **arguments)
    finally:
        await client.close()


def _model_error(
    reply: protocol.Reply, route: routing.Route, *, request_id: str
) -> RuntimeResponse:
    """ModelError (424), worded as SageMaker words a container's failure."""
    if reply.error == protocol.TIMED_OUT:
        status, original = (
            0,
            (
                "Your invocation timed out while waiting for a response from container primary "
                f"({reply.message})."
            ),
        )
    else:
        status, original = reply.status, reply.message
    kind = "client" if 400 <= status < 500 else "server"
    message = (
        f'Received {kind} error ({status}) from primary with message "{original}". '
        f"See the endpoint's page for variant {route.variant_name} for more information."
    )
    return runtime_error(
        AwsError("ModelError", message, status=424),
        request_id=request_id,
        extra={
            "OriginalStatusCode": status,
            "OriginalMessage": original,
            "LogStreamArn": f"serving/{route.variant_id}",
        },
    )
