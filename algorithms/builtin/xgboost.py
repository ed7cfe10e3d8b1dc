"""``xgboost``: SageMaker's XGBoost algorithm, trained by the XGBoost library itself.

Every hyperparameter of SageMaker XGBoost's table reaches ``xgboost.train`` with its meaning;
the container's legacy spellings behave as it treats them (``reg:linear`` trains
``reg:squarederror``, ``silent=1`` is ``verbosity=0``, GPU-only switches are accepted and have no
effect on CPU). Each iteration is logged as the container prints it
(``[12]#011train-rmse:0.41230#011validation-rmse:0.45011``) and reported as ``train:rmse``,
``validation:rmse`` ...; the container's extra metrics (``accuracy``, ``f1``, ``r2`` ...) are
computed as it does, from the predictions. With ``early_stopping_rounds`` (and a validation
channel) XGBoost's rule applies: the last metric of the validation set, and the best iteration is
what is saved, as SageMaker hosting serves the best model.

The model directory holds ``xgboost-model`` (XGBoost's JSON format, which
``xgboost.Booster().load_model()`` opens) beside the manifest; a directory holding only an
``xgboost-model`` (a ``model.tar.gz`` of SageMaker's XGBoost container, JSON or UBJSON) loads too.
Predictions are XGBoost's own: a probability for ``binary:logistic``, a 0/1 for ``binary:hinge``,
class probabilities per row for ``multi:softprob``, the class index for ``multi:softmax``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xgboost as xgb
from scipy import sparse

from algorithms.base import (
    MODEL_MANIFEST,
    Algorithm,
    AlgorithmError,
    Channel,
    DataError,
    Hyperparameter,
    HyperparameterError,
    Model,
    Reporter,
    TrainingResult,
    UnsupportedContentType,
)
from algorithms.codecs import (
    CSV,
    JSON,
    JSONLINES,
    LIBSVM,
    Predictions,
    decode,
    decode_libsvm,
    encode,
    negotiate,
    split_content_type,
)
from algorithms.data import Dataset, read_channel, split_channels
from algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC
from algorithms.manifest import write_manifest
from algorithms.registry import register

MODEL_FILE = "xgboost-model"  # the name SageMaker's XGBoost container gives its model

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


@register("xgboost")
class XGBoost(Algorithm):
    training_content_types: ClassVar[tuple[str, ...]] = (
        CSV,
        LIBSVM,
        JSONLINES,
        # SageMaker's legacy spellings (what the SDK's examples pass).
        "csv",
        "libsvm",
        "text/x-libsvm",
    )
    metrics = tuple(
        f"{channel}:{metric}"
        for channel in ("train", "validation")
        for metric in (*XGBOOST_METRICS, *CONTAINER_METRICS)
    )
    hyperparameters = (
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
        Hyperparameter(
            "updater", "str", None, description=f"comma-separated: {', '.join(UPDATERS)}"
        ),
        Hyperparameter("use_dask_gpu_training", "str", "false", choices=_BOOLEAN),
        Hyperparameter("verbosity", "int", 1, min=0, max=3),
    )

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
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

    def train(
        self,
        *,
        channels: dict[str, Channel],
        hyperparameters: dict[str, Any],
        model_dir: Path,
        reporter: Reporter,
    ) -> TrainingResult:
        hp = hyperparameters
        started = time.monotonic()
        train_channel, validation_channel = split_channels(channels)
        train = read_xgboost_channel(train_channel, csv_weights=bool(hp["csv_weights"]))
        validation = None
        if validation_channel is not None:
            validation = read_xgboost_channel(
                validation_channel,
                csv_weights=bool(hp["csv_weights"]),
                feature_count=train.data.num_col(),
            )
        reporter.log(
            f"Read {train.data.num_row():,} training records with {train.data.num_col()} features"
            + (
                f" and {validation.data.num_row():,} validation records"
                if validation is not None
                else ""
            )
            + f" in {time.monotonic() - started:.1f} s"
        )
        params = booster_params(hp)
        for name, dataset in (("train", train), ("validation", validation)):
            if dataset is not None:
                check_labels(dataset.labels, params=params, source=name)
        booster, result = train_booster(
            params=params,
            train=train.data,
            validation=None if validation is None else validation.data,
            num_round=hp["num_round"],
            early_stopping_rounds=hp["early_stopping_rounds"],
            metrics=eval_metrics(hp),
            reporter=reporter,
        )
        save_model(booster, model_dir, hyperparameters=hp)
        return result

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        return XGBoostModel.from_dir(model_dir)


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
    defaults = {declared.name: declared.default for declared in XGBoost.hyperparameters}
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


@dataclass(frozen=True)
class _Data:
    data: xgb.DMatrix
    labels: np.ndarray  # also inside ``data``; kept to name a bad record


def read_xgboost_channel(
    channel: Channel, *, csv_weights: bool, feature_count: int | None = None
) -> _Data:
    """A channel as a DMatrix; with ``csv_weights`` a CSV's column after the label is the
    record's weight. Absent libsvm entries and empty CSV cells are missing values."""
    media_type, _ = split_content_type(channel.content_type)
    weighted = csv_weights and media_type == CSV
    dataset: Dataset = read_channel(
        channel,
        feature_count=None if feature_count is None or not weighted else feature_count + 1,
        allow_missing=True,
        allow_sparse=True,
    )
    features, weights = dataset.features, None
    if weighted:
        if dataset.feature_count < 2:
            raise DataError(
                "csv_weights=1 needs a weight column after the label and at least one feature",
                source=channel.name,
            )
        weights, features = np.asarray(features[:, 0]), features[:, 1:]
    if feature_count is not None and features.shape[1] != feature_count:
        if sparse.issparse(features) and features.shape[1] < feature_count:
            features = sparse.csr_matrix(
                (features.data, features.indices, features.indptr),
                shape=(features.shape[0], feature_count),
            )
        else:
            raise DataError(
                f"has {features.shape[1]} features; the train channel has {feature_count}",
                source=channel.name,
            )
    labels = np.asarray(dataset.labels)
    try:
        data = xgb.DMatrix(features, label=labels, weight=weights, missing=np.nan)
    except xgb.core.XGBoostError as error:
        raise DataError(xgboost_message(error), source=channel.name) from None
    return _Data(data, labels)


def check_labels(labels: np.ndarray, *, params: dict[str, Any], source: str) -> None:
    """Labels XGBoost would refuse, named by record: class indices for ``multi:``, 0 to 1 for
    the logistic and hinge objectives, non-negative counts for ``count:poisson``."""
    objective = params["objective"]
    if objective.startswith("multi:"):
        classes = params["num_class"]
        bad = (labels < 0) | (labels >= classes) | (labels != np.floor(labels))
        rule = f"is not a class index (0 to {classes - 1})"
    elif objective in ("binary:logistic", "binary:logitraw", "binary:hinge", "reg:logistic"):
        bad = (labels < 0) | (labels > 1)
        rule = "is not between 0 and 1"
    elif objective in ("count:poisson", "reg:tweedie", "reg:gamma"):
        bad = labels < 0 if objective != "reg:gamma" else labels <= 0
        rule = "is not a valid target for " + objective
    else:
        return
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"label {float(labels[row]):g} in record {row + 1} {rule}", source=source)


def check_dataset_labels(dataset: Dataset, *, params: dict[str, Any], source: str) -> None:
    """``check_labels`` on a parsed dataset (a shard read on a Dask worker)."""
    check_labels(np.asarray(dataset.labels), params=params, source=source)


def higher_is_better(metric: str) -> bool:
    return metric.startswith(_HIGHER_IS_BETTER)


def xgboost_message(error: Exception) -> str:
    """XGBoost's message without its C++ location and stack."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    message = next((line for line in lines if "Stack trace" not in line), str(error))
    return message.split(": ", 1)[-1] if message.startswith("[") else message


def train_booster(
    *,
    params: dict[str, Any],
    train: xgb.DMatrix,
    validation: xgb.DMatrix | None,
    num_round: int,
    early_stopping_rounds: int | None,
    metrics: Sequence[str],
    reporter: Reporter,
) -> tuple[xgb.Booster, TrainingResult]:
    """``xgboost.train`` with every iteration's metrics reported and logged, the reporter's stop
    request honoured, and early stopping on the validation set's last metric."""
    evals = [(train, "train")]
    if validation is not None:
        evals.append((validation, "validation"))
    recorder = IterationRecorder(reporter)
    callbacks: list[xgb.callback.TrainingCallback] = [recorder]
    if early_stopping_rounds and validation is not None:
        watched = metrics[-1] if metrics else None
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=early_stopping_rounds,
                metric_name=watched,
                data_name="validation",
                maximize=None if watched is None else higher_is_better(watched),
                save_best=params.get("booster") != "gblinear",
            )
        )
    custom = [m for m in metrics if m in CONTAINER_METRICS]
    try:
        booster = xgb.train(
            params,
            train,
            num_boost_round=num_round,
            evals=evals,
            custom_metric=container_metrics(custom, params["objective"]) if custom else None,
            callbacks=callbacks,
            verbose_eval=False,
        )
    except xgb.core.XGBoostError as error:
        raise AlgorithmError(f"XGBoost: {xgboost_message(error)}") from None
    kept = booster.num_boosted_rounds()
    if early_stopping_rounds and validation is not None and params.get("booster") != "gblinear":
        kept = booster.best_iteration + 1
    if recorder.stopped:
        reporter.log(f"stop requested; keeping the {kept} iterations built so far")
    return booster, TrainingResult(
        final_metrics=recorder.history.get(kept, {}), stopped_early=recorder.stopped
    )


class IterationRecorder(xgb.callback.TrainingCallback):
    """Reports ``<data>:<metric>`` for every iteration, logs it as the container prints it
    (``[0]#011train-rmse:1.23450#011validation-rmse:1.34560``; XGBoost counts from 0, the
    reporter's steps from 1) and asks the reporter whether to stop."""

    def __init__(self, reporter: Reporter) -> None:
        super().__init__()
        self.reporter = reporter
        self.history: dict[int, dict[str, float]] = {}
        self.stopped = False

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        self.record(
            epoch,
            {
                f"{data_name}:{metric}": _last(history)
                for data_name, metrics in evals_log.items()
                for metric, history in metrics.items()
            },
        )
        if self.reporter.should_stop():
            self.stopped = True
            return True
        return False

    def record(self, epoch: int, values: dict[str, float]) -> None:
        """Report iteration ``epoch``'s values (XGBoost's 0-based count) and log its line."""
        for name, value in values.items():
            self.reporter.metric(name, value, step=epoch + 1)
        self.history[epoch + 1] = values
        if values:
            cells = [f"{name.replace(':', '-', 1)}:{value:.5f}" for name, value in values.items()]
            self.reporter.log("#011".join([f"[{epoch}]", *cells]))


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


def save_model(booster: xgb.Booster, model_dir: Path, *, hyperparameters: dict[str, Any]) -> None:
    """``xgboost-model`` in XGBoost's JSON format (any XGBoost from 1.0 opens it) and the
    manifest."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_FILE).write_bytes(bytes(booster.save_raw("json")))
    write_manifest(
        model_dir,
        algorithm=XGBoost.name,
        hyperparameters=hyperparameters,
        feature_count=booster.num_features(),
        libraries=("xgboost-cpu",),
    )


class XGBoostModel(Model):
    """A booster answering as SageMaker's XGBoost endpoint: ``score`` per record (a list of
    class probabilities for ``multi:softprob``); CSV carries one line per record."""

    content_types = (CSV, LIBSVM, JSON, JSONLINES)
    accepts = (CSV, JSON, JSONLINES)

    def __init__(self, booster: xgb.Booster) -> None:
        self.booster = booster
        self.feature_count = booster.num_features()

    @classmethod
    def from_dir(cls, model_dir: Path) -> XGBoostModel:
        path = Path(model_dir) / MODEL_FILE
        if not path.is_file():
            raise AlgorithmError(f"{model_dir} holds no {MODEL_FILE}")
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(path.read_bytes()))
        except xgb.core.XGBoostError as error:
            raise AlgorithmError(
                f"{MODEL_FILE} is not an XGBoost model in JSON or UBJSON format: "
                f"{xgboost_message(error)}"
            ) from None
        booster.set_param({"nthread": 1})  # one request at a time a process; see batch workers
        return cls(booster)

    def invoke(self, body: bytes, content_type: str, accept: str) -> bytes:
        media_type, _ = split_content_type(content_type)
        if media_type not in self.content_types:
            raise UnsupportedContentType(content_type, self.content_types)
        response_type = negotiate(accept, content_type, self.accepts)
        if media_type == LIBSVM:
            features: Any = decode_libsvm(body, feature_count=self.feature_count)
        else:
            features = decode(
                body, content_type, feature_count=self.feature_count, allow_missing=True
            )
        if features.shape[0] == 0:
            return encode(Predictions(outputs={}, csv=()), response_type)
        return encode(self.predict(features), response_type)

    def predict(self, features: np.ndarray | sparse.csr_matrix) -> Predictions:
        scores = self.booster.predict(xgb.DMatrix(features, missing=np.nan))
        return Predictions(outputs={"score": scores.astype(np.float64)}, csv=("score",))


def is_sagemaker_model_dir(model_dir: Path) -> bool:
    """A directory of SageMaker's XGBoost container: ``xgboost-model`` without a manifest."""
    return (model_dir / MODEL_FILE).is_file() and not (model_dir / MODEL_MANIFEST).is_file()


def _last(history: Any) -> float:
    value = history[-1]
    return float(value[0] if isinstance(value, tuple) else value)
