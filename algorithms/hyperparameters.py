"""SageMaker's ``HyperParameters`` (a string→string map) parsed against an algorithm's schema.

Every problem is a :class:`HyperparameterError` naming the hyperparameter and the rule, so the
console can refuse a bad ``CreateTrainingJob`` before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from algorithms.base import Algorithm, Hyperparameter, HyperparameterError

# Keys the platform itself adds to every job's map (SageMaker does the same); never the
# algorithm's business, so they are neither parsed nor refused.
TUNING_OBJECTIVE_METRIC = "_tuning_objective_metric"  # set on each trial of a tuning job
RESERVED_PREFIXES = ("sagemaker_", TUNING_OBJECTIVE_METRIC)

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def parse_hyperparameters(
    algorithm: type[Algorithm], values: Mapping[str, object]
) -> dict[str, Any]:
    """Parse and validate ``values`` for ``algorithm``; every declared name is in the result,
    and the tuning objective's name when a tuning job set it (a trial reports it every epoch).

    Unset optional hyperparameters without a default map to ``None``.
    """
    declared = {hp.name for hp in algorithm.hyperparameters}
    undeclared = {name: value for name, value in values.items() if name not in declared}
    if not algorithm.accepts_undeclared_hyperparameters:
        undeclared = {}
    known = {name: value for name, value in values.items() if name not in undeclared}
    parsed = parse_declared(algorithm.hyperparameters, known, owner=algorithm.name)
    if TUNING_OBJECTIVE_METRIC in values:
        parsed[TUNING_OBJECTIVE_METRIC] = str(values[TUNING_OBJECTIVE_METRIC])
    algorithm.check_hyperparameters(parsed)
    # A script's own hyperparameters are its business: they pass through as the job gave them.
    return {**parsed, **undeclared}


def parse_declared(
    declared: Iterable[Hyperparameter], values: Mapping[str, object], *, owner: str
) -> dict[str, Any]:
    """Parse ``values`` against ``declared``: unknown names refused, required ones present."""
    schema = {hp.name: hp for hp in declared}
    for name in values:
        if name not in schema and not name.startswith(RESERVED_PREFIXES):
            known = ", ".join(sorted(schema))
            raise HyperparameterError(name, f"is not a hyperparameter of {owner} (known: {known})")
    parsed: dict[str, Any] = {}
    for name, hp in schema.items():
        if name in values:
            parsed[name] = parse_value(hp, values[name])
        elif hp.required:
            raise HyperparameterError(name, f"is required by {owner}")
        else:
            parsed[name] = hp.default
    return parsed


def parse_value(hp: Hyperparameter, raw: object) -> Any:
    """Parse one value; non-strings (from code rather than the wire) are taken by their text."""
    text = _as_text(raw).strip()
    if hp.allows_auto and text.lower() == "auto":
        return "auto"
    if hp.type == "bool":
        return _parse_bool(hp, text)
    if hp.type == "str":
        value: Any = text
    elif hp.type == "int":
        value = _parse_int(hp, text)
    else:
        value = _parse_float(hp, text)
    _check_choices(hp, value, text)
    _check_range(hp, value, text)
    return value


def _as_text(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _parse_bool(hp: Hyperparameter, text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise HyperparameterError(hp.name, f"must be true or false (got {text!r})")


def _parse_int(hp: Hyperparameter, text: str) -> int:
    # Integral floats ("3.0", "1e3") are accepted on purpose: tuners and clients that format every
    # number as a float send them, and the value is unambiguous. "3.5" is refused.
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        raise HyperparameterError(hp.name, f"must be an integer (got {text!r})") from None
    if not math.isfinite(number) or not number.is_integer():
        raise HyperparameterError(hp.name, f"must be an integer (got {text!r})")
    return int(number)


def _parse_float(hp: Hyperparameter, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise HyperparameterError(hp.name, f"must be a number (got {text!r})") from None
    if not math.isfinite(number):
        raise HyperparameterError(hp.name, f"must be a finite number (got {text!r})")
    return number


def _check_choices(hp: Hyperparameter, value: Any, text: str) -> None:
    if hp.choices is not None and str(value) not in hp.choices:
        raise HyperparameterError(hp.name, f"must be one of {', '.join(hp.choices)} (got {text!r})")


def parse_choice_list(name: str, text: str, choices: Iterable[str]) -> tuple[str, ...]:
    """A comma-separated list whose items each come from ``choices`` (e.g. ``eval_metric``)."""
    allowed = tuple(choices)
    items = tuple(item.strip() for item in text.split(",") if item.strip())
    if not items:
        raise HyperparameterError(name, f"must list one or more of {', '.join(allowed)}")
    for item in items:
        if item not in allowed:
            raise HyperparameterError(
                name, f"must list only {', '.join(allowed)} (got {item!r} in {text!r})"
            )
    return items


def _check_range(hp: Hyperparameter, value: Any, text: str) -> None:
    if hp.type not in ("int", "float"):
        return
    low, high = hp.min, hp.max
    below = low is not None and (value <= low if hp.min_exclusive else value < low)
    above = high is not None and value > high
    if not (below or above):
        return
    if low is not None and high is not None:
        bounds = f"between {_fmt(low)} and {_fmt(high)}"
        if hp.min_exclusive:
            bounds = f"greater than {_fmt(low)} and at most {_fmt(high)}"
    elif low is not None:
        bounds = f"greater than {_fmt(low)}" if hp.min_exclusive else f"at least {_fmt(low)}"
    else:
        bounds = f"at most {_fmt(high)}"
    raise HyperparameterError(hp.name, f"must be {bounds} (got {text!r})")


def _fmt(bound: float | None) -> str:
    assert bound is not None
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


# What ``no_effect`` puts first in a description, so that the log can say which values were moot.
NO_EFFECT = "no effect here"
# Hyperparameters of SageMaker's own machinery that its SDK or its documentation may send to any
# first-party algorithm (k-means' estimator always sends force_dense); none changes anything here.
MACHINERY = (
    Hyperparameter(
        "force_dense", "bool", True, description=f"{NO_EFFECT}: records are read as sent"
    ),
    Hyperparameter("_kvstore", "str", "auto", description=f"{NO_EFFECT}: one process trains"),
    Hyperparameter("_num_gpus", "int", "auto", min=0, allows_auto=True, description=NO_EFFECT),
    Hyperparameter(
        "_num_kv_servers", "int", "auto", min=1, allows_auto=True, description=NO_EFFECT
    ),
    Hyperparameter("_log_level", "str", "info", description=NO_EFFECT),
)


def no_effect(
    name: str, type_: str, default: Any = None, why: str = "", **rules: Any
) -> Hyperparameter:
    """A documented hyperparameter this platform accepts with its rule but does not act on."""
    return Hyperparameter(
        name, type_, default, description=f"{NO_EFFECT}: {why}" if why else NO_EFFECT, **rules
    )


def moot_values(declared: Iterable[Hyperparameter], values: Mapping[str, Any]) -> dict[str, Any]:
    """The hyperparameters set away from their default that have no effect here (to be logged)."""
    return {
        hp.name: values[hp.name]
        for hp in declared
        if hp.description.startswith(NO_EFFECT)
        and hp.name in values
        and values[hp.name] != hp.default
    }


def log_moot_values(declared: Iterable[Hyperparameter], values: Mapping[str, Any], log) -> None:
    """One log line naming each hyperparameter that was set but changes nothing here."""
    moot = moot_values(declared, values)
    if moot:
        listed = ", ".join(f"{name}={value}" for name, value in moot.items())
        log(f"accepted, with no effect on this platform's training: {listed}")


def parse_metric_list(
    name: str, value: str | Iterable[str], choices: Iterable[str]
) -> tuple[str, ...]:
    """A list of metric names as SageMaker's documentation writes it (``["msd","ssd"]``), as the
    SDK sends it (JSON), comma-separated, or already parsed."""
    if not isinstance(value, str):
        value = ",".join(value)
    text = value.strip().removeprefix("[").removesuffix("]")
    return parse_choice_list(name, text.replace('"', "").replace("'", ""), choices)


def check_feature_dim(value: int | str | None, actual: int) -> None:
    """``feature_dim``, where declared by the user, must match the train channel's data."""
    if value not in (None, "auto") and value != actual:
        raise HyperparameterError(
            "feature_dim", f"must match the train channel's {actual} features (got {value})"
        )
