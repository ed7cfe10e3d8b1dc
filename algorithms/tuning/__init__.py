"""Hyperparameter tuning: search space, ask/tell tuner, Hyperband, early stopping, completion."""

from algorithms.tuning.errors import TrialStateError, TuningError, TuningValidationError
from algorithms.tuning.optimizer import BestTrial, Trial, Tuner
from algorithms.tuning.space import SearchSpace

__all__ = [
    "BestTrial",
    "SearchSpace",
    "Trial",
    "TrialStateError",
    "Tuner",
    "TuningError",
    "TuningValidationError",
]
