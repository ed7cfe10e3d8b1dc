"""The median stopping rule behind ``TrainingJobEarlyStoppingType: Auto``.

The rule, exactly: a running trial that has reported ``t`` per-epoch objective values is stopped
when its best value so far is worse than the median, over the earlier trials that reported at
least ``t`` values, of their running averages of the first ``t`` values. "Worse" is strict, and
is "higher" when minimising, "lower" when maximising. Nothing is stopped before ``min_epochs``
values, nor while fewer than ``min_trials`` earlier trials reached epoch ``t`` (a median of one or
two curves is noise). This is SageMaker's documented rule with the running trial's best-so-far
in place of its last value, as in Google Vizier: a noisy epoch alone does not stop a good trial.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def median_rule_should_stop(
    history: Sequence[float],
    earlier_histories: Sequence[Sequence[float]],
    *,
    objective_type: str,
    min_trials: int = 3,
    min_epochs: int = 1,
) -> bool:
    """Whether the trial with per-epoch ``history`` should stop now (see the module docstring)."""
    if objective_type not in ("Maximize", "Minimize"):
        raise ValueError(f"objective_type must be Maximize or Minimize, not {objective_type!r}")
    t = len(history)
    if t == 0 or t < min_epochs:
        return False
    reference = [statistics.fmean(h[:t]) for h in earlier_histories if len(h) >= t]
    if len(reference) < max(min_trials, 1):
        return False
    median = statistics.median(reference)
    if objective_type == "Minimize":
        return min(history) > median
    return max(history) < median
