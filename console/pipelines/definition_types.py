"""The pipeline definition language's nouns, without Django: the constants SageMaker fixes (the
version, parameter and condition types, retry exception types), and what a parsed definition is
(:class:`Definition` of :class:`Step` and :class:`Parameter`, each step type a :class:`StepType`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

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
