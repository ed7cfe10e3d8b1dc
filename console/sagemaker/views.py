"""HTTP adapter of the SageMaker control plane: AWS JSON 1.1, ``POST /`` with ``X-Amz-Target``.

Every answer is an AWS shape: a JSON body, or for a query-protocol client (form-encoded body,
no X-Amz-Target, e.g. STS) the XML ``ErrorResponse`` botocore parses; an unexpected exception
is an ``InternalFailure`` (500) with the request id, logged with its traceback.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from console.core import errors as service_errors
from console.core.shapes import ShapeError, validate
from console.sagemaker import (  # noqa: F401  (each module registers its operations)
    autoscaling,
    cloudwatch,
    endpoints,
    labeling,
    logs,
    pipelines,
    processing,
    registry,
    tags,
    training,
    transform,
    tuning,
)
from console.sagemaker.auth import authenticate
from console.sagemaker.errors import (
    AwsError,
    from_exception,
    internal_failure,
    service_unavailable,
    unknown_operation,
)
from console.sagemaker.operations import JSON_SERVICES, SAGEMAKER, JsonService, json_service
from console.sagemaker.requests import parse_json, read_body
from infra.serving.state import STATE_UNAVAILABLE

log = logging.getLogger(__name__)
JSON_1_1 = "application/x-amz-json-1.1"
FORM = "application/x-www-form-urlencoded"


def is_sagemaker_request(request: HttpRequest) -> bool:
    """A POST that is an AWS API call: it names a target or carries a SigV4 signature (a
    query-protocol client such as STS sends no X-Amz-Target)."""
    if request.method != "POST":
        return False
    signed = request.headers.get("Authorization", "").startswith("AWS4-")
    return "X-Amz-Target" in request.headers or signed or "X-Amz-Date" in request.headers


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()  # AWS JSON protocols send epoch seconds
    raise TypeError(f"cannot serialise {type(value).__name__}")


def aws_response(body: dict, *, status: int = 200, request_id: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, default=_json_default), status=status, content_type=JSON_1_1
    )
    response["x-amzn-RequestId"] = request_id
    return response


def aws_error(error: AwsError, *, request_id: str) -> HttpResponse:
    response = aws_response(
        {"__type": error.code, "message": error.message},
        status=error.status,
        request_id=request_id,
    )
    response["x-amzn-ErrorType"] = error.code
    return response


def query_error(error: AwsError, *, request_id: str) -> HttpResponse:
    """The query protocol's error document, as STS or IAM answer it."""
    kind = "Receiver" if error.status >= 500 else "Sender"
    body = (
        "<ErrorResponse><Error>"
        f"<Type>{kind}</Type><Code>{escape(error.code)}</Code>"
        f"<Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    response = HttpResponse(body, status=error.status, content_type="text/xml")
    response["x-amzn-RequestId"] = request_id
    return response


def _without_target(request: HttpRequest, body: bytes) -> AwsError:
    if request.content_type != FORM:
        return unknown_operation(None)
    action = parse_qs(body.decode("latin-1")).get("Action", [""])[0]
    if not action:
        return AwsError("MissingAction", "The request must contain the parameter Action.")
    return AwsError(
        "InvalidAction",
        f"The action {action} is not valid for this web service: this endpoint answers "
        "the SageMaker API (AWS JSON 1.1).",
    )


def _operation(service: JsonService | None, target: str):
    if service is None:
        raise unknown_operation(target, services=[each.title for each in JSON_SERVICES])
    name = target.removeprefix(service.target_prefix)
    handler = service.operations.get(name)
    if handler is None:
        raise unknown_operation(target, supported=service.operation_model(name) is not None)
    return name, handler


def _call(request: HttpRequest) -> dict:
    body = read_body(request)
    target = request.headers.get("X-Amz-Target")
    if target is None:
        raise _without_target(request, body)
    service = json_service(target)
    user = authenticate(request, body, service=(service or SAGEMAKER).signing_name)
    name, handler = _operation(service, target)
    content_type = request.content_type or ""
    if content_type != service.content_type:
        raise AwsError(
            "SerializationException",
            f"Content-Type must be {service.content_type} (got {content_type!r}).",
        )
    params = validate(service.operation_model(name), parse_json(body))
    return handler(user=user, params=params)


def _speaks_query_protocol(request: HttpRequest) -> bool:
    return "X-Amz-Target" not in request.headers and request.content_type == FORM


@csrf_exempt
def sagemaker_api(request: HttpRequest) -> HttpResponse:
    """``POST /`` with ``X-Amz-Target: SageMaker.<Operation>``."""
    request_id = str(uuid.uuid4())
    answer = query_error if _speaks_query_protocol(request) else aws_error
    try:
        return aws_response(_call(request), request_id=request_id)
    except (AwsError, ShapeError, service_errors.ServiceError) as exc:
        service = json_service(request.headers.get("X-Amz-Target") or "") or SAGEMAKER
        return answer(service.own_error(from_exception(exc)), request_id=request_id)
    except STATE_UNAVAILABLE:
        log.warning("SageMaker API request %s: the serving state is unreachable", request_id)
        return answer(service_unavailable(request_id), request_id=request_id)
    except Exception:
        log.exception("SageMaker API request %s failed", request_id)
        return answer(internal_failure(request_id), request_id=request_id)
