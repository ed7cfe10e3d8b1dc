"""The checks of one step of a pipeline definition, without Django: its ``DependsOn``, its
``Arguments`` against the request shape of its type, a Condition step's conditions, and that every
expression names a parameter, an execution variable or a property the named step has. Each raises
:class:`console.core.errors.ValidationError` naming the step and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.core.errors import ValidationError
from console.core.shapes import ShapeError, validate_request
from console.pipelines.definition_properties import property_problem, split_step_reference
from console.pipelines.definition_types import (
    COMPARISONS,
    CONDITION_TYPES,
    EXECUTION_VARIABLES,
    Definition,
    Step,
    StepType,
    is_expression,
)


def check_step(step: Step, definition: Definition, step_types: Mapping[str, StepType]) -> None:
    where = f"Steps.{step.name}"
    for other in step.depends_on:
        if other not in definition.steps:
            raise ValidationError(
                f"{where}.DependsOn", "Member must name a step of this pipeline", value=other
            )
        if other == step.name:
            raise ValidationError(
                f"{where}.DependsOn", "A step cannot depend on itself", value=other
            )
    if not isinstance(step.arguments, dict):
        raise ValidationError(f"{where}.Arguments", "Member must be an object")
    if step.type == "Condition":
        _check_condition_step(step, definition, step_types)
        return
    check_references(step.arguments, f"{where}.Arguments", step.name, definition, step_types)
    if step.type == "Fail":
        unknown = set(step.arguments) - {"ErrorMessage"}
        if unknown:
            rule = "Member is not a known field"
            raise ValidationError(f"{where}.Arguments.{sorted(unknown)[0]}", rule)
        return
    _check_property_files(step)
    kind = step_types[step.type]
    if kind.operation is not None:
        check_arguments(step, kind)


def _check_property_files(step: Step) -> None:
    files = step.raw.get("PropertyFiles", [])
    if not isinstance(files, list):
        raise ValidationError(f"Steps.{step.name}.PropertyFiles", "Member must be a list")
    for index, item in enumerate(files):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(key), str) and item[key]
            for key in ("PropertyFileName", "OutputName", "FilePath")
        ):
            rule = "Member must have PropertyFileName, OutputName and FilePath"
            raise ValidationError(f"Steps.{step.name}.PropertyFiles[{index}]", rule)


def check_arguments(step: Step, kind: StepType, *, name: str = "pipeline-step") -> None:
    """Check ``Arguments`` against the request shape of the step's operation. Members that are
    expressions are checked once they resolve, at run time; a missing job name is generated."""
    arguments = dict(step.arguments)
    if kind.name_field and kind.name_field not in arguments:
        arguments[kind.name_field] = name
    expressions = set(expression_paths(arguments))
    try:
        validate_request(kind.operation, arguments)
    except ShapeError as exc:
        for violation in exc.violations:
            if any(
                violation.path == path or violation.path.startswith(path + ".")
                for path in expressions
            ):
                continue
            value = "" if violation.value is None else f"Value {violation.value!r} at "
            raise ValidationError(
                f"Steps.{step.name}.Arguments.{violation.path}", f"{value}{violation.rule}"
            ) from None
    for member in kind.required:
        if arguments.get(member) is None:
            raise ValidationError(
                f"Steps.{step.name}.Arguments.{member}", "Member must not be null"
            )


def expression_paths(value: Any, path: str = "") -> list[str]:
    """The wire paths (as botocore's checks write them: list items 1-based) of every expression."""
    if is_expression(value):
        return [path]
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += expression_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value, start=1):
            found += expression_paths(item, f"{path}.{index}" if path else str(index))
    return found


def _check_condition_step(
    step: Step, definition: Definition, step_types: Mapping[str, StepType]
) -> None:
    where = f"Steps.{step.name}.Arguments"
    unknown = set(step.arguments) - {"Conditions", "IfSteps", "ElseSteps"}
    if unknown:
        raise ValidationError(f"{where}.{sorted(unknown)[0]}", "Member is not a known field")
    conditions = step.arguments.get("Conditions")
    if not isinstance(conditions, list) or not conditions:
        raise ValidationError(f"{where}.Conditions", "Member must be a non-empty list")
    for index, condition in enumerate(conditions):
        _check_condition(condition, f"{where}.Conditions[{index}]", step, definition, step_types)


def _check_condition(
    condition: Any, where: str, step: Step, definition: Definition, step_types
) -> None:
    if not isinstance(condition, dict):
        raise ValidationError(where, "Member must be an object")
    kind = condition.get("Type")
    if kind not in CONDITION_TYPES:
        rule = f"Member must satisfy enum value set: [{', '.join(CONDITION_TYPES)}]"
        raise ValidationError(f"{where}.Type", rule, value=kind)
    if kind in COMPARISONS:
        for operand in ("LeftValue", "RightValue"):
            if operand not in condition:
                raise ValidationError(f"{where}.{operand}", "Member must not be null")
            check_references(
                condition[operand], f"{where}.{operand}", step.name, definition, step_types
            )
    elif kind == "In":
        if "QueryValue" not in condition:
            raise ValidationError(f"{where}.QueryValue", "Member must not be null")
        if not isinstance(condition.get("Values"), list) or not condition["Values"]:
            raise ValidationError(f"{where}.Values", "Member must be a non-empty list")
        check_references(
            condition["QueryValue"], f"{where}.QueryValue", step.name, definition, step_types
        )
        check_references(condition["Values"], f"{where}.Values", step.name, definition, step_types)
    elif kind == "Not":
        _check_condition(
            condition.get("Condition"), f"{where}.Condition", step, definition, step_types
        )
    else:  # Or
        inner = condition.get("Conditions")
        if not isinstance(inner, list) or not inner:
            raise ValidationError(f"{where}.Conditions", "Member must be a non-empty list")
        for index, item in enumerate(inner):
            _check_condition(item, f"{where}.Conditions[{index}]", step, definition, step_types)


def check_references(
    value: Any, where: str, owner: str | None, definition: Definition, step_types
) -> None:
    """Every expression inside ``value`` must name a parameter, an execution variable, or a
    property that the named step's type has."""
    if is_expression(value):
        key, body = next(iter(value.items()))
        if key == "Get":
            _check_get(body, where, owner, definition, step_types)
        elif key == "Std:Join":
            if not isinstance(body, dict) or not isinstance(body.get("Values"), list):
                raise ValidationError(f"{where}.Std:Join.Values", "Member must be a list")
            if not isinstance(body.get("On", ""), str):
                raise ValidationError(f"{where}.Std:Join.On", "Member must be a string")
            check_references(
                body["Values"], f"{where}.Std:Join.Values", owner, definition, step_types
            )
        else:
            _check_json_get(body, where, owner, definition, step_types)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            check_references(item, f"{where}.{key}", owner, definition, step_types)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_references(item, f"{where}[{index}]", owner, definition, step_types)


def _check_json_get(body: Any, where: str, owner, definition: Definition, step_types) -> None:
    at = f"{where}.Std:JsonGet"
    if not isinstance(body, dict) or not isinstance(body.get("Path"), str):
        raise ValidationError(f"{at}.Path", "Member must be a string")
    if "PropertyFile" in body:
        reference = body["PropertyFile"]
        target = reference.get("Get") if isinstance(reference, dict) else None
        parts = target.split(".") if isinstance(target, str) else []
        if len(parts) != 4 or parts[0] != "Steps" or parts[2] != "PropertyFiles":
            rule = "Member must be {'Get': 'Steps.<step>.PropertyFiles.<name>'}"
            raise ValidationError(f"{at}.PropertyFile", rule, value=reference)
        step = definition.steps.get(parts[1])
        if step is None:
            raise ValidationError(
                f"{at}.PropertyFile", "Member must name a step of this pipeline", value=parts[1]
            )
        names = [item.get("PropertyFileName") for item in step.raw.get("PropertyFiles", [])]
        if parts[3] not in names:
            rule = f"Step {step.name!r} has no property file {parts[3]!r}"
            raise ValidationError(f"{at}.PropertyFile", rule)
    elif "S3Uri" in body:
        check_references(body["S3Uri"], f"{at}.S3Uri", owner, definition, step_types)
    else:
        raise ValidationError(f"{at}.PropertyFile", "Member must not be null (or give S3Uri)")


def _check_get(body: Any, where: str, owner, definition: Definition, step_types) -> None:
    if not isinstance(body, str):
        raise ValidationError(f"{where}.Get", "Member must be a string", value=body)
    head, _, rest = body.partition(".")
    if head == "Parameters":
        if rest not in definition.parameters:
            raise ValidationError(
                f"{where}.Get", "Member must name a parameter of this pipeline", value=body
            )
    elif head == "Execution":
        if rest not in EXECUTION_VARIABLES:
            rule = f"Member must name an execution variable: [{', '.join(EXECUTION_VARIABLES)}]"
            raise ValidationError(f"{where}.Get", rule, value=body)
    elif head == "Steps":
        name, path = split_step_reference(rest)
        step = definition.steps.get(name)
        if step is None:
            raise ValidationError(
                f"{where}.Get", "Member must name a step of this pipeline", value=body
            )
        if name == owner:
            raise ValidationError(
                f"{where}.Get", "A step cannot refer to its own properties", value=body
            )
        problem = property_problem(step_types[step.type], path)
        if problem:
            raise ValidationError(
                f"{where}.Get", f"Step {name!r} ({step.type}): {problem}", value=body
            )
    else:
        rule = "Member must start with Parameters., Execution. or Steps."
        raise ValidationError(f"{where}.Get", rule, value=body)
