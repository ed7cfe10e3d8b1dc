"""An algorithm's hyperparameter schema as the console's forms show it.

The schema is the one the APIs validate with (``Algorithm.hyperparameters``, parsed by
``algorithms.hyperparameters``): each field's default, range, choices and help come from it, so
the form and the validation cannot disagree. The training form gives one value field per
hyperparameter; the tuning form adds a range (kind, bounds, scaling or values) to each.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms

from algorithms import UnknownAlgorithm, resolve_image
from algorithms.base import Algorithm, Hyperparameter
from algorithms.hyperparameters import NO_EFFECT

PREFIX = "hp-"  # form field names: hp-<hyperparameter>[-<part>]
TYPE_WORDS = {"int": "integer", "float": "number", "str": "text", "bool": "true or false"}
# SageMaker's range kind for each schema type.
RANGE_KIND = {"int": "Integer", "float": "Continuous", "str": "Categorical", "bool": "Categorical"}


@dataclass(frozen=True)
class SchemaRow:
    """One hyperparameter as a form shows it."""

    name: str
    type: str
    default: str  # "" when unset
    required: bool
    rule: str  # "integer, 1 to 100000" …
    description: str
    choices: tuple[str, ...]
    range_kind: str  # Integer | Continuous | Categorical
    low: str = ""  # the schema's bounds, "" where it has none
    high: str = ""

    @property
    def help(self) -> str:
        parts = [self.rule]
        if self.default:
            parts.append(f"default {self.default}")
        elif self.required:
            parts.append("required")
        if self.description:
            parts.append(self.description)
        return "; ".join(parts)


def algorithm_or_none(image: str | None) -> type[Algorithm] | None:
    """The algorithm an image names, or None (no choice yet, or an image of no algorithm)."""
    if not image:
        return None
    try:
        return resolve_image(image)
    except UnknownAlgorithm:
        return None


def schema_rows(algorithm: type[Algorithm] | None) -> list[SchemaRow]:
    """The hyperparameters a user may set, in the algorithm's order; those that change nothing
    on this platform are left out (the API still accepts them)."""
    if algorithm is None:
        return []
    return [
        _row(hp) for hp in algorithm.hyperparameters if not hp.description.startswith(NO_EFFECT)
    ]


def _row(hp: Hyperparameter) -> SchemaRow:
    choices = hp.choices or (("true", "false") if hp.type == "bool" else ())
    return SchemaRow(
        name=hp.name,
        type=hp.type,
        default="" if hp.default is None else _text(hp.default),
        required=hp.required,
        rule=rule_text(hp),
        description=hp.description,
        choices=tuple(choices),
        range_kind=RANGE_KIND[hp.type],
        low="" if hp.min is None else _number(hp.min),
        high="" if hp.max is None else _number(hp.max),
    )


def rule_text(hp: Hyperparameter) -> str:
    """What a value must be, in words: ``integer, 1 to 100000``, ``one of gbtree, dart``."""
    if hp.choices:
        return "one of " + ", ".join(hp.choices)
    words = TYPE_WORDS[hp.type]
    if hp.type in ("int", "float"):
        low, high = hp.min, hp.max
        if low is not None and high is not None:
            lower = f"over {_number(low)}" if hp.min_exclusive else f"{_number(low)}"
            words += f", {lower} to {_number(high)}"
        elif low is not None:
            words += f", over {_number(low)}" if hp.min_exclusive else f", {_number(low)} or more"
        elif high is not None:
            words += f", at most {_number(high)}"
    if hp.allows_auto:
        words += ", or auto"
    return words


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def value_field(row: SchemaRow, *, label: str | None = None) -> forms.Field:
    """A field for one value: a list of choices where the schema has them, else text (numbers
    may be ``auto``, and the service parses them as the APIs do). Empty means the default."""
    help_text = row.help
    if row.choices:
        unset = f"default ({row.default})" if row.default else "not set"
        return forms.ChoiceField(
            label=label or row.name,
            required=False,
            choices=[("", unset), *((c, c) for c in row.choices)],
            help_text=help_text,
        )
    placeholder = row.default or ("required" if row.required else "not set")
    return forms.CharField(
        label=label or row.name,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"placeholder": placeholder}),
    )


def field_name(hyperparameter: str, part: str = "") -> str:
    return f"{PREFIX}{hyperparameter}{'-' + part if part else ''}"
