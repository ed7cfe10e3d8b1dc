"""``randomcutforest``: SageMaker's Random Cut Forest, on AWS's own RCF (``algorithms.rcf``).

Each of ``num_trees`` trees holds a reservoir sample of ``num_samples_per_tree`` training rows;
``score`` is RCF's anomaly score on SageMaker's scale (normal points about 1, anomalies several
units). Training data has no label column. Logs the training scores' spread and reports
``train:mean_score``; with a labelled ``test`` channel (``text/csv;label_size=1``, or labelled
RecordIO-protobuf) its ``eval_metrics``, ``test:accuracy`` and ``test:precision``/
``test:recall``/``test:f1``, by SageMaker's three-sigma limit: a test record is anomalous when
its score is above the test scores' mean plus three standard deviations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import krcf
import numpy as np

from algorithms.base import (
    Algorithm,
    Channel,
    DataError,
    Hyperparameter,
    Model,
    Reporter,
    TrainingResult,
)
from algorithms.codecs import Predictions
from algorithms.data import read_channel, split_channels
from algorithms.hyperparameters import (
    MACHINERY,
    check_feature_dim,
    log_moot_values,
    no_effect,
    parse_metric_list,
)
from algorithms.manifest import read_manifest, write_manifest
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.rcf import (
    forest_fit,
    forest_load,
    forest_save,
    forest_scores,
    three_sigma_threshold,
)
from algorithms.recordio import RECORDIO
from algorithms.registry import register

EVAL_METRICS = ("accuracy", "precision_recall_fscore")
# Training rows scored to show the score's scale in the log (a sample: scoring costs ~0.3 ms).
SCORED_TRAINING_ROWS = 1000


@register("randomcutforest")
class RandomCutForest(Algorithm):
    training_content_types = ("text/csv", "application/jsonlines", RECORDIO)
    metrics = ("train:mean_score", "test:accuracy", "test:precision", "test:recall", "test:f1")
    hyperparameters = (
        Hyperparameter("num_trees", "int", 100, min=50, max=1000),
        Hyperparameter("num_samples_per_tree", "int", 256, min=1, max=2048),
        Hyperparameter("feature_dim", "int", required=True, min=1, max=10_000),
        Hyperparameter("eval_metrics", "str", '["accuracy", "precision_recall_fscore"]'),
        no_effect("mini_batch_size", "int", 1000, "the forest samples all records", min=1),
        *MACHINERY,
    )

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        values["eval_metrics"] = parse_metric_list(
            "eval_metrics", values["eval_metrics"], EVAL_METRICS
        )

    def train(
        self,
        *,
        channels: dict[str, Channel],
        hyperparameters: dict[str, Any],
        model_dir: Path,
        reporter: Reporter,
    ) -> TrainingResult:
        hp = hyperparameters
        log_moot_values(self.hyperparameters, hp, reporter.log)
        train_channel, test_channel = split_channels(channels, evaluation=("test",))
        train = read_channel(train_channel, labelled=False)
        check_feature_dim(hp["feature_dim"], train.feature_count)
        forest, streamed = forest_fit(
            train.features,
            num_trees=hp["num_trees"],
            num_samples_per_tree=hp["num_samples_per_tree"],
        )
        reporter.log(
            f"{hp['num_trees']} trees, each a reservoir sample of "
            f"{min(hp['num_samples_per_tree'], streamed)} of {streamed} rows sampled from "
            f"{train.rows}"
        )
        final = {"train:mean_score": _report_training_scores(forest, train.features, reporter)}
        if test_channel is not None:
            test = read_channel(test_channel, feature_count=train.feature_count)
            scores = forest_scores(forest, test.features)
            threshold = three_sigma_threshold(scores)
            reporter.log(
                f"test: {len(scores)} records, anomalous above {threshold:.6g} "
                "(the test scores' mean + 3 standard deviations)"
            )
            for name, value in _test_metrics(
                scores > threshold, test.labels, hp["eval_metrics"]
            ).items():
                final[name] = value
                reporter.metric(name, value, step=1)
        forest_save(model_dir, forest)
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=("krcf",),
        )
        return TrainingResult(final_metrics=final)

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        return AnomalyModel(
            forest_load(model_dir), feature_count=read_manifest(model_dir).feature_count
        )


def _report_training_scores(
    forest: krcf.RandomCutForest, features: np.ndarray, reporter: Reporter
) -> float:
    rows = features.shape[0]
    rng = np.random.default_rng(1)
    picked = (
        rng.choice(rows, SCORED_TRAINING_ROWS, replace=False)
        if rows > SCORED_TRAINING_ROWS
        else slice(None)
    )
    scores = forest_scores(forest, features[picked])
    mean, spread = float(np.mean(scores)), float(np.std(scores))
    reporter.metric("train:mean_score", mean, step=1)
    reporter.log(
        f"training scores ({len(scores)} rows): mean {mean:.4g}, standard deviation "
        f"{spread:.4g}, mean + 3 sd {mean + 3 * spread:.4g}"
    )
    return mean


def _test_metrics(
    predicted: np.ndarray, labels: np.ndarray, wanted: tuple[str, ...]
) -> dict[str, float]:
    if not np.isin(labels, (0, 1)).all():
        raise DataError("test labels must be 0 (normal) or 1 (anomalous)", source="test")
    actual = labels == 1
    true_positives = float(np.sum(predicted & actual))
    metrics = {}
    if "accuracy" in wanted:
        metrics["test:accuracy"] = float(np.mean(predicted == actual))
    if "precision_recall_fscore" in wanted:
        precision = true_positives / max(int(predicted.sum()), 1)
        recall = true_positives / max(int(actual.sum()), 1)
        total = precision + recall
        metrics |= {
            "test:precision": precision,
            "test:recall": recall,
            "test:f1": 2 * precision * recall / total if total else 0.0,
        }
    return metrics


class AnomalyModel(MatrixModel):
    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, forest: krcf.RandomCutForest, *, feature_count: int) -> None:
        super().__init__(feature_count=feature_count)
        self.forest = forest

    def predict(self, features: np.ndarray) -> Predictions:
        return Predictions(
            outputs={"score": forest_scores(self.forest, features)},
            csv=("score",),
            json_key="scores",
        )
