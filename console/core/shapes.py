"""Request validation against botocore's own SageMaker service model, for every adapter.

boto3 checks only required members, types and minimums on the client; the service checks the
rest (maximums, patterns, enums). Validating against the same model that boto3 ships keeps our
API's shapes exactly the botocore shapes, and the messages are AWS's:
``1 validation error detected: Value 'a_b' at 'trainingJobName' failed to satisfy constraint: ...``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from console.core.java_regex import compiled_pattern


@dataclass(frozen=True)
class Violation:
    path: str  # wire path, PascalCase segments: "ResourceConfig.InstanceCount"
    value: Any
    rule: str

    @property
    def aws_path(self) -> str:
        """AWS writes member paths lower-camel-cased: 'resourceConfig.instanceCount'."""
        return ".".join(seg[:1].lower() + seg[1:] if seg else seg for seg in self.path.split("."))


class ShapeError(Exception):
    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        super().__init__(format_violations(violations))


def format_violations(violations: list[Violation]) -> str:
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(
        (f"Value '{v.value}' at " if v.value is not None else "")
        + f"'{v.aws_path}' failed to satisfy constraint: {v.rule}"
        for v in violations
    )
    return printable(f"{count} validation {noun} detected: {details}")


def printable(text: str) -> str:
    """``text`` with any lone surrogate written as its escape, so that it can be sent as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@functools.cache
def service_model(name: str = "sagemaker") -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


def operation_model(operation: str) -> OperationModel | None:
    model = service_model()
    return model.operation_model(operation) if operation in model.operation_names else None


def validate(operation: OperationModel, params: object) -> dict[str, Any]:
    """Return ``params`` if they fit the operation's input shape, else raise ShapeError.

    A member sent as JSON ``null`` means absent (as AWS reads it): the returned request
    leaves it out, so that callers see ``params.get(name, default)`` work."""
    violations: list[Violation] = []
    if operation.input_shape is None:
        return {}
    if not isinstance(params, dict):
        raise ShapeError([Violation("", None, "Request body must be a JSON object")])
    _check(operation.input_shape, params, "", violations)
    if violations:
        raise ShapeError(violations[:10])
    return _without_nulls(operation.input_shape, params)


def _without_nulls(shape: Shape, value: Any) -> Any:
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            name: _without_nulls(shape.members[name], item)
            for name, item in value.items()
            if item is not None
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [_without_nulls(shape.member, item) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _without_nulls(shape.value, item) for key, item in value.items()}
    return value


def validate_request(operation_name: str, spec: object) -> dict[str, Any]:
    """Check ``spec`` against ``operation_name``'s input shape; services call this themselves so
    that the SageMaker API, the REST API and console forms refuse the same specs alike."""
    operation = operation_model(operation_name)
    if operation is None:
        raise LookupError(f"{operation_name} is not a SageMaker operation")
    return validate(operation, spec)


def response_violations(operation_name: str, response: dict[str, Any]) -> list[Violation]:
    """Where a response (as sent: timestamps as epoch seconds) breaks the operation's output
    shape; the tests hold every Describe* response to it."""
    operation = operation_model(operation_name)
    if operation is None or operation.output_shape is None:
        raise LookupError(f"{operation_name} has no response shape")
    violations: list[Violation] = []
    _check(operation.output_shape, response, "", violations)
    for name in operation.output_shape.required_members:
        if name not in response:
            violations.append(Violation(name, None, "Member must not be null"))
    return violations


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check(shape: Shape, value: Any, path: str, out: list[Violation]) -> None:
    kind = shape.type_name
    checker = _CHECKERS.get(kind)
    if checker is not None:
        checker(shape, value, path, out)


def _structure(shape: Shape, value: Any, path: str, out: list[Violation]) -> None:
    if not isinstance(value, dict):
        out.append(Violation(path, None, "Member must be an object"))
        return
    members = shape.members
    for name in value:
        if name not in members:
            out.append(Violation(_join(path, name), None, "Member is not a known field"))
    for name in shape.required_members:
        if value.get(name) is None:
            out.append(Violation(_join(path, name), None, "Member must not be null"))
    for name, member_value in value.items():
        if name in members and member_value is not None:
            _check(members[name], member_value, _join(path, name), out)
    if shape.metadata.get("union"):
        given = [name for name in members if value.get(name) is not None]
        if len(given) != 1:
            rule = f"Exactly one of [{', '.join(members)}] must be set"
            out.append(Violation(path, None, rule))


def _list(shape: Shape, value: Any, path: str, out: list[Violation]) -> None:
    if not isinstance(value, list):
        out.append(Violation(path, None, "Member must be a list"))
        return
    _length(shape, value, path, out, what="length")
    for index, item in enumerate(value):
        _check(shape.member, item, f"{path}.{index + 1}" if path else str(index + 1), out)


def _map(shape: Shape, value: Any, path: str, out: list[Violation]) -> None:
    if not isinstance(value, dict):
        out.append(Violation(path, None, "Member must be a map"))
        return
    _length(shape, value, path, out, what="length")
    for key, item in value.items():
        _check(shape.key, key, path, out)
        _check(shape.value, item, _join(path, str(key)), out)


def _length(shape: Shape, value: Any, path: str, out: list[Violation], *, what: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    shown = value if isinstance(value, str) else None
    if low is not None and len(value) < low:
        rule = f"Member must have {what} greater than or equal to {low}"
        out.append(Violation(path, shown, rule))
    elif high is not None and len(value) > high:
        rule = f"Member must have {what} less than or equal to {high}"
        out.append(Violation(path, shown, rule))


def is_unicode(value: str) -> bool:
    """Whether ``value`` is valid Unicode text: JSON's ``\\ud800`` escapes can make a lone
    surrogate, which no database or UTF-8 response can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# The deepest SageMaker request shape nests 10 levels (botocore 1.44); a wide margin.
MAX_DEPTH = 64


def document_problem(document: Any, *, max_depth: int = MAX_DEPTH) -> str | None:
    """What makes a parsed JSON request unfit for any shape before its members are looked at:
    nesting past ``max_depth``, or a key or string that is not valid Unicode. None if fine.
    Iterative, so a deep document cannot exhaust the stack here."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not is_unicode(value):
                return "the request holds a lone surrogate (not valid Unicode)"
        elif isinstance(value, dict | list):
            if depth > max_depth:
                return f"the request nests deeper than {max_depth} levels"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                stack.append((key, depth))
                stack.append((item, depth + 1))
    return None


def _string(shape: Shape, value: Any, path: str, out: list[Violation]) -> None:
    if not isinstance(value, str):
        out.append(Violation(path, value, "Member must be a string"))
        return
    if not is_unicode(value):
        rule = "Member must be valid Unicode (no lone surrogates)"
        out.append(Violation(path, printable(value), rule))
        return
    _length(shape, value, path, out, what="length")
    if shape.enum and value not in shape.enum:
        rule = f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"
        out.append(Violation(path, value, rule))
    pattern = shape.metadata.get("pattern")
    if pattern and not compiled_pattern(pattern).fullmatch(value):
        rule = f"Member must satisfy regular expression pattern: {pattern}"
        out.append(Violation(path, value, rule))


# The wire types' ranges (Java's int and long), where the model names no narrower min/max.
_INTEGRAL_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def _number(shape: Shape, value: Any, path: str, out: list[Violation]) -> None:
    integral = shape.type_name in _INTEGRAL_RANGE
    ok = isinstance(value, int) if integral else isinstance(value, int | float)
    if isinstance(value, bool) or not ok:
        kind = "an integer" if integral else "a number"
        out.append(Violation(path, value, f"Member must be {kind}"))
        return
    if isinstance(value, float) and not math.isfinite(value):
        out.append(Violation(path, str(value), "Member must be a finite number"))
        return
    wire_low, wire_high = _INTEGRAL_RANGE.get(shape.type_name, (None, None))
    low = _tighter(shape.metadata.get("min"), wire_low, max)
    high = _tighter(shape.metadata.get("max"), wire_high, min)
    if low is not None and value < low:
        out.append(Violation(path, value, f"Member must have value greater than or equal to {low}"))
    elif high is not None and value > high:
        out.append(Violation(path, value, f"Member must have value less than or equal to {high}"))


def _tighter(model: Any, wire: Any, pick) -> Any:
    return wire if model is None else model if wire is None else pick(model, wire)


def _boolean(shape: Shape, value: Any, path: str, out: list[Violation]) -> None:
    if not isinstance(value, bool):
        out.append(Violation(path, value, "Member must be a boolean"))


def timestamp_value(value: object) -> datetime:
    """A wire timestamp (epoch seconds, or ISO-8601 as botocore also reads) as an aware UTC
    datetime; ValueError unless it is one between the years 1 and 9999."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("not a timestamp")
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("timestamp out of range") from None


def _timestamp(shape: Shape, value: Any, path: str, out: list[Violation]) -> None:
    try:
        timestamp_value(value)
    except ValueError:
        shown = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        rule = "Member must be a timestamp between the years 1 and 9999 (epoch seconds)"
        out.append(Violation(path, shown, rule))


_CHECKERS = {
    "structure": _structure,
    "list": _list,
    "map": _map,
    "string": _string,
    "integer": _number,
    "long": _number,
    "float": _number,
    "double": _number,
    "boolean": _boolean,
    "timestamp": _timestamp,
}
