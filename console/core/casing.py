"""The REST API's snake_case over botocore's PascalCase shapes: one request or response, renamed
member by member along its operation's shape (map keys are the user's own and kept)."""

from __future__ import annotations

import re
from typing import Any

from botocore.model import Shape

from console.core.shapes import operation_model


def snake_name(name: str) -> str:
    """``InstanceCount`` → ``instance_count``; ``VolumeSizeInGB`` → ``volume_size_in_gb``."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


def from_snake(operation_name: str, data: object) -> object:
    """A snake_case REST body as ``operation_name``'s PascalCase request.

    Structure members are renamed by the botocore shape; map keys (``hyper_parameters``,
    ``environment``) are the user's own and kept. Unknown names are kept as they came, so that
    validation names them.
    """
    operation = operation_model(operation_name)
    if operation is None or operation.input_shape is None:
        return data
    return _renamed(operation.input_shape, data)


def _renamed(shape: Shape, value: Any) -> Any:
    if shape.type_name == "structure" and isinstance(value, dict):
        by_snake = {snake_name(name): name for name in shape.members}
        renamed = {}
        for key, item in value.items():
            name = by_snake.get(key, key)
            member = shape.members.get(name)
            renamed[name] = _renamed(member, item) if member is not None else item
        return renamed
    if shape.type_name == "list" and isinstance(value, list):
        return [_renamed(shape.member, item) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _renamed(shape.value, item) for key, item in value.items()}
    return value


def to_snake(operation_name: str, response: dict[str, Any]) -> dict[str, Any]:
    """``operation_name``'s PascalCase response with structure members snake_cased (map keys
    kept): the REST API's representation of the same resource."""
    operation = operation_model(operation_name)
    if operation is None or operation.output_shape is None:
        raise LookupError(f"{operation_name} has no response shape")
    return _snaked(operation.output_shape, response)


def _snaked(shape: Shape, value: Any) -> Any:
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            snake_name(name): _snaked(shape.members[name], item) if name in shape.members else item
            for name, item in value.items()
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [_snaked(shape.member, item) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _snaked(shape.value, item) for key, item in value.items()}
    return value
