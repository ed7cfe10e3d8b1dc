"""``xgboost``: SageMaker XGBoost's hyperparameters, metric names and outputs, on LightGBM.

Trees are grown by LightGBM (histogram-based, like ``tree_method=hist``) with XGBoost's names
mapped onto it; ``max_depth`` bounds the depth and allows up to ``2**max_depth`` leaves, as a
depth-wise tree would have. Predictions match SageMaker XGBoost: a probability for
``binary:logistic``, a 0/1 for ``binary:hinge``, class probabilities per row for
``multi:softprob``, the class index for ``multi:softmax``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from algorithms.base import Hyperparameter, HyperparameterError, Model
from algorithms.builtin.boosting import BoosterModel, BoostingAlgorithm, BoostingSetup
from algorithms.hyperparameters import parse_choice_list
from algorithms.manifest import read_manifest
from algorithms.registry import register

# XGBoost objective → (LightGBM objective, default eval_metric, how predictions are shaped).
OBJECTIVES = {
    "reg:squarederror": ("regression", "rmse", "value"),
    "reg:absoluteerror": ("regression_l1", "mae", "value"),
    "reg:logistic": ("cross_entropy", "rmse", "value"),
    "binary:logistic": ("binary", "logloss", "value"),
    "binary:hinge": ("binary", "error", "threshold"),
    "multi:softprob": ("multiclass", "mlogloss", "value"),
    "multi:softmax": ("multiclass", "mlogloss", "class"),
}
# XGBoost eval_metric → LightGBM metric; reported under the XGBoost name.
EVAL_METRICS = {
    "rmse": "rmse",
    "mae": "l1",
    "mape": "mape",
    "auc": "auc",
    "aucpr": "average_precision",
    "logloss": "binary_logloss",
    "error": "binary_error",
    "mlogloss": "multi_logloss",
    "merror": "multi_error",
}
REPORTED_NAMES = {lightgbm: xgboost for xgboost, lightgbm in EVAL_METRICS.items()}
_UNBOUNDED_DEPTH_LEAVES = 255
_MAX_LEAVES = 131_072


@register("xgboost")
class XGBoost(BoostingAlgorithm):
    metrics = tuple(
        f"{channel}:{metric}" for channel in ("train", "validation") for metric in EVAL_METRICS
    )
    hyperparameters = (
        Hyperparameter("num_round", "int", required=True, min=1, max=100_000),
        Hyperparameter("eta", "float", 0.3, min=0, max=1),
        Hyperparameter("max_depth", "int", 6, min=0, max=64, description="0: no limit"),
        Hyperparameter("subsample", "float", 1.0, min=0, min_exclusive=True, max=1),
        Hyperparameter("colsample_bytree", "float", 1.0, min=0, min_exclusive=True, max=1),
        Hyperparameter("min_child_weight", "float", 1.0, min=0),
        Hyperparameter("alpha", "float", 0.0, min=0),
        Hyperparameter("lambda", "float", 1.0, min=0),
        Hyperparameter("gamma", "float", 0.0, min=0),
        Hyperparameter("scale_pos_weight", "float", 1.0, min=0, min_exclusive=True),
        Hyperparameter("max_bin", "int", 256, min=2),
        Hyperparameter("objective", "str", "reg:squarederror", choices=tuple(OBJECTIVES)),
        Hyperparameter("num_class", "int", None, min=2),
        Hyperparameter(
            "eval_metric",
            "str",
            None,
            description=f"comma-separated list of {', '.join(EVAL_METRICS)}",
        ),
        Hyperparameter(
            "early_stopping_rounds",
            "int",
            None,
            min=1,
            description="needs a validation channel; stops on the last eval_metric",
        ),
        Hyperparameter("seed", "int", 0),
        Hyperparameter("nthread", "int", None, min=1),
        # Accepted so that existing SageMaker jobs run unchanged; LightGBM always builds
        # histograms and logs through the reporter.
        Hyperparameter("tree_method", "str", "auto", choices=("auto", "exact", "approx", "hist")),
        Hyperparameter("verbosity", "int", 1, min=0, max=3),
    )

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        if values["eval_metric"] is not None:
            parse_choice_list("eval_metric", values["eval_metric"], EVAL_METRICS)
        multiclass = values["objective"].startswith("multi:")
        if multiclass and values["num_class"] is None:
            raise HyperparameterError(
                "num_class", f"is required for objective {values['objective']}"
            )
        if not multiclass and values["num_class"] is not None:
            raise HyperparameterError(
                "num_class",
                f"applies only to multi:softprob and multi:softmax "
                f"(objective is {values['objective']})",
            )

    @classmethod
    def boosting_setup(cls, hyperparameters: dict[str, Any]) -> BoostingSetup:
        hp = hyperparameters
        return BoostingSetup(
            params=booster_params(hp),
            num_boost_round=hp["num_round"],
            early_stopping_rounds=hp["early_stopping_rounds"],
            objective=OBJECTIVES[hp["objective"]][0],
            num_class=hp["num_class"] or 2,
            metric_names=REPORTED_NAMES,
        )

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        objective = read_manifest(model_dir).hyperparameters["objective"]
        return BoosterModel.from_dir(model_dir, output=OBJECTIVES[objective][2])


def booster_params(hp: dict[str, Any]) -> dict[str, Any]:
    objective, default_metric, _ = OBJECTIVES[hp["objective"]]
    names = parse_choice_list("eval_metric", hp["eval_metric"] or default_metric, EVAL_METRICS)
    # XGBoost early-stops on the last metric listed, LightGBM on the first: list them reversed.
    metrics = [EVAL_METRICS[name] for name in reversed(names)]
    depth = hp["max_depth"]
    params: dict[str, Any] = {
        "objective": objective,
        "metric": metrics,
        "learning_rate": hp["eta"],
        "max_depth": depth if depth > 0 else -1,
        "num_leaves": min(2**depth, _MAX_LEAVES) if depth > 0 else _UNBOUNDED_DEPTH_LEAVES,
        "bagging_fraction": hp["subsample"],
        "bagging_freq": 1 if hp["subsample"] < 1 else 0,
        "feature_fraction": hp["colsample_bytree"],
        "min_sum_hessian_in_leaf": hp["min_child_weight"],
        # XGBoost has no minimum row count per leaf; the hessian bound above is its only one.
        "min_data_in_leaf": 1,
        "lambda_l1": hp["alpha"],
        "lambda_l2": hp["lambda"],
        "min_gain_to_split": hp["gamma"],
        "scale_pos_weight": hp["scale_pos_weight"],
        "max_bin": hp["max_bin"],
        "seed": hp["seed"],
    }
    if objective == "multiclass":
        params["num_class"] = hp["num_class"]
    if hp["nthread"] is not None:
        params["num_threads"] = hp["nthread"]
    return params
