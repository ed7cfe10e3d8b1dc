"""The pipeline definition language, without Django: parse and check a definition, its step graph,
and evaluate its expressions (``Get``, ``Std:Join``, ``Std:JsonGet``, conditions) at run time.

A definition is SageMaker's JSON (``Version`` 2020-12-01, ``Parameters``, ``Steps``). Every check
raises :class:`console.core.errors.ValidationError` naming the step and the field, so each adapter
answers it as it answers any other bad request. The step types themselves (what their
``Arguments`` are, what their properties are) are given by the caller as :class:`StepType`
entries, so that a new job kind is one entry in a table (``console.pipelines.steps``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from botocore.model import Shape

from console.core.errors import ValidationError
from console.core.shapes import ShapeError, service_model, validate_request

VERSION = "2020-12-01"
PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
EXECUTION_VARIABLES = (
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "PipelineName",
    "PipelineArn",
    "StartDateTime",
    "CurrentDateTime",
)
# SageMaker's step types this platform does not run: refused by name.
UNSUPPORTED_TYPES = (
    "Lambda",
    "Callback",
    "QualityCheck",
    "ClarifyCheck",
    "EMR",
    "AutoML",
    "InferenceComponent",
    "Lineage",
)
COMPARISONS = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}
CONDITION_TYPES = (*COMPARISONS, "In", "Not", "Or")
RETRY_EXCEPTION_TYPES = (
    "Step.SERVICE_FAULT",
    "Step.THROTTLING",
    "SageMaker.JOB_INTERNAL_ERROR",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
)
STEP_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
EXPRESSION_KEYS = ("Get", "Std:Join", "Std:JsonGet")
_SEGMENT = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


@dataclass(frozen=True)
class StepType:
    """What a step of one type is. ``operation``: the SageMaker request its ``Arguments`` are
    (checked against botocore's input shape), with ``name_field`` the member a job name goes in;
    ``properties``: the response shapes its ``Steps.<name>.…`` properties are read from (the
    first holding the member wins)."""

    operation: str | None = None
    name_field: str | None = None
    properties: tuple[str, ...] = ()
    extra_properties: Mapping[str, str] = field(default_factory=dict)  # member -> shape name
    required: tuple[str, ...] = ()  # members the service needs beyond the shape's own


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any = None
    has_default: bool = False


@dataclass
class Step:
    name: str
    type: str
    arguments: Any
    depends_on: list[str]
    raw: dict[str, Any]
    branch: tuple[str, bool] | None = None  # (condition step, True for IfSteps)
    retry_policies: list[dict[str, Any]] = field(default_factory=list)
    cache_config: dict[str, Any] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        return self.raw.get("DisplayName", "")

    @property
    def description(self) -> str:
        return self.raw.get("Description", "")

    @property
    def cache_enabled(self) -> bool:
        return bool(self.cache_config.get("Enabled"))

    @property
    def cache_expire_after(self) -> timedelta | None:
        text = self.cache_config.get("ExpireAfter")
        return parse_duration(text) if text else None


@dataclass
class Definition:
    parameters: dict[str, Parameter]
    steps: dict[str, Step]  # every step, branches' included, in definition order
    upstream: dict[str, set[str]]  # step -> the steps it waits for
    document: dict[str, Any]

    def downstream(self, name: str) -> set[str]:
        return {other for other, ups in self.upstream.items() if name in ups}


def parse_duration(text: str) -> timedelta:
    """An ISO-8601 duration as CacheConfig's ExpireAfter takes it (``P30D``, ``PT1H``)."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO-8601 duration such as P30D or PT1H")
    parts = {key: int(value) for key, value in match.groupdict().items() if value}
    return timedelta(**parts)


def is_expression(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in EXPRESSION_KEYS


# -- parsing and checking ----------------------------------------------------------------------


def load_definition(text: str | dict[str, Any], *, field_name: str = "PipelineDefinition") -> dict:
    if isinstance(text, dict):
        return text
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValidationError(field_name, f"Member must be a JSON document ({exc})") from None
    if not isinstance(document, dict):
        raise ValidationError(field_name, "Member must be a JSON object")
    return document


def parse_definition(
    text: str | dict[str, Any], *, step_types: Mapping[str, StepType]
) -> Definition:
    """Check a whole definition and return it parsed; the first problem found is raised."""
    document = load_definition(text)
    version = document.get("Version")
    if version != VERSION:
        raise ValidationError(
            "PipelineDefinition.Version", f"Member must be {VERSION!r}", value=version
        )
    parameters = _parameters(document.get("Parameters", []))
    raw_steps = document.get("Steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ValidationError("PipelineDefinition.Steps", "Member must be a non-empty list")
    steps: dict[str, Step] = {}
    _collect_steps(raw_steps, steps, step_types, branch=None)
    definition = Definition(parameters, steps, {}, document)
    for step in steps.values():
        _check_step(step, definition, step_types)
    definition.upstream = {step.name: _upstream(step, definition) for step in steps.values()}
    _check_acyclic(definition)
    _check_references(
        document.get("PipelineExperimentConfig"),
        "PipelineExperimentConfig",
        None,
        definition,
        step_types,
    )
    return definition


def _parameters(raw: Any) -> dict[str, Parameter]:
    if not isinstance(raw, list):
        raise ValidationError("PipelineDefinition.Parameters", "Member must be a list")
    parameters: dict[str, Parameter] = {}
    for index, item in enumerate(raw):
        where = f"PipelineDefinition.Parameters[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str) or not item["Name"]:
            raise ValidationError(f"{where}.Name", "Member must be a non-empty string")
        name = item["Name"]
        where = f"PipelineDefinition.Parameters[{name}]"
        if name in parameters:
            raise ValidationError(f"{where}.Name", "Parameter names must be unique", value=name)
        kind = item.get("Type")
        if kind not in PARAMETER_TYPES:
            rule = f"Member must satisfy enum value set: [{', '.join(PARAMETER_TYPES)}]"
            raise ValidationError(f"{where}.Type", rule, value=kind)
        has_default = "DefaultValue" in item and item["DefaultValue"] is not None
        default = item.get("DefaultValue")
        if has_default and not _fits(kind, default):
            rule = f"Member must be a{'n' if kind == 'Integer' else ''} {kind} value"
            raise ValidationError(f"{where}.DefaultValue", rule, value=default)
        parameters[name] = Parameter(name, kind, default, has_default)
    return parameters


def _fits(kind: str, value: Any) -> bool:
    if kind == "String":
        return isinstance(value, str)
    if kind == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, bool)


def _collect_steps(
    raw_steps: list[Any],
    steps: dict[str, Step],
    step_types: Mapping[str, StepType],
    *,
    branch: tuple[str, bool] | None,
) -> None:
    for index, raw in enumerate(raw_steps):
        if not isinstance(raw, dict):
            raise ValidationError(f"PipelineDefinition.Steps[{index}]", "Member must be an object")
        name = raw.get("Name")
        if not isinstance(name, str) or not STEP_NAME.match(name):
            rule = "Member must be 1-64 letters, digits, hyphens or underscores"
            raise ValidationError(f"PipelineDefinition.Steps[{index}].Name", rule, value=name)
        if name in steps:
            raise ValidationError(f"Steps.{name}.Name", "Step names must be unique", value=name)
        kind = raw.get("Type")
        if kind in UNSUPPORTED_TYPES:
            rule = f"Step type {kind!r} is not supported by this platform"
            raise ValidationError(f"Steps.{name}.Type", rule, value=kind)
        if kind not in step_types:
            rule = f"Member must satisfy enum value set: [{', '.join(step_types)}]"
            raise ValidationError(f"Steps.{name}.Type", rule, value=kind)
        depends_on = raw.get("DependsOn", [])
        if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
            raise ValidationError(f"Steps.{name}.DependsOn", "Member must be a list of step names")
        step = Step(
            name=name,
            type=kind,
            arguments=raw.get("Arguments", {}),
            depends_on=depends_on,
            raw=raw,
            branch=branch,
            retry_policies=_retry_policies(name, raw.get("RetryPolicies", [])),
            cache_config=_cache_config(name, raw.get("CacheConfig")),
        )
        steps[name] = step
        if kind == "Condition":
            if branch is not None:
                rule = "A Condition step cannot be inside another Condition step's branches"
                raise ValidationError(f"Steps.{name}.Type", rule)
            arguments = step.arguments if isinstance(step.arguments, dict) else {}
            for key, outcome in (("IfSteps", True), ("ElseSteps", False)):
                nested = arguments.get(key, [])
                if not isinstance(nested, list):
                    raise ValidationError(f"Steps.{name}.Arguments.{key}", "Member must be a list")
                _collect_steps(nested, steps, step_types, branch=(name, outcome))


def _retry_policies(name: str, raw: Any) -> list[dict[str, Any]]:
    where = f"Steps.{name}.RetryPolicies"
    if not isinstance(raw, list):
        raise ValidationError(where, "Member must be a list")
    for index, policy in enumerate(raw):
        at = f"{where}[{index}]"
        if not isinstance(policy, dict):
            raise ValidationError(at, "Member must be an object")
        types = policy.get("ExceptionType")
        if not isinstance(types, list) or not types:
            raise ValidationError(f"{at}.ExceptionType", "Member must be a non-empty list")
        for kind in types:
            if kind not in RETRY_EXCEPTION_TYPES:
                rule = f"Member must satisfy enum value set: [{', '.join(RETRY_EXCEPTION_TYPES)}]"
                raise ValidationError(f"{at}.ExceptionType", rule, value=kind)
        for key, low, high in (
            ("IntervalSeconds", 1, 43200),
            ("MaxAttempts", 1, 20),
            ("ExpireAfterMin", 0, 14400),
        ):
            value = policy.get(key)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high
            ):
                rule = f"Member must be a whole number between {low} and {high}"
                raise ValidationError(f"{at}.{key}", rule, value=value)
        rate = policy.get("BackoffRate")
        if rate is not None and (
            not isinstance(rate, int | float) or isinstance(rate, bool) or rate < 0
        ):
            raise ValidationError(f"{at}.BackoffRate", "Member must be a number >= 0", value=rate)
        if policy.get("MaxAttempts") is not None and policy.get("ExpireAfterMin") is not None:
            rule = "Specify MaxAttempts or ExpireAfterMin, not both"
            raise ValidationError(at, rule)
    return raw


def _cache_config(name: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    where = f"Steps.{name}.CacheConfig"
    if not isinstance(raw, dict):
        raise ValidationError(where, "Member must be an object")
    if not isinstance(raw.get("Enabled", False), bool):
        raise ValidationError(f"{where}.Enabled", "Member must be a boolean")
    if "ExpireAfter" in raw:
        try:
            parse_duration(raw["ExpireAfter"])
        except ValueError as exc:
            raise ValidationError(f"{where}.ExpireAfter", str(exc)) from None
    return raw


def _check_step(step: Step, definition: Definition, step_types: Mapping[str, StepType]) -> None:
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
    _check_references(step.arguments, f"{where}.Arguments", step.name, definition, step_types)
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
            _check_references(
                condition[operand], f"{where}.{operand}", step.name, definition, step_types
            )
    elif kind == "In":
        if "QueryValue" not in condition:
            raise ValidationError(f"{where}.QueryValue", "Member must not be null")
        if not isinstance(condition.get("Values"), list) or not condition["Values"]:
            raise ValidationError(f"{where}.Values", "Member must be a non-empty list")
        _check_references(
            condition["QueryValue"], f"{where}.QueryValue", step.name, definition, step_types
        )
        _check_references(condition["Values"], f"{where}.Values", step.name, definition, step_types)
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


def _check_references(
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
            _check_references(
                body["Values"], f"{where}.Std:Join.Values", owner, definition, step_types
            )
        else:
            _check_json_get(body, where, owner, definition, step_types)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_references(item, f"{where}.{key}", owner, definition, step_types)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_references(item, f"{where}[{index}]", owner, definition, step_types)


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
        _check_references(body["S3Uri"], f"{at}.S3Uri", owner, definition, step_types)
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


def _upstream(step: Step, definition: Definition) -> set[str]:
    ups = set(step.depends_on)
    source = step.arguments
    if step.type == "Condition":
        source = step.arguments.get("Conditions", [])
    for reference in step_references(source):
        ups.add(reference)
    if step.branch is not None:
        ups.add(step.branch[0])
    ups.discard(step.name)
    return ups


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


def _check_acyclic(definition: Definition) -> None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for up in sorted(definition.upstream[name]):
            if state.get(up) == 1:
                cycle = [*path[path.index(up) :], up]
                rule = "The steps' dependencies form a cycle: " + " -> ".join(cycle)
                raise ValidationError(f"Steps.{up}", rule)
            if up not in state:
                visit(up)
        path.pop()
        state[name] = 2

    for name in definition.steps:
        if name not in state:
            visit(name)


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
