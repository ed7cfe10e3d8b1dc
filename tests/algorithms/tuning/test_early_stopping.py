"""The median stopping rule on hand-built learning curves, and which running trials it stops."""

from __future__ import annotations

import pytest

from algorithms.tuning.early_stopping import median_rule_should_stop, trials_to_stop_early


def curve(*values: float) -> dict[int, float]:
    """A curve with a value at every epoch from 1."""
    return dict(enumerate(values, start=1))


# Running averages at epoch 2: 0.85, 0.75, 0.65 -> median 0.75 (loss, lower is better).
EARLIER_LOSSES = [curve(0.9, 0.8, 0.7), curve(0.8, 0.7, 0.6), curve(0.7, 0.6, 0.5)]


def test_a_trial_worse_than_the_median_running_average_stops():
    assert median_rule_should_stop(curve(0.95, 0.8), EARLIER_LOSSES, objective_type="Minimize")


def test_a_trial_whose_best_so_far_beats_the_median_continues():
    # Its last epoch (0.9) is bad, but it reached 0.7 at epoch 1: best-so-far decides.
    assert not median_rule_should_stop(curve(0.7, 0.9), EARLIER_LOSSES, objective_type="Minimize")


def test_equal_to_the_median_is_not_worse():
    assert not median_rule_should_stop(curve(0.8, 0.75), EARLIER_LOSSES, objective_type="Minimize")


def test_maximise_flips_the_comparison():
    accuracies = [curve(0.6, 0.7), curve(0.7, 0.8), curve(0.8, 0.9)]  # averages 0.65, 0.75, 0.85
    assert median_rule_should_stop(curve(0.5, 0.7), accuracies, objective_type="Maximize")
    assert not median_rule_should_stop(curve(0.5, 0.8), accuracies, objective_type="Maximize")


def test_only_trials_that_reached_the_epoch_count_and_enough_of_them():
    short = [curve(0.1), curve(0.1), curve(0.1)]  # never reached epoch 2: not comparable
    assert not median_rule_should_stop(curve(0.95, 0.9), short, objective_type="Minimize")
    two = EARLIER_LOSSES[:2]
    assert not median_rule_should_stop(curve(0.95, 0.9), two, objective_type="Minimize")
    assert median_rule_should_stop(curve(0.95, 0.9), two, objective_type="Minimize", min_trials=2)


def test_curves_with_gaps_are_compared_at_the_same_epoch_not_the_same_count():
    # Training-set losses measured at some iterations only (as the boosting algorithms do on
    # large data). Each earlier trial's five values span 90 epochs; their running averages over
    # five values are about 0.46, but up to epoch 5 they are 0.685.
    earlier = [{1: 0.69, 2: 0.68, 30: 0.40, 60: 0.30, 90: 0.25}] * 3
    measured_every_epoch = curve(0.69, 0.68, 0.67, 0.66, 0.65)
    assert not median_rule_should_stop(measured_every_epoch, earlier, objective_type="Minimize")
    # At epoch 60 the earlier trials averaged (0.69 + 0.68 + 0.40 + 0.30) / 4 = 0.5175.
    assert median_rule_should_stop({1: 0.69, 60: 0.6}, earlier, objective_type="Minimize")
    assert not median_rule_should_stop({1: 0.69, 60: 0.5}, earlier, objective_type="Minimize")


def test_an_earlier_curve_without_a_value_by_the_epoch_is_not_comparable():
    late_starters = [{50: 0.1, 100: 0.05}] * 3
    assert not median_rule_should_stop(curve(0.9, 0.9), late_starters, objective_type="Minimize")


def test_no_stop_before_the_grace_period():
    assert not median_rule_should_stop(
        curve(0.95, 0.9), EARLIER_LOSSES, objective_type="Minimize", min_epochs=3
    )
    assert not median_rule_should_stop({}, EARLIER_LOSSES, objective_type="Minimize")


def test_unknown_objective_type_is_refused():
    with pytest.raises(ValueError, match="Maximize or Minimize"):
        median_rule_should_stop(curve(1.0), EARLIER_LOSSES, objective_type="Lower")


def test_each_running_trial_is_compared_with_the_trials_launched_before_it():
    curves = {
        "a": curve(0.9, 0.8, 0.7),
        "b": curve(0.8, 0.7, 0.6),
        "slow": curve(0.95, 0.8),  # worse than a, b and c, but only a and b came before it
        "c": curve(0.7, 0.6, 0.5),
        "late": curve(0.95, 0.85),  # worse than the median (0.8) of a, b, slow and c at epoch 2
        "fresh": {},  # no values yet
    }
    stopped = trials_to_stop_early(
        curves, running={"slow", "late", "fresh"}, objective_type="Minimize"
    )
    assert stopped == ["late"]


def test_trials_that_ended_are_not_chosen():
    curves = {**dict(zip("abc", EARLIER_LOSSES, strict=True)), "ended": curve(0.95, 0.8)}
    assert trials_to_stop_early(curves, running=set(), objective_type="Minimize") == []
    assert trials_to_stop_early(curves, running={"ended"}, objective_type="Minimize") == ["ended"]
