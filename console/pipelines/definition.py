"""The pipeline definition language, without Django: a whole definition parsed and checked, its
parameters, its steps (branches' included) with their retry and cache settings, and its step graph.

A definition is SageMaker's JSON (``Version`` 2020-12-01, ``Parameters``, ``Steps``). Every check
raises :class:`console.core.errors.ValidationError` naming the step and the field, so each adapter
answers it as it answers any other bad request. The step types themselves (what their
``Arguments`` are, what their properties are) are given by the caller as :class:`StepType`
entries, so that a new job kind is one entry in a table (``console.pipelines.steps``). One step's
checks are ``definition_checks``, property references ``definition_properties``, the nouns
``definition_types``; expressions are evaluated at run time by ``console.pipelines.expressions``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from console.core.errors import ValidationError
from console.pipelines.definition_checks import check_arguments, check_references, check_step
from console.pipelines.definition_properties import (
    fit_to_request,
    path_segments,
    property_problem,
    split_step_reference,
    step_references,
)
from console.pipelines.definition_types import (
    COMPARISONS,
    CONDITION_TYPES,
    EXECUTION_VARIABLES,
    EXPRESSION_KEYS,
    PARAMETER_TYPES,
    RETRY_EXCEPTION_TYPES,
    STEP_NAME,
    UNSUPPORTED_TYPES,
    VERSION,
    Definition,
    Parameter,
    Step,
    StepType,
    is_expression,
    parse_duration,
)

# The language's public names, wherever they live, are importable from here.
__all__ = [
    "COMPARISONS",
    "CONDITION_TYPES",
    "EXECUTION_VARIABLES",
    "EXPRESSION_KEYS",
    "PARAMETER_TYPES",
    "RETRY_EXCEPTION_TYPES",
    "STEP_NAME",
    "UNSUPPORTED_TYPES",
    "VERSION",
    "Definition",
    "Parameter",
    "Step",
    "StepType",
    "check_arguments",
    "fit_to_request",
    "is_expression",
    "load_definition",
    "parse_definition",
    "parse_duration",
    "path_segments",
    "property_problem",
    "split_step_reference",
    "step_references",
]


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
        check_step(step, definition, step_types)
    definition.upstream = {step.name: _upstream(step, definition) for step in steps.values()}
    _check_acyclic(definition)
    check_references(
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
