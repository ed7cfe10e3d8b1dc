"""AWS error shapes: ``{"__type": code, "message": ...}`` with a 4xx status, in one place.

Deterministic errors never use 5xx or 429: botocore retries those five times.
"""

from __future__ import annotations

from collections.abc import Sequence

from console.core import errors
from console.core.shapes import ShapeError


class AwsError(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message)


# The real service answers these nouns' unknown or duplicate names with ValidationException and
# its own wording, not the modelled ResourceNotFound / ResourceInUse (see the API reference).
NOT_FOUND_AS_VALIDATION = {
    "TrainingJob": "Requested resource not found.",
    "TransformJob": "Could not find requested job with name {name}",
    "Model": 'Could not find model "{arn}".',
    "EndpointConfig": 'Could not find endpoint configuration "{arn}".',
    "Endpoint": 'Could not find endpoint "{arn}".',
    "Resource": "Could not find the resource {arn} (it does not exist or is not yours).",
}
DUPLICATE_AS_VALIDATION = {
    "Model": 'Cannot create already existing model "{arn}".',
    "EndpointConfig": 'Cannot create already existing endpoint configuration "{arn}".',
    "Endpoint": 'Cannot create already existing endpoint "{arn}".',
}


def internal_failure(request_id: str) -> AwsError:
    """What an unexpected exception answers (500, which botocore retries, as it should)."""
    return AwsError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure "
        f"(request id {request_id}).",
        status=500,
    )


def service_unavailable(request_id: str) -> AwsError:
    """What a request answers while a store it needs (the serving state) cannot be reached: 503,
    which botocore retries."""
    return AwsError(
        "ServiceUnavailable",
        f"The service is unavailable; try again shortly (request id {request_id}).",
        status=503,
    )


def unknown_operation(
    target: str | None, *, supported: bool = False, services: Sequence[str] = ()
) -> AwsError:
    if target is None:
        return AwsError(
            "UnknownOperationException",
            "The request names no operation: this endpoint answers the SageMaker API, "
            "AWS JSON 1.1 with 'X-Amz-Target: SageMaker.<Operation>'.",
        )
    why = (
        "is not supported by this platform yet"
        if supported
        else f"is not an operation of the services this endpoint answers ({', '.join(services)})"
    )
    return AwsError("UnknownOperationException", f"Operation {target!r} {why}.")


def from_exception(exc: Exception) -> AwsError:
    """Map a service or shape error to the AWS error boto3 users expect."""
    match exc:
        case AwsError():
            return exc
        case ShapeError():
            return validation(str(exc))
        case errors.ValidationError():
            return validation(f"1 validation error detected: {exc.message}")
        case errors.NotFound() if exc.resource in NOT_FOUND_AS_VALIDATION:
            return validation(
                NOT_FOUND_AS_VALIDATION[exc.resource].format(arn=exc.arn, name=exc.name)
            )
        case errors.NotFound():
            return AwsError("ResourceNotFound", exc.message)
        case errors.AlreadyExists() if exc.resource in DUPLICATE_AS_VALIDATION:
            return validation(DUPLICATE_AS_VALIDATION[exc.resource].format(arn=exc.arn))
        case errors.AlreadyExists():
            return AwsError("ResourceInUse", exc.message)
        case errors.InvalidState():
            return validation(exc.message)
        case errors.LimitExceeded():
            return AwsError("ResourceLimitExceeded", exc.message)
    raise exc
