"""The ask/tell tuner: determinism, pending handling, Grid, budgets, and Bayesian beating Random."""

from __future__ import annotations

import math
import statistics

import pytest
import torch

from algorithms.tuning import TrialStateError, Tuner, TuningValidationError

BRANIN_OPTIMUM = 0.397887357729739
BRANIN = {
    "ContinuousParameterRanges": [
        {"Name": "x1", "MinValue": "-5", "MaxValue": "10", "ScalingType": "Linear"},
        {"Name": "x2", "MinValue": "0", "MaxValue": "15", "ScalingType": "Linear"},
    ]
}
MIXED = {
    "ContinuousParameterRanges": [
        {"Name": "eta", "MinValue": "0.001", "MaxValue": "0.5", "ScalingType": "Logarithmic"}
    ],
    "IntegerParameterRanges": [
        {"Name": "max_depth", "MinValue": "2", "MaxValue": "6", "ScalingType": "Linear"}
    ],
    "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def branin(hp: dict[str, str]) -> float:
    x1, x2 = float(hp["x1"]), float(hp["x2"])
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def mixed_objective(hp: dict[str, str]) -> float:
    penalty = 0.3 if hp["booster"] == "dart" else 0.0
    return (math.log10(float(hp["eta"])) + 1.5) ** 2 + (int(hp["max_depth"]) - 4) ** 2 / 4 + penalty


def run(tuner: Tuner, objective, evaluations: int, *, batch: int = 1) -> list[dict[str, str]]:
    seen = []
    while len(seen) < evaluations:
        suggestions = tuner.suggest(batch)
        seen += suggestions
        for hp in suggestions:
            tuner.observe(hp, objective(hp))
    return seen


@pytest.mark.parametrize("strategy", ["Random", "Bayesian"])
def test_the_same_seed_gives_the_same_suggestions(strategy):
    a = Tuner(MIXED, strategy=strategy, objective_type="Minimize", seed=7)
    b = Tuner(MIXED, strategy=strategy, objective_type="Minimize", seed=7)
    c = Tuner(MIXED, strategy=strategy, objective_type="Minimize", seed=8)
    first = run(a, mixed_objective, 8, batch=2)
    assert run(b, mixed_objective, 8, batch=2) == first
    assert run(c, mixed_objective, 8, batch=2) != first


@pytest.mark.parametrize("strategy", ["Random", "Bayesian"])
def test_pending_and_done_configurations_are_never_suggested_again(strategy):
    # 5 depths x 2 boosters x a continuous eta: duplicates would come from the discrete part.
    ranges = {
        "IntegerParameterRanges": [
            {"Name": "max_depth", "MinValue": "2", "MaxValue": "4", "ScalingType": "Linear"}
        ],
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart", "x"]}],
    }
    tuner = Tuner(ranges, strategy=strategy, objective_type="Maximize", seed=3)
    first = tuner.suggest(4)  # running
    for hp in first[:2]:
        tuner.observe(hp, float(hp["max_depth"]))
    rest = tuner.suggest(10)
    keys = [tuple(sorted(hp.items())) for hp in first + rest]
    assert len(keys) == len(set(keys)) == 9  # the whole 3 x 3 space, each once
    assert tuner.suggest(1) == []


def test_parallel_bayesian_suggestions_differ_from_each_other():
    tuner = Tuner(BRANIN, objective_type="Minimize", seed=0)
    run(tuner, branin, 8)
    batch = tuner.suggest(4)
    points = [(float(hp["x1"]), float(hp["x2"])) for hp in batch]
    closest = min(math.dist(p, q) for i, p in enumerate(points) for q in points[i + 1 :])
    assert closest > 1e-3


def test_integers_and_categoricals_come_back_exact():
    tuner = Tuner(MIXED, objective_type="Minimize", seed=1)
    for hp in run(tuner, mixed_objective, 10, batch=2):
        assert hp["booster"] in ("gbtree", "dart")
        assert hp["max_depth"] in {"2", "3", "4", "5", "6"}
        assert 0.001 <= float(hp["eta"]) <= 0.5


def test_grid_enumerates_every_combination_once_then_stops():
    ranges = {
        "CategoricalParameterRanges": [
            {"Name": "a", "Values": ["1", "2", "3"]},
            {"Name": "b", "Values": ["x", "y"]},
        ]
    }
    tuner = Tuner(ranges, strategy="Grid", objective_type="Maximize")
    assert tuner.grid_size == 6
    first = tuner.suggest(4)
    tuner.observe(first[0], 1.0)
    tuner.observe_failed(first[1])
    rest = tuner.suggest(10)
    combinations = {(hp["a"], hp["b"]) for hp in first + rest}
    assert len(first + rest) == 6 == len(combinations)
    assert tuner.suggest(3) == []


def test_grid_budget_must_equal_the_number_of_combinations():
    ranges = {"CategoricalParameterRanges": [{"Name": "a", "Values": ["1", "2", "3"]}]}
    with pytest.raises(TuningValidationError, match="3"):
        Tuner(ranges, strategy="Grid", max_number_of_training_jobs=5)
    assert Tuner(ranges, strategy="Grid", max_number_of_training_jobs=3).remaining == 3


def test_max_number_of_training_jobs_caps_suggestions():
    tuner = Tuner(BRANIN, strategy="Random", max_number_of_training_jobs=5, seed=0)
    assert len(tuner.suggest(3)) == 3
    assert len(tuner.suggest(3)) == 2
    assert tuner.suggest(1) == []


def test_best_follows_the_objective_direction_and_ignores_failures():
    for objective_type, expected in (("Maximize", 3.0), ("Minimize", 1.0)):
        tuner = Tuner(BRANIN, strategy="Random", objective_type=objective_type, seed=0)
        a, b, c, d = tuner.suggest(4)
        tuner.observe(a, 1.0)
        tuner.observe(b, 3.0)
        tuner.observe(c, float("nan"))  # no objective emitted: a failed trial
        tuner.observe_failed(d)
        assert tuner.best.value == expected
        assert tuner.best.hyperparameters == (b if expected == 3.0 else a)
        assert [t.state for t in tuner.trials].count("Failed") == 2


def test_observing_a_finished_trial_again_is_refused():
    tuner = Tuner(BRANIN, strategy="Random", seed=0)
    [hp] = tuner.suggest(1)
    tuner.observe(hp, 1.0)
    with pytest.raises(TrialStateError):
        tuner.observe(hp, 2.0)
    with pytest.raises(TrialStateError):
        tuner.mark_pending(hp)


def test_a_resumed_job_replays_pending_trials():
    tuner = Tuner(MIXED, strategy="Random", seed=5)
    running = tuner.suggest(3)
    resumed = Tuner(MIXED, strategy="Random", seed=6)
    for hp in running:
        resumed.mark_pending(hp)
    fresh = resumed.suggest(20)
    assert not {tuple(sorted(h.items())) for h in fresh} & {
        tuple(sorted(h.items())) for h in running
    }


def test_unknown_strategy_and_objective_type_are_refused():
    with pytest.raises(TuningValidationError, match="Strategy"):
        Tuner(BRANIN, strategy="Evolutionary")
    with pytest.raises(TuningValidationError, match="Type"):
        Tuner(BRANIN, objective_type="Max")


def test_bayesian_beats_random_on_branin():
    def regret(strategy: str, seed: int) -> float:
        tuner = Tuner(BRANIN, strategy=strategy, objective_type="Minimize", seed=seed)
        run(tuner, branin, 25)
        return math.log10(tuner.best.value - BRANIN_OPTIMUM)

    seeds = range(3)
    bayesian = statistics.median(regret("Bayesian", s) for s in seeds)
    random = statistics.median(regret("Random", s) for s in seeds)
    assert bayesian < random - 1.0  # at least ten times closer to the optimum
