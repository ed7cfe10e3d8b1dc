"""``MetricDefinitions``: metrics read out of a training log by regular expression.

SageMaker applies each definition's regex to every line a training container writes and records
group 1 as the metric's value. This works for any algorithm's log, built-in or user script.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from algorithms.base import AlgorithmError, Reporter

# AlgorithmSpecification.MetricDefinitions limits from the SageMaker API.
MAX_DEFINITIONS = 40
MAX_NAME_LENGTH = 255
MAX_REGEX_LENGTH = 500


class MetricDefinitionError(AlgorithmError, ValueError):
    """A metric definition that cannot be used; names the definition and the rule it breaks."""

    def __init__(self, name: str, rule: str) -> None:
        super().__init__(f"metric definition {name!r} {rule}")
        self.name = name
        self.rule = rule


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, *, name: str, regex: str) -> MetricDefinition:
        if not 1 <= len(name) <= MAX_NAME_LENGTH:
            raise MetricDefinitionError(name, f"Name must be 1 to {MAX_NAME_LENGTH} characters")
        if not 1 <= len(regex) <= MAX_REGEX_LENGTH:
            raise MetricDefinitionError(name, f"Regex must be 1 to {MAX_REGEX_LENGTH} characters")
        try:
            pattern = re.compile(regex)
        except re.error as error:
            raise MetricDefinitionError(name, f"Regex is not a valid expression: {error}") from None
        if pattern.groups < 1:
            raise MetricDefinitionError(name, "Regex must capture the value in group 1")
        return cls(name=name, regex=pattern)


def parse_metric_definitions(
    definitions: Iterable[Mapping[str, str]] | None,
) -> tuple[MetricDefinition, ...]:
    """Parse SageMaker's ``[{"Name": ..., "Regex": ...}]`` into compiled definitions."""
    parsed = tuple(
        MetricDefinition.parse(name=item.get("Name", ""), regex=item.get("Regex", ""))
        for item in definitions or ()
    )
    if len(parsed) > MAX_DEFINITIONS:
        raise MetricDefinitionError(
            parsed[MAX_DEFINITIONS].name, f"is one too many; at most {MAX_DEFINITIONS} are allowed"
        )
    return parsed


def extract_metrics(
    line: str, definitions: Iterable[MetricDefinition]
) -> Iterator[tuple[str, float]]:
    """Yield ``(name, value)`` for every match of every definition in one log line.

    A match whose group 1 is not a number is skipped, as SageMaker does: a log line is not an
    error just because it resembles a metric.
    """
    for definition in definitions:
        for match in definition.regex.finditer(line):
            try:
                value = float(match.group(1))
            except (TypeError, ValueError):
                continue
            if math.isfinite(value):
                yield definition.name, value


class MetricExtractingReporter:
    """A :class:`Reporter` that also turns the log lines passing through it into metrics.

    Wrap the job's reporter with it when the job has ``MetricDefinitions``; explicit
    ``metric(...)`` calls from built-in algorithms pass straight through.
    """

    def __init__(self, reporter: Reporter, definitions: Iterable[MetricDefinition]) -> None:
        self._reporter = reporter
        self._definitions = tuple(definitions)

    def metric(self, name: str, value: float, *, step: int | None = None) -> None:
        self._reporter.metric(name, value, step=step)

    def log(self, message: str) -> None:
        self._reporter.log(message)
        for line in message.splitlines():
            for name, value in extract_metrics(line, self._definitions):
                self._reporter.metric(name, value)

    def should_stop(self) -> bool:
        return self._reporter.should_stop()
