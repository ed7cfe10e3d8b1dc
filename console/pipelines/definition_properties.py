"""Property references of a pipeline definition, without Django: ``Steps.<name>.<path>`` split
and checked against the Describe* shapes of the step's type, the steps a value reads, and resolved
arguments fitted to the request they are sent as.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.model import Shape

from console.core.shapes import service_model
from console.pipelines.definition_types import StepType, is_expression

_SEGMENT = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def split_step_reference(rest: str) -> tuple[str, str]:
    """``Train.ModelArtifacts.X`` -> ``("Train", ".ModelArtifacts.X")``."""
    match = re.match(r"^([A-Za-z0-9\-_]+)(.*)$", rest)
    if not match:
        return rest, ""
    return match.group(1), match.group(2)


def path_segments(path: str) -> list[str | int]:
    """``.Outputs['x'].S3Output[0]`` -> ``['Outputs', 'x', 'S3Output', 0]``; ValueError if bad."""
    segments: list[str | int] = []
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if not match:
            raise ValueError(f"cannot read the property path at {path[position:]!r}")
        member, index, key1, key2 = match.groups()
        if index is not None:
            segments.append(int(index))
        else:
            segments.append(member if member is not None else (key1 if key1 is not None else key2))
        position = match.end()
    return segments


def property_problem(kind: StepType, path: str) -> str | None:
    """Why ``path`` is not a property of a step of ``kind`` (None if it is one)."""
    try:
        segments = path_segments(path)
    except ValueError as exc:
        return str(exc)
    if not segments:
        return "a property reference must name a property"
    first = segments[0]
    roots = [service_model().shape_for(name) for name in kind.properties]
    shape: Shape | None = None
    if isinstance(first, str) and first in kind.extra_properties:
        shape = service_model().shape_for(kind.extra_properties[first])
    else:
        shape = next((root.members[first] for root in roots if first in root.members), None)
    if shape is None:
        known = sorted({m for root in roots for m in root.members} | set(kind.extra_properties))
        return f"{first!r} is not one of its properties ({', '.join(known) or 'none'})"
    for segment in segments[1:]:
        if shape.type_name == "structure" and isinstance(segment, str) and segment in shape.members:
            shape = shape.members[segment]
        elif shape.type_name == "list":
            shape = shape.member
        elif shape.type_name == "map" and isinstance(segment, str):
            shape = shape.value
        else:
            return f"{segment!r} is not a member of {shape.name}"
    return None


def step_references(value: Any) -> set[str]:
    """The steps whose properties ``value`` reads."""
    found: set[str] = set()
    if is_expression(value):
        key, body = next(iter(value.items()))
        if key == "Get" and isinstance(body, str) and body.startswith("Steps."):
            found.add(split_step_reference(body[len("Steps.") :])[0])
        elif key == "Std:Join" and isinstance(body, dict):
            found |= step_references(body.get("Values"))
        elif key == "Std:JsonGet" and isinstance(body, dict):
            found |= step_references(body.get("PropertyFile"))
            found |= step_references(body.get("S3Uri"))
        return found
    if isinstance(value, dict):
        for item in value.values():
            found |= step_references(item)
    elif isinstance(value, list):
        for item in value:
            found |= step_references(item)
    return found


def fit_to_request(operation: str, arguments: Any) -> Any:
    """Resolved arguments with numbers and booleans written as text where the request takes a
    string (a ``Get`` of an Integer parameter in ``HyperParameters``, say), as the SDK's
    ``to_string()`` would have."""
    return _fit(service_model().operation_model(operation).input_shape, arguments)


def _fit(shape: Shape, value: Any) -> Any:
    if shape.type_name == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if shape.type_name == "string" and isinstance(value, int | float):
        return str(value)
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            key: _fit(shape.members[key], item) if key in shape.members else item
            for key, item in value.items()
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [_fit(shape.member, item) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _fit(shape.value, item) for key, item in value.items()}
    return value
