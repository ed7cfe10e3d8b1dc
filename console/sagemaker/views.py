"""HTTP adapters of the SageMaker API: the JSON 1.1 control plane and the runtime route."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from console.core import errors as service_errors
from console.core.shapes import ShapeError, operation_model, validate
from console.sagemaker import (  # noqa: F401  (each module registers its operations)
    endpoints,
    labeling,
    pipelines,
    registry,
    training,
    transform,
    tuning,
)
from console.sagemaker.auth import authenticate
from console.sagemaker.errors import AwsError, from_exception
from console.sagemaker.operations import OPERATIONS

log = logging.getLogger(__name__)
JSON_1_1 = "application/x-amz-json-1.1"
TARGET_PREFIX = "SageMaker."


def is_sagemaker_request(request: HttpRequest) -> bool:
    return request.method == "POST" and "X-Amz-Target" in request.headers


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


def read_body(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        raise AwsError(
            "RequestEntityTooLarge",
            "The request body is larger than this API accepts.",
            status=413,
        ) from None


def _call(request: HttpRequest) -> dict:
    body = read_body(request)
    user = authenticate(request, body)
    target = request.headers.get("X-Amz-Target", "")
    name = target.removeprefix(TARGET_PREFIX)
    handler = OPERATIONS.get(name) if target.startswith(TARGET_PREFIX) else None
    if handler is None:
        exists = target.startswith(TARGET_PREFIX) and operation_model(name) is not None
        why = "is not supported by this platform yet" if exists else "is not a SageMaker operation"
        raise AwsError("UnknownOperationException", f"Operation {target!r} {why}.")
    content_type = request.content_type or ""
    if content_type != JSON_1_1:
        raise AwsError(
            "SerializationException", f"Content-Type must be {JSON_1_1} (got {content_type!r})."
        )
    try:
        params = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AwsError("SerializationException", f"Request body is not valid JSON: {exc}") from None
    validate(operation_model(name), params)
    return handler(user=user, params=params)


@csrf_exempt
def sagemaker_api(request: HttpRequest) -> HttpResponse:
    """``POST /`` with ``X-Amz-Target: SageMaker.<Operation>``."""
    request_id = str(uuid.uuid4())
    try:
        return aws_response(_call(request), request_id=request_id)
    except (AwsError, ShapeError, service_errors.ServiceError) as exc:
        return aws_error(from_exception(exc), request_id=request_id)
