"""The AWS services this platform answers in JSON 1.1 at ``POST /``, each with its operations.

A request names its service by the ``X-Amz-Target`` prefix (``SageMaker.``, ``Logs_20140328.``)
and is signed for that service's signing name; each service is checked against its own botocore
model and answers its own error codes in the one JSON 1.1 error shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel

from console.core.shapes import service_model
from console.sagemaker.errors import AwsError

Handler = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class JsonService:
    target_prefix: str  # what X-Amz-Target starts with: "SageMaker."
    signing_name: str  # the service a request's SigV4 scope names: "sagemaker"
    model_name: str  # botocore's name for its model: "sagemaker"
    operations: dict[str, Handler] = field(default_factory=dict)
    # The service's own names for the common error codes: {"ValidationException": ...}.
    error_codes: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/x-amz-json-1.1"  # what its requests are sent as

    def operation(self, name: str) -> Callable[[Handler], Handler]:
        """Register ``handler(*, user, params) -> response dict`` for ``<service>.<name>``."""

        def register(handler: Handler) -> Handler:
            self.operations[name] = handler
            return handler

        return register

    def own_error(self, error: AwsError) -> AwsError:
        """``error`` under this service's own name for its code (Logs: InvalidParameterException
        where SageMaker says ValidationException)."""
        if error.code in self.error_codes:
            error.code = self.error_codes[error.code]
        return error

    @property
    def title(self) -> str:
        """The service's name as AWS writes it: "SageMaker", "CloudWatch Logs" ..."""
        return str(service_model(self.model_name).service_id)

    def operation_model(self, name: str) -> OperationModel | None:
        model = service_model(self.model_name)
        return model.operation_model(name) if name in model.operation_names else None


SAGEMAKER = JsonService("SageMaker.", "sagemaker", "sagemaker")
LOGS = JsonService(
    "Logs_20140328.",
    "logs",
    "logs",
    error_codes={"ValidationException": "InvalidParameterException"},
)
# CloudWatch, as botocore speaks it: JSON 1.0 (its model prefers it to query), its query-era codes.
CLOUDWATCH = JsonService(
    "GraniteServiceVersion20100801.",
    "monitoring",
    "cloudwatch",
    error_codes={"ValidationException": "InvalidParameterValue"},
    content_type="application/x-amz-json-1.0",
)
APPLICATION_AUTOSCALING = JsonService(
    "AnyScaleFrontendService.",
    "application-autoscaling",
    "application-autoscaling",
    error_codes={
        "ResourceNotFound": "ObjectNotFoundException",
        "ResourceLimitExceeded": "LimitExceededException",
    },
)
JSON_SERVICES = (SAGEMAKER, LOGS, CLOUDWATCH, APPLICATION_AUTOSCALING)

OPERATIONS = SAGEMAKER.operations
operation = SAGEMAKER.operation


def json_service(target: str) -> JsonService | None:
    """The service an ``X-Amz-Target`` names, or None."""
    return next((s for s in JSON_SERVICES if target.startswith(s.target_prefix)), None)
