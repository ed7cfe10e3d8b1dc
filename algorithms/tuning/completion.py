"""``TuningJobCompletionCriteria``: when a tuning job may stop before its job budget is spent.

The job stops when any enabled criterion holds:

- ``TargetObjectiveMetricValue``: some completed trial reached the target (>= when maximising,
  <= when minimising).
- ``BestObjectiveNotImproving.MaxNumberOfTrainingJobsNotImproving = k``: the last ``k``
  completed trials, in completion order, brought no improvement. A trial improves when it beats
  the best so far by at least 1% of the best's magnitude (any strict gain when the best is 0).
- ``ConvergenceDetected.CompleteOnConvergence = Enabled``: the Bayesian tuner's expected
  improvement has collapsed: the maximum EI of each of the last 3 model-based batches is below
  ``1e-3`` in the model's units (warped objective with unit variance), i.e. the model expects no
  trial to gain a thousandth of the spread of the values seen so far.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from algorithms.tuning.errors import TuningValidationError

RELATIVE_IMPROVEMENT = 0.01
CONVERGENCE_EI = 1e-3
CONVERGENCE_ROUNDS = 3
MIN_JOBS_NOT_IMPROVING = 3


@dataclass(frozen=True)
class CompletionCriteria:
    target_objective_metric_value: float | None = None
    max_number_of_training_jobs_not_improving: int | None = None
    complete_on_convergence: bool = False

    @classmethod
    def from_wire(cls, criteria: Mapping[str, Any] | None) -> CompletionCriteria:
        """Parse a ``TuningJobCompletionCriteria`` dict (PascalCase), validating each field."""
        criteria = criteria or {}
        root = "TuningJobCompletionCriteria"
        target = criteria.get("TargetObjectiveMetricValue")
        if target is not None and not (
            isinstance(target, int | float)
            and not isinstance(target, bool)
            and math.isfinite(target)
        ):
            raise TuningValidationError(f"{root}.TargetObjectiveMetricValue", "must be a number")
        patience = (criteria.get("BestObjectiveNotImproving") or {}).get(
            "MaxNumberOfTrainingJobsNotImproving"
        )
        if patience is not None and (
            not isinstance(patience, int)
            or isinstance(patience, bool)
            or patience < MIN_JOBS_NOT_IMPROVING
        ):
            raise TuningValidationError(
                f"{root}.BestObjectiveNotImproving.MaxNumberOfTrainingJobsNotImproving",
                f"must be an integer >= {MIN_JOBS_NOT_IMPROVING}",
            )
        convergence = (criteria.get("ConvergenceDetected") or {}).get(
            "CompleteOnConvergence", "Disabled"
        )
        if convergence not in ("Disabled", "Enabled"):
            raise TuningValidationError(
                f"{root}.ConvergenceDetected.CompleteOnConvergence", "must be Disabled or Enabled"
            )
        return cls(
            target_objective_metric_value=None if target is None else float(target),
            max_number_of_training_jobs_not_improving=patience,
            complete_on_convergence=convergence == "Enabled",
        )

    def reason_to_stop(
        self,
        objective_values: Sequence[float],
        *,
        objective_type: str,
        max_log_expected_improvements: Sequence[float] = (),
    ) -> str | None:
        """Which criterion holds for the completed trials' values (completion order), if any."""
        better = _better(objective_type)
        target = self.target_objective_metric_value
        if target is not None and any(better(v, target) or v == target for v in objective_values):
            return "TargetObjectiveMetricValue"
        patience = self.max_number_of_training_jobs_not_improving
        if (
            patience is not None
            and jobs_not_improving(objective_values, objective_type=objective_type) >= patience
        ):
            return "BestObjectiveNotImproving"
        if self.complete_on_convergence and has_converged(max_log_expected_improvements):
            return "ConvergenceDetected"
        return None


def jobs_not_improving(objective_values: Sequence[float], *, objective_type: str) -> int:
    """How many trials completed since the last one that improved the best by >= 1%."""
    better = _better(objective_type)
    best: float | None = None
    since = 0
    for value in objective_values:
        if best is None or (
            better(value, best) and abs(value - best) >= RELATIVE_IMPROVEMENT * abs(best)
        ):
            best, since = value, 0
        else:
            since += 1
            if better(value, best):
                best = value  # a small gain still moves the bar for the next 1%
    return since


def has_converged(max_log_expected_improvements: Sequence[float]) -> bool:
    """Whether the last few model-based batches all expected less than ``CONVERGENCE_EI``."""
    recent = list(max_log_expected_improvements)[-CONVERGENCE_ROUNDS:]
    threshold = math.log(CONVERGENCE_EI)
    return len(recent) == CONVERGENCE_ROUNDS and all(v < threshold for v in recent)


def _better(objective_type: str):
    if objective_type == "Maximize":
        return lambda a, b: a > b
    if objective_type == "Minimize":
        return lambda a, b: a < b
    raise ValueError(f"objective_type must be Maximize or Minimize, not {objective_type!r}")
