"""The endpoint forms' refusals in a user's words: the console's guided forms
(:class:`console.core.form_errors.GuidedRequestForm`: plain rules next to their fields, a
summary on top, the first field in error focused), plus what only endpoint forms meet.

Those extras: rules of the endpoint services themselves (variant names, weights, instance
counts, scaling steps), a name already taken or not found shown at the field that names it, and
:meth:`TeachingForm.attempt` for the services that take arguments rather than one request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from console.core import errors
from console.core.form_errors import GuidedRequestForm
from console.core.shapes import ShapeError

_ENDPOINT_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Member must be unique within"), "Each variant needs a name of its own."),
    (
        re.compile(r"^The sum of variant weights must be positive"),
        "At least one weight must be above 0, or no variant would get any request.",
    ),
    (
        re.compile(r"^Member must be given: this platform hosts variants on instances only"),
        "Give an instance count: every variant here runs on instances "
        "(serverless inference is not offered).",
    ),
    (
        re.compile(r"^MetricIntervalLowerBound must be less than MetricIntervalUpperBound"),
        "The lower bound must be below the upper bound.",
    ),
    (
        re.compile(r"^Step adjustment intervals must neither overlap nor leave a gap"),
        "This step's bounds overlap another step's or leave a gap: each step starts where "
        "the one below it ends (an empty bound is unlimited).",
    ),
    (re.compile(r"^Member must have at least one step"), "Give at least one step."),
    (
        re.compile(r"^Member must not be greater than MaxCapacity \((\d+)\)"),
        "Must not be more than the maximum ({}).",
    ),
    (
        re.compile(r"^Member may be given only with AdjustmentType PercentChangeInCapacity"),
        "Only a PercentChangeInCapacity policy has a minimum adjustment: leave it empty.",
    ),
]

RESOURCE_WORDS = {
    "Endpoint": "endpoint",
    "EndpointConfig": "endpoint config",
    "Model": "model",
    "TrainingJob": "training job",
    "HyperParameterTuningJob": "tuning job",
    "Variant": "variant",
}


def endpoint_rule(rule: str) -> str | None:
    """One of the endpoint services' own rules in plain words; None for the others."""
    for pattern, words in _ENDPOINT_RULES:
        if match := pattern.search(rule):
            return words.format(*match.groups())
    return None


def resource_words(exc: errors.AlreadyExists | errors.NotFound) -> str:
    """ "An endpoint named x already exists …", "No model is named x." (a message that a service
    wrote for people is kept)."""
    noun = RESOURCE_WORDS.get(exc.resource, exc.resource)
    if isinstance(exc, errors.NotFound):
        return f"No {noun} is named {exc.name}."
    if not exc.message.startswith(f"{exc.resource} {exc.name!r} already exists"):
        return exc.message
    article = "An" if noun[0] in "aeiou" else "A"
    return f"{article} {noun} named {exc.name} already exists: choose another name."


class TeachingForm(GuidedRequestForm):
    """A guided request form for the endpoint services. ``RESOURCE_FIELD`` says which field
    names the resource of an AlreadyExists or NotFound (the others go to the summary)."""

    RESOURCE_FIELD: dict[str, str] = {}

    def submit(self, create: Callable[..., Any], **kwargs: Any) -> Any | None:
        return self.attempt(lambda: create(spec=self.to_request(), **kwargs))

    def attempt(self, call: Callable[[], Any]) -> Any | None:
        """``call()``'s result; on a refusal, None with its errors recorded on the form."""
        try:
            return call()
        except ShapeError as exc:
            for violation in exc.violations:
                self._plain_error(violation.path, violation.rule)
        except errors.ValidationError as exc:
            self._plain_error(exc.field, exc.rule)
        except (errors.AlreadyExists, errors.NotFound) as exc:
            self.add_error(self.RESOURCE_FIELD.get(exc.resource), resource_words(exc))
        except (errors.InvalidState, errors.LimitExceeded) as exc:
            self.add_error(None, exc.message)
        return None

    def plain_message(self, path: str, rule: str, field: str | None) -> str:
        words = endpoint_rule(rule)
        return super().plain_message(path, rule, field) if words is None else words
