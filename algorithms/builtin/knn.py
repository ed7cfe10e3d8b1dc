"""``knn``: SageMaker k-NN's hyperparameters and outputs, on scikit-learn's exact neighbours.

``sample_size`` training records are drawn (seeded) to form the index, as SageMaker does;
``index_metric`` is ``L2`` (Euclidean) or ``COSINE``. Classifiers take the majority label of the
``k`` nearest, regressors their mean. Reports ``test:accuracy`` or ``test:mse`` once when a
``test`` channel is given. Outputs ``predicted_label``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from algorithms.base import (
    Algorithm,
    Channel,
    Hyperparameter,
    HyperparameterError,
    Model,
    Reporter,
    TrainingResult,
)
from algorithms.builtin.fitted import LIBRARIES, load_fitted, save_fitted
from algorithms.codecs import Predictions
from algorithms.data import read_channel, split_channels
from algorithms.hyperparameters import check_feature_dim
from algorithms.manifest import write_manifest
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.recordio import RECORDIO
from algorithms.registry import register

METRICS = {"L2": "euclidean", "COSINE": "cosine"}


@register("knn")
class KNN(Algorithm):
    training_content_types = ("text/csv", "application/jsonlines", RECORDIO)
    metrics = ("test:accuracy", "test:mse")
    hyperparameters = (
        Hyperparameter("k", "int", required=True, min=1, max=1024),
        Hyperparameter("predictor_type", "str", required=True, choices=("classifier", "regressor")),
        Hyperparameter("sample_size", "int", required=True, min=1),
        Hyperparameter("feature_dim", "int", required=True, min=1),
        Hyperparameter("index_metric", "str", "L2", choices=tuple(METRICS)),
        Hyperparameter(
            "mini_batch_size", "int", 5000, min=1, description="accepted for compatibility"
        ),
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
        train_channel, test_channel = split_channels(channels, evaluation=("test",))
        train = read_channel(train_channel)
        check_feature_dim(hp["feature_dim"], train.feature_count)
        rng = np.random.default_rng(0)
        size = min(hp["sample_size"], train.rows)
        if hp["k"] > size:
            raise HyperparameterError("k", f"must be at most the {size} sampled records")
        sample = np.sort(rng.choice(train.rows, size=size, replace=False))
        classifier = hp["predictor_type"] == "classifier"
        estimator_class = KNeighborsClassifier if classifier else KNeighborsRegressor
        estimator = estimator_class(
            n_neighbors=hp["k"],
            metric=METRICS[hp["index_metric"]],
            algorithm="brute" if hp["index_metric"] == "COSINE" else "auto",
        )
        estimator.fit(train.features[sample], train.labels[sample])
        reporter.log(f"indexed {size} of {train.rows} training records")
        final: dict[str, float] = {}
        if test_channel is not None:
            test = read_channel(test_channel, feature_count=train.feature_count)
            predicted = estimator.predict(test.features)
            if classifier:
                final["test:accuracy"] = float(np.mean(predicted == test.labels))
            else:
                final["test:mse"] = float(np.mean((predicted - test.labels) ** 2))
            for name, value in final.items():
                reporter.metric(name, value, step=1)
        save_fitted(model_dir, estimator)
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=LIBRARIES,
        )
        return TrainingResult(final_metrics=final)

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        estimator = load_fitted(model_dir)
        return NeighboursModel(estimator, feature_count=estimator.n_features_in_)


class NeighboursModel(MatrixModel):
    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(
        self, estimator: KNeighborsClassifier | KNeighborsRegressor, *, feature_count: int
    ) -> None:
        super().__init__(feature_count=feature_count)
        self.estimator = estimator

    def predict(self, features: np.ndarray) -> Predictions:
        return Predictions(
            outputs={"predicted_label": self.estimator.predict(features)}, csv=("predicted_label",)
        )
