"""``lightgbm``: gradient-boosted trees with SageMaker JumpStart LightGBM's hyperparameter names.

Metrics are reported with LightGBM's names (``validation:auc``, ``train:binary_logloss``,
``validation:rmse``). Predictions: ``score`` (value, probability of class 1, or class
probabilities) plus ``predicted_label`` for classifiers; CSV carries the score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from algorithms.base import Hyperparameter, HyperparameterError, Model
from algorithms.builtin.boosting import BoosterModel, BoostingAlgorithm, BoostingSetup
from algorithms.hyperparameters import parse_choice_list
from algorithms.manifest import read_manifest
from algorithms.registry import register

OBJECTIVES = ("regression", "binary", "multiclass")
METRICS = (
    "auto",
    "rmse",
    "l2",
    "l1",
    "mae",
    "mape",
    "huber",
    "auc",
    "average_precision",
    "binary_logloss",
    "binary_error",
    "multi_logloss",
    "multi_error",
)
# "auto" picks what a SageMaker user would look at first for the objective.
AUTO_METRIC = {"regression": "rmse", "binary": "binary_logloss", "multiclass": "multi_logloss"}


@register("lightgbm")
class LightGBM(BoostingAlgorithm):
    metrics = tuple(
        f"{channel}:{metric}"
        for channel in ("train", "validation")
        for metric in METRICS
        if metric != "auto"
    )
    hyperparameters = (
        Hyperparameter("num_boost_round", "int", 100, min=1, max=100_000),
        Hyperparameter("learning_rate", "float", 0.1, min=0, min_exclusive=True, max=1),
        Hyperparameter("num_leaves", "int", 31, min=2, max=131_072),
        Hyperparameter("max_depth", "int", -1, min=-1, max=1000),
        Hyperparameter("min_data_in_leaf", "int", 20, min=0),
        Hyperparameter("feature_fraction", "float", 1.0, min=0, min_exclusive=True, max=1),
        Hyperparameter("bagging_fraction", "float", 1.0, min=0, min_exclusive=True, max=1),
        Hyperparameter("bagging_freq", "int", 0, min=0),
        Hyperparameter("lambda_l1", "float", 0.0, min=0),
        Hyperparameter("lambda_l2", "float", 0.0, min=0),
        Hyperparameter("objective", "str", "regression", choices=OBJECTIVES),
        Hyperparameter("num_class", "int", 1, min=1),
        Hyperparameter(
            "metric", "str", "auto", description=f"comma-separated list of {', '.join(METRICS)}"
        ),
        Hyperparameter(
            "early_stopping_rounds",
            "int",
            None,
            min=1,
            description="needs a validation channel; stops on the first metric",
        ),
        Hyperparameter("seed", "int", None),
        Hyperparameter("num_threads", "int", 0, min=0, description="0: all cores"),
    )

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        parse_choice_list("metric", values["metric"], METRICS)
        if values["objective"] == "multiclass" and values["num_class"] < 2:
            raise HyperparameterError("num_class", "must be at least 2 for objective multiclass")
        if values["objective"] != "multiclass" and values["num_class"] != 1:
            raise HyperparameterError(
                "num_class", f"must be 1 (or unset) for objective {values['objective']}"
            )

    @classmethod
    def boosting_setup(cls, hyperparameters: dict[str, Any]) -> BoostingSetup:
        hp = hyperparameters
        return BoostingSetup(
            params=booster_params(hp),
            num_boost_round=hp["num_boost_round"],
            early_stopping_rounds=hp["early_stopping_rounds"],
            objective=hp["objective"],
            num_class=hp["num_class"],
        )

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        manifest = read_manifest(model_dir)
        classifier = manifest.hyperparameters["objective"] != "regression"
        return BoosterModel.from_dir(model_dir, with_label=classifier)


def booster_params(hp: dict[str, Any]) -> dict[str, Any]:
    metrics = [
        AUTO_METRIC[hp["objective"]] if metric == "auto" else metric
        for metric in parse_choice_list("metric", hp["metric"], METRICS)
    ]
    params = {
        "objective": hp["objective"],
        "metric": metrics,
        "learning_rate": hp["learning_rate"],
        "num_leaves": hp["num_leaves"],
        "max_depth": hp["max_depth"],
        "min_data_in_leaf": hp["min_data_in_leaf"],
        "feature_fraction": hp["feature_fraction"],
        "bagging_fraction": hp["bagging_fraction"],
        "bagging_freq": hp["bagging_freq"],
        "lambda_l1": hp["lambda_l1"],
        "lambda_l2": hp["lambda_l2"],
        "num_threads": hp["num_threads"],
    }
    if hp["objective"] == "multiclass":
        params["num_class"] = hp["num_class"]
    if hp["seed"] is not None:
        params["seed"] = hp["seed"]
    return params
