"""The sagemaker-runtime adapter: ``POST /endpoints/<name>/invocations`` (rest-json errors)."""

from __future__ import annotations

import json
import uuid

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from console.core.names import account_id_for
from console.endpoints.selectors import endpoint_list
from console.sagemaker.auth import authenticate
from console.sagemaker.errors import AwsError
from console.sagemaker.views import read_body

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # 6,291,456: InvokeEndpoint's documented maximum


def runtime_error(error: AwsError, *, request_id: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps({"message": error.message}),
        status=error.status,
        content_type="application/json",
    )
    response["x-amzn-ErrorType"] = error.code
    response["x-amzn-RequestId"] = request_id
    return response


@csrf_exempt
def invoke_endpoint(request: HttpRequest, endpoint_name: str) -> HttpResponse:
    request_id = str(uuid.uuid4())
    if request.method != "POST":
        return runtime_error(
            AwsError("ValidationError", "InvokeEndpoint takes POST.", status=405),
            request_id=request_id,
        )
    try:
        body = read_body(request)
        if len(body) > MAX_PAYLOAD_BYTES:
            # As the real service: a plain 413 that boto3 reports with code "413".
            return HttpResponse(
                f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes.",
                status=413,
                content_type="text/plain",
            )
        user = authenticate(request, body)
        endpoint = endpoint_list(user=user).filter(name=endpoint_name).first()
        if endpoint is None or endpoint.status != "InService":
            raise AwsError(
                "ValidationError",
                f"Endpoint {endpoint_name} of account {account_id_for(user.pk)} not found.",
            )
        raise AwsError(
            "ModelNotReadyException",
            f"Endpoint {endpoint_name} has no worker serving it yet.",
            status=429,
        )
    except AwsError as exc:
        if exc.code == "RequestEntityTooLarge":
            return HttpResponse(str(exc), status=413, content_type="text/plain")
        return runtime_error(exc, request_id=request_id)
