"""The common machinery of every List* operation: filters, sorting and NextToken paging."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import Model, QuerySet

from console.core.shapes import timestamp_value
from console.sagemaker.errors import validation

DEFAULT_MAX_RESULTS = 10
# Far past any list's length, and well inside the 64-bit OFFSET every database takes.
MAX_OFFSET = 2**31 - 1
TIME_FILTERS = {
    "CreationTimeAfter": "created_at__gt",
    "CreationTimeBefore": "created_at__lt",
    "LastModifiedTimeAfter": "updated_at__gt",
    "LastModifiedTimeBefore": "updated_at__lt",
}


def as_datetime(param: str, value: int | float | str) -> datetime:
    try:
        return timestamp_value(value)
    except ValueError:
        raise validation(
            f"1 validation error detected: '{param}' failed to satisfy constraint: "
            "Member must be a timestamp between the years 1 and 9999 (epoch seconds)"
        ) from None


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
        raise validation("Invalid pagination token (NextToken).") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise validation("Invalid pagination token (NextToken).")
    return offset


def list_page(
    queryset: QuerySet,
    params: dict[str, Any],
    *,
    summary: Callable[[Model], dict[str, Any]],
    sort_fields: dict[str, str],
    default_sort: str = "CreationTime",
    status_field: str | None = "status",
) -> tuple[list[dict[str, Any]], str | None]:
    """Apply the standard List* parameters to ``queryset``; return summaries and a NextToken."""
    if name := params.get("NameContains"):
        queryset = queryset.filter(name__icontains=name)
    if status_field and (status := params.get("StatusEquals")):
        queryset = queryset.filter(**{status_field: status})
    for param, lookup in TIME_FILTERS.items():
        if param in params:
            queryset = queryset.filter(**{lookup: as_datetime(param, params[param])})
    order = sort_fields[params.get("SortBy", default_sort)]
    descending = params.get("SortOrder", "Ascending") == "Descending"
    queryset = queryset.order_by(f"-{order}" if descending else order, "pk")
    offset = decode_token(params.get("NextToken"))
    limit = params.get("MaxResults", DEFAULT_MAX_RESULTS)
    rows = list(queryset[offset : offset + limit + 1])
    next_token = encode_token(offset + limit) if len(rows) > limit else None
    return [summary(row) for row in rows[:limit]], next_token


def page_response(key: str, items: list[dict[str, Any]], next_token: str | None) -> dict:
    response: dict[str, Any] = {key: items}
    if next_token:
        response["NextToken"] = next_token
    return response
