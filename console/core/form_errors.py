"""Console forms that teach: a refused request's errors in words a user knows, next to their
fields, summarised at the top of the page with the first invalid field focused.

The services' rules are the APIs' (``Member must satisfy regular expression pattern: …``); a
form user never typed a "member", so :func:`plain_rule` says the same rule in the form's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from console.core import errors
from console.core.forms import RequestForm
from console.core.shapes import ShapeError

# A resource name's pattern (jobs, models, endpoints): SageMaker's ^[a-zA-Z0-9](-*[a-zA-Z0-9])*.
_NAME_PATTERN = "(-*[a-zA-Z0-9])"
_PLAIN: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Member must not be null$"), lambda m: "This field is required."),
    (
        re.compile(r"^Member must have length greater than or equal to 1$"),
        lambda m: "This field is required.",
    ),
    (
        re.compile(r"^Member must have length less than or equal to (\d+)$"),
        lambda m: f"Use at most {m[1]} characters.",
    ),
    (
        re.compile(r"^Member must have length greater than or equal to (\d+)$"),
        lambda m: f"Use at least {m[1]} characters.",
    ),
    (
        re.compile(r"^Member must have value greater than or equal to (\S+)$"),
        lambda m: f"Must be at least {m[1]}.",
    ),
    (
        re.compile(r"^Member must have value less than or equal to (\S+)$"),
        lambda m: f"Must be at most {m[1]}.",
    ),
    (
        re.compile(r"^Member must be less than or equal to (\S+)$"),
        lambda m: f"Must be at most {m[1]}.",
    ),
    (
        re.compile(r"^Member must be between (\S+) and (\S+)$"),
        lambda m: f"Must be between {m[1]} and {m[2]}.",
    ),
    (
        re.compile(r"^Member must name an existing object"),
        lambda m: "No object is stored at this address.",
    ),
    (
        re.compile(r"^Member must satisfy enum value set: \[(.*)\]$"),
        lambda m: f"Choose one of {m[1]}.",
    ),
    (re.compile(r"^Member must be an integer$"), lambda m: "Enter a whole number."),
    (re.compile(r"^Member must be a (finite )?number$"), lambda m: "Enter a number."),
    (
        re.compile(r"^Member must satisfy regular expression pattern: (.*)$"),
        lambda m: _pattern(m[1]),
    ),
]


def _pattern(pattern: str) -> str:
    if _NAME_PATTERN in pattern:
        return (
            "Use only letters, digits and hyphens, starting and ending with a letter or digit "
            "(no spaces, dots or underscores)."
        )
    if "s3" in pattern and "://" in pattern:
        return "Enter an S3 URI such as s3://bucket/prefix/."
    return "Contains characters this field does not allow."


def plain_rule(rule: str) -> str:
    """``rule`` (a service's or the request shape's) in words a form user knows."""
    for pattern, say in _PLAIN:
        if match := pattern.match(rule):
            return say(match)
    if rule.startswith("Member "):
        rule = rule.removeprefix("Member ")
        return rule[:1].upper() + rule[1:]
    return rule  # already the service's words (it may start with a hyperparameter's name)


class GuidedRequestForm(RequestForm):
    """A :class:`RequestForm` whose refusals speak plainly and are listed at the top.

    ``field_for(path)`` may be overridden to route a request path to a field the prefix table
    (``FIELD_OF``) cannot name, e.g. one field per hyperparameter.
    """

    NAME_FIELD = "name"  # where "a resource with this name exists" is shown

    def submit(self, create: Callable[..., Any], **kwargs: Any) -> Any | None:
        try:
            return create(spec=self.to_request(), **kwargs)
        except ShapeError as exc:
            for violation in exc.violations:
                self._plain_error(violation.path, violation.rule)
        except errors.ValidationError as exc:
            self._plain_error(exc.field, exc.rule)
        except errors.AlreadyExists as exc:
            self.add_error(self.NAME_FIELD if self.NAME_FIELD in self.fields else None, exc.message)
        except (errors.NotFound, errors.InvalidState, errors.LimitExceeded) as exc:
            self.add_error(None, exc.message)
        return None

    def field_for(self, path: str) -> str | None:
        """The form field that shows an error about request member ``path`` (None: the form)."""
        return next((f for prefix, f in self.FIELD_OF if prefix and path.startswith(prefix)), None)

    def plain_message(self, path: str, rule: str, field: str | None) -> str:
        """What the user reads for ``rule`` broken at ``path``, shown at ``field``."""
        message = plain_rule(rule)
        return f"{path}: {message}" if field is None and path else message

    def _plain_error(self, path: str, rule: str) -> None:
        field = self.field_for(path)
        self.add_error(field, self.plain_message(path, rule, field))

    def error_summary(self) -> list[dict[str, str]]:
        """Every error, in the order of the form's fields, as ``{label, id, message}``; marks the
        invalid fields (``aria-invalid``) and lets the first take the focus (``autofocus``)."""
        summary = [
            {"label": "", "id": "", "message": message} for message in self.non_field_errors()
        ]
        first = True
        for name, field in self.fields.items():
            if name not in self.errors:
                continue
            field.widget.attrs["aria-invalid"] = "true"
            if first:
                field.widget.attrs["autofocus"] = True
                first = False
            bound = self[name]
            summary += [
                {"label": field.label or name, "id": bound.id_for_label, "message": message}
                for message in self.errors[name]
            ]
        return summary
