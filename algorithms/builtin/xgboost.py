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
A job whose image is a version before 1.3-1 saves the Booster pickled instead, as those versions
did (``xgboost_container``).
Predictions are XGBoost's own: a probability for ``binary:logistic``, a 0/1 for ``binary:hinge``,
class probabilities per row for ``multi:softprob``, the class index for ``multi:softmax``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xgboost as xgb
from scipy import sparse

from algorithms.base import (
    Algorithm,
    AlgorithmError,
    Channel,
    DataError,
    Model,
    Reporter,
    TrainingResult,
    UnsupportedContentType,
)
from algorithms.builtin.xgboost_container import (
    answers_csv_on_one_line,
    is_pickle,
    pickle_booster,
    pickles_model,
    unpickle_booster,
)
from algorithms.builtin.xgboost_parameters import (
    CONTAINER_METRICS,
    HYPERPARAMETERS,
    XGBOOST_METRICS,
    booster_params,
    check_hyperparameters,
    container_metrics,
    eval_metrics,
    higher_is_better,
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
from algorithms.manifest import write_manifest
from algorithms.registry import register

MODEL_FILE = "xgboost-model"  # the name SageMaker's XGBoost container gives its model


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
    hyperparameters = HYPERPARAMETERS

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        check_hyperparameters(values)

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
        save_model(booster, model_dir, hyperparameters=hp, pickled=pickles_model(self.image))
        return result

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        return XGBoostModel.from_dir(model_dir)


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


def save_model(
    booster: xgb.Booster, model_dir: Path, *, hyperparameters: dict[str, Any], pickled: bool = False
) -> None:
    """``xgboost-model`` in XGBoost's JSON format (any XGBoost from 1.0 opens it), or pickled as
    SageMaker's XGBoost before 1.3-1 saved it; and the manifest."""
    model_dir.mkdir(parents=True, exist_ok=True)
    data = pickle_booster(booster) if pickled else bytes(booster.save_raw("json"))
    (model_dir / MODEL_FILE).write_bytes(data)
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
        # gbtree predicts from the array itself, no DMatrix built per request (dart's sums may
        # round differently that way; gblinear has no such path).
        config = json.loads(booster.save_config())
        self.predicts_in_place = config["learner"]["gradient_booster"]["name"] == "gbtree"

    @classmethod
    def from_dir(cls, model_dir: Path) -> XGBoostModel:
        path = Path(model_dir) / MODEL_FILE
        if not path.is_file():
            raise AlgorithmError(f"{model_dir} holds no {MODEL_FILE}")
        data = path.read_bytes()
        if is_pickle(data):
            booster = unpickle_booster(data)
        else:
            booster = xgb.Booster()
            try:
                booster.load_model(bytearray(data))
            except xgb.core.XGBoostError as error:
                raise AlgorithmError(
                    f"{MODEL_FILE} is not an XGBoost model in JSON or UBJSON format: "
                    f"{xgboost_message(error)}"
                ) from None
        booster.set_param({"nthread": 1})  # one request at a time a process; see batch workers
        return cls(booster)

    def realtime_answer(self, body: bytes, response_type: str) -> bytes:
        if split_content_type(response_type)[0] == CSV and answers_csv_on_one_line(self.image):
            return b",".join(line for line in body.split(b"\n") if line)
        return body

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
        if self.predicts_in_place:
            scores = self.booster.inplace_predict(features, missing=np.nan)
        else:
            scores = self.booster.predict(xgb.DMatrix(features, missing=np.nan, nthread=1))
        return Predictions(outputs={"score": scores.astype(np.float64)}, csv=("score",))


def _last(history: Any) -> float:
    value = history[-1]
    return float(value[0] if isinstance(value, tuple) else value)
