"""Reading an AWS request: the body within its size limit, and a JSON 1.1 body as strict JSON.

Strict means what AWS's own parsers accept: UTF-8 without a byte-order mark, no NaN or
Infinity, integer literals no longer than a 64-bit value needs, nesting no deeper than any
SageMaker shape goes, and valid Unicode in every string. Anything else is a
``SerializationException`` (400), never a 5xx.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from console.core.shapes import MAX_DEPTH, document_problem
from console.sagemaker.errors import AwsError

# A long needs 19 digits and a sign; floats in exponent form stay short too.
MAX_NUMBER_CHARS = 40
_UTF8_BOM = b"\xef\xbb\xbf"


def read_body(request: HttpRequest) -> bytes:
    """The raw body; ``RequestEntityTooLarge`` (413) past ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    try:
        return request.body
    except RequestDataTooBig:
        raise AwsError(
            "RequestEntityTooLarge",
            "The request body is larger than this API accepts.",
            status=413,
        ) from None


def serialization_error(message: str) -> AwsError:
    return AwsError("SerializationException", message)


def parse_json(body: bytes) -> Any:
    """The JSON document in ``body`` (``{}`` when empty), or SerializationException."""
    if not body:
        return {}
    if body.startswith(_UTF8_BOM):
        raise serialization_error("Request body must be UTF-8 JSON without a byte-order mark.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise serialization_error(f"Request body is not valid UTF-8: {exc.reason}.") from None
    try:
        document = json.loads(
            text,
            parse_int=_integer,
            parse_float=_float,
            parse_constant=_constant,
        )
    except RecursionError:
        raise serialization_error(f"Request body nests deeper than {MAX_DEPTH} levels.") from None
    except ValueError as exc:  # JSONDecodeError, and the number hooks' refusals
        raise serialization_error(f"Request body is not valid JSON: {exc}") from None
    if problem := document_problem(document):
        raise serialization_error(f"Request body is refused: {problem}.")
    return document


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise ValueError(f"an integer literal of {len(literal)} characters is out of range")
    return int(literal)


def _float(literal: str) -> float:
    value = float(literal) if len(literal) <= MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):
        raise ValueError(f"the number {literal[:20]!s}... is out of range")
    return value


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")
