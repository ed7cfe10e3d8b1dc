"""The median stopping rule behind ``TrainingJobEarlyStoppingType: Auto``.

A learning curve maps epochs (a built-in algorithm's iteration, or the order of a log-parsed
metric's values) to objective values. It may have gaps: the boosting algorithms measure the
training set at only some iterations on large data, so a ``train:*`` curve can hold epochs 1, 2,
40, 95, ... and a count of values is no epoch.

The rule, exactly: a running trial whose latest epoch is ``t`` is stopped when its best value so
far is worse than the median, over the earlier trials whose curves reached epoch ``t``, of their
running averages up to ``t`` (the mean of their values at epochs ``<= t``; a curve with no value
by ``t`` is not comparable). "Worse" is strict, and is "higher" when minimising, "lower" when
maximising. Nothing is stopped before epoch ``min_epochs``, nor while fewer than ``min_trials``
earlier trials reached epoch ``t`` (a median of one or two curves is noise). This is SageMaker's
documented rule with the running trial's best-so-far in place of its last value, as in Google
Vizier: a noisy epoch alone does not stop a good trial.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Hashable, Mapping, Sequence
from typing import TypeVar

Curve = Mapping[int, float]
"""Objective values by epoch."""

T = TypeVar("T", bound=Hashable)


def median_rule_should_stop(
    curve: Curve,
    earlier_curves: Sequence[Curve],
    *,
    objective_type: str,
    min_trials: int = 3,
    min_epochs: int = 1,
) -> bool:
    """Whether the trial with learning ``curve`` should stop now (see the module docstring)."""
    if objective_type not in ("Maximize", "Minimize"):
        raise ValueError(f"objective_type must be Maximize or Minimize, not {objective_type!r}")
    if not curve:
        return False
    t = max(curve)
    if t < min_epochs:
        return False
    reference = []
    for earlier in earlier_curves:
        values = [value for epoch, value in earlier.items() if epoch <= t]
        if values and max(earlier) >= t:
            reference.append(statistics.fmean(values))
    if len(reference) < max(min_trials, 1):
        return False
    median = statistics.median(reference)
    if objective_type == "Minimize":
        return min(curve.values()) > median
    return max(curve.values()) < median


def trials_to_stop_early(
    curves: Mapping[T, Curve], *, running: Collection[T], objective_type: str
) -> list[T]:
    """The running trials that the median rule stops now. ``curves`` holds every trial's learning
    curve (empty when it has none yet), in the order the trials were launched: each running trial
    is compared with the trials launched before it, at its own latest epoch."""
    trials = list(curves)
    return [
        trial
        for position, trial in enumerate(trials)
        if trial in running
        and curves[trial]
        and median_rule_should_stop(
            curves[trial],
            [curves[earlier] for earlier in trials[:position]],
            objective_type=objective_type,
        )
    ]
