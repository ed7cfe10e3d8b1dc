"""SageMaker XGBoost's hyperparameter table and the parameters ``xgboost.train`` gets from it:
objectives, metrics (XGBoost's own, and the container's computed from the predictions), the
legacy spellings, and the rules between values that one value alone cannot say."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xgboost as xgb

from algorithms.base import Hyperparameter, HyperparameterError
from algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC

OBJECTIVES = (
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:absoluteerror",
    "reg:quantileerror",
    "reg:gamma",
    "reg:tweedie",
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "count:poisson",
    "survival:cox",
    "survival:aft",
    "multi:softmax",
    "multi:softprob",
    "rank:pairwise",
    "rank:ndcg",
    "rank:map",
)
# Spellings the container still accepts, and what they train.
LEGACY_OBJECTIVES = {"reg:linear": "reg:squarederror"}

# XGBoost's own metrics; ``error@t``, ``ndcg@n``, ``map@n`` (and ``ndcg-``/``map-``) take a
# parameter after the name.
XGBOOST_METRICS = (
    "rmse",
    "rmsle",
    "mae",
    "mape",
    "mphe",
    "logloss",
    "error",
    "merror",
    "mlogloss",
    "auc",
    "aucpr",
    "ndcg",
    "map",
    "pre",
    "quantile",
    "poisson-nloglik",
    "gamma-nloglik",
    "gamma-deviance",
    "tweedie-nloglik",
    "cox-nloglik",
    "aft-nloglik",
    "interval-regression-accuracy",
)
_PARAMETRISED_METRICS = ("error@", "ndcg@", "map@", "pre@", "ndcg-", "map-", "tweedie-nloglik@")
# The container's own metrics, computed from the predictions.
CONTAINER_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "f1_binary",
    "f1_macro",
    "mse",
    "precision",
    "precision_macro",
    "precision_micro",
    "r2",
    "recall",
    "recall_macro",
    "recall_micro",
)
_HIGHER_IS_BETTER = (
    "auc",
    "aucpr",
    "ndcg",
    "map",
    "pre",
    "interval-regression-accuracy",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "precision",
    "recall",
    "r2",
)
_BOOLEAN = ("true", "false")
UPDATERS = (
    "grow_colmaker",
    "distcol",
    "grow_histmaker",
    "grow_skmaker",
    "sync",
    "refresh",
    "prune",
    "grow_local_histmaker",
    "grow_quantile_histmaker",
    "grow_gpu_hist",
    "shotgun",
    "coord_descent",
)
# Accepted as SageMaker does, never passed on: GPU-only switches (this build trains on CPU)
# and parameters XGBoost no longer has.
_NOT_PASSED = (
    "num_round",
    "early_stopping_rounds",
    "eval_metric",
    "csv_weights",
    "silent",
    "deterministic_histogram",
    "single_precision_histogram",
    "use_dask_gpu_training",
    "save_model_on_termination",
    "lambda_bias",
    "sketch_eps",
    "objective",
    "tree_method",
    "num_class",
    "tweedie_variance_power",
)
_DART_ONLY = ("sample_type", "normalize_type", "rate_drop", "one_drop", "skip_drop")


def _unit(name: str, default: float, *, open_low: bool = False) -> Hyperparameter:
    return Hyperparameter(name, "float", default, min=0, min_exclusive=open_low, max=1)


def _flag(name: str, default: int) -> Hyperparameter:
    return Hyperparameter(name, "int", default, min=0, max=1, description="0 or 1")


HYPERPARAMETERS = (
    Hyperparameter("num_round", "int", required=True, min=1),
    Hyperparameter(
        "num_class", "int", None, min=2, description="required by multi:softmax/softprob"
    ),
    Hyperparameter("alpha", "float", 0.0, min=0),
    Hyperparameter(
        "base_score", "float", None, description="unset: XGBoost estimates it from the labels"
    ),
    Hyperparameter("booster", "str", "gbtree", choices=("gbtree", "gblinear", "dart")),
    _unit("colsample_bylevel", 1.0, open_low=True),
    _unit("colsample_bynode", 1.0, open_low=True),
    _unit("colsample_bytree", 1.0, open_low=True),
    _flag("csv_weights", 0),
    Hyperparameter("deterministic_histogram", "str", "true", choices=_BOOLEAN),
    Hyperparameter("early_stopping_rounds", "int", None, min=1),
    _unit("eta", 0.3),
    Hyperparameter(
        "eval_metric",
        "str",
        None,
        description="comma-separated; unset: the objective's default metric",
    ),
    Hyperparameter("gamma", "float", 0.0, min=0),
    Hyperparameter("grow_policy", "str", "depthwise", choices=("depthwise", "lossguide")),
    Hyperparameter("interaction_constraints", "str", None),
    Hyperparameter("lambda", "float", 1.0, min=0),
    _unit("lambda_bias", 0.0),
    Hyperparameter("max_bin", "int", 256, min=2),
    Hyperparameter("max_delta_step", "float", 0.0, min=0),
    Hyperparameter("max_depth", "int", 6, min=0, description="0: no limit (lossguide)"),
    Hyperparameter("max_leaves", "int", 0, min=0),
    Hyperparameter("min_child_weight", "float", 1.0, min=0),
    Hyperparameter("monotone_constraints", "str", None),
    Hyperparameter("normalize_type", "str", "tree", choices=("tree", "forest")),
    Hyperparameter("nthread", "int", None, min=1, description="unset: every core"),
    Hyperparameter("num_parallel_tree", "int", 1, min=1),
    Hyperparameter(
        "objective", "str", "reg:squarederror", choices=(*OBJECTIVES, *LEGACY_OBJECTIVES)
    ),
    _flag("one_drop", 0),
    Hyperparameter("process_type", "str", "default", choices=("default", "update")),
    _unit("rate_drop", 0.0),
    _flag("refresh_leaf", 1),
    Hyperparameter("sample_type", "str", "uniform", choices=("uniform", "weighted")),
    Hyperparameter("save_model_on_termination", "str", "false", choices=_BOOLEAN),
    Hyperparameter("scale_pos_weight", "float", 1.0, min=0, min_exclusive=True),
    Hyperparameter("seed", "int", 0),
    _flag("silent", 0),
    Hyperparameter("single_precision_histogram", "str", "false", choices=_BOOLEAN),
    Hyperparameter("sketch_eps", "float", 0.03, min=0, min_exclusive=True, max=1),
    _unit("skip_drop", 0.0),
    _unit("subsample", 1.0, open_low=True),
    Hyperparameter(
        "tree_method",
        "str",
        "auto",
        choices=("auto", "exact", "approx", "hist", "gpu_hist"),
        description="gpu_hist trains as hist on CPU",
    ),
    Hyperparameter("tweedie_variance_power", "float", 1.5, min=1, min_exclusive=True, max=2),
    Hyperparameter("updater", "str", None, description=f"comma-separated: {', '.join(UPDATERS)}"),
    Hyperparameter("use_dask_gpu_training", "str", "false", choices=_BOOLEAN),
    Hyperparameter("verbosity", "int", 1, min=0, max=3),
)


def check_hyperparameters(values: dict[str, Any]) -> None:
    """The rules between hyperparameters that one value alone cannot say."""
    objective = LEGACY_OBJECTIVES.get(values["objective"], values["objective"])
    multiclass = objective.startswith("multi:")
    if multiclass and values["num_class"] is None:
        raise HyperparameterError("num_class", f"is required for objective {objective}")
    if not multiclass and values["num_class"] is not None:
        raise HyperparameterError(
            "num_class",
            f"applies only to multi:softprob and multi:softmax (objective is {objective})",
        )
    for name, low, high in (("tweedie_variance_power", 1, 2), ("sketch_eps", 0, 1)):
        if values[name] >= high:
            raise HyperparameterError(
                name, f"must be greater than {low} and less than {high} (got {values[name]!r})"
            )
    eval_metrics(values)  # refuses an unknown name
    if values["updater"] is not None:
        for item in _split(values["updater"]):
            if item not in UPDATERS:
                raise HyperparameterError(
                    "updater", f"must list only {', '.join(UPDATERS)} (got {item!r})"
                )
    for name in ("monotone_constraints", "interaction_constraints"):
        if values[name] is not None:
            _check_constraint_list(name, values[name])


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _check_constraint_list(name: str, text: str) -> None:
    """``(1,-1,0)`` for monotone constraints, ``[[0, 1], [2]]`` for interaction constraints."""
    candidate = text.strip().replace("(", "[").replace(")", "]")
    try:
        json.loads(candidate)
    except ValueError:
        raise HyperparameterError(
            name, f"must be a list such as (1,-1,0) or [[0, 1], [2]] (got {text!r})"
        ) from None


def eval_metrics(hp: dict[str, Any]) -> tuple[str, ...]:
    """The metrics to evaluate, in order (early stopping watches the last); empty: XGBoost's
    default for the objective. A tuning job's objective metric is added when not listed, as the
    container does."""
    names = _split(hp["eval_metric"]) if hp["eval_metric"] is not None else []
    if hp["eval_metric"] is not None and not names:
        raise HyperparameterError("eval_metric", "must list one or more metrics")
    tuning = hp.get(TUNING_OBJECTIVE_METRIC, "")
    if tuning:
        metric = tuning.partition(":")[2]
        if metric and metric not in names:
            if not names:  # the objective's default stays first, as XGBoost would pick it
                names.append(default_metric(hp))
            names.append(metric)
    for name in names:
        if not (
            name in XGBOOST_METRICS
            or name in CONTAINER_METRICS
            or name.startswith(_PARAMETRISED_METRICS)
        ):
            known = ", ".join((*XGBOOST_METRICS, *CONTAINER_METRICS))
            raise HyperparameterError(
                "eval_metric", f"must list only {known} or error@t, ndcg@n, map@n (got {name!r})"
            )
    return tuple(dict.fromkeys(names))


def default_metric(hp: dict[str, Any]) -> str:
    """XGBoost's default metric for the objective."""
    objective = LEGACY_OBJECTIVES.get(hp["objective"], hp["objective"])
    defaults = {
        "reg:absoluteerror": "mae",
        "reg:quantileerror": "quantile",
        "reg:pseudohubererror": "mphe",
        "reg:squaredlogerror": "rmsle",
        "reg:gamma": "gamma-nloglik",
        "reg:tweedie": f"tweedie-nloglik@{hp['tweedie_variance_power']}",
        "binary:logistic": "logloss",
        "binary:logitraw": "logloss",
        "binary:hinge": "error",
        "count:poisson": "poisson-nloglik",
        "survival:cox": "cox-nloglik",
        "survival:aft": "aft-nloglik",
        "multi:softmax": "mlogloss",
        "multi:softprob": "mlogloss",
        "rank:pairwise": "ndcg",
        "rank:ndcg": "ndcg",
        "rank:map": "map",
    }
    return defaults.get(objective, "rmse")


def booster_params(hp: dict[str, Any]) -> dict[str, Any]:
    """The parameters ``xgboost.train`` gets: every hyperparameter that means something to it
    and differs from its default (SageMaker's defaults are XGBoost's; a tree parameter left at
    its default is then no warning for ``gblinear``)."""
    defaults = {declared.name: declared.default for declared in HYPERPARAMETERS}
    params: dict[str, Any] = {
        name: value
        for name, value in hp.items()
        if name in defaults
        and name not in _NOT_PASSED
        and value is not None
        and value != defaults[name]
        and (hp["booster"] == "dart" or name not in _DART_ONLY)
    }
    params["booster"] = hp["booster"]
    params["seed"] = hp["seed"]
    params["objective"] = LEGACY_OBJECTIVES.get(hp["objective"], hp["objective"])
    if params["objective"] == "reg:tweedie":
        params["tweedie_variance_power"] = hp["tweedie_variance_power"]
    if hp["num_class"] is not None:
        params["num_class"] = hp["num_class"]
    # gpu_hist is hist on a GPU; this build trains on CPU.
    params["tree_method"] = "hist" if hp["tree_method"] == "gpu_hist" else hp["tree_method"]
    if hp["silent"]:
        params["verbosity"] = 0
    builtin = [m for m in eval_metrics(hp) if m not in CONTAINER_METRICS]
    if builtin:
        params["eval_metric"] = builtin
    for name in ("monotone_constraints", "interaction_constraints"):
        if name in params:
            params[name] = params[name].strip()
    return params


def higher_is_better(metric: str) -> bool:
    return metric.startswith(_HIGHER_IS_BETTER)


def container_metrics(
    names: Sequence[str], objective: str
) -> Callable[[np.ndarray, xgb.DMatrix], list[tuple[str, float]]]:
    """The container's metrics as one XGBoost custom metric, from the transformed predictions:
    classes from probabilities (0.5), margins (0) or class probabilities (argmax)."""
    from sklearn import metrics as sk  # only jobs asking for these metrics pay the import

    def classes(predictions: np.ndarray) -> np.ndarray:
        if predictions.ndim == 2:
            return predictions.argmax(axis=1)
        if objective == "binary:logitraw":
            return (predictions > 0).astype(np.int64)
        if objective.startswith("multi:") or objective == "binary:hinge":
            return predictions.astype(np.int64)
        return (predictions > 0.5).astype(np.int64)

    def evaluate(predictions: np.ndarray, data: xgb.DMatrix) -> list[tuple[str, float]]:
        labels = data.get_label()
        predicted = classes(predictions)
        truth = labels.astype(np.int64)
        binary = not objective.startswith("multi:")
        default_average = "binary" if binary else "macro"
        scorers: dict[str, Callable[[], float]] = {
            "accuracy": lambda: sk.accuracy_score(truth, predicted),
            "balanced_accuracy": lambda: sk.balanced_accuracy_score(truth, predicted),
            "f1": lambda: sk.f1_score(truth, predicted, average=default_average, zero_division=0),
            "f1_binary": lambda: sk.f1_score(truth, predicted, average="binary", zero_division=0),
            "f1_macro": lambda: sk.f1_score(truth, predicted, average="macro", zero_division=0),
            "precision": lambda: sk.precision_score(
                truth, predicted, average=default_average, zero_division=0
            ),
            "precision_macro": lambda: sk.precision_score(
                truth, predicted, average="macro", zero_division=0
            ),
            "precision_micro": lambda: sk.precision_score(
                truth, predicted, average="micro", zero_division=0
            ),
            "recall": lambda: sk.recall_score(
                truth, predicted, average=default_average, zero_division=0
            ),
            "recall_macro": lambda: sk.recall_score(
                truth, predicted, average="macro", zero_division=0
            ),
            "recall_micro": lambda: sk.recall_score(
                truth, predicted, average="micro", zero_division=0
            ),
            "mse": lambda: sk.mean_squared_error(labels, predictions),
            "r2": lambda: sk.r2_score(labels, predictions),
        }
        return [(name, float(scorers[name]())) for name in names]

    return evaluate
