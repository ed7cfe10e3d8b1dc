"""Hyperband: bracket arithmetic and the launch/report/promote schedule."""

from __future__ import annotations

import pytest

from algorithms.tuning import Tuner, TuningValidationError
from algorithms.tuning.hyperband import Hyperband, hyperband_brackets

RANGES = {
    "ContinuousParameterRanges": [
        {"Name": "lr", "MinValue": "0.001", "MaxValue": "0.1", "ScalingType": "Logarithmic"}
    ]
}


def shape(brackets):
    return [[(r.num_configurations, r.resource) for r in b.rungs] for b in brackets]


def test_brackets_for_r_81_match_the_hyperband_paper():
    # Li et al. (2018), Table 1: R = 81, eta = 3.
    assert shape(hyperband_brackets(min_resource=1, max_resource=81)) == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]


def test_resources_stay_within_bounds_when_not_a_power_of_eta():
    brackets = hyperband_brackets(min_resource=2, max_resource=50)
    assert len(brackets) == 3  # floor(log3 25) + 1
    for bracket in brackets:
        assert bracket.rungs[-1].resource == 50
        assert all(2 <= r.resource <= 50 for r in bracket.rungs)
        counts = [r.num_configurations for r in bracket.rungs]
        assert counts == sorted(counts, reverse=True) and counts[-1] >= 1


@pytest.mark.parametrize(("low", "high"), [(0, 10), (10, 5), (1, 20_001)])
def test_invalid_resources_are_refused(low, high):
    with pytest.raises(TuningValidationError, match="Resource"):
        hyperband_brackets(min_resource=low, max_resource=high)


def test_schedule_promotes_the_best_third_with_more_epochs():
    tuner = Tuner(RANGES, strategy="Hyperband", objective_type="Minimize", seed=0)
    schedule = Hyperband(tuner.suggest, min_resource=1, max_resource=9, objective_type="Minimize")
    first = schedule.next_jobs()
    # Brackets s=2 (9 at 1 epoch), s=1 (5 at 3 epochs), s=0 (3 at 9 epochs).
    assert [j.hyperparameters["epochs"] for j in first].count("1") == 9
    assert all(set(j.hyperparameters) == {"lr", "epochs"} for j in first)
    widest = [j for j in first if j.bracket == 2]
    assert schedule.next_jobs() == []
    for job in widest:
        schedule.report(job, float(job.hyperparameters["lr"]))  # smaller lr is better
    promoted = schedule.next_jobs()
    assert len(promoted) == 3 and all(j.hyperparameters["epochs"] == "3" for j in promoted)
    best_three = sorted(widest, key=lambda j: float(j.hyperparameters["lr"]))[:3]
    assert {j.hyperparameters["lr"] for j in promoted} == {
        j.hyperparameters["lr"] for j in best_three
    }


def test_failed_jobs_rank_last_and_the_schedule_finishes():
    tuner = Tuner(RANGES, strategy="Hyperband", objective_type="Maximize", seed=1)
    schedule = Hyperband(tuner.suggest, min_resource=1, max_resource=3, objective_type="Maximize")
    launched = 0
    while not schedule.finished:
        jobs = schedule.next_jobs(limit=2)
        assert jobs, "a running schedule always has work once results are in"
        for job in jobs:
            launched += 1
            failed = job.configuration == 0 and job.rung == 0
            schedule.report(job, None if failed else float(job.hyperparameters["lr"]))
            if job.rung == 1 and job.bracket == 1:
                assert job.configuration != 0
    total = sum(r.num_configurations for b in schedule.brackets for r in b.rungs)
    assert launched == total
