"""The search space of a tuning job: SageMaker ``ParameterRanges`` validated and mapped to [0, 1]^d.

Every optimiser works in the unit cube; this module is the only place that knows the wire shapes,
the scaling rules and how SageMaker hands hyperparameters to a training job (as strings).

Encoding, one parameter at a time (``d`` grows by one per numeric parameter and by the number of
values per categorical one):

- ``Linear``: ``u = (x - min) / (max - min)``.
- ``Logarithmic``: linear in ``log x``; needs ``min > 0``.
- ``ReverseLogarithmic``: linear in ``-log(1 - x)``, so resolution piles up next to 1 (momentum,
  discount factors); continuous only, ``0 <= min < max < 1``.
- ``Auto`` resolves to ``Logarithmic`` when ``min > 0`` and the range spans at least two decades
  (``max / min >= 100``), otherwise to ``Linear``. SageMaker leaves ``Auto`` unspecified; two
  decades is where a linear scale starts wasting most samples on the top decade.
- Integers are encoded over the widened interval ``[min - 0.5, max + 0.5]`` (on their scale), so
  each integer owns a cell of the cube. Decoding rounds to the nearest integer; encoding puts an
  integer at the centre of its cell. Hence ``decode(encode(v)) == v`` exactly and every integer
  gets an equal share of the cube on its scale.
- Categoricals are one-hot; decoding takes the argmax (the first value on ties).

Decoded values are strings, as SageMaker passes them to training jobs: integers as ``"12"``,
floats as ``repr(float)`` (shortest string that round-trips), categoricals verbatim.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from algorithms.tuning.errors import TuningValidationError, UnknownConfigurationError

MAX_TUNABLE_PARAMETERS = 30
MAX_CATEGORICAL_VALUES = 30
MAX_BOUND_LENGTH = 256
AUTO_LOG_DECADES = 2.0

RANGE_KINDS = ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")
SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")


@dataclass(frozen=True)
class NumericParameter:
    """An ``Integer`` or ``Continuous`` range with its scaling resolved (never ``Auto``)."""

    name: str
    low: float
    high: float
    scaling: str  # Linear | Logarithmic | ReverseLogarithmic
    is_integer: bool

    @property
    def width(self) -> int:
        return 1

    def _warp(self, x: float) -> float:
        if self.scaling == "Logarithmic":
            return math.log(x)
        if self.scaling == "ReverseLogarithmic":
            return -math.log1p(-x)
        return x

    def _unwarp(self, w: float) -> float:
        if self.scaling == "Logarithmic":
            return math.exp(w)
        if self.scaling == "ReverseLogarithmic":
            return -math.expm1(-w)
        return w

    @property
    def _bounds(self) -> tuple[float, float]:
        pad = 0.5 if self.is_integer else 0.0
        return self._warp(self.low - pad), self._warp(self.high + pad)

    def encode(self, value: str) -> list[float]:
        x = self.parse(value)
        lo, hi = self._bounds
        if self.is_integer:
            centre = 0.5 * (self._warp(x - 0.5) + self._warp(x + 0.5))
            return [(centre - lo) / (hi - lo)]
        return [(self._warp(x) - lo) / (hi - lo)]

    def decode(self, u: Sequence[float]) -> str:
        lo, hi = self._bounds
        t = min(max(float(u[0]), 0.0), 1.0)
        x = self._unwarp(lo + t * (hi - lo))
        if self.is_integer:
            return str(int(min(max(round(x), self.low), self.high)))
        return repr(min(max(x, self.low), self.high))

    def parse(self, value: str) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise UnknownConfigurationError(f"{self.name}={value!r} is not a number") from None
        if self.is_integer and x != int(x):
            raise UnknownConfigurationError(f"{self.name}={value!r} is not an integer")
        if not self.low <= x <= self.high:
            raise UnknownConfigurationError(
                f"{self.name}={value!r} is outside [{self.low}, {self.high}]"
            )
        return x

    def canonical(self, value: str) -> str:
        x = self.parse(value)
        return str(int(x)) if self.is_integer else repr(x)


@dataclass(frozen=True)
class CategoricalParameter:
    name: str
    values: tuple[str, ...]

    @property
    def width(self) -> int:
        return len(self.values)

    def encode(self, value: str) -> list[float]:
        index = self.values.index(self.canonical(value))
        return [1.0 if i == index else 0.0 for i in range(len(self.values))]

    def decode(self, u: Sequence[float]) -> str:
        return self.values[int(np.argmax(np.asarray(u, dtype=float)))]

    def canonical(self, value: str) -> str:
        if value not in self.values:
            raise UnknownConfigurationError(f"{self.name}={value!r} is not one of {self.values}")
        return value


Parameter = NumericParameter | CategoricalParameter


class SearchSpace:
    """A validated search space; ``encode``/``decode`` map hyperparameter dicts to/from [0,1]^d."""

    def __init__(self, parameters: Sequence[Parameter]) -> None:
        self.parameters = tuple(parameters)
        self.names = tuple(p.name for p in self.parameters)
        offsets = np.cumsum([0] + [p.width for p in self.parameters])
        self._slices = [slice(int(a), int(b)) for a, b in itertools.pairwise(offsets)]
        self.dim = int(offsets[-1])

    @classmethod
    def from_parameter_ranges(
        cls, parameter_ranges: Mapping[str, Any], *, strategy: str = "Bayesian"
    ) -> SearchSpace:
        """Validate a wire-shape ``ParameterRanges`` dict (PascalCase, string bounds)."""
        return cls(_parse_parameter_ranges(parameter_ranges, strategy=strategy))

    @property
    def is_finite(self) -> bool:
        return all(isinstance(p, CategoricalParameter) or p.is_integer for p in self.parameters)

    @property
    def size(self) -> int | None:
        """The number of distinct configurations, or ``None`` when a parameter is continuous."""
        if not self.is_finite:
            return None
        return math.prod(
            len(p.values) if isinstance(p, CategoricalParameter) else int(p.high - p.low) + 1
            for p in self.parameters
        )

    def encode(self, hyperparameters: Mapping[str, str]) -> np.ndarray:
        missing = [n for n in self.names if n not in hyperparameters]
        if missing:
            raise UnknownConfigurationError(f"hyperparameters lack {missing}")
        return np.array(
            [u for p in self.parameters for u in p.encode(hyperparameters[p.name])], dtype=float
        )

    def decode(self, u: Sequence[float]) -> dict[str, str]:
        u = np.asarray(u, dtype=float)
        return {p.name: p.decode(u[s]) for p, s in zip(self.parameters, self._slices, strict=True)}

    def project(self, u: np.ndarray) -> np.ndarray:
        """The feasible point nearest a relaxed one: integers rounded, one-hots made exact."""
        return self.encode(self.decode(u))

    def key(self, hyperparameters: Mapping[str, str]) -> tuple[str, ...]:
        """A canonical identity of a configuration (``"3"`` and ``"3.0"`` are one integer)."""
        missing = [n for n in self.names if n not in hyperparameters]
        if missing:
            raise UnknownConfigurationError(f"hyperparameters lack {missing}")
        return tuple(p.canonical(hyperparameters[p.name]) for p in self.parameters)

    def grid(self) -> Iterator[dict[str, str]]:
        """Every combination of a categorical-only space, the last parameter varying fastest."""
        if not all(isinstance(p, CategoricalParameter) for p in self.parameters):
            raise TuningValidationError(
                "HyperParameterTuningJobConfig.Strategy", "Grid accepts only categorical ranges"
            )
        for combination in itertools.product(*(p.values for p in self.parameters)):
            yield dict(zip(self.names, combination, strict=True))


def _parse_parameter_ranges(ranges: Mapping[str, Any], *, strategy: str) -> list[Parameter]:
    root = "ParameterRanges"
    if not isinstance(ranges, Mapping):
        raise TuningValidationError(root, "must be an object")
    for kind in ranges:
        if kind == "AutoParameters":
            raise TuningValidationError(f"{root}.{kind}", "is not supported; give explicit ranges")
        if kind not in RANGE_KINDS:
            raise TuningValidationError(f"{root}.{kind}", f"is not one of {RANGE_KINDS}")
    parameters: list[Parameter] = []
    seen: set[str] = set()
    for kind in RANGE_KINDS:
        items = ranges.get(kind) or []
        if not isinstance(items, list):
            raise TuningValidationError(f"{root}.{kind}", "must be a list")
        if len(items) > MAX_TUNABLE_PARAMETERS:
            raise TuningValidationError(
                f"{root}.{kind}", f"holds at most {MAX_TUNABLE_PARAMETERS} ranges"
            )
        if items and strategy == "Grid" and kind != "CategoricalParameterRanges":
            raise TuningValidationError(
                f"{root}.{kind}", "the Grid strategy accepts only categorical ranges"
            )
        for i, item in enumerate(items):
            field = f"{root}.{kind}[{i}]"
            if not isinstance(item, Mapping):
                raise TuningValidationError(field, "must be an object")
            name = item.get("Name")
            if not isinstance(name, str) or not name:
                raise TuningValidationError(f"{field}.Name", "is required and must be a string")
            if name in seen:
                raise TuningValidationError(
                    f"{field}.Name", "duplicates another range's name", parameter=name
                )
            seen.add(name)
            if kind == "CategoricalParameterRanges":
                parameters.append(_parse_categorical(item, field=field, name=name))
            else:
                parameters.append(
                    _parse_numeric(
                        item, field=field, name=name, is_integer=kind == "IntegerParameterRanges"
                    )
                )
    if not parameters:
        raise TuningValidationError(root, "must hold at least one range")
    if len(parameters) > MAX_TUNABLE_PARAMETERS:
        raise TuningValidationError(
            root, f"holds {len(parameters)} tunable parameters; at most {MAX_TUNABLE_PARAMETERS}"
        )
    return parameters


def _parse_bound(
    item: Mapping[str, Any], key: str, *, field: str, name: str, is_integer: bool
) -> float:
    raw = item.get(key)
    if not isinstance(raw, str):
        raise TuningValidationError(
            f"{field}.{key}", "is required and must be a string", parameter=name
        )
    if len(raw) > MAX_BOUND_LENGTH:
        raise TuningValidationError(
            f"{field}.{key}", f"is longer than {MAX_BOUND_LENGTH} characters", parameter=name
        )
    try:
        value = int(raw) if is_integer else float(raw)
    except ValueError:
        kind = "an integer" if is_integer else "a number"
        raise TuningValidationError(f"{field}.{key}", f"must be {kind}", parameter=name) from None
    if not math.isfinite(value):
        raise TuningValidationError(f"{field}.{key}", "must be finite", parameter=name)
    return float(value)


def _parse_numeric(
    item: Mapping[str, Any], *, field: str, name: str, is_integer: bool
) -> NumericParameter:
    low = _parse_bound(item, "MinValue", field=field, name=name, is_integer=is_integer)
    high = _parse_bound(item, "MaxValue", field=field, name=name, is_integer=is_integer)
    scaling = item.get("ScalingType", "Auto")
    if scaling not in SCALING_TYPES:
        raise TuningValidationError(
            f"{field}.ScalingType", f"must be one of {SCALING_TYPES}", parameter=name
        )
    if not low < high:
        raise TuningValidationError(
            f"{field}", "MinValue must be less than MaxValue", parameter=name
        )
    if scaling == "Logarithmic" and low <= 0:
        raise TuningValidationError(
            f"{field}.MinValue", "Logarithmic scaling needs MinValue > 0", parameter=name
        )
    if scaling == "ReverseLogarithmic":
        if is_integer:
            raise TuningValidationError(
                f"{field}.ScalingType",
                "ReverseLogarithmic scaling is for continuous ranges only",
                parameter=name,
            )
        if not 0 <= low < high < 1:
            raise TuningValidationError(
                f"{field}",
                "ReverseLogarithmic scaling needs 0 <= MinValue < MaxValue < 1",
                parameter=name,
            )
    if scaling == "Auto":
        spans_decades = low > 0 and math.log10(high / low) >= AUTO_LOG_DECADES
        scaling = "Logarithmic" if spans_decades else "Linear"
    return NumericParameter(name=name, low=low, high=high, scaling=scaling, is_integer=is_integer)


def _parse_categorical(item: Mapping[str, Any], *, field: str, name: str) -> CategoricalParameter:
    values = item.get("Values")
    if not isinstance(values, list) or not values:
        raise TuningValidationError(f"{field}.Values", "must be a non-empty list", parameter=name)
    if len(values) > MAX_CATEGORICAL_VALUES:
        raise TuningValidationError(
            f"{field}.Values", f"holds at most {MAX_CATEGORICAL_VALUES} values", parameter=name
        )
    if not all(isinstance(v, str) for v in values):
        raise TuningValidationError(f"{field}.Values", "must all be strings", parameter=name)
    if len(set(values)) != len(values):
        raise TuningValidationError(f"{field}.Values", "must not repeat a value", parameter=name)
    return CategoricalParameter(name=name, values=tuple(values))
