"""kmeans: finds the clusters, reports msd per epoch, answers closest_cluster and distance;
its model opens as SageMaker's does, and SageMaker's model deploys."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest
from sagemaker.amazon.common import RecordDeserializer

from algorithms import DataError, HyperparameterError, ModelDirectoryError, ndarray_file
from algorithms.artifacts import pack_model, unpack_model
from algorithms.loading import load_containers
from algorithms.recordio import RECORDIO
from tests.fakes import RecordingReporter

from ..conftest import channel, invoke_every_type, train, write_csv


def _blobs(tmp_path, multiclass_problem):
    features, labels = multiclass_problem
    write_csv(tmp_path / "train" / "x.csv", features)
    write_csv(tmp_path / "test" / "x.csv", features[:60])
    return (
        features,
        labels,
        {"train": channel(tmp_path / "train"), "test": channel(tmp_path / "test")},
    )


def test_clusters_match_the_blobs(tmp_path, multiclass_problem) -> None:
    features, labels, channels = _blobs(tmp_path, multiclass_problem)
    result, model, reporter = train(
        "kmeans",
        {
            "k": "3",
            "feature_dim": "3",
            "epochs": "3",
            "mini_batch_size": "100",
            "init_method": "kmeans++",
            "eval_metrics": '["msd", "ssd"]',
        },
        channels,
        tmp_path / "model",
    )
    assert reporter.steps("train:msd") == [1, 2, 3]
    assert {"test:msd", "test:ssd"} <= set(result.final_metrics)
    outputs = invoke_every_type(model, features)
    clusters = np.array([r["closest_cluster"] for r in outputs["records"]]).astype(int)
    # Each true blob maps (all but a stray point or two) to its own cluster.
    majority = [np.bincount(clusters[labels == blob]).argmax() for blob in range(3)]
    assert len(set(majority)) == 3
    agreement = np.mean(clusters == np.array(majority)[labels.astype(int)])
    assert agreement > 0.97
    first = outputs["records"][0]
    assert first["closest_cluster"] in (0.0, 1.0, 2.0)  # SageMaker's answers: 1.0, not 1
    assert outputs["csv"][0] == [str(first["closest_cluster"]), str(first["distance_to_cluster"])]
    assert first["distance_to_cluster"] < 5


@pytest.mark.parametrize("seed", range(5))
def test_sagemakers_defaults_find_well_separated_clusters(tmp_path, seed) -> None:
    """What the SDK's ``KMeans(k=...)`` sends: random starts, one epoch, a mini-batch larger than
    the data (one mini-batch step in all). Every blob is still one cluster of its own."""
    rng = np.random.default_rng(seed)
    blob = np.repeat(np.arange(3), 100)
    features = rng.normal(scale=4, size=(3, 5))[blob] + rng.normal(size=(300, 5))
    write_csv(tmp_path / "train" / "x.csv", features)
    _, model, _ = train(
        "kmeans",
        {"k": "3", "feature_dim": "5", "mini_batch_size": "5000", "force_dense": "True"},
        {"train": channel(tmp_path / "train")},
        tmp_path / "model",
    )
    records = invoke_every_type(model, features)["records"]
    clusters = np.array([r["closest_cluster"] for r in records]).astype(int)
    assert [len(set(clusters[blob == index])) for index in range(3)] == [1, 1, 1]
    assert len(set(clusters)) == 3


def test_stop_request_ends_after_the_current_epoch(tmp_path, multiclass_problem) -> None:
    _, _, channels = _blobs(tmp_path, multiclass_problem)
    result, _, reporter = train(
        "kmeans",
        {"k": "3", "feature_dim": "3", "epochs": "10"},
        channels,
        tmp_path / "model",
        RecordingReporter(stop_after_checks=1),
    )
    assert result.stopped_early and reporter.steps("train:msd") == [1]


def test_feature_dim_must_match_the_data(tmp_path, multiclass_problem) -> None:
    _, _, channels = _blobs(tmp_path, multiclass_problem)
    with pytest.raises(HyperparameterError, match="'feature_dim' must match the train channel"):
        train("kmeans", {"k": "3", "feature_dim": "4"}, channels, tmp_path / "model")
    with pytest.raises(HyperparameterError, match="'k' is required by kmeans"):
        train("kmeans", {"feature_dim": "3"}, channels, tmp_path / "model")


def test_missing_values_are_refused_at_inference(tmp_path, multiclass_problem) -> None:
    _, _, channels = _blobs(tmp_path, multiclass_problem)
    _, model, _ = train("kmeans", {"k": "3", "feature_dim": "3"}, channels, tmp_path / "model")
    with pytest.raises(DataError, match="value is missing") as caught:
        model.invoke(b"1,2,3\n4,,6\n", "text/csv", "text/csv")
    assert (caught.value.line, caught.value.column) == (2, 2)


def test_model_algo_1_opens_as_sagemakers_notebooks_open_it(tmp_path, multiclass_problem) -> None:
    features, _, channels = _blobs(tmp_path, multiclass_problem)
    _, model, _ = train("kmeans", {"k": "3", "feature_dim": "3"}, channels, tmp_path / "model")
    pack_model(tmp_path / "model", tmp_path / "model.tar.gz")
    with tarfile.open(tmp_path / "model.tar.gz") as archive:
        data = archive.extractfile("model_algo-1").read()
    # The notebooks' recipe: mx.ndarray.load("model_algo-1")[0].asnumpy() are the centroids.
    (centroids,) = ndarray_file.loads(data)
    assert centroids.dtype == np.float32 and centroids.shape == (3, 3)
    distances = np.linalg.norm(features[:, None, :] - centroids[None, :, :], axis=2)
    body = json.dumps({"instances": features.tolist()}).encode()
    answers = json.loads(model.invoke(body, "application/json", "application/json"))
    predictions = answers["predictions"]
    assert [p["closest_cluster"] for p in predictions] == distances.argmin(axis=1).tolist()
    found = [p["distance_to_cluster"] for p in predictions]
    np.testing.assert_allclose(found, distances.min(axis=1), rtol=1e-5)


def test_a_model_tar_gz_made_by_sagemakers_k_means_deploys(tmp_path) -> None:
    # What SageMaker's k-means leaves in model.tar.gz: model_algo-1, the centroids, alone.
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    ndarray_file.save(artifact / "model_algo-1", [np.array([[0, 0], [10, 10]], np.float32)])
    pack_model(artifact, tmp_path / "model.tar.gz")
    unpack_model(tmp_path / "model.tar.gz", tmp_path / "model")
    container = {
        "Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1",
        "ModelDataUrl": str(tmp_path / "model"),
    }
    model = load_containers([container], store=None)

    answer = json.loads(model.invoke(b"1,1\n9,12\n", "text/csv", "application/json"))
    assert answer == {
        "predictions": [
            {"closest_cluster": 0.0, "distance_to_cluster": pytest.approx(2**0.5)},
            {"closest_cluster": 1.0, "distance_to_cluster": pytest.approx(5**0.5)},
        ]
    }
    records = RecordDeserializer().deserialize(
        io.BytesIO(model.invoke(b"9,12\n", "text/csv", RECORDIO)), RECORDIO
    )
    assert records[0].label["closest_cluster"].float32_tensor.values == [1.0]
    # Without its image, model_algo-1 could be any of SageMaker's algorithms.
    with pytest.raises(ModelDirectoryError, match=r"no sagebrush-model\.json"):
        load_containers([{**container, "Image": ""}], store=None)
