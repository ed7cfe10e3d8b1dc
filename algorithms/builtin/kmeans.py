"""``kmeans``: SageMaker k-means' hyperparameters and outputs, on scikit-learn ``MiniBatchKMeans``.

As SageMaker's: mini-batch k-means finds ``k * extra_center_factor`` centres (``auto``: 10 here),
and a local Lloyd's run (``local_lloyd_*``, scikit-learn ``KMeans`` weighted by each centre's
records) reduces them to ``k``. Training data has no label column (``text/csv``, or
``label_size=1`` to skip one). Each epoch is one pass of mini-batches; ``train:msd`` (mean squared
distance to the closest centre) is reported per epoch, and the ``eval_metrics`` (``test:msd``,
``test:ssd``) at the end when a ``test`` channel is given. Outputs ``closest_cluster`` and
``distance_to_cluster`` (Euclidean); a CSV line carries both.

The model directory holds, beside the fitted estimator, SageMaker's own artifact: ``model_algo-1``,
an MXNet NDArray file of one unnamed ``(k, feature_dim)`` float32 array, the centroids, which
``mx.ndarray.load("model_algo-1")[0]`` reads. A ``model.tar.gz`` made by SageMaker's k-means (that
file alone) loads too, and answers the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.cluster import KMeans as LloydKMeans
from sklearn.cluster import MiniBatchKMeans

from algorithms.base import (
    Algorithm,
    Channel,
    Hyperparameter,
    HyperparameterError,
    Model,
    Reporter,
    TrainingResult,
)
from algorithms.builtin.fitted import FITTED_FILE, LIBRARIES, load_fitted, save_fitted
from algorithms.codecs import Predictions
from algorithms.data import read_channel, split_channels
from algorithms.hyperparameters import (
    MACHINERY,
    check_feature_dim,
    log_moot_values,
    no_effect,
    parse_metric_list,
)
from algorithms.manifest import write_manifest
from algorithms.ndarray_file import NDArrayFileError
from algorithms.ndarray_file import load as load_ndarrays
from algorithms.ndarray_file import save as save_ndarrays
from algorithms.predictor import FIRST_PARTY_TYPES, MatrixModel
from algorithms.recordio import RECORDIO
from algorithms.registry import ALGO_MODEL_FILE, register

INIT_METHODS = {"random": "random", "kmeans++": "k-means++"}
# One epoch over fewer rows than mini_batch_size is a single mini-batch step: k random starts
# stay where they fell, two in one cluster and none in another. Ten per cluster seed every
# cluster of any real size, and the local Lloyd's run (k-means++) merges them into k.
AUTO_EXTRA_CENTER_FACTOR = 10


@register("kmeans")
class KMeans(Algorithm):
    training_content_types = ("text/csv", "application/jsonlines", RECORDIO)
    metrics = ("train:msd", "test:msd", "test:ssd")
    hyperparameters = (
        Hyperparameter("k", "int", required=True, min=2),
        Hyperparameter("feature_dim", "int", required=True, min=1),
        Hyperparameter("mini_batch_size", "int", 5000, min=1),
        Hyperparameter("epochs", "int", 1, min=1),
        Hyperparameter("init_method", "str", "random", choices=tuple(INIT_METHODS)),
        Hyperparameter("eval_metrics", "str", '["msd"]'),
        Hyperparameter("extra_center_factor", "int", "auto", min=1, allows_auto=True),
        no_effect("half_life_time_size", "int", 0, "every record weighs the same", min=0),
        Hyperparameter("local_lloyd_init_method", "str", "kmeans++", choices=tuple(INIT_METHODS)),
        Hyperparameter("local_lloyd_max_iter", "int", 300, min=1),
        Hyperparameter("local_lloyd_num_trials", "int", "auto", min=1, allows_auto=True),
        Hyperparameter("local_lloyd_tol", "float", 0.0001, min=0, max=1),
        *MACHINERY,
    )

    @classmethod
    def check_hyperparameters(cls, values: dict[str, Any]) -> None:
        values["eval_metrics"] = parse_metric_list(
            "eval_metrics", values["eval_metrics"], ("msd", "ssd")
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
        if hp["k"] > train.rows:
            raise HyperparameterError("k", f"must be at most the {train.rows} training records")
        factor = hp["extra_center_factor"]
        factor = AUTO_EXTRA_CENTER_FACTOR if factor == "auto" else factor
        centres = min(hp["k"] * factor, train.rows)
        estimator = MiniBatchKMeans(
            n_clusters=centres,
            batch_size=hp["mini_batch_size"],
            init=INIT_METHODS[hp["init_method"]],
            n_init=1,
            random_state=0,
        )
        rng = np.random.default_rng(0)
        features = train.features
        final: dict[str, float] = {}
        stopped = False
        for epoch in range(1, hp["epochs"] + 1):
            order = rng.permutation(train.rows)
            for start in range(0, train.rows, hp["mini_batch_size"]):
                batch = features[order[start : start + hp["mini_batch_size"]]]
                if epoch == 1 and start == 0 and len(batch) < centres:
                    batch = features[order[:centres]]  # the first batch seeds every centre
                estimator.partial_fit(batch)
            final["train:msd"] = float(-estimator.score(features) / train.rows)
            reporter.metric("train:msd", final["train:msd"], step=epoch)
            reporter.log(f"epoch {epoch}: train:msd={final['train:msd']:.6g}")
            if reporter.should_stop():
                stopped = True
                break
        if centres > hp["k"]:
            estimator = _local_lloyd(estimator, features, hp)
            final["train:msd"] = float(-estimator.score(features) / train.rows)
            reporter.log(f"local Lloyd's reduced {centres} centres to {hp['k']}")
        if test_channel is not None:
            test = read_channel(test_channel, labelled=False, feature_count=train.feature_count)
            ssd = float(-estimator.score(test.features))
            scores = {"test:ssd": ssd, "test:msd": ssd / test.rows}
            for metric in hp["eval_metrics"]:
                final[f"test:{metric}"] = scores[f"test:{metric}"]
                reporter.metric(f"test:{metric}", scores[f"test:{metric}"], step=epoch)
        save_fitted(model_dir, estimator)
        save_ndarrays(model_dir / ALGO_MODEL_FILE, [estimator.cluster_centers_.astype(np.float32)])
        write_manifest(
            model_dir,
            algorithm=self.name,
            hyperparameters=hp,
            feature_count=train.feature_count,
            libraries=LIBRARIES,
        )
        return TrainingResult(final_metrics=final, stopped_early=stopped)

    @classmethod
    def load(cls, model_dir: Path) -> Model:
        if (model_dir / FITTED_FILE).is_file():
            centroids = load_fitted(model_dir).cluster_centers_
        else:  # SageMaker's artifact: model_algo-1 alone
            centroids = _sagemaker_centroids(model_dir / ALGO_MODEL_FILE)
        return KMeansModel(centroids)


def _sagemaker_centroids(path: Path) -> np.ndarray:
    arrays = load_ndarrays(path)
    if isinstance(arrays, dict) or len(arrays) != 1 or arrays[0].ndim != 2:
        raise NDArrayFileError(
            f"{path}: a k-means model holds one unnamed (k, feature_dim) array of centroids"
        )
    return arrays[0].astype(np.float64)


def _local_lloyd(
    estimator: MiniBatchKMeans, features: np.ndarray, hp: dict[str, Any]
) -> LloydKMeans:
    """SageMaker's final step: Lloyd's k-means over the centres, each weighted by its records."""
    centres = estimator.cluster_centers_
    weights = np.bincount(estimator.predict(features), minlength=len(centres)).astype(float)
    trials = 3 if hp["local_lloyd_num_trials"] == "auto" else hp["local_lloyd_num_trials"]
    lloyd = LloydKMeans(
        n_clusters=hp["k"],
        init=INIT_METHODS[hp["local_lloyd_init_method"]],
        n_init=trials,
        max_iter=hp["local_lloyd_max_iter"],
        tol=hp["local_lloyd_tol"],
        random_state=0,
    )
    return lloyd.fit(centres, sample_weight=weights + 1e-12)


class KMeansModel(MatrixModel):
    """The closest of ``centroids`` (``(k, feature_dim)``) to each record, and its distance."""

    content_types = accepts = FIRST_PARTY_TYPES

    def __init__(self, centroids: np.ndarray) -> None:
        super().__init__(feature_count=centroids.shape[1])
        self.centroids = centroids
        self._squared_norms = np.einsum("ij,ij->i", centroids, centroids)

    def predict(self, features: np.ndarray) -> Predictions:
        # argmin |x - c|² = argmin |c|² - 2 x·c: one matrix product finds the closest; its
        # distance is then taken directly, free of the expansion's rounding.
        closest = (self._squared_norms - 2 * (features @ self.centroids.T)).argmin(axis=1)
        distance = np.linalg.norm(features - self.centroids[closest], axis=1)
        return Predictions(
            # A number like every other output: SageMaker answers "closest_cluster": 1.0.
            outputs={
                "closest_cluster": closest.astype(np.float64),
                "distance_to_cluster": distance,
            },
            csv=("closest_cluster", "distance_to_cluster"),
        )
