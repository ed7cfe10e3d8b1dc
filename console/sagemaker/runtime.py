"""The sagemaker-runtime adapter: ``POST /endpoints/<name>/invocations`` (rest-json errors).

``invocation(request)`` does the work on a plain :class:`sigv4.SignedRequest` and answers a
:class:`RuntimeResponse`. Two adapters call it: ``asgi_invocations``, which ``console.asgi`` puts
in front of Django (Django's request handling alone costs ~3.5 ms per request here; the raw ASGI
route 0.3 ms), and the Django view ``invoke_endpoint`` (the test client, WSGI). The request waits
on its reply without holding a thread. The caller's access key is read through a thread and kept
for a few seconds; the signature is verified on every request. Routing, the serving client and
the endpoint's status are :func:`console.endpoints.invoke.endpoint_invoke`'s; this module maps
its outcomes to the runtime's answers and error shapes.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from algorithms.inference_context import CUSTOM_ATTRIBUTES_HEADER
from console.accounts.selectors import access_key_credentials
from console.accounts.services import access_key_mark_used
from console.core.names import account_id_for
from console.endpoints.invoke import (
    BadInput,
    Invoked,
    ModelFailed,
    NotInService,
    Outcome,
    TimedOut,
    UnknownVariant,
    endpoint_invoke,
)
from console.sagemaker import sigv4
from console.sagemaker.auth import access_key_id_of, refusal, signed_request, verified_user
from console.sagemaker.errors import AwsError, internal_failure, service_unavailable
from console.sagemaker.requests import read_body
from infra.serving.state import STATE_UNAVAILABLE

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # 6,291,456: InvokeEndpoint's documented maximum
CREDENTIALS_CACHE_S = 5.0  # a revoked key stops working within this long


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


def _credentials_now(access_key_id: str):
    found = access_key_credentials(access_key_id=access_key_id)
    if found is not None:
        access_key_mark_used(key=found[0])
    return found


async def authenticate(signed: sigv4.SignedRequest, *, address: str = ""):
    """The user whose access key signed the request (SigV4); AwsError otherwise (throttled past
    the limit of failures from the key or ``address``)."""
    try:
        access_key_id = access_key_id_of(signed)
        cached = _credentials.get(access_key_id)
        if cached is None or cached.until < time.monotonic():
            found = await sync_to_async(_credentials_now)(access_key_id)
            cached = _credentials[access_key_id] = _Cached(
                found, time.monotonic() + CREDENTIALS_CACHE_S
            )
        return verified_user(signed, cached.value)
    except AwsError as exc:
        raise await sync_to_async(refusal)(exc, signed, address=address) from exc


@csrf_exempt
async def invoke_endpoint(request: HttpRequest, endpoint_name: str) -> HttpResponse:
    """The Django route (what the test client reaches; the stack's ASGI app answers first)."""
    answer = await _guarded(_django_answer(request, endpoint_name))
    return answer.as_http_response()


async def asgi_invocations(scope: dict, receive, send, endpoint_name: str) -> None:
    """The same route as a bare ASGI application, ahead of Django's request handling."""
    answer = await _guarded(_asgi_answer(scope, receive, endpoint_name))
    headers = [(b"content-type", answer.content_type.encode("latin-1"))]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _guarded(answering) -> RuntimeResponse:
    """The runtime's one catch-all, for both routes: an unreachable serving state answers
    ``ServiceUnavailable`` (503), any other unexpected exception the rest-json ``InternalFailure``
    (500); both with the request id, logged."""
    try:
        return await answering
    except STATE_UNAVAILABLE:
        request_id = str(uuid.uuid4())
        log.warning("Runtime request %s: the serving state is unreachable", request_id)
        return runtime_error(service_unavailable(request_id), request_id=request_id)
    except Exception:
        request_id = str(uuid.uuid4())
        log.exception("Runtime request %s failed", request_id)
        return runtime_error(internal_failure(request_id), request_id=request_id)


async def _django_answer(request: HttpRequest, endpoint_name: str) -> RuntimeResponse:
    if request.method != "POST":
        return _not_post()
    try:
        body = read_body(request)
    except AwsError as exc:
        return _too_large(exc)
    return await invocation(
        signed_request(request, body),
        endpoint_name,
        shared_client=isinstance(request, ASGIRequest),
        address=request.META.get("REMOTE_ADDR", ""),
    )


async def _asgi_answer(scope: dict, receive, endpoint_name: str) -> RuntimeResponse:
    if scope["method"] != "POST":
        return _not_post()
    body = await _read_body(receive)
    if body is None:
        return _too_large(AwsError("RequestEntityTooLarge", "", status=413))
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }
    signed = sigv4.SignedRequest(
        method="POST",
        path=scope["path"],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=body,
    )
    address = (scope.get("client") or ("",))[0]
    return await invocation(signed, endpoint_name, shared_client=True, address=address)


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
    signed: sigv4.SignedRequest, endpoint_name: str, *, shared_client: bool, address: str = ""
) -> RuntimeResponse:
    """InvokeEndpoint: authenticate, then invoke through the endpoint service."""
    request_id = str(uuid.uuid4())
    try:
        if len(signed.body) > MAX_PAYLOAD_BYTES:
            return _too_large(AwsError("RequestEntityTooLarge", "", status=413))
        user = await authenticate(signed, address=address)
    except AwsError as exc:
        return runtime_error(exc, request_id=request_id)
    outcome = await endpoint_invoke(
        user=user,
        endpoint_name=endpoint_name,
        body=signed.body,
        content_type=signed.headers.get("content-type") or "application/octet-stream",
        accept=signed.headers.get("accept") or "",
        custom_attributes=signed.headers.get("x-amzn-sagemaker-custom-attributes", ""),
        target_variant=signed.headers.get("x-amzn-sagemaker-target-variant"),
        shared_client=shared_client,
    )
    return _answer(outcome, account_id=account_id_for(user.pk), request_id=request_id)


def _answer(outcome: Outcome, *, account_id: str, request_id: str) -> RuntimeResponse:
    """The invoke service's outcome as the runtime answers it."""
    match outcome:
        case Invoked():
            headers = {
                "x-Amzn-Invoked-Production-Variant": outcome.variant_name,
                "x-amzn-RequestId": request_id,
            }
            if outcome.custom_attributes:
                headers[CUSTOM_ATTRIBUTES_HEADER] = outcome.custom_attributes
            return RuntimeResponse(
                status=200,
                body=outcome.body,
                content_type=outcome.content_type or "application/json",
                headers=headers,
            )
        case BadInput():
            shown = outcome.value if len(outcome.value) <= 64 else outcome.value[:64] + "..."
            message = (
                f"1 validation error detected: Value {shown!r} at '{outcome.field}' failed to "
                f"satisfy constraint: {outcome.rule}"
            )
            return runtime_error(AwsError("ValidationError", message), request_id=request_id)
        case NotInService():
            message = f"Endpoint {outcome.endpoint_name} of account {account_id} not found."
            return runtime_error(AwsError("ValidationError", message), request_id=request_id)
        case UnknownVariant():
            message = (
                f"The variant {outcome.target} is not found for endpoint "
                f"{outcome.endpoint_name} (its variants: {', '.join(outcome.variant_names)})."
            )
            return runtime_error(AwsError("ValidationError", message), request_id=request_id)
        case ModelFailed():
            return _model_error(
                outcome.status,
                outcome.message,
                variant_name=outcome.variant_name,
                variant_id=outcome.variant_id,
                request_id=request_id,
            )
        case TimedOut():
            original = (
                "Your invocation timed out while waiting for a response from container primary "
                f"({outcome.message})."
            )
            return _model_error(
                0,
                original,
                variant_name=outcome.variant_name,
                variant_id=outcome.variant_id,
                request_id=request_id,
            )
    raise TypeError(f"not an invoke outcome: {outcome!r}")


def _model_error(
    status: int, original: str, *, variant_name: str, variant_id: str, request_id: str
) -> RuntimeResponse:
    """ModelError (424), worded as SageMaker words a container's failure (a timeout too)."""
    kind = "client" if 400 <= status < 500 else "server"
    message = (
        f'Received {kind} error ({status}) from primary with message "{original}". '
        f"See the endpoint's page for variant {variant_name} for more information."
    )
    return runtime_error(
        AwsError("ModelError", message, status=424),
        request_id=request_id,
        extra={
            "OriginalStatusCode": status,
            "OriginalMessage": original,
            "LogStreamArn": f"serving/{variant_id}",
        },
    )
