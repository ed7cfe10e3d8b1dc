"""Typed errors of hyperparameter tuning: each names the offending field and the rule it broke."""

from __future__ import annotations


class TuningError(Exception):
    """Base of the errors raised by :mod:`algorithms.tuning`."""


class TuningValidationError(TuningError, ValueError):
    """A tuning specification breaks a rule of SageMaker's ``HyperParameterTuningJobConfig``.

    ``field`` is the wire path (``ParameterRanges.ContinuousParameterRanges[0].MinValue``),
    ``parameter`` the hyperparameter's name when one is involved, ``rule`` the broken rule in words.
    """

    def __init__(self, field: str, rule: str, *, parameter: str | None = None) -> None:
        where = f"{field} ({parameter!r})" if parameter else field
        super().__init__(f"{where}: {rule}")
        self.field = field
        self.rule = rule
        self.parameter = parameter


class UnknownConfigurationError(TuningError, KeyError):
    """A hyperparameter dict that the tuner did not suggest (or is not in its search space)."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule

    def __str__(self) -> str:
        return self.rule


class TrialStateError(TuningError):
    """A trial was observed twice, or marked running after it finished."""
