"""SageMaker's resource-name rules and ARNs, shared by every service."""

from __future__ import annotations

import re

from django.conf import settings

from console.core.errors import ValidationError

# Jobs, endpoints and endpoint configs: 1-63 letters, digits and hyphens, no edge hyphens.
RESOURCE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
RESOURCE_NAME_RULE = (
    "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
)
MODEL_NAME = re.compile(r"^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?$")
MODEL_NAME_RULE = (
    "Member must satisfy regular expression pattern: [a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?"
)

ACCOUNT_ID = "000000000000"


def validate_name(
    field: str,
    value: object,
    *,
    pattern: re.Pattern[str] = RESOURCE_NAME,
    rule: str = RESOURCE_NAME_RULE,
    max_length: int = 63,
) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, "Member must be a string", value=value)
    if not 1 <= len(value) <= max_length:
        raise ValidationError(
            field, f"Member must have length between 1 and {max_length}", value=value
        )
    if not pattern.match(value):
        raise ValidationError(field, rule, value=value)
    return value


def arn(resource_type: str, name: str, *, account_id: str = ACCOUNT_ID) -> str:
    """``arn:aws:sagemaker:<region>:<account>:<type>/<name>``, the name lower-cased as AWS does;
    the region is the one signatures are scoped to (``SAGEMAKER_REGION``)."""
    region = settings.SAGEMAKER_REGION
    return f"arn:aws:sagemaker:{region}:{account_id}:{resource_type}/{name.lower()}"


def account_id_for(user_id: int) -> str:
    """Each user is its own twelve-digit account, so ARNs of different owners never collide."""
    return f"{user_id:012d}"
