"""Evaluating a pipeline definition at run time, without Django: parameters as typed values,
``Get``/``Std:Join``/``Std:JsonGet`` expressions and Condition steps' conditions, against the
execution's state."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from console.core.errors import ValidationError
from console.pipelines.definition import (
    COMPARISONS,
    Definition,
    Parameter,
    is_expression,
    path_segments,
    split_step_reference,
)


class EvaluationError(Exception):
    """An expression could not be evaluated against the execution's state."""


@dataclass
class Context:
    """What expressions read at run time: the execution's parameters and variables, the
    properties of the steps that ran, and a reader of JSON objects in storage."""

    parameters: dict[str, Any]
    execution: dict[str, Any]
    properties: Callable[[str], dict[str, Any]]  # step name -> its Describe* response
    read_json: Callable[[str], Any]  # s3 URI -> the parsed JSON document
    definition: Definition | None = None


def parameter_values(
    parameters: Mapping[str, Parameter], given: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """StartPipelineExecution's PipelineParameters (strings) as typed values, defaults filled."""
    values: dict[str, Any] = {}
    for index, item in enumerate(given or []):
        name, value = item.get("Name"), item.get("Value")
        where = f"PipelineParameters.{index + 1}"
        if name not in parameters:
            raise ValidationError(
                f"{where}.Name", "Member must name a parameter of the pipeline", value=name
            )
        if name in values:
            raise ValidationError(f"{where}.Name", "A parameter is given twice", value=name)
        values[name] = _typed(parameters[name], value, f"{where}.Value")
    for parameter in parameters.values():
        if parameter.name in values:
            continue
        if not parameter.has_default:
            raise ValidationError(
                "PipelineParameters",
                f"Parameter {parameter.name!r} has no default and was not given",
            )
        values[parameter.name] = parameter.default
    return values


def _typed(parameter: Parameter, value: Any, where: str) -> Any:
    text = str(value)
    try:
        if parameter.type == "Integer":
            return int(text)
        if parameter.type == "Float":
            return float(text)
    except ValueError:
        raise ValidationError(
            where,
            f"Member must be a{'n' if parameter.type == 'Integer' else ''} {parameter.type} value",
            value=value,
        ) from None
    if parameter.type == "Boolean":
        if text.lower() not in ("true", "false"):
            raise ValidationError(where, "Member must be true or false", value=value)
        return text.lower() == "true"
    return text


def resolve(value: Any, context: Context) -> Any:
    """``value`` with every expression replaced by what it evaluates to."""
    if is_expression(value):
        key, body = next(iter(value.items()))
        if key == "Get":
            return _get(body, context)
        if key == "Std:Join":
            parts = [resolve(item, context) for item in body["Values"]]
            return body.get("On", "").join(_text(part) for part in parts)
        return _json_get(body, context)
    if isinstance(value, dict):
        return {key: resolve(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, context) for item in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _get(reference: str, context: Context) -> Any:
    head, _, rest = reference.partition(".")
    if head == "Parameters":
        return context.parameters[rest]
    if head == "Execution":
        if rest == "CurrentDateTime":
            return datetime.now(UTC).isoformat()
        return context.execution[rest]
    name, path = split_step_reference(rest)
    return read_path(context.properties(name), path, reference=reference)


def read_path(document: Any, path: str, *, reference: str) -> Any:
    """Follow ``path`` in a Describe* response; a list keyed by a string finds the item whose
    ``…Name`` member is that string (``Outputs['train']``)."""
    value = document
    for segment in path_segments(path):
        if isinstance(segment, int):
            if not isinstance(value, list) or segment >= len(value):
                raise EvaluationError(f"{reference}: there is no item {segment}")
            value = value[segment]
        elif isinstance(value, dict) and segment in value:
            value = value[segment]
        elif isinstance(value, list):
            matches = [
                item
                for item in value
                if isinstance(item, dict)
                and any(k.endswith("Name") and v == segment for k, v in item.items())
            ]
            if not matches:
                raise EvaluationError(f"{reference}: there is no item named {segment!r}")
            value = matches[0]
        else:
            raise EvaluationError(f"{reference}: the step has no property {segment!r}")
    return value


def _json_get(body: dict[str, Any], context: Context) -> Any:
    if "PropertyFile" in body:
        _, step_name, _, file_name = body["PropertyFile"]["Get"].split(".")
        uri = property_file_uri(step_name, file_name, context)
    else:
        uri = resolve(body["S3Uri"], context)
    document = context.read_json(uri)
    return json_path(document, body["Path"], where=uri)


def property_file_uri(step_name: str, file_name: str, context: Context) -> str:
    """Where a step's property file lies: its ``FilePath`` under the output it names."""
    step = context.definition.steps[step_name]
    entry = next(f for f in step.raw["PropertyFiles"] if f["PropertyFileName"] == file_name)
    outputs = context.properties(step_name)["ProcessingOutputConfig"]["Outputs"]
    output = next((o for o in outputs if o.get("OutputName") == entry["OutputName"]), None)
    if output is None:
        raise EvaluationError(f"step {step_name!r} has no output {entry['OutputName']!r}")
    return output["S3Output"]["S3Uri"].rstrip("/") + "/" + entry["FilePath"].lstrip("/")


def json_path(document: Any, path: str, *, where: str) -> Any:
    """JsonGet's paths: ``a.b[0].c`` (a leading ``$.`` allowed)."""
    text = path[2:] if path.startswith("$.") else path
    try:
        return read_path(
            document, "." + text if not text.startswith("[") else text, reference=f"{where}: {path}"
        )
    except ValueError as exc:
        raise EvaluationError(f"{where}: {exc}") from None


def evaluate_conditions(conditions: list[dict[str, Any]], context: Context) -> bool:
    """A Condition step's outcome: every condition holds."""
    return all(_holds(condition, context) for condition in conditions)


def _holds(condition: dict[str, Any], context: Context) -> bool:
    kind = condition["Type"]
    if kind in COMPARISONS:
        left = resolve(condition["LeftValue"], context)
        right = resolve(condition["RightValue"], context)
        left, right = _comparable(left, right)
        try:
            return COMPARISONS[kind](left, right)
        except TypeError:
            raise EvaluationError(f"{kind}: cannot compare {left!r} with {right!r}") from None
    if kind == "In":
        query = resolve(condition["QueryValue"], context)
        values = [resolve(item, context) for item in condition["Values"]]
        return any(_comparable(query, item)[0] == _comparable(query, item)[1] for item in values)
    if kind == "Not":
        return not _holds(condition["Condition"], context)
    return any(_holds(item, context) for item in condition["Conditions"])


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Numbers read from JSON files or job descriptions may arrive as text."""
    if isinstance(left, int | float) and isinstance(right, str):
        return left, _number(right)
    if isinstance(right, int | float) and isinstance(left, str):
        return _number(left), right
    return left, right


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text
