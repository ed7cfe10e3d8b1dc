"""The tuning form's ranges builder: a row per hyperparameter of the chosen algorithm, from the
schema the APIs validate with. A row keeps the default, fixes a value (static) or tunes it over
a range: Integer or Continuous bounds with a scaling, or Categorical values.

Field names are ``hp-<name>-<part>`` (part: mode, value, min, max, scaling, values).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from algorithms.tuning.space import SCALING_TYPES
from console.training.hyperparameter_fields import SchemaRow, field_name, value_field

MODES = [("", "default"), ("static", "fixed value"), ("tune", "tune")]
RANGE_LISTS = {kind: f"{kind}ParameterRanges" for kind in ("Integer", "Continuous", "Categorical")}
# A range's place in a refusal: the request shape counts from 1 (".2."), the tuner from 0 ("[1]").
_RANGE_PATH = re.compile(
    r"ParameterRanges\.(Integer|Continuous|Categorical)ParameterRanges(?:\[(\d+)\]|\.(\d+))\.?(\w*)"
)
_RANGE_PART = {"MinValue": "min", "MaxValue": "max", "ScalingType": "scaling", "Values": "values"}

Ranges = dict[str, list[dict[str, Any]]]  # {"Integer": [{"Name", "MinValue", ...}], ...}


def parts(row: SchemaRow) -> tuple[str, ...]:
    if row.range_kind == "Categorical":
        return ("mode", "value", "values")
    return ("mode", "value", "min", "max", "scaling")


def range_fields(schema: list[SchemaRow]) -> list[tuple[str, forms.Field]]:
    """Every row's fields, in order."""
    fields: list[tuple[str, forms.Field]] = []
    for row in schema:
        fields.append(
            (
                field_name(row.name, "mode"),
                forms.ChoiceField(label=f"{row.name}: use", choices=MODES, required=False),
            )
        )
        fields.append((field_name(row.name, "value"), value_field(row, label=f"{row.name} value")))
        if row.range_kind == "Categorical":
            placeholder = ", ".join(row.choices) or "a, b"
            fields.append(
                (field_name(row.name, "values"), _text(f"{row.name} values", placeholder))
            )
            continue
        fields.append((field_name(row.name, "min"), _text(f"{row.name} min", row.low or "min")))
        fields.append((field_name(row.name, "max"), _text(f"{row.name} max", row.high or "max")))
        scalings = [
            (s, s)
            for s in SCALING_TYPES
            if row.range_kind == "Continuous" or s != "ReverseLogarithmic"
        ]
        fields.append(
            (
                field_name(row.name, "scaling"),
                forms.ChoiceField(label=f"{row.name} scaling", required=False, choices=scalings),
            )
        )
    for _, field in fields:  # the table's cells have no <label> of their own
        field.widget.attrs["aria-label"] = field.label
    return fields


def _text(label: str, placeholder: str) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, widget=forms.TextInput(attrs={"placeholder": placeholder})
    )


def missing_parts(schema: list[SchemaRow], data: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, message)`` for each row whose mode needs a part left empty."""
    missing = []
    for row in schema:
        mode = data.get(field_name(row.name, "mode")) or ""
        if mode == "static":
            needed = ["value"]
        elif mode == "tune":
            needed = ["values"] if row.range_kind == "Categorical" else ["min", "max"]
        else:
            needed = []
        verb = "fix" if mode == "static" else "tune"
        missing += [
            (field_name(row.name, part), f"Give {row.name} a {part} to {verb} it.")
            for part in needed
            if not _value(data, row, part)
        ]
    return missing


def _value(data: dict[str, Any], row: SchemaRow, part: str) -> str:
    return str(data.get(field_name(row.name, part)) or "").strip()


def builder_values(schema: list[SchemaRow], data: dict[str, Any]) -> tuple[dict[str, str], Ranges]:
    """The static hyperparameters and the ranges the rows say, in SageMaker's shapes."""
    static: dict[str, str] = {}
    ranges: Ranges = {kind: [] for kind in RANGE_LISTS}
    for row in schema:
        mode = data.get(field_name(row.name, "mode"))
        if mode == "static":
            static[row.name] = _value(data, row, "value")
        elif mode == "tune" and row.range_kind == "Categorical":
            values = [v.strip() for v in _value(data, row, "values").split(",") if v.strip()]
            ranges["Categorical"].append({"Name": row.name, "Values": values})
        elif mode == "tune":
            ranges[row.range_kind].append(
                {
                    "Name": row.name,
                    "MinValue": _value(data, row, "min"),
                    "MaxValue": _value(data, row, "max"),
                    "ScalingType": _value(data, row, "scaling") or "Auto",
                }
            )
    return static, ranges


def wire_ranges(ranges: Ranges) -> dict[str, list[dict[str, Any]]]:
    return {RANGE_LISTS[kind]: items for kind, items in ranges.items() if items}


def range_field_for(path: str, ranges: Ranges) -> str | None:
    """The field of the range a refusal's ``path`` points into, if it does."""
    match = _RANGE_PATH.search(path)
    if not match:
        return None
    kind, bracket, dotted, part = match.groups()
    index = int(bracket) if bracket is not None else int(dotted) - 1
    items = ranges.get(kind, [])
    if not 0 <= index < len(items):
        return None
    default_part = "values" if kind == "Categorical" else "min"
    return field_name(items[index]["Name"], _RANGE_PART.get(part, default_part))


def tuned_field(name: str, ranges: Ranges) -> str | None:
    """The first field of hyperparameter ``name``'s range, when it is tuned."""
    for kind, items in ranges.items():
        if any(item["Name"] == name for item in items):
            return field_name(name, "values" if kind == "Categorical" else "min")
    return None


def initial_rows(
    parameter_ranges: dict[str, Any], static: dict[str, str], schema: list[SchemaRow]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The rows' initial values that recreate ``parameter_ranges`` and ``static``, and the static
    values no row holds (a script's own)."""
    declared = {row.name for row in schema}
    initial: dict[str, Any] = {}
    rest = {}
    for key, value in static.items():
        if key in declared:
            initial[field_name(key, "mode")] = "static"
            initial[field_name(key, "value")] = value
        else:
            rest[key] = value
    for kind, wire in RANGE_LISTS.items():
        for item in parameter_ranges.get(wire, []):
            name = item["Name"]
            initial[field_name(name, "mode")] = "tune"
            if kind == "Categorical":
                initial[field_name(name, "values")] = ", ".join(item["Values"])
            else:
                initial[field_name(name, "min")] = item["MinValue"]
                initial[field_name(name, "max")] = item["MaxValue"]
                initial[field_name(name, "scaling")] = item.get("ScalingType", "Auto")
    return initial, rest
