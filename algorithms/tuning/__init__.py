"""Hyperparameter tuning: search space, ask/tell tuner, Hyperband, early stopping, completion."""

from algorithms.tuning.completion import CompletionCriteria
from algorithms.tuning.early_stopping import median_rule_should_stop
from algorithms.tuning.errors import (
    TrialStateError,
    TuningError,
    TuningValidationError,
    UnknownConfigurationError,
)
from algorithms.tuning.hyperband import Hyperband, HyperbandJob, hyperband_brackets
from algorithms.tuning.optimizer import BestTrial, Trial, Tuner
from algorithms.tuning.space import SearchSpace

__all__ = [
    "BestTrial",
    "CompletionCriteria",
    "Hyperband",
    "HyperbandJob",
    "SearchSpace",
    "Trial",
    "TrialStateError",
    "Tuner",
    "TuningError",
    "TuningValidationError",
    "UnknownConfigurationError",
    "hyperband_brackets",
    "median_rule_should_stop",
]
