"""``knn``: SageMaker k-NN's hyperparameters and outputs, on scikit-learn's exact neighbours.

``sample_size`` training records are drawn (seeded) to form the index, as SageMaker does;
``index_metric`` is ``L2`` (Euclidean), ``COSINE`` or ``INNER_PRODUCT`` (the largest inner product,
found exactly by the usual reduction to L2 with one added coordinate). ``dimension_reduction_type``
``sign`` projects on random signs, ``fjlt`` on a Gaussian random matrix (the same guarantee as the
fast Johnson-Lindenstrauss transform, not its speed). The search is always exact, so the FAISS
index options are accepted with their rules and change nothing. Classifiers take the majority
label of the ``k`` nearest, regressors their mean. Reports ``test:accuracy`` or ``test:mse`` once
when a ``test`` channel is given. Outputs ``predicted_label``; with ``verbose=true`` in the
``Accept`` (``application/json; verbose=true``), as SageMaker's k-NN, also each record's ``k``
neighbours' ``distances`` (nearest first) and ``labels``, in JSON, JSON Lines and
RecordIO-protobuf (CSV answers the label alone).
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
from algorithms.codecs import Predictions, decode, encode, negotiate, split_content_type
from algorithms.data import read_channel, split_channels
from algorithms.hyperparameters import MACHINERY, check_feature_dim, log_moot_values, no_effect
from algorithms.manifest import write_manifest
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.recordio import RECORDIO
from algorithms.registry import register

METRICS = {"L2": "euclidean", "COSINE": "cosine", "INNER_PRODUCT": "euclidean"}
PQ_M = ("1", "2", "3", "4", "8", "12", "16", "20", "24", "28", "32", "40", "48", "56", "64", "96")
INDEX_TYPES = ("faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ")


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
        Hyperparameter("dimension_reduction_type", "str", None, choices=("sign", "fjlt")),
        Hyperparameter("dimension_reduction_target", "int", None, min=1),
        no_effect("index_type", "str", "faiss.Flat", "the search is exact", choices=INDEX_TYPES),
        no_effect("faiss_index_ivf_nlists", "int", "auto", "exact search", min=1, allows_auto=True),
        no_effect("faiss_index_pq_m", "int", None, "exact search", choices=PQ_M),
        *MACHINERY,
    )

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        target, kind = values["dimension_reduction_target"], values["dimension_reduction_type"]
        if kind is not None and target is None:
            raise HyperparameterError(
                "dimension_reduction_target", "is required when dimension_reduction_type is set"
            )
        if target is not None and target >= values["feature_dim"]:
            raise HyperparameterError(
                "dimension_reduction_target",
                f"must be less than feature_dim ({values['feature_dim']}) (got {target})",
            )
        if values["index_type"] == "faiss.IVFPQ" and values["index_metric"] != "L2":
            raise HyperparameterError(
                "index_metric",
                f"must be L2 when index_type is faiss.IVFPQ (got {values['index_metric']!r})",
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
        index = Index(hp, train.feature_count, rng)
        estimator.fit(index.points(train.features[sample]), train.labels[sample])
        index.estimator = estimator
        reporter.log(f"indexed {size} of {train.rows} training records")
        final: dict[str, float] = {}
        if test_channel is not None:
            test = read_channel(test_channel, feature_count=train.feature_count)
            predicted = index.predict(test.features)
            if classifier:
                final["test:accuracy"] = float(np.mean(predicted == test.labels))
            else:
                final["test:mse"] = float(np.mean((predicted - test.labels) ** 2))
            for name, value in final.items():
                reporter.metric(name, value, step=1)
        save_fitted(model_dir, index)
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
        index = load_fitted(model_dir)
        if not isinstance(index, Index):  # a model saved before indexes kept their projection
            index = Index.plain(index)
        return NeighboursModel(index, feature_count=index.feature_count)


class Index:
    """The fitted neighbours with what is done to a record before the search: its random
    projection (dimension reduction) and, for ``INNER_PRODUCT``, the added coordinate."""

    estimator: KNeighborsClassifier | KNeighborsRegressor

    def __init__(self, hp: dict[str, Any], feature_count: int, rng: np.random.Generator) -> None:
        self.feature_count = feature_count
        self.inner_product = hp["index_metric"] == "INNER_PRODUCT"
        target = hp["dimension_reduction_target"]
        self.projection = None
        if hp["dimension_reduction_type"] == "sign":
            signs = rng.choice([-1.0, 1.0], size=(feature_count, target))
            self.projection = signs / np.sqrt(target)
        elif hp["dimension_reduction_type"] == "fjlt":
            self.projection = rng.normal(scale=1 / np.sqrt(target), size=(feature_count, target))
        self.norm = 0.0

    @classmethod
    def plain(cls, estimator: KNeighborsClassifier | KNeighborsRegressor) -> Index:
        index = cls.__new__(cls)
        index.feature_count, index.inner_product = estimator.n_features_in_, False
        index.projection, index.norm, index.estimator = None, 0.0, estimator
        return index

    def _project(self, features: np.ndarray) -> np.ndarray:
        return features if self.projection is None else features @ self.projection

    def points(self, features: np.ndarray) -> np.ndarray:
        """The indexed records: a record's largest inner product with a query is its smallest
        L2 distance once each gets sqrt(M² - |x|²) as one more coordinate (queries get 0)."""
        projected = self._project(features)
        if not self.inner_product:
            return projected
        squared = np.einsum("ij,ij->i", projected, projected)
        self.norm = float(squared.max(initial=0.0))
        return np.column_stack([projected, np.sqrt(np.maximum(self.norm - squared, 0.0))])

    def queries(self, features: np.ndarray) -> np.ndarray:
        projected = self._project(features)
        if not self.inner_product:
            return projected
        return np.column_stack([projected, np.zeros(len(projected))])

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.estimator.predict(self.queries(features))

    def neighbours(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each record's ``k`` nearest: their distances (inner products for ``INNER_PRODUCT``)
        and labels, nearest first."""
        queries = self.queries(features)
        distances, rows = self.estimator.kneighbors(queries)
        # The fitted points and labels as scikit-learn keeps them (the index holds no copy).
        if self.inner_product:
            points = self.estimator._fit_X[:, :-1]
            distances = np.einsum("ij,ikj->ik", queries[:, :-1], points[rows])
        labels = self.estimator._y
        classes = getattr(self.estimator, "classes_", None)
        return distances, (labels if classes is None else classes[labels])[rows]


class NeighboursModel(MatrixModel):
    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, index: Index, *, feature_count: int) -> None:
        super().__init__(feature_count=feature_count)
        self.index = index

    def predict(self, features: np.ndarray) -> Predictions:
        return Predictions(
            outputs={"predicted_label": self.index.predict(features)}, csv=("predicted_label",)
        )

    def invoke(self, body: bytes, content_type: str, accept: str) -> bytes:
        """With ``verbose=true`` in the ``Accept`` type, as SageMaker's k-NN: each answer also
        lists its neighbours' ``distances`` and ``labels`` (CSV still answers the label)."""
        _, params = split_content_type((accept or "").split(",")[0])
        if params.get("verbose", "").lower() != "true":
            return super().invoke(body, content_type, accept)
        response_type = negotiate(accept, content_type, self.accepts)
        features = decode(body, content_type, feature_count=self.feature_count)
        if len(features) == 0:
            return encode(Predictions(outputs={}, csv=()), response_type)
        distances, labels = self.index.neighbours(features)
        outputs = {"predicted_label": self.index.predict(features)}
        outputs |= {"distances": distances, "labels": labels}
        return encode(Predictions(outputs=outputs, csv=("predicted_label",)), response_type)
