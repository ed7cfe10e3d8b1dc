"""Parsing SageMaker's string→string HyperParameters against an algorithm's schema."""

from __future__ import annotations

import pytest

from algorithms import HyperparameterError, parse_hyperparameters, resolve_image
from algorithms.base import Hyperparameter
from algorithms.hyperparameters import parse_choice_list, parse_declared

SCHEMA = (
    Hyperparameter("rounds", "int", 10, min=1, max=100),
    Hyperparameter("eta", "float", 0.3, min=0, max=1),
    Hyperparameter("rate", "float", None, min=0, min_exclusive=True),
    Hyperparameter("shuffle", "bool", True),
    Hyperparameter("mode", "str", "fast", choices=("fast", "exact")),
    Hyperparameter("k", "int", required=True, min=1),
    Hyperparameter("lr", "float", "auto", allows_auto=True, min=0),
)


def parse(values: dict[str, str]) -> dict:
    return parse_declared(SCHEMA, values, owner="demo")


def test_values_are_parsed_to_their_types_and_defaults_fill_the_rest() -> None:
    parsed = parse({"k": "4", "eta": "0.1", "shuffle": "false", "mode": "exact", "lr": "0.5"})
    assert parsed == {
        "rounds": 10,
        "eta": 0.1,
        "rate": None,
        "shuffle": False,
        "mode": "exact",
        "k": 4,
        "lr": 0.5,
    }


def test_integral_floats_are_accepted_for_ints_but_fractions_are_not() -> None:
    assert parse({"k": "3.0"})["k"] == 3
    with pytest.raises(HyperparameterError, match=r"'k' must be an integer \(got '3.5'\)"):
        parse({"k": "3.5"})


def test_auto_is_kept_where_allowed() -> None:
    assert parse({"k": "1", "lr": "auto"})["lr"] == "auto"
    with pytest.raises(HyperparameterError, match="'eta' must be a number"):
        parse({"k": "1", "eta": "auto"})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"k": "1", "eta": "3"}, r"hyperparameter 'eta' must be between 0 and 1 \(got '3'\)"),
        ({"k": "0"}, r"hyperparameter 'k' must be at least 1 \(got '0'\)"),
        ({"k": "1", "rate": "0"}, r"'rate' must be greater than 0 \(got '0'\)"),
        ({"k": "1", "rounds": "ten"}, r"'rounds' must be an integer \(got 'ten'\)"),
        ({"k": "1", "shuffle": "maybe"}, r"'shuffle' must be true or false \(got 'maybe'\)"),
        ({"k": "1", "mode": "slow"}, r"'mode' must be one of fast, exact \(got 'slow'\)"),
        ({"k": "1", "eta": "nan"}, r"'eta' must be a finite number"),
        ({}, r"hyperparameter 'k' is required by demo"),
        ({"k": "1", "etta": "0.1"}, r"hyperparameter 'etta' is not a hyperparameter of demo"),
    ],
)
def test_each_broken_rule_names_the_hyperparameter_and_the_rule(values, message) -> None:
    with pytest.raises(HyperparameterError, match=message) as caught:
        parse(values)
    assert caught.value.name in message


def test_platform_keys_are_ignored() -> None:
    parsed = parse(
        {
            "k": "2",
            "sagemaker_program": "train.py",
            "_tuning_objective_metric": "validation:auc",
        }
    )
    assert "sagemaker_program" not in parsed and parsed["k"] == 2


def test_a_built_in_learns_its_tuning_objective() -> None:
    parsed = parse_hyperparameters(
        resolve_image("xgboost"),
        {"num_round": "5", "_tuning_objective_metric": "train:rmse", "sagemaker_region": "x"},
    )
    assert parsed["_tuning_objective_metric"] == "train:rmse"  # what the trial must report
    assert "sagemaker_region" not in parsed


def test_choice_lists_check_every_item() -> None:
    assert parse_choice_list("eval_metric", "auc, logloss", ("auc", "logloss")) == (
        "auc",
        "logloss",
    )
    with pytest.raises(HyperparameterError, match=r"'eval_metric' must list only .*'f1'"):
        parse_choice_list("eval_metric", "auc,f1", ("auc", "logloss"))


def test_algorithm_rules_that_tie_values_together_are_applied() -> None:
    xgboost = resolve_image("xgboost")
    with pytest.raises(HyperparameterError, match="'num_class' is required for objective multi"):
        parse_hyperparameters(xgboost, {"num_round": "5", "objective": "multi:softprob"})
    with pytest.raises(HyperparameterError, match="'eval_metric' must list only"):
        parse_hyperparameters(xgboost, {"num_round": "5", "eval_metric": "auc,accuracyish"})
