"""REST API plumbing, in one place: the error shape, the JSON it reads, and paging.

Every refusal is ``{"detail": <message>}``, plus ``"field"`` (the snake_case path of the first
field at fault) and ``"errors"`` (every field's rules) where fields are at fault. An unexpected
exception is a 500 in that shape, logged with its traceback, never Django's HTML page.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from console.core import errors
from console.core.casing import snake_name
from console.core.shapes import ShapeError, document_problem, printable
from infra.serving.state import STATE_UNAVAILABLE

log = logging.getLogger(__name__)
API_PREFIX = "/api/"


def snake_case(wire_path: str) -> str:
    """``ResourceConfig.InstanceCount`` → ``resource_config.instance_count``."""
    return ".".join(snake_name(part) for part in wire_path.split("."))


def error_body(detail: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The one REST error shape."""
    body: dict[str, Any] = {"detail": printable(detail)}
    if fields:
        body["field"] = printable(next(iter(fields)))
        body["errors"] = {
            printable(name): [printable(r) for r in rules] for name, rules in fields.items()
        }
    return body


def validation_error_body(exc: errors.ValidationError) -> dict[str, Any]:
    """A service's ValidationError in the one error shape, its field snake_cased."""
    return error_body(exc.message, {snake_case(exc.field): [exc.rule]})


def _drf_fields(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested ``{"field": ["message"]}`` validation detail, flattened to dotted paths."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            flat.update(_drf_fields(value, f"{path}.{name}" if path and name else path or name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(_drf_fields(value, f"{path}.{index}" if path else str(index)))
        return flat
    messages = [str(item) for item in detail] if isinstance(detail, list) else [str(detail)]
    return {path: messages}


def _drf_validation(exc: exceptions.ValidationError) -> Response:
    fields = _drf_fields(exc.detail)
    detail = "; ".join(
        f"{name}: {message}" if name else message
        for name, messages in fields.items()
        for message in messages
    )
    named = {name: messages for name, messages in fields.items() if name}
    return Response(error_body(detail, named), status=status.HTTP_400_BAD_REQUEST)


def _service_error(exc: Exception) -> Response | None:
    if isinstance(exc, STATE_UNAVAILABLE):
        detail = "The serving state is unreachable; try again shortly."
        return Response(error_body(detail), status=status.HTTP_503_SERVICE_UNAVAILABLE)
    match exc:
        case ShapeError():
            fields: dict[str, list[str]] = {}
            for violation in exc.violations:
                if violation.path:
                    fields.setdefault(snake_case(violation.path), []).append(violation.rule)
            return Response(error_body(str(exc), fields), status=status.HTTP_400_BAD_REQUEST)
        case errors.ValidationError():
            return Response(validation_error_body(exc), status=status.HTTP_400_BAD_REQUEST)
        case errors.NotFound():
            return Response(error_body(exc.message), status=status.HTTP_404_NOT_FOUND)
        case errors.AlreadyExists() | errors.InvalidState():
            return Response(error_body(exc.message), status=status.HTTP_409_CONFLICT)
        case errors.LimitExceeded():
            return Response(error_body(exc.message), status=status.HTTP_400_BAD_REQUEST)
    return None


def internal_error_body(request_id: str) -> dict[str, Any]:
    return error_body(f"Internal error (request id {request_id}); the server log has the cause.")


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every exception a REST view raises, as the one error shape."""
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES (this module's parser)
    # as it is imported.
    from rest_framework.views import exception_handler as drf_exception_handler
    from rest_framework.views import set_rollback

    response = _service_error(exc)
    if response is None and isinstance(exc, exceptions.ValidationError):
        response = _drf_validation(exc)
    if response is None:
        response = drf_exception_handler(exc, context)  # APIException, Http404, PermissionDenied
        if response is not None:
            detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
            response.data = error_body(str(detail) or response.status_text)
    if response is None:
        request_id = str(uuid.uuid4())
        log.error("REST request %s failed", request_id, exc_info=exc)
        response = Response(internal_error_body(request_id), status=500)
    set_rollback()
    return response


class StrictJSONParser(JSONParser):
    """DRF's JSON parser (strict UTF-8, no NaN) that also refuses what no field can hold: deep
    nesting (a RecursionError in ``json``) and lone surrogates."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                "JSON parse error - the document nests too deeply"
            ) from None
        if problem := document_problem(data):
            raise exceptions.ParseError(f"JSON parse error - {problem}")
        return data


class Pagination(LimitOffsetPagination):
    """``?limit=`` and ``?offset=`` are whole numbers, else a 400 naming them. A limit is capped
    (as DRF caps it: silently); an offset past any list is a 400, never a number the database
    cannot take."""

    max_limit = 1000
    max_offset = 2**31 - 1

    def get_limit(self, request) -> int:
        limit = self._whole_number(request, self.limit_query_param, minimum=1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request) -> int:
        offset = self._whole_number(request, self.offset_query_param, minimum=0) or 0
        if offset > self.max_offset:
            raise exceptions.ValidationError(
                {self.offset_query_param: [f"Ensure this value is at most {self.max_offset}."]}
            )
        return offset

    @staticmethod
    def _whole_number(request, name: str, *, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        if not raw.isascii() or not raw.isdigit():
            raise exceptions.ValidationError({name: ["A whole number is required."]})
        # More digits than any limit or offset could use: no need to read them all.
        number = int(raw) if len(raw) <= 18 else 10**18
        if number < minimum:
            raise exceptions.ValidationError({name: [f"Ensure this value is at least {minimum}."]})
        return number

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1},
            self.offset_query_param: {"minimum": 0, "maximum": self.max_offset},
        }
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], **bounds[parameter["name"]]}
        return parameters


class InternalErrorMiddleware:
    """The REST API's last resort: an exception outside a view's own handling (a response that
    fails to render) answers the REST 500 shape, not Django's HTML page."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not request.path.startswith(API_PREFIX):
            return None
        request_id = str(uuid.uuid4())
        log.error("REST request %s failed", request_id, exc_info=exception)
        return JsonResponse(internal_error_body(request_id), status=500)
