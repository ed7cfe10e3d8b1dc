"""TuningJobCompletionCriteria: target value, best not improving, convergence."""

from __future__ import annotations

import math

import pytest

from algorithms.tuning import TuningValidationError
from algorithms.tuning.completion import CompletionCriteria, jobs_not_improving


def test_target_objective_value_stops_once_reached():
    criteria = CompletionCriteria.from_wire({"TargetObjectiveMetricValue": 0.9})
    assert criteria.reason_to_stop([0.5, 0.85], objective_type="Maximize") is None
    assert criteria.reason_to_stop([0.5, 0.9], objective_type="Maximize") == (
        "TargetObjectiveMetricValue"
    )
    assert criteria.reason_to_stop([1.0], objective_type="Minimize") is None
    assert criteria.reason_to_stop([1.0, 0.3], objective_type="Minimize") is not None


def test_gains_under_one_percent_do_not_count_as_improving():
    # 1.0 -> 1.005 (+0.5%) -> 1.012 (+0.7% on 1.005) -> 1.03 (+1.8%)
    assert jobs_not_improving([1.0, 1.005, 1.012], objective_type="Maximize") == 2
    assert jobs_not_improving([1.0, 1.005, 1.012, 1.03], objective_type="Maximize") == 0
    assert jobs_not_improving([10.0, 9.95, 11.0, 9.0], objective_type="Minimize") == 0
    assert jobs_not_improving([10.0, 9.95, 11.0], objective_type="Minimize") == 2


def test_best_objective_not_improving_stops_after_k_jobs():
    criteria = CompletionCriteria.from_wire(
        {"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}}
    )
    values = [0.5, 0.7, 0.69, 0.701, 0.6]
    assert criteria.reason_to_stop(values[:4], objective_type="Maximize") is None
    assert criteria.reason_to_stop(values, objective_type="Maximize") == "BestObjectiveNotImproving"


def test_convergence_needs_three_rounds_of_tiny_expected_improvement():
    criteria = CompletionCriteria.from_wire(
        {"ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}}
    )
    tiny, large = math.log(1e-5), math.log(0.1)
    assert (
        criteria.reason_to_stop(
            [1.0], objective_type="Maximize", max_log_expected_improvements=[large, tiny, tiny]
        )
        is None
    )
    assert (
        criteria.reason_to_stop(
            [1.0],
            objective_type="Maximize",
            max_log_expected_improvements=[large, tiny, tiny, tiny],
        )
        == "ConvergenceDetected"
    )
    disabled = CompletionCriteria.from_wire({})
    assert (
        disabled.reason_to_stop(
            [1.0], objective_type="Maximize", max_log_expected_improvements=[tiny] * 5
        )
        is None
    )


@pytest.mark.parametrize(
    ("wire", "field"),
    [
        ({"TargetObjectiveMetricValue": "high"}, "TargetObjectiveMetricValue"),
        ({"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 2}}, "NotImproving"),
        ({"ConvergenceDetected": {"CompleteOnConvergence": "Yes"}}, "CompleteOnConvergence"),
    ],
)
def test_invalid_criteria_name_their_field(wire, field):
    with pytest.raises(TuningValidationError) as caught:
        CompletionCriteria.from_wire(wire)
    assert field in caught.value.field
