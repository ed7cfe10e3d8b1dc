"""pca: projections onto the top components, in every content type; its model opens as
SageMaker's does, and SageMaker's model deploys."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from sagemaker.amazon.common import RecordDeserializer

from algorithms import HyperparameterError, ndarray_file
from algorithms.artifacts import pack_model, unpack_model
from algorithms.loading import load_containers
from algorithms.recordio import RECORDIO

from ..conftest import channel, invoke_every_type, train, write_csv


@pytest.fixture
def low_rank(tmp_path):
    """200 points on a 2-D plane inside 5-D space, plus a little noise."""
    rng = np.random.default_rng(5)
    basis = rng.normal(size=(2, 5))
    features = rng.normal(size=(200, 2)) @ basis + 0.01 * rng.normal(size=(200, 5))
    write_csv(tmp_path / "train" / "x.csv.gz", features)
    return features, {"train": channel(tmp_path / "train")}


@pytest.mark.parametrize("mode", ["regular", "randomized"])
def test_two_components_explain_a_plane(tmp_path, low_rank, mode: str) -> None:
    features, channels = low_rank
    result, model, reporter = train(
        "pca",
        {"num_components": "2", "feature_dim": "5", "algorithm_mode": mode},
        channels,
        tmp_path / "model",
    )
    assert reporter.steps("train:explained_variance_ratio") == [1]
    assert result.final_metrics["train:explained_variance_ratio"] > 0.99
    outputs = invoke_every_type(model, features[:20])
    projections = np.array([r["projection"] for r in outputs["records"]])
    assert projections.shape == (20, 2)
    np.testing.assert_allclose(np.array(outputs["csv"], dtype=float), projections)


def test_without_mean_subtraction(tmp_path, low_rank) -> None:
    features, channels = low_rank
    _, model, _ = train(
        "pca",
        {"num_components": "2", "feature_dim": "5", "subtract_mean": "false"},
        channels,
        tmp_path / "model",
    )
    assert len(invoke_every_type(model, features[:3])["records"]) == 3


def test_more_components_than_features_is_refused(tmp_path, low_rank) -> None:
    _, channels = low_rank
    with pytest.raises(HyperparameterError, match="'num_components' must be at most 5"):
        train("pca", {"num_components": "6", "feature_dim": "5"}, channels, tmp_path / "model")


@pytest.mark.parametrize(("mode", "smallest_first"), [("regular", True), ("randomized", False)])
def test_model_algo_1_holds_sagemakers_s_v_and_mean(
    tmp_path, low_rank, mode: str, smallest_first: bool
) -> None:
    features, channels = low_rank
    hyperparameters = {"num_components": "2", "feature_dim": "5", "algorithm_mode": mode}
    _, model, _ = train("pca", hyperparameters, channels, tmp_path / "model")
    # The notebooks' recipe: mx.ndarray.load("model_algo-1") gives s, v and mean.
    params = ndarray_file.load(tmp_path / "model" / "model_algo-1")
    assert {name: a.shape for name, a in params.items()} == {"s": (2,), "v": (5, 2), "mean": (1, 5)}
    assert all(a.dtype == np.float32 for a in params.values())
    # As SageMaker's files: regular mode lists the components smallest first, randomized largest.
    assert (params["s"][0] < params["s"][1]) == smallest_first
    np.testing.assert_allclose(params["mean"][0], features.mean(axis=0), atol=1e-5)
    body = json.dumps({"instances": features[:50].tolist()}).encode()
    answer = json.loads(model.invoke(body, "application/json", "application/json"))
    projections = np.array([p["projection"] for p in answer["projections"]])
    expected = (features[:50] - params["mean"]) @ params["v"]
    np.testing.assert_allclose(projections, expected, rtol=1e-4, atol=1e-4)
    top = 1 if smallest_first else 0  # the projection's numbers come in v's column order
    assert projections[:, top].var() > projections[:, 1 - top].var()


def test_without_mean_subtraction_the_model_has_no_mean(tmp_path, low_rank) -> None:
    _, channels = low_rank
    hyperparameters = {"num_components": "2", "feature_dim": "5", "subtract_mean": "false"}
    train("pca", hyperparameters, channels, tmp_path / "model")
    assert list(ndarray_file.load(tmp_path / "model" / "model_algo-1")) == ["s", "v"]


def test_a_model_tar_gz_made_by_sagemakers_pca_deploys(tmp_path) -> None:
    # What SageMaker's PCA leaves in model.tar.gz: model_algo-1 alone, its arrays named.
    v = np.array([[0.6, 0.8], [0.8, -0.6], [0.0, 0.0]], np.float32)
    mean = np.array([[1.0, 2.0, 3.0]], np.float32)
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    params = {"s": np.array([1.0, 4.0], np.float32), "v": v, "mean": mean}
    ndarray_file.save(artifact / "model_algo-1", params)
    pack_model(artifact, tmp_path / "model.tar.gz")
    unpack_model(tmp_path / "model.tar.gz", tmp_path / "model")
    container = {"Image": "pca:1", "ModelDataUrl": str(tmp_path / "model")}
    model = load_containers([container], store=None)

    rows = np.array([[2.0, 2.0, 3.0], [1.0, 7.0, 0.0]])
    body = "".join(",".join(map(str, row)) + "\n" for row in rows).encode()
    answer = json.loads(model.invoke(body, "text/csv", "application/json"))
    found = np.array([p["projection"] for p in answer["projections"]])
    np.testing.assert_allclose(found, [[0.6, 0.8], [4.0, -3.0]], atol=1e-6)
    records = RecordDeserializer().deserialize(
        io.BytesIO(model.invoke(body, "text/csv", RECORDIO)), RECORDIO
    )
    np.testing.assert_allclose(records[1].label["projection"].float32_tensor.values, [4.0, -3.0])
