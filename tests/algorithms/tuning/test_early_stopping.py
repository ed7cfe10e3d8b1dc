"""The median stopping rule on hand-built learning curves."""

from __future__ import annotations

import pytest

from algorithms.tuning.early_stopping import median_rule_should_stop

# Running averages at epoch 2: 0.85, 0.75, 0.65 -> median 0.75 (loss, lower is better).
EARLIER_LOSSES = [[0.9, 0.8, 0.7], [0.8, 0.7, 0.6], [0.7, 0.6, 0.5]]


def test_a_trial_worse_than_the_median_running_average_stops():
    assert median_rule_should_stop([0.95, 0.8], EARLIER_LOSSES, objective_type="Minimize")


def test_a_trial_whose_best_so_far_beats_the_median_continues():
    # Its last epoch (0.9) is bad, but it reached 0.7 at epoch 1: best-so-far decides.
    assert not median_rule_should_stop([0.7, 0.9], EARLIER_LOSSES, objective_type="Minimize")


def test_equal_to_the_median_is_not_worse():
    assert not median_rule_should_stop([0.8, 0.75], EARLIER_LOSSES, objective_type="Minimize")


def test_maximise_flips_the_comparison():
    accuracies = [[0.6, 0.7], [0.7, 0.8], [0.8, 0.9]]  # running averages 0.65, 0.75, 0.85
    assert median_rule_should_stop([0.5, 0.7], accuracies, objective_type="Maximize")
    assert not median_rule_should_stop([0.5, 0.8], accuracies, objective_type="Maximize")


def test_only_trials_that_reached_the_epoch_count_and_enough_of_them():
    short = [[0.1], [0.1], [0.1]]  # never reached epoch 2: not comparable
    assert not median_rule_should_stop([0.95, 0.9], short, objective_type="Minimize")
    assert not median_rule_should_stop([0.95, 0.9], EARLIER_LOSSES[:2], objective_type="Minimize")
    assert median_rule_should_stop(
        [0.95, 0.9], EARLIER_LOSSES[:2], objective_type="Minimize", min_trials=2
    )


def test_no_stop_before_the_grace_period():
    assert not median_rule_should_stop(
        [0.95, 0.9], EARLIER_LOSSES, objective_type="Minimize", min_epochs=3
    )
    assert not median_rule_should_stop([], EARLIER_LOSSES, objective_type="Minimize")


def test_unknown_objective_type_is_refused():
    with pytest.raises(ValueError, match="Maximize or Minimize"):
        median_rule_should_stop([1.0], EARLIER_LOSSES, objective_type="Lower")
