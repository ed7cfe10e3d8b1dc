"""What the OpenAPI document says of the REST API, in one place: the error shape every refusal
answers, the status codes of each kind of operation, and the bodies that are SageMaker shapes
(Create requests, Describe responses), written as JSON Schema from botocore's own model with
the REST API's snake_case names.
"""

from __future__ import annotations

from typing import Any

from botocore.model import Shape
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from console.core.casing import snake_name
from console.core.shapes import operation_model


class ErrorSerializer(serializers.Serializer):
    """The one REST error shape (``console.core.api.error_body``)."""

    detail = serializers.CharField()
    field = serializers.CharField(
        required=False, help_text="The snake_case path of the first field at fault."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Every field at fault, with the rules it breaks.",
    )


ERROR_MEANINGS = {
    400: "The request breaks a rule: the body, a parameter or a member names it.",
    401: "No valid access key or session.",
    403: "Refused (a session request without its CSRF token).",
    404: "No such resource, or not yours.",
    409: "The resource exists already, or its state does not allow this.",
    415: "The body is not JSON.",
}

# Refusals every operation can answer: authentication comes first.
AUTH = (401, 403)


def responses(ok: dict[int, Any], *refusals: int) -> dict[int, Any]:
    """An operation's documented answers: its successes and, in the error shape, its
    refusals (plus the authentication ones every operation has)."""
    documented: dict[int, Any] = dict(ok)
    for code in sorted({*refusals, *AUTH}):
        documented[code] = OpenApiResponse(ErrorSerializer, description=ERROR_MEANINGS[code])
    return documented


LIST_FILTERS = [
    OpenApiParameter("status", str, description="Only resources in this status."),
    OpenApiParameter("name_contains", str, description="Only names containing this, any case."),
]


# The botocore structures the documented bodies use, by component name, registered with the
# document by ShapesSchema (they would repeat in every operation otherwise).
COMPONENTS: dict[str, dict[str, Any]] = {}


class ShapesSchema(AutoSchema):
    """drf-spectacular's schema of a view, which also adds the SageMaker shapes' components."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        for name, schema in COMPONENTS.items():
            component = ResolvedComponent(
                name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
            )
            registry.register_on_missing(component)
        return super().get_operation(path, path_regex, path_prefix, method, registry)


def describe_schema(operation: str, **extra: dict) -> dict[str, Any]:
    """``operation``'s response (a Describe), snake_cased, with ``extra`` properties."""
    schema = _members(operation_model(operation).output_shape, request=False)
    if extra:
        schema = {**schema, "properties": {**schema["properties"], **extra}}
    return schema


def request_schema(operation: str, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """``operation``'s JSON request body, snake_cased, without the members named in
    ``leave_out`` (those the URL gives)."""
    schema = _members(operation_model(operation).input_shape, request=True)
    kept = {k: v for k, v in schema["properties"].items() if k not in leave_out}
    required = [name for name in schema.get("required", []) if name not in leave_out]
    schema = {**schema, "properties": kept, **({"required": required} if required else {})}
    return {"application/json": schema}


def _schema(shape: Shape, *, request: bool) -> dict[str, Any]:
    """A botocore shape as JSON Schema; a structure or an enum as a reference to its component.
    Requests carry the model's required members, lengths and ranges (its Java patterns
    are left to the server's validation); responses carry types, and may hold
    members the model adds later."""
    match shape.type_name:
        case "structure":
            name = f"SageMaker{shape.name}{'Request' if request else ''}"
            if name not in COMPONENTS:
                COMPONENTS[name] = {}  # a recursive shape refers to itself
                COMPONENTS[name] = _members(shape, request=request)
            return {"$ref": f"#/components/schemas/{name}"}
        case "list":
            schema = {"type": "array", "items": _schema(shape.member, request=request)}
            return {**schema, **_bounds(shape, "minItems", "maxItems", request=request)}
        case "map":
            schema = {
                "type": "object",
                "additionalProperties": _schema(shape.value, request=request),
            }
            return {**schema, **_bounds(shape, "minProperties", "maxProperties", request=request)}
        case "string" if shape.enum:
            name = f"SageMaker{shape.name}"  # an enum is one component, named as in botocore
            COMPONENTS.setdefault(name, {"type": "string", "enum": list(shape.enum)})
            return {"$ref": f"#/components/schemas/{name}"}
        case "string":
            return {"type": "string", **_bounds(shape, "minLength", "maxLength", request=request)}
        case "integer" | "long":
            return {"type": "integer", **_bounds(shape, "minimum", "maximum", request=request)}
        case "float" | "double":
            return {"type": "number", **_bounds(shape, "minimum", "maximum", request=request)}
        case "boolean":
            return {"type": "boolean"}
        case "timestamp":
            return {"type": "string", "format": "date-time"}
    return {"type": "string"}  # blob


def _members(shape: Shape, *, request: bool) -> dict[str, Any]:
    """A structure's members, snake_cased, as an object schema."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            snake_name(name): _schema(member, request=request)
            for name, member in shape.members.items()
        },
    }
    if request:
        schema["additionalProperties"] = False
        if shape.required_members:
            schema["required"] = [snake_name(name) for name in shape.required_members]
    return schema


def _bounds(shape: Shape, low: str, high: str, *, request: bool) -> dict[str, Any]:
    if not request:
        return {}
    bounds = {low: shape.metadata.get("min"), high: shape.metadata.get("max")}
    return {key: value for key, value in bounds.items() if value is not None}
