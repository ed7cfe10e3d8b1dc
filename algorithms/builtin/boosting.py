"""Gradient-boosted trees on LightGBM: the ``lightgbm`` algorithm (``xgboost`` is XGBoost).

Each algorithm maps its hyperparameters onto LightGBM in one place (:class:`BoostingSetup`), used
by single-machine training here and by ``algorithms.distributed``. Each iteration's metrics go to
the reporter, and ``reporter.should_stop()`` is honoured after every iteration: training ends
with the trees built so far, saved as a usable model.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np

from algorithms.base import Algorithm, Channel, DataError, Reporter, TrainingResult
from algorithms.codecs import Predictions
from algorithms.data import Dataset, read_channel, split_channels
from algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC
from algorithms.manifest import write_manifest
from algorithms.predictor import MatrixModel

BOOSTER_FILE = "model.txt"
TRAIN_DATA_NAME = "train"  # metrics on the training set are reported as train:<metric>
# The training set's metrics take at most this share of the training time once one evaluation
# costs more than CHEAP_EVALUATION_SECONDS; cheaper ones are taken every iteration.
TRAIN_METRIC_SHARE = 0.05
CHEAP_EVALUATION_SECONDS = 0.002
# How the boosting algorithms read their channels (single-machine and distributed alike).
READ_OPTIONS: dict[str, bool] = {"allow_missing": True, "allow_sparse": True}


@dataclass(frozen=True)
class BoostingSetup:
    """One run's hyperparameters as LightGBM sees them."""

    params: dict[str, Any]
    num_boost_round: int
    early_stopping_rounds: int | None
    objective: str  # LightGBM's objective, for the label check
    num_class: int
    # LightGBM metric name -> the name it is reported under (absent: as is).
    metric_names: Mapping[str, str] = field(default_factory=dict)


class BoostingAlgorithm(Algorithm):
    """An algorithm whose model is one LightGBM booster; trains on one machine or on several."""

    training_content_types: ClassVar[tuple[str, ...]] = (
        "text/csv",
        "application/jsonlines",
        "text/libsvm",
    )

    @classmethod
    @abstractmethod
    def boosting_setup(cls, hyperparameters: dict[str, Any]) -> BoostingSetup: ...

    def train(
        self,
        *,
        channels: dict[str, Channel],
        hyperparameters: dict[str, Any],
        model_dir: Path,
        reporter: Reporter,
    ) -> TrainingResult:
        setup = self.boosting_setup(hyperparameters)
        started = time.monotonic()
        train, validation = read_boosting_data(channels)
        reporter.log(
            f"Read {train.rows:,} training records with {train.feature_count} features"
            + (f" and {validation.rows:,} validation records" if validation is not None else "")
            + f" in {time.monotonic() - started:.1f} s"
        )
        for name, dataset in (("train", train), ("validation", validation)):
            if dataset is not None:
                check_labels(
                    dataset, objective=setup.objective, num_class=setup.num_class, source=name
                )
        booster, result = train_booster(
            params=setup.params,
            train=train,
            validation=validation,
            num_boost_round=setup.num_boost_round,
            early_stopping_rounds=setup.early_stopping_rounds,
            reporter=reporter,
            metric_names=setup.metric_names,
            # A tuning job's median rule needs its objective every iteration, whatever it costs.
            train_metrics_every_iteration=hyperparameters.get(
                TUNING_OBJECTIVE_METRIC, ""
            ).startswith(f"{TRAIN_DATA_NAME}:"),
        )
        self.save_model(
            booster, model_dir, hyperparameters=hyperparameters, feature_count=train.feature_count
        )
        return result

    @classmethod
    def save_model(
        cls,
        booster: lgb.Booster,
        model_dir: Path,
        *,
        hyperparameters: dict[str, Any],
        feature_count: int,
    ) -> None:
        """The booster and the manifest: what :meth:`load` reads back."""
        save_booster(booster, model_dir)
        write_manifest(
            model_dir,
            algorithm=cls.name,
            hyperparameters=hyperparameters,
            feature_count=feature_count,
            libraries=("lightgbm",),
        )


def read_boosting_data(channels: Mapping[str, Channel]) -> tuple[Dataset, Dataset | None]:
    """The ``train`` channel and, when given, ``validation`` with the same feature count."""
    train_channel, validation_channel = split_channels(channels)
    train = read_channel(train_channel, **READ_OPTIONS)
    validation = None
    if validation_channel is not None:
        validation = read_channel(
            validation_channel, feature_count=train.feature_count, **READ_OPTIONS
        )
    return train, validation


def check_labels(dataset: Dataset, *, objective: str, num_class: int, source: str) -> None:
    """Classification labels must be class indices: 0/1, or 0..num_class-1."""
    if objective not in ("binary", "multiclass"):
        return
    classes = 2 if objective == "binary" else num_class
    labels = dataset.labels
    bad = (labels < 0) | (labels >= classes) | (labels != np.floor(labels))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"label {float(labels[row]):g} in record {row + 1} is not a class index "
            f"(0 to {classes - 1})",
            source=source,
        )


def train_booster(
    *,
    params: dict[str, Any],
    train: Dataset,
    validation: Dataset | None,
    num_boost_round: int,
    early_stopping_rounds: int | None,
    reporter: Reporter,
    metric_names: Mapping[str, str] | None = None,
    train_metrics_every_iteration: bool = False,
) -> tuple[lgb.Booster, TrainingResult]:
    """Train; metrics are reported as ``<channel>:<name>`` with LightGBM's metric names renamed
    through ``metric_names``; the training set's every iteration only when
    ``train_metrics_every_iteration`` (see :class:`MetricRecorder`). Early stopping (on the first
    metric) needs a validation channel.
    """
    params = {"verbosity": -1, **params}
    train_set = lgb.Dataset(train.features, label=train.labels, params=params)
    valid_sets, valid_names = [], []
    if validation is not None:
        valid_sets.append(
            lgb.Dataset(validation.features, label=validation.labels, reference=train_set)
        )
        valid_names.append("validation")
    recorder = MetricRecorder(
        reporter, metric_names or {}, train_every_iteration=train_metrics_every_iteration
    )
    stopper = _StopWhenAsked(reporter)
    callbacks: list[Any] = [recorder, stopper]
    if early_stopping_rounds and validation is not None:
        callbacks.append(
            lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False)
        )
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=num_boost_round,
        valid_sets=valid_sets,
        valid_names=valid_names,
        callbacks=callbacks,
        keep_training_booster=True,  # its training set, for the final metrics
    )
    kept = booster.best_iteration or booster.current_iteration()
    if stopper.stopped:
        reporter.log(f"stop requested; keeping the {kept} iterations built so far")
    return booster, TrainingResult(
        final_metrics=recorder.final_metrics(booster, kept), stopped_early=stopper.stopped
    )


class MetricRecorder:
    """Reports every evaluation result and remembers them by iteration (for final metrics).

    A LightGBM callback; :meth:`record` takes results gathered some other way (several workers).
    LightGBM evaluates the validation set every iteration. The training set is evaluated here:
    every iteration while that is cheap (its cheapest evaluation so far, so that one evaluation
    slowed by a busy machine changes nothing) or when ``train_every_iteration``, otherwise as
    often as keeps it within ``TRAIN_METRIC_SHARE`` of the training time (``auc`` over a million
    rows can cost more than the iteration that it measures). The kept iteration always gets its
    training metrics.
    """

    order = 10  # before early stopping and the stop check, so the last iteration is reported

    def __init__(
        self,
        reporter: Reporter,
        metric_names: Mapping[str, str],
        *,
        train_every_iteration: bool = False,
    ) -> None:
        self.reporter = reporter
        self.metric_names = metric_names
        self.train_every_iteration = train_every_iteration
        self.history: dict[int, dict[str, float]] = {}
        self._started = time.perf_counter()
        self._train_seconds = 0.0  # spent evaluating the training set
        self._cheapest_train_seconds = 0.0  # of one evaluation (none yet: 0)
        self._train_steps: set[int] = set()

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        step = env.iteration + 1
        results = list(env.evaluation_result_list or [])
        if self._train_metrics_due():
            results = self._evaluate_train(env.model, step) + results
        self.record(step, results)

    def record(self, step: int, results: Iterable[tuple[Any, ...]]) -> None:
        """``results``: LightGBM's ``(data_name, metric, value, ...)`` tuples for one iteration."""
        if not results:
            return  # nothing measured at this iteration: no empty log line
        values = {}
        for data_name, metric, value, *_ in results:
            name = f"{data_name}:{self.metric_names.get(metric, metric)}"
            values[name] = float(value)
            self.reporter.metric(name, float(value), step=step)
        self.history.setdefault(step, {}).update(values)
        summary = " ".join(f"{name}={value:.6g}" for name, value in values.items())
        self.reporter.log(f"[{step}] {summary}")

    def final_metrics(self, booster: lgb.Booster, kept: int) -> dict[str, float]:
        """The metrics of iteration ``kept``; the training set is evaluated there if it was
        skipped, after the trees built past it (early stopping's patience) are rolled back."""
        if kept not in self._train_steps and kept > 0:
            while booster.current_iteration() > kept:
                booster.rollback_one_iter()
            self.record(kept, self._evaluate_train(booster, kept))
        return self.history.get(kept, {})

    def _train_metrics_due(self) -> bool:
        if self.train_every_iteration or self._cheapest_train_seconds < CHEAP_EVALUATION_SECONDS:
            return True
        elapsed = time.perf_counter() - self._started
        return self._train_seconds <= TRAIN_METRIC_SHARE * elapsed

    def _evaluate_train(self, booster: lgb.Booster, step: int) -> list[tuple[Any, ...]]:
        started = time.perf_counter()
        results = [(TRAIN_DATA_NAME, *rest) for _, *rest in booster.eval_train()]
        seconds = time.perf_counter() - started
        self._cheapest_train_seconds = (
            min(self._cheapest_train_seconds, seconds) if self._train_steps else seconds
        )
        self._train_seconds += seconds
        self._train_steps.add(step)
        return results


class _StopWhenAsked:
    order = 40

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.stopped = False

    def __call__(self, env: lgb.callback.CallbackEnv) -> None:
        if self.reporter.should_stop():
            self.stopped = True
            # LightGBM's own way out of the loop: it keeps the booster and marks this iteration
            # as the best, so nothing after it is saved.
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)


def save_booster(booster: lgb.Booster, model_dir: Path) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model_dir / BOOSTER_FILE))


class BoosterModel(MatrixModel):
    """A saved booster answering with ``score`` (and ``predicted_label`` where asked).

    ``output`` shapes the raw prediction: ``"value"`` (regression or probability as is),
    ``"class"`` (argmax of class probabilities), ``"threshold"`` (0/1 from a probability).
    """

    allows_missing = True

    def __init__(
        self,
        booster: lgb.Booster,
        *,
        feature_count: int,
        output: str = "value",
        with_label: bool = False,
    ) -> None:
        super().__init__(feature_count=feature_count)
        self.booster = booster
        self.output = output
        self.with_label = with_label

    @classmethod
    def from_dir(cls, model_dir: Path, **options: Any) -> BoosterModel:
        booster = lgb.Booster(model_file=str(model_dir / BOOSTER_FILE))
        return cls(booster, feature_count=booster.num_feature(), **options)

    def predict(self, features: np.ndarray) -> Predictions:
        raw = self.booster.predict(features)
        if self.output == "class":
            raw = raw.argmax(axis=1).astype(np.float64)
        elif self.output == "threshold":
            raw = (raw > 0.5).astype(np.float64)
        outputs = {"score": raw}
        if self.with_label:
            outputs["predicted_label"] = (
                raw.argmax(axis=1) if raw.ndim == 2 else (raw > 0.5).astype(np.int64)
            )
        return Predictions(outputs=outputs, csv=("score",))
