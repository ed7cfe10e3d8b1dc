"""REST API plumbing: service errors as 4xx JSON with the field and the rule, in one place."""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from console.core import errors
from console.core.shapes import ShapeError, snake_name


def snake_case(wire_path: str) -> str:
    """``ResourceConfig.InstanceCount`` → ``resource_config.instance_count``."""
    return ".".join(snake_name(part) for part in wire_path.split("."))


def exception_handler(exc, context):
    match exc:
        case ShapeError():
            fields: dict[str, list[str]] = {}
            for violation in exc.violations:
                fields.setdefault(snake_case(violation.path), []).append(violation.rule)
            return Response({"errors": fields, "detail": str(exc)}, status=400)
        case errors.ValidationError():
            body = {"errors": {snake_case(exc.field): [exc.rule]}, "detail": exc.message}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        case errors.NotFound():
            return Response({"detail": exc.message}, status=status.HTTP_404_NOT_FOUND)
        case errors.AlreadyExists() | errors.InvalidState():
            return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
        case errors.LimitExceeded():
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
